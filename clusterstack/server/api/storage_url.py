"""Primary storage URLs for Hyper-V: `PreSetup://<cluster>/C:\\ClusterStorage\\Volume1` and `cifs://server/share`.

PreSetup is storage the administrator prepared on the hosts themselves: for a failover cluster, a Cluster
Shared Volume, the same Windows path on every node. SMB (`cifs://` or `smb://`) is a share the hosts mount
with a user and a password, given in the url's query or in `details`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote

from clusterstack.server.api.errors import param_error
from clusterstack.server.db.models.infrastructure import STORAGE_TYPE_PRESETUP, STORAGE_TYPE_SMB

_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)$", re.DOTALL)
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:\\")
_SCHEMES = {"presetup": STORAGE_TYPE_PRESETUP, "cifs": STORAGE_TYPE_SMB, "smb": STORAGE_TYPE_SMB}
EXAMPLES = "PreSetup://<cluster>/C:\\ClusterStorage\\Volume1 or cifs://<server>/<share>"


@dataclass(frozen=True)
class StorageUrl:
    pool_type: str  # PreSetup | SMB
    host: str
    path: str  # a Windows path for PreSetup, /share[/dir] for SMB
    credentials: dict[str, str]  # SMB user, password, domain (possibly incomplete)

    @property
    def display(self) -> str:
        """The url without credentials, as stored and shown."""
        scheme = "PreSetup" if self.pool_type == STORAGE_TYPE_PRESETUP else "cifs"
        separator = "/" if self.pool_type == STORAGE_TYPE_PRESETUP else ""
        return f"{scheme}://{self.host}{separator}{self.path}"


def windows_path(raw: str) -> str:
    r"""`/C:/ClusterStorage/Volume1/` -> `C:\ClusterStorage\Volume1`; anything not absolute is refused."""
    path = raw.replace("/", "\\")
    while path.startswith("\\") and len(path) > 2 and path[2] == ":":
        path = path[1:]
    if not _WINDOWS_PATH.match(path) and re.match(r"^[A-Za-z]:$", path) is None:
        raise param_error(f"Invalid parameter url: the PreSetup path {raw!r} is not an absolute Windows path such "
                          "as C:\\ClusterStorage\\Volume1")
    path = re.sub(r"\\+", r"\\", path)
    if len(path) > 3:
        path = path.rstrip("\\")
    return path[0].upper() + path[1:]


def parse_storage_url(url: str) -> StorageUrl:
    match = _URL.match(url.strip())
    if match is None:
        raise param_error(f"Invalid parameter url value={url}: not a storage URL; use {EXAMPLES}")
    scheme = match.group("scheme").lower()
    if scheme not in _SCHEMES:
        raise param_error(f"Invalid parameter url value={url}: unsupported protocol {match.group('scheme')} for "
                          f"Hyper-V primary storage; use {EXAMPLES}")
    pool_type = _SCHEMES[scheme]
    rest = match.group("rest")
    query = ""
    if pool_type == STORAGE_TYPE_SMB and "?" in rest:
        rest, query = rest.split("?", 1)
    cut = re.search(r"[/\\]", rest)
    host = unquote(rest[: cut.start()] if cut else rest).strip()
    path = unquote(rest[cut.start():] if cut else "")
    if not host:
        raise param_error(f"Invalid parameter url value={url}: the url names no host; use {EXAMPLES}")
    if pool_type == STORAGE_TYPE_PRESETUP:
        if not path.strip("/\\"):
            raise param_error(f"Invalid parameter url value={url}: the url names no path; use {EXAMPLES}")
        return StorageUrl(pool_type, host, windows_path(path), {})
    share = "/" + "/".join(part for part in path.replace("\\", "/").split("/") if part)
    if share == "/":
        raise param_error(f"Invalid parameter url value={url}: the url names no share; use {EXAMPLES}")
    credentials = {k.lower(): v[0] for k, v in parse_qs(query).items() if k.lower() in ("user", "password", "domain")}
    return StorageUrl(pool_type, host, share, credentials)
