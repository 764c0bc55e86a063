"""Encryption of secrets at rest (users' API secret keys) with a key file in the data directory.

On first start the server writes `<data-dir>/secret.key` (a Fernet key, mode 0600). Every secret key in the
database is encrypted with it; without the file they cannot be read. Management servers that share one
database must share the same key file (copy it before starting the second server), exactly as CloudStack's
management servers share their database key. See docs/security.md.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

KEY_FILE = "secret.key"


class SecretStoreError(RuntimeError):
    """The key file is unreadable or does not decrypt a stored secret."""


class SecretStore:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, ValueError) as exc:
            raise SecretStoreError("stored secret does not decrypt with this server's secret.key") from exc


def _create_key_file(path: Path) -> None:
    """Write a new key atomically: a private temporary file, then link(2), which fails if another won the race."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def load_or_create(data_dir: Path) -> SecretStore:
    path = data_dir / KEY_FILE
    if not path.exists():
        _create_key_file(path)
    try:
        key = path.read_bytes().strip()
        return SecretStore(key)
    except (OSError, ValueError) as exc:
        raise SecretStoreError(f"cannot use the key file {path}: {exc}") from exc


_STORES: dict[Path, SecretStore] = {}
_LOCK = threading.Lock()


def for_data_dir(data_dir: Path) -> SecretStore:
    """The secret store of a data directory, loaded (or created) once per process."""
    resolved = data_dir.resolve()
    with _LOCK:
        store = _STORES.get(resolved)
        if store is None:
            store = _STORES[resolved] = load_or_create(resolved)
        return store
