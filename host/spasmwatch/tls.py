"""HTTPS for the family page ([daemon.http] tls_cert, tls_key): the certificate checked, a
self-signed one made for this computer, the server's and the CLI's TLS contexts.

The files are checked where they are used (the daemon's start of its page, 'spasmwatch status'),
not by the config's loader: a bad certificate must cost the page only, never the band and the
pushes (docs/web.md "HTTPS on the home network"). The CLI trusts the configured certificate alone
(pinned), whatever names it carries: it reaches the daemon on 127.0.0.1, the phones by its LAN name.

``cryptography`` makes and reads the certificates: Python's ssl module reads neither a certificate's
dates nor its key, and the ``openssl`` binary is not on every computer a family runs this on (Windows).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from spasmwatch.errors import SpasmwatchError

# How long (days) a certificate 'spasmwatch config tls new' makes is valid: 825, the longest Apple's
# phones take for a TLS server's certificate (iOS 13 and macOS 10.15 refuse a longer one even once
# accepted by hand); a family makes a new one in two years and a quarter.
TLS_CERT_DAYS = 825
# A page certificate that ends within this many days is said by 'spasmwatch status': a month is time
# to run 'config tls new', restart, and accept it on each phone again.
TLS_EXPIRY_WARN_DAYS = 30
CERT_NAME, KEY_NAME = "page-cert.pem", "page-key.pem"  # 'config tls new''s files, beside the config
# An address that routes out of this computer (TEST-NET-1, RFC 5737: never a real host); a UDP
# socket "connected" to it sends nothing, and its own address is the one the LAN reaches it at.
_ROUTE_PROBE = ("192.0.2.1", 9)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TlsError(SpasmwatchError):
    """The page's certificate or key cannot be used: the message names the file and the key."""


@dataclass(frozen=True)
class PageCert:
    """A certificate and key that go together, read and checked (``load``)."""

    cert: Path
    key: Path
    fingerprint: str  # SHA-256 of the certificate, "AB:CD:...", as a phone's browser shows it
    spki_sha256: str  # base64 SHA-256 of its public key (Chromium's --ignore-certificate-errors-spki-list)
    not_after: dt.datetime  # UTC
    names: tuple[str, ...]  # the names and addresses it is for

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx


def _read(path: Path, key: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise TlsError(f"[daemon.http] {key}: no such file {path} ('spasmwatch config tls new' makes one)") from None
    except IsADirectoryError:
        raise TlsError(f"[daemon.http] {key}: {path} is a folder, not a PEM file") from None
    except OSError as e:
        raise TlsError(f"[daemon.http] {key}: cannot read {path}: {e.strerror or e} (the daemon's user must be able to read it)") from None


def load(cert: Path, key: Path, now: dt.datetime | None = None) -> PageCert:
    """The page's certificate and key checked: both readable PEM, the key the certificate's, the
    certificate valid at ``now`` (UTC; default the wall clock). TlsError names the file and key."""
    now = now or dt.datetime.now(dt.timezone.utc)
    try:
        c = x509.load_pem_x509_certificate(_read(cert, "tls_cert"))
    except ValueError:
        raise TlsError(f"[daemon.http] tls_cert: {cert} is not a PEM certificate (-----BEGIN CERTIFICATE-----)") from None
    try:
        k = serialization.load_pem_private_key(_read(key, "tls_key"), password=None)
    except (ValueError, TypeError):
        raise TlsError(f"[daemon.http] tls_key: {key} is not an unencrypted PEM private key "
                       "(a key with a passphrase cannot be opened by a daemon started at boot)") from None  # fmt: skip
    spki = c.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if k.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) != spki:
        raise TlsError(f"[daemon.http] tls_key: {key} is not the key of the certificate {cert} (tls_cert): give the pair made together")
    if now >= c.not_valid_after_utc:
        raise TlsError(f"[daemon.http] tls_cert: {cert} expired on {c.not_valid_after_utc:%Y-%m-%d}: phones refuse it; "
                       "'spasmwatch config tls new' makes a new one")  # fmt: skip
    if now < c.not_valid_before_utc:
        raise TlsError(f"[daemon.http] tls_cert: {cert} is valid only from {c.not_valid_before_utc:%Y-%m-%d %H:%M} UTC: "
                       "is this computer's clock right?")  # fmt: skip
    return PageCert(cert, key, fingerprint(c), base64.b64encode(hashlib.sha256(spki).digest()).decode(), c.not_valid_after_utc, _names(c))


def fingerprint(c: x509.Certificate) -> str:
    return c.fingerprint(hashes.SHA256()).hex(":").upper()


def _names(c: x509.Certificate) -> tuple[str, ...]:
    try:
        san = c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    return tuple(san.get_values_for_type(x509.DNSName)) + tuple(str(a) for a in san.get_values_for_type(x509.IPAddress))


def client_context(cert: Path) -> ssl.SSLContext:
    """What the CLI reaches its daemon with: only the configured certificate is trusted (pinned: a
    partial chain ending at it is enough, so a CA-signed one works as a self-signed one), and its
    names are not compared, as the CLI asks 127.0.0.1 and the certificate names the LAN's."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=_pem_certificates(cert))
    ctx.check_hostname = False  # (verify_mode stays CERT_REQUIRED: the pin is the file)
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return ctx


def _pem_certificates(cert: Path) -> str:
    text = _read(cert, "tls_cert").decode("ascii", "replace")
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise TlsError(f"[daemon.http] tls_cert: {cert} is not a PEM certificate (-----BEGIN CERTIFICATE-----)")
    return text


def this_computers_names() -> tuple[list[str], list[IPAddress]]:
    """The names and addresses phones and this computer reach it by: its host name, that name in
    .local (mDNS), localhost; its LAN address, 127.0.0.1 and ::1."""
    host = socket.gethostname()
    short = host.split(".", 1)[0]
    names = list(dict.fromkeys(n for n in (host, f"{short}.local", "localhost") if n))
    addresses: list[IPAddress] = [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    lan = _lan_address()
    if lan is not None and lan not in addresses:
        addresses.insert(0, lan)
    return names, addresses


def _lan_address() -> IPAddress | None:
    """This computer's address on the home network (the one its default route leaves by); None offline."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(_ROUTE_PROBE)
        except OSError:
            return None
        ip = ipaddress.ip_address(s.getsockname()[0])
    return None if ip.is_loopback or ip.is_unspecified else ip


def self_signed(names: list[str], addresses: list[IPAddress], now: dt.datetime | None = None) -> tuple[bytes, bytes]:
    """A new key (ECDSA P-256: every phone's browser takes it) and a certificate for ``names`` and
    ``addresses`` signed by it, valid TLS_CERT_DAYS from ``now``, as PEM (certificate, key)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0] if names else "spasmwatch"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "spasmwatch (self-signed)")])  # fmt: skip
    san = [x509.DNSName(n) for n in names] + [x509.IPAddress(a) for a in addresses]
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))  # a phone whose clock is a little behind
        .not_valid_after(now + dt.timedelta(days=TLS_CERT_DAYS))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def cert_lines(cert: PageCert, now: dt.datetime | None = None) -> list[str]:
    """What a family compares on each phone the first time it opens the page over HTTPS ('spasmwatch
    status' and 'config tls new' say it): the warning it will see, how to go past it, the fingerprint."""
    now = now or dt.datetime.now(dt.timezone.utc)
    left = (cert.not_after - now).days
    ends = (f"ENDS IN {left} DAYS ({cert.not_after:%Y-%m-%d}): make a new one with 'spasmwatch config tls new', restart, and "
            "accept it on each phone again" if left < TLS_EXPIRY_WARN_DAYS else f"valid until {cert.not_after:%Y-%m-%d}")  # fmt: skip
    return [
        f"web page over HTTPS: certificate {cert.cert} ({ends})",
        f"  SHA-256 fingerprint {cert.fingerprint}",
        "  A self-signed certificate: each phone's browser warns once that the connection is not private. Open the "
        "certificate's details there (Chrome: 'Not secure', then the certificate; Safari: 'Show Details', 'view the "
        "certificate') and compare its SHA-256 fingerprint with the one above; the same: go on ('Advanced', then "
        "'Proceed'; Safari: 'visit this website'). Not the same: do not go on, someone else answers at that address.",
    ]
