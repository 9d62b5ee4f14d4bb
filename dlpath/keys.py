"""The learner's signing key: one Ed25519 key per user, in dlpath's per-user
folder (``keys/ed25519.pem``, mode 0600), created on first use and never
written into a project nor printed. Its public half is published as a
``did:key`` (W3C DID method ``key``: the public key itself, multibase
base58btc of the multicodec ``ed25519-pub`` prefix and the 32 key bytes), so
anyone can check a signature with no registry and no network.

Keys and signatures come from ``cryptography`` (already a DVC dependency).
"""

from __future__ import annotations

import os
from pathlib import Path

from dlpath import resources
from dlpath.errors import DlpathError

KEY_DIR = "keys"
KEY_FILE = "ed25519.pem"
#: multicodec ``ed25519-pub`` (0xed), as an unsigned varint
ED25519_PUB = b"\xed\x01"
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58encode(data: bytes) -> str:
    """Bitcoin base58 (what multibase ``z`` means); leading zero bytes become '1'."""
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, rem = divmod(n, 58)
        out.append(_B58[rem])
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    n = 0
    for char in text:
        index = _B58.find(char)
        if index < 0:
            raise ValueError(f"{char!r} is not a base58 character")
        n = n * 58 + index
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    pad = len(text) - len(text.lstrip("1"))
    return b"\0" * pad + body


def key_path() -> Path:
    return resources.user_dir() / KEY_DIR / KEY_FILE


def did_key(public: bytes) -> str:
    """``did:key:z6Mk...`` for a 32-byte Ed25519 public key."""
    return "did:key:z" + b58encode(ED25519_PUB + public)


def public_from_did(did: str) -> bytes:
    """The Ed25519 public key a ``did:key`` (or its verification method,
    ``did:key:X#X``) names; ValueError where it names none."""
    base, _, fragment = did.partition("#")
    if not base.startswith("did:key:z"):
        raise ValueError("not an Ed25519 did:key")
    ident = base[len("did:key:"):]
    if fragment and fragment != ident:
        raise ValueError("the key fragment does not match the DID")
    raw = b58decode(ident[1:])
    if len(raw) != 34 or not raw.startswith(ED25519_PUB):
        raise ValueError("not an Ed25519 did:key")
    return raw[2:]


def verification_method(did: str) -> str:
    return f"{did}#{did[len('did:key:'):]}"


def _create(path: Path):
    """A new key at ``path``, readable by the user alone; another process
    creating one at the same moment wins and its key is used."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # atomic, and never replaces a key already there
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


def signing_key():
    """The learner's Ed25519 private key, created on first use."""
    from cryptography.hazmat.primitives import serialization

    path = key_path()
    try:
        if not path.exists():
            _create(path)
        data = path.read_bytes()
    except OSError as exc:
        raise DlpathError(f"Cannot use your signing key {path}: {exc.strerror or exc}.",
                          hint="Make dlpath's folder writable, or point DLPATH_HOME at one "
                               "you can write.") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        key = None
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not isinstance(key, Ed25519PrivateKey):
        raise DlpathError(f"Your signing key {path} is damaged or not an Ed25519 key; it was "
                          "left as it is.",
                          hint="Restore it from a backup (credentials it signed verify only "
                               "with it), or move it away to start a new key.")
    return key


def public_bytes(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)


def my_did() -> str:
    """The learner's public identity (creates the key on first use)."""
    return did_key(public_bytes(signing_key()))
