"""This installation's signing key (Ed25519): evidence exports' manifests and the audit
trail's checkpoints are signed with it. Generated on first use, kept owner-only in the data
dir; a person compares keys by their fingerprint."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import Any, Final

KEY_FILE_NAME: Final = "evidence_signing_key.pem"


def signing_key(key_dir: Path) -> Any:
    """This installation's Ed25519 private key, generated on first use and kept in
    ``key_dir`` (owner-only file, written whole before it is used)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = key_dir / KEY_FILE_NAME
    if not path.exists():
        key_dir.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = key_dir / f".{KEY_FILE_NAME}.{uuid.uuid4().hex}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)  # never replaces a key another process made meanwhile
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def key_fingerprint(public_pem: bytes) -> str:
    """SHA-256 of the public key's PEM, for people to compare."""
    return hashlib.sha256(public_pem).hexdigest()
