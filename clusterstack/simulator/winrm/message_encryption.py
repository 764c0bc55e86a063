"""WinRM message encryption over plain HTTP ([MS-WSMV] 2.2.9.1): the SOAP envelope sealed with the connection's
NTLM/SPNEGO security context, in a two-part MIME body.

What pypsrp (pypsrp/encryption.py) sends and expects::

    Content-Type: multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"

    --Encrypted Boundary\\r\\n
    \\tContent-Type: application/HTTP-SPNEGO-session-encrypted\\r\\n
    \\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=<plaintext length>\\r\\n
    --Encrypted Boundary\\r\\n
    \\tContent-Type: application/octet-stream\\r\\n
    <uint32 LE signature length><signature><sealed data>--Encrypted Boundary--\\r\\n
"""

from __future__ import annotations

import re
import struct
from typing import Any

SPNEGO_PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
BOUNDARY = "Encrypted Boundary"
CONTENT_TYPE = f'multipart/encrypted;protocol="{SPNEGO_PROTOCOL}";boundary="{BOUNDARY}"'


class EncryptionError(Exception):
    """The body is not a WinRM encrypted message this context can open."""


def is_encrypted(content_type: str) -> bool:
    return content_type.lower().startswith(("multipart/encrypted", "multipart/x-multi-encrypted"))


def _boundary(content_type: str) -> str:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    return match.group(1) if match else BOUNDARY


def decrypt(context: Any, body: bytes, content_type: str) -> bytes:
    """The SOAP envelope of an encrypted request body (`context` is the connection's completed spnego context)."""
    if SPNEGO_PROTOCOL.lower() not in content_type.lower():
        raise EncryptionError(f"unsupported encryption protocol in {content_type!r}")
    boundary = re.escape(_boundary(content_type).encode())
    parts = [p for p in re.split(rb"--\s*" + boundary + rb"(?:--)?\r\n", body) if p]
    if len(parts) < 2 or len(parts) % 2:
        raise EncryptionError("the encrypted body does not have its two MIME parts")
    message = b""
    for header, payload in zip(parts[0::2], parts[1::2], strict=True):
        length = re.search(rb"Length=(\d+)", header)
        if length is None:
            raise EncryptionError("the encrypted body does not say its original length")
        payload = payload.replace(b"\tContent-Type: application/octet-stream\r\n", b"", 1)
        if len(payload) < 4:
            raise EncryptionError("the encrypted part is truncated")
        signature_length = struct.unpack("<I", payload[:4])[0]
        signature = payload[4:4 + signature_length]
        sealed = payload[4 + signature_length:]
        try:
            plain = context.unwrap_winrm(signature, sealed)
        except Exception as exc:  # any spnego failure: a bad signature, a tampered body
            raise EncryptionError(f"the message cannot be decrypted: {exc}") from exc
        if len(plain) != int(length.group(1)):
            raise EncryptionError("the decrypted length does not match the declared length")
        message += plain
    return message


def encrypt(context: Any, message: bytes) -> tuple[str, bytes]:
    """(Content-Type, body) of `message` sealed with `context`."""
    signature, sealed, padding = context.wrap_winrm(message)
    head = "\r\n".join([
        f"--{BOUNDARY}",
        f"\tContent-Type: {SPNEGO_PROTOCOL}",
        f"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length={len(message) + padding}",
        f"--{BOUNDARY}",
        "\tContent-Type: application/octet-stream",
        "",
    ]).encode()
    body = head + struct.pack("<I", len(signature)) + signature + sealed + f"--{BOUNDARY}--\r\n".encode()
    return CONTENT_TYPE, body
