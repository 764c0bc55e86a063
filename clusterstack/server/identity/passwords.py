"""Password hashing with Argon2id (argon2-cffi). Only hashes are stored; a hash never leaves the server."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# CloudStack's default password of the first admin; the server warns at every start while it is in use.
DEFAULT_ADMIN_PASSWORD = "password"

_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches `password_hash`; False for a wrong password or an unusable hash."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than the current ones."""
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


# Verified against when a login names no existing user, so that a failed login costs the same either way.
DUMMY_HASH = _HASHER.hash("no such user")
