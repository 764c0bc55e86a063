"""Raw HTTP to a live management server: requests signed here, byte for byte, the way real clients sign them."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx


def java_style_signature(params: dict[str, str], secret: str) -> str:
    """What CloudStack's own clients (and `cs`) sign: names sorted as given, values encoded, all lower-cased."""
    text = "&".join(f"{k}={quote(v, safe='*')}" for k, v in sorted(params.items())).lower()
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()).decode()


def libcloud_style_signature(params: dict[str, str], secret: str) -> str:
    """What Apache Libcloud signs: lower-cased names sorted, `[` and `]` left unencoded in names and values."""
    pairs = sorted((k.lower(), v) for k, v in params.items())
    text = "&".join(f"{quote(k, safe='[]')}={quote(v, safe='[]*')}" for k, v in pairs)
    text = text.lower().replace("+", "%20")
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()).decode()


def v3_expires(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%S%z")


class ApiCaller:
    """Signs and sends CloudStack API requests to one live server with one key pair."""

    def __init__(self, endpoint: str, key: str, secret: str) -> None:
        self.endpoint = endpoint
        self.key = key
        self.secret = secret
        self.http = httpx.Client(timeout=30)

    def signed_params(
        self,
        command: str,
        *,
        version: int = 3,
        expires: timedelta = timedelta(minutes=5),
        signer: Callable[[dict[str, str], str], str] = java_style_signature,
        **params: Any,
    ) -> dict[str, str]:
        out = {k: str(v) for k, v in params.items()}
        out.update({"command": command, "apiKey": self.key})
        if version == 3:
            out["signatureVersion"] = "3"
            out["expires"] = v3_expires(expires)
        out["signature"] = signer(out, self.secret)
        return out

    def get(self, command: str, **params: Any) -> httpx.Response:
        return self.http.get(self.endpoint, params=self.signed_params(command, **params))

    def post(self, command: str, **params: Any) -> httpx.Response:
        return self.http.post(self.endpoint, data=self.signed_params(command, **params))

    def json(self, command: str, **params: Any) -> tuple[int, dict[str, Any]]:
        """(HTTP status, the value under `<command>response`)."""
        response = self.get(command, response="json", **params)
        body = response.json()
        assert list(body) == [f"{command.lower()}response"], body
        return response.status_code, body[f"{command.lower()}response"]
