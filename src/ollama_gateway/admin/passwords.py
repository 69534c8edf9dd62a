"""The admin password: argon2 hashes in the settings store, hashed and verified off the event loop."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.storage.kv import SettingsStore

log = logging.getLogger(__name__)

PASSWORD_KEY = "admin.password_hash"  # noqa: S105 - the name of a stored setting
MIN_LENGTH = 8
MAX_LENGTH = 1024

_hasher = PasswordHasher()


def check_new_password(password: str) -> str:
    """The password if it is acceptable as a new admin password, else a 400 saying why."""
    if len(password) < MIN_LENGTH:
        raise InvalidRequestError(f"the password needs at least {MIN_LENGTH} characters", param="new_password")
    if len(password) > MAX_LENGTH:
        raise InvalidRequestError(f"the password may have at most {MAX_LENGTH} characters", param="new_password")
    return password


async def hash_password(password: str) -> str:
    """An argon2id hash of `password`, computed in a worker thread."""
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches `stored_hash` (argon2 compares in constant time); False without a hash."""
    if not stored_hash or len(password) > MAX_LENGTH:
        return False

    def verify() -> bool:
        try:
            return _hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


def fingerprint(stored_hash: str | None) -> str:
    """A short digest of the stored hash; sessions carry it so a password change ends them all."""
    return hashlib.sha256((stored_hash or "").encode()).hexdigest()[:16]


async def set_password(kv: SettingsStore, password: str) -> str:
    """Hash and store a new admin password; returns the new hash."""
    stored = await hash_password(check_new_password(password))
    await kv.set(PASSWORD_KEY, stored)
    return stored


async def bootstrap_password(kv: SettingsStore, configured: str | None) -> str:
    """Make sure a password hash is stored: ADMIN_PASSWORD wins at start; otherwise generate one and log it once."""
    stored = await kv.get(PASSWORD_KEY)
    if configured:
        if not await verify_password(stored, configured):
            stored = await hash_password(configured)
            await kv.set(PASSWORD_KEY, stored)
            log.info("admin password set from ADMIN_PASSWORD")
        return stored or ""
    if stored:
        return stored
    generated = secrets.token_urlsafe(18)
    candidate = await hash_password(generated)
    stored = await kv.set_default(PASSWORD_KEY, candidate)
    if stored == candidate:  # another replica may have won the race; only the winner's password is real
        log.warning(
            "\n=============== ADMIN PASSWORD (shown once) ===============\n"
            "  No ADMIN_PASSWORD was set, so one was generated:\n"
            "      %s\n"
            "  Log in at /admin/login and change it, or run\n"
            "  `ollama-gateway admin set-password`.\n"
            "===========================================================",
            generated,
        )
    return stored
