"""The simulator's TLS identity: a CA of its own and a server certificate for every name and address it answers on.

A real cluster's WinRM HTTPS listener presents a certificate whose subject alternative names are the node's (or
the cluster network name's) DNS name; clients validate it against their CA. The simulator generates one CA and one
server certificate whose SANs are the cluster's and the nodes' names and loopback addresses, plus localhost and
127.0.0.1, and writes the CA to a PEM file that a client passes as ``cert_validation=<path>``.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class ServerCertificate:
    ca_file: Path  # the CA certificate (PEM): what a client trusts
    cert_file: Path  # server certificate + CA chain (PEM)
    key_file: Path  # server private key (PEM, unencrypted)
    certificate_der: bytes  # the server certificate (DER): for the tls-server-end-point channel binding

    @property
    def ca_pem(self) -> str:
        return self.ca_file.read_text(encoding="ascii")

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "clusterstack simulator"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def generate_certificate(directory: Path, common_name: str, dns_names: Iterable[str],
                         addresses: Iterable[str]) -> ServerCertificate:
    """A new CA and a server certificate for `dns_names` and `addresses` (plus localhost and 127.0.0.1), written to
    `directory` as ca.pem, server.pem and server.key."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    until = now + datetime.timedelta(days=3650)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"{common_name} simulator CA")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(until)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))

    names: list[str] = []
    for name in [*dns_names, "localhost"]:
        if name and name.lower() not in (n.lower() for n in names):
            names.append(name)
    ips: list[str] = []
    for address in [*addresses, "127.0.0.1"]:
        if address not in ips:
            ips.append(address)
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in ips]

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(until)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))

    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    ca_file = directory / "ca.pem"
    cert_file = directory / "server.pem"
    key_file = directory / "server.key"
    ca_file.write_bytes(ca_pem)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + ca_pem)
    key_file.touch(mode=0o600)
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return ServerCertificate(ca_file, cert_file, key_file, cert.public_bytes(serialization.Encoding.DER))
