"""CloudStack request signatures (v1 and v3): HMAC-SHA1 over the sorted, encoded, lower-cased query.

The server side of ApiServer.verifyRequest. Real clients differ in details that the lower-casing does not
erase: Java's URLEncoder and the `cs` client sort names case-sensitively and encode `[`/`]`, Apache
Libcloud sorts lower-cased names and leaves `[`/`]` alone, CloudMonkey (Go) encodes `*` where the others
keep it. Each accepted canonical form is tried before a request is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import quote

EXPIRES_FORMATS = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z")


def _encode(value: str, safe: str, encode_tilde: bool) -> str:
    encoded = quote(value, safe=safe)
    return encoded.replace("~", "%7E") if encode_tilde else encoded


def canonical_forms(params: dict[str, str]) -> Iterable[str]:
    """Every canonical string an accepted client may have signed (without `signature`)."""
    items = [(k, v) for k, v in params.items() if k.lower() != "signature"]
    seen: set[str] = set()
    variants = (
        # Java URLEncoder / cs: case-sensitive sort of raw names, values encoded, * kept
        (lambda kv: kv[0], False, "*", True),
        (lambda kv: kv[0], False, "*", False),
        # CloudMonkey (Go's url.QueryEscape): case-sensitive sort, `*` encoded too
        (lambda kv: kv[0], False, "", False),
        # Libcloud: lower-cased names sorted, names and values keep [ and ]
        (lambda kv: kv[0].lower(), True, "[]*", False),
        (lambda kv: kv[0].lower(), False, "*", False),
    )
    for sort_key, quote_names, safe, tilde in variants:
        pairs = []
        for key, value in sorted(items, key=sort_key):
            name = quote(key, safe="[]") if quote_names else key
            pairs.append(f"{name}={_encode(value, safe, tilde)}")
        text = "&".join(pairs).lower()
        if text not in seen:
            seen.add(text)
            yield text


def sign(canonical: str, secret_key: str) -> str:
    digest = hmac.new(secret_key.encode(), canonical.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_matches(params: dict[str, str], signature: str, secret_key: str) -> bool:
    # base64 never holds a space: a space is a `+` that a client left unencoded in the query string (turned
    # back before stripping, or a signature that starts or ends with `+` would lose it)
    given = signature.replace(" ", "+").strip()
    return any(hmac.compare_digest(sign(form, secret_key), given) for form in canonical_forms(params))


def sign_params(params: dict[str, str], secret_key: str) -> str:
    """The signature a Java-style client computes (used by our own tools and tests)."""
    return sign(next(iter(canonical_forms(params))), secret_key)


def parse_expires(raw: str) -> datetime | None:
    text = raw.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+0000"
    for fmt in EXPIRES_FORMATS:
        try:
            return datetime.strptime(text, fmt).astimezone(UTC)
        except ValueError:
            continue
    return None
