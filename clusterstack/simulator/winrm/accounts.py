"""The accounts a simulated node accepts, and the NTLM credential file pyspnego's acceptor reads them from.

pyspnego's NTLM acceptor (``spnego.server``) reads the credentials it checks a logon against from the file named
by the environment variable ``NTLM_USER_FILE`` (one ``DOMAIN:USER:PASSWORD`` a line) each time a logon arrives.
That variable is process-wide: `install_accounts` writes one file holding the accounts of every simulator
installed in this process (the union; a later install of the same DOMAIN\\user replaces its password) and points
``NTLM_USER_FILE`` at it. Each listener then admits only its own accounts (`AccountStore.principal_of`), so two
simulators in one process with different accounts do not let each other's users in.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

NTLM_USER_FILE_ENV = "NTLM_USER_FILE"


@dataclass(frozen=True)
class Account:
    domain: str  # NetBIOS domain name, e.g. CLUSTERSTACK
    user: str
    password: str

    def __post_init__(self) -> None:
        for part, value in (("domain", self.domain), ("user", self.user), ("password", self.password)):
            if ":" in value or "\n" in value or "\r" in value:
                raise ValueError(f"an account's {part} cannot contain ':' or a line break (NTLM_USER_FILE format)")
        if not self.user:
            raise ValueError("an account needs a user name")

    @property
    def principal(self) -> str:
        """DOMAIN\\user, as Windows names the logged-on user."""
        return f"{self.domain}\\{self.user}" if self.domain else self.user

    @classmethod
    def parse(cls, text: str) -> Account:
        """``DOMAIN\\user:password`` (or ``user:password`` for the default domain)."""
        name, sep, password = text.partition(":")
        if not sep:
            raise ValueError(f"expected DOMAIN\\user:password, got {text!r}")
        domain, backslash, user = name.rpartition("\\")
        return cls(domain if backslash else DEFAULT_DOMAIN, user, password)


DEFAULT_DOMAIN = "CLUSTERSTACK"
DEFAULT_ACCOUNTS: tuple[Account, ...] = (Account(DEFAULT_DOMAIN, "Administrator", "Password1!"),)


class AccountStore:
    """The accounts one simulator admits."""

    def __init__(self, accounts: Iterable[Account] = DEFAULT_ACCOUNTS) -> None:
        self.accounts = tuple(accounts)
        if not self.accounts:
            raise ValueError("at least one account is needed")

    def principal_of(self, client_principal: str) -> str | None:
        """The canonical DOMAIN\\user of a principal NTLM authenticated (as the client typed it: any case, with or
        without the domain), or None when it is not one of these accounts."""
        domain, backslash, user = client_principal.rpartition("\\")
        for account in self.accounts:
            if account.user.lower() != user.lower():
                continue
            if not backslash or domain.lower() == account.domain.lower():
                return account.principal
        return None


_lock = threading.Lock()
_installed: dict[tuple[str, str], Account] = {}
_file: Path | None = None


def install_accounts(store: AccountStore) -> Path:
    """Write (or rewrite) this process's NTLM credential file with `store`'s accounts added, and set
    ``NTLM_USER_FILE`` to it. Returns the file's path."""
    global _file
    with _lock:
        known = all(_installed.get((a.domain.lower(), a.user.lower())) == a for a in store.accounts)
        if known and _file is not None and os.environ.get(NTLM_USER_FILE_ENV) == str(_file) and _file.exists():
            return _file
        for account in store.accounts:
            _installed[(account.domain.lower(), account.user.lower())] = account
        if _file is None:
            directory = Path(tempfile.mkdtemp(prefix="clusterstack-winrm-"))
            _file = directory / "ntlm-users"
        lines = []
        for account in _installed.values():
            lines.append(f"{account.domain}:{account.user}:{account.password}")
            # A client that gives no domain (``Administrator``) logs on as the machine's local account.
            lines.append(f":{account.user}:{account.password}")
        temporary = _file.with_suffix(".tmp")
        temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.chmod(temporary, 0o600)
        temporary.replace(_file)
        os.environ[NTLM_USER_FILE_ENV] = str(_file)
        return _file
