"""HTTP Negotiate/NTLM authentication, as a WinRM listener does it: per TCP connection.

The client opens with ``Authorization: Negotiate <token>`` (SPNEGO, or a raw NTLM message under the Negotiate
scheme, as pypsrp's ``auth="ntlm"`` sends) or ``Authorization: NTLM <token>``; the server answers ``401`` with
``WWW-Authenticate: Negotiate <challenge>`` until the context completes. The completed context belongs to the
connection: later requests on it carry no Authorization header, and message encryption (over HTTP) uses its keys.
A failed logon discards the connection's context and answers 401 again.
"""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass
from typing import Any

import spnego
import spnego.exceptions

from clusterstack.simulator.winrm.accounts import AccountStore, install_accounts

log = logging.getLogger("clusterstack.simulator.winrm")

SCHEMES = {"negotiate": "Negotiate", "ntlm": "NTLM"}


@dataclass
class AuthStep:
    """What one Authorization header led to."""

    complete: bool  # True: the connection is authenticated (principal set)
    scheme: str = "Negotiate"
    token: bytes | None = None  # for WWW-Authenticate (a challenge, or the final SPNEGO token)
    failed: bool = False  # the logon was refused (or the header was unusable)


class ConnectionAuth:
    """The security context of one TCP connection."""

    def __init__(self, accounts: AccountStore) -> None:
        self.accounts = accounts
        self.context: Any = None
        self.principal: str | None = None  # DOMAIN\user once authenticated

    @property
    def authenticated(self) -> bool:
        return self.principal is not None

    def reset(self) -> None:
        self.context = None
        self.principal = None

    def step(self, authorization: str) -> AuthStep:
        scheme_text, _, token_text = authorization.strip().partition(" ")
        scheme = SCHEMES.get(scheme_text.lower())
        if scheme is None or not token_text.strip():
            self.reset()
            return AuthStep(complete=False, failed=True)
        try:
            token = base64.b64decode(token_text.strip(), validate=True)
        except (binascii.Error, ValueError):
            self.reset()
            return AuthStep(complete=False, scheme=scheme, failed=True)
        if self.context is None or self.context.complete:
            # A new handshake (the first on this connection, or the client authenticating again).
            install_accounts(self.accounts)
            self.principal = None
            if scheme == "NTLM":
                self.context = spnego.server(protocol="ntlm")
            else:
                self.context = spnego.server(protocol="negotiate", options=spnego.NegotiateOptions.use_negotiate)
        try:
            out = self.context.step(token)
        except (spnego.exceptions.SpnegoError, ValueError, KeyError) as exc:
            log.info("WinRM logon refused: %s", exc)
            self.reset()
            return AuthStep(complete=False, scheme=scheme, failed=True)
        if not self.context.complete:
            return AuthStep(complete=False, scheme=scheme, token=out)
        principal = self.accounts.principal_of(str(self.context.client_principal or ""))
        if principal is None:
            log.info("WinRM logon refused: %s is not an account of this node", self.context.client_principal)
            self.reset()
            return AuthStep(complete=False, scheme=scheme, failed=True)
        self.principal = principal
        return AuthStep(complete=True, scheme=scheme, token=out)
