"""Secrets at rest: AES-256-GCM under the key-encryption key (organization CA keys, provider secrets) or under
a key derived with scrypt from a signer's passphrase (signer keys). Every blob is bound to what it protects
through the associated data, so a blob copied onto another row does not open."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.conf import settings

KEK_VERSION = 1
PASSPHRASE_VERSION = 2
# scrypt "interactive" cost (N=2^14, r=8, p=1: 16 MiB, tens of milliseconds): paid on every signature.
SCRYPT_LOG2_N = 14
SCRYPT_R = 8
SCRYPT_P = 1


class UnsealError(Exception):
    """The blob does not open: wrong key or passphrase, or the blob was altered or moved."""


def _kek(purpose: str) -> bytes:
    master = str(settings.FOLIO_KEY_ENCRYPTION_KEY).encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"folio:" + purpose.encode()).derive(master)


def seal(data: bytes, *, purpose: str, aad: str) -> bytes:
    nonce = os.urandom(12)
    return bytes([KEK_VERSION]) + nonce + AESGCM(_kek(purpose)).encrypt(nonce, data, aad.encode())


def unseal(blob: bytes, *, purpose: str, aad: str) -> bytes:
    blob = bytes(blob)
    if len(blob) < 30 or blob[0] != KEK_VERSION:
        raise UnsealError("unknown sealed format")
    try:
        return AESGCM(_kek(purpose)).decrypt(blob[1:13], blob[13:], aad.encode())
    except InvalidTag:
        raise UnsealError("the key-encryption key does not open this blob") from None


def _passphrase_key(passphrase: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**log2_n, r=r, p=p).derive(passphrase.encode())


def seal_with_passphrase(data: bytes, *, passphrase: str, aad: str) -> bytes:
    salt, nonce = os.urandom(16), os.urandom(12)
    key = _passphrase_key(passphrase, salt, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P)
    header = bytes([PASSPHRASE_VERSION, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P])
    return header + salt + nonce + AESGCM(key).encrypt(nonce, data, aad.encode())


def unseal_with_passphrase(blob: bytes, *, passphrase: str, aad: str) -> bytes:
    blob = bytes(blob)
    if len(blob) < 50 or blob[0] != PASSPHRASE_VERSION:
        raise UnsealError("unknown sealed format")
    log2_n, r, p = blob[1], blob[2], blob[3]
    salt, nonce, body = blob[4:20], blob[20:32], blob[32:]
    key = _passphrase_key(passphrase, salt, log2_n, r, p)
    try:
        return AESGCM(key).decrypt(nonce, body, aad.encode())
    except InvalidTag:
        raise UnsealError("wrong passphrase") from None
