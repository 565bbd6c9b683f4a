"""Access tokens of the console and the API: a role, optionally a client, and only a hash stored.

A token's secret is ``quire_`` plus 32 random bytes (URL-safe), shown once when created. The
database keeps its SHA-256, which is enough for a secret of that entropy (no password
stretching needed) and lets a request find its token with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from quire.errors import ParameterError, StateError
from quire.state.db import utcnow
from quire.state.schema import ROLES, tokens

PREFIX = "quire_"
#: last_used_at is written at most this often per token (a busy API client would write on every call).
TOUCH_EVERY = timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    """The stored form of a secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


#: The longest name a token may have: its column's size.
NAME_LIMIT = tokens.c.name.type.length


def create(engine: Engine, *, role: str, client: str | None = None, name: str = "") -> tuple[dict[str, Any], str]:
    """A new token: its row and its secret (shown to the user once, never stored)."""
    if role not in ROLES:
        raise ParameterError(f"role {role!r} is not one of {', '.join(ROLES)}", parameter="role")
    # The name is the requester of the token's runs in lists and logs: one line, which a line break would forge.
    if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in name) or len(name) > NAME_LIMIT:
        raise ParameterError(f"a token's name is one line of at most {NAME_LIMIT} characters, without control "
                             "characters; e.g. --name 'nightly export'", parameter="name")
    secret = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    values = dict(name=name.strip() or f"{role} token", role=role, client=client, secret_hash=hash_secret(secret),
                  created_at=now)
    with engine.begin() as conn:
        token_id = conn.execute(tokens.insert().values(**values)).inserted_primary_key[0]
    return {"id": token_id, **values, "last_used_at": None, "revoked_at": None}, secret


def verify(engine: Engine, secret: str) -> dict[str, Any] | None:
    """The live token whose secret this is, or None (unknown, malformed or revoked)."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    with engine.connect() as conn:
        row = conn.execute(sa.select(tokens).where(tokens.c.secret_hash == hash_secret(secret))).mappings().first()
    if row is None or row["revoked_at"] is not None:
        return None
    _touch(engine, row)
    return dict(row)


def _touch(engine: Engine, row: Any) -> None:
    now = utcnow()
    if row["last_used_at"] is None or now - row["last_used_at"] > TOUCH_EVERY:
        with engine.begin() as conn:
            conn.execute(tokens.update().where(tokens.c.id == row["id"]).values(last_used_at=now))


def get(engine: Engine, token_id: int) -> dict[str, Any] | None:
    """One token by id (revoked ones included), or None."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(tokens).where(tokens.c.id == token_id)).mappings().first()
    return dict(row) if row else None


def listing(engine: Engine, *, include_revoked: bool = False) -> list[dict[str, Any]]:
    """Every token (without hashes), oldest first."""
    stmt = sa.select(*[c for c in tokens.columns if c.name != "secret_hash"]).order_by(tokens.c.id)
    if not include_revoked:
        stmt = stmt.where(tokens.c.revoked_at.is_(None))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


#: The largest id a token can have: the databases' 64-bit integer.
MAX_ID = 2**63 - 1


def revoke(engine: Engine, token_id: int) -> dict[str, Any]:
    """Revoke a token at once; a :class:`StateError` if there is no live token with this id."""
    done = 0
    if 0 < token_id <= MAX_ID:  # a bigger id is no token's, and the database driver overflows on it
        with engine.begin() as conn:
            done = conn.execute(tokens.update().where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None))
                                .values(revoked_at=utcnow())).rowcount
    if not done:
        raise StateError(f"no live token with id {token_id}", hint="`quire tokens list` shows them")
    return get(engine, token_id) or {}
