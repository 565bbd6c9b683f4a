"""Who is asking, and what they may do: the server's login, console tokens, roles and the client scope.

Every request of ``quire serve`` — console page, API call, Voilà app — is authenticated by
one identity provider (jupyter_server's, extended here):

* the **server token** (printed at start, or ``QUIRE_SERVE_TOKEN``) and ``--no-auth`` give
  the operator's access: ``admin``, or in client-facing mode ``runner`` for that client;
* a **console token** (``quire tokens create``; state database) in ``?token=``, the login
  form or ``Authorization: Bearer …`` gives its role (viewer < runner < admin) and, if it has
  one, its client. A browser that logged in keeps a signed, HttpOnly cookie naming the
  token, which is looked up again (revocation counts within :data:`RECHECK` seconds).

A client-facing server (``--client SLUG``) narrows everyone to its client; a token of
another client is refused there altogether.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from jupyter_server.auth.identity import PasswordIdentityProvider, User
from jupyter_server.utils import url_path_join
from tornado import web
from traitlets import Unicode

from quire.state.schema import ROLES

#: Seconds a looked-up token is trusted before it is read again (revocation delay).
RECHECK = 5.0
#: The request header through which Voilà hands a client user's pin to its app kernel (as ``HTTP_X_QUIRE_TENANT``,
#: read by :func:`quire.apps.base.pinned_client`). Only the server sets it: a browser's own is dropped.
TENANT_HEADER = "X-Quire-Tenant"
CLIENT_APP = "client.ipynb"
TOKEN_USER = "quire-token:"


@dataclass(frozen=True)
class Access:
    """What one request may do: a role and, for a client's user, that client only."""

    role: str
    client: str | None = None
    name: str = "operator"

    def allows(self, role: str) -> bool:
        """Whether this access includes ``role`` (admin includes runner includes viewer)."""
        return ROLES.index(self.role) >= ROLES.index(role)

    def sees(self, client: str | None) -> bool:
        """Whether a run of ``client`` (None: not a client's run) is visible to this access."""
        return self.client is None or client == self.client


@dataclass(eq=False)
class QuireUser(User):
    """jupyter_server's user with Quire's access attached."""

    access: Access = field(default_factory=lambda: Access("viewer"))


def operator_access(server_client: str | None) -> Access:
    """The access of the server token's holder (and of everyone under ``--no-auth``)."""
    return Access("runner", server_client, "operator") if server_client else Access("admin", None, "operator")


def token_access(row: dict[str, Any], server_client: str | None) -> Access | None:
    """The access a token row gives on this server; None if it may not use it at all."""
    client = row.get("client")
    if server_client and client and client != server_client:
        return None  # another client's token on a client-facing server
    return Access(row["role"], client or server_client, f"token {row['id']} ({row['name']})")


class QuireIdentityProvider(PasswordIdentityProvider):
    """jupyter_server's token login, plus console tokens from the state database (see the module docstring)."""

    quire_state_url = Unicode("", config=True, help="State database holding the console tokens.")
    quire_client = Unicode("", config=True, help="Client of a client-facing server ('' in internal mode).")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cache: dict[int, tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    @property
    def server_client(self) -> str | None:
        return self.quire_client or None

    def _engine(self):
        from quire.state import open_state

        return open_state(self.quire_state_url)

    # -- users ---------------------------------------------------------------------------
    def _operator(self, base: User) -> QuireUser:
        return QuireUser(base.username, base.name, base.display_name, base.initials, base.avatar_url, base.color,
                         access=operator_access(self.server_client))

    def _token_user(self, row: dict[str, Any]) -> QuireUser | None:
        access = token_access(row, self.server_client)
        if access is None:
            return None
        name = str(row["name"])
        return QuireUser(f"{TOKEN_USER}{row['id']}", name, name, name[:1].upper() or "T", None, None, access=access)

    def _token_row(self, token_id: int) -> dict[str, Any] | None:
        from quire.state import tokens

        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(token_id)
            if hit and hit[0] > now:
                return hit[1]
        row = tokens.get(self._engine(), token_id)
        row = row if row and row["revoked_at"] is None else None
        with self._lock:
            self._cache[token_id] = (now + RECHECK, row)
        return row

    def still_valid(self, user: User | None) -> bool:
        """Whether ``user`` may still be served: a console token's user until its token is revoked (seen within
        :data:`RECHECK` seconds); the operator always."""
        username = getattr(user, "username", "") or ""
        if not username.startswith(TOKEN_USER):
            return True
        row = self._token_row(int(username.removeprefix(TOKEN_USER)))
        return row is not None and self._token_user(row) is not None

    # -- jupyter_server hooks --------------------------------------------------------------
    async def get_user_token(self, handler: web.RequestHandler) -> User | None:
        """The server token (operator), else a console token from ``?token=`` or ``Authorization``."""
        user = await super().get_user_token(handler)
        if user is not None:  # the server token: the operator, whatever a cookie said before
            if user.username.startswith(TOKEN_USER):
                # jupyter_server hands back the cookie's user: a console token's, whose name the cookie would keep
                # and the next request read back as that token. A new operator gets a cookie of its own.
                return self.generate_anonymous_user(handler)
            return user if isinstance(user, QuireUser) else self._operator(user)
        secret = self.get_token(handler)
        if not secret:
            return None
        from quire.state import tokens

        row = tokens.verify(self._engine(), secret)
        return self._token_user(row) if row else None

    def generate_anonymous_user(self, handler: web.RequestHandler) -> User:
        return self._operator(super().generate_anonymous_user(handler))

    def user_to_cookie(self, user: User) -> str:
        return json.dumps({"username": user.username, "name": user.name})

    def user_from_cookie(self, cookie_value: str) -> User | None:
        data = json.loads(cookie_value)
        username = str(data.get("username", ""))
        if username.startswith(TOKEN_USER):
            row = self._token_row(int(username.removeprefix(TOKEN_USER)))
            return self._token_user(row) if row else None
        name = str(data.get("name") or "Operator")
        return self._operator(User(username, name, name, name[:1], None, None))

    def process_login_form(self, handler: web.RequestHandler) -> User | None:
        """The login page accepts the server token or a console token."""
        typed = handler.get_argument("password", default="")
        if not self.auth_enabled:
            return self.generate_anonymous_user(handler)
        if self.token and typed == self.token:
            return self.generate_anonymous_user(handler)
        from quire.state import tokens

        row = tokens.verify(self._engine(), typed.strip())
        return self._token_user(row) if row else None


def access_of(handler: web.RequestHandler) -> Access:
    """The access of the handler's authenticated user (403 if the request has none)."""
    user = handler.current_user
    if isinstance(user, QuireUser):
        return user.access
    raise web.HTTPError(403)


def tenant_of(handler: web.RequestHandler, server_client: str | None) -> str | None:
    """The client whose runs a landing page or archive request may see (None: every client)."""
    user = handler.current_user
    return user.access.client if isinstance(user, QuireUser) else server_client


def pin_app(handler: web.RequestHandler, path: str, server_client: str | None) -> bool:
    """Prepare an app request: a client's user on an internal server may open the client app only, pinned to
    its client (through :data:`TENANT_HEADER`); False if the app is not for this requester."""
    handler.request.headers.pop(TENANT_HEADER, None)
    tenant = tenant_of(handler, server_client)
    if tenant == server_client:
        return True  # internal users, and everyone on a client-facing server (pinned by the server itself)
    if path != CLIENT_APP:
        return False
    handler.request.headers[TENANT_HEADER] = tenant
    return True


def pinned(handler: web.RequestHandler) -> bool:
    """Whether this app request was pinned to a client by :func:`pin_app`."""
    return TENANT_HEADER in handler.request.headers


def brand_of(handler: web.RequestHandler, console) -> Any:
    """The brand a request sees: its client user's client's, else the server's."""
    user = handler.current_user
    return console.brand_for(user.access) if isinstance(user, QuireUser) else console.brand


def _query_without_token(request) -> str:
    kept = [(k, v.decode()) for k, values in request.query_arguments.items() if k != "token" for v in values]
    return f"?{urlencode(kept)}" if kept else ""


def login_url_without_token(handler: web.RequestHandler) -> str:
    """The sign-in page's address for a visitor who is not signed in, its ``next`` the page asked for without ``?token=``.

    Tornado's default puts the whole request address in ``next``: a wrong token (a near-miss of the secret,
    a truncated paste, an old token) then stood in the sign-in page's address bar, its form, the history and
    the access log (encoded, so that the log's ``token=`` redaction missed it). Handlers return this from
    ``get_login_url``; with its own ``?``, tornado adds nothing to it.
    """
    login = handler.settings.get("login_url") or url_path_join(handler.base_url, "login")
    return f"{login}?{urlencode({'next': handler.request.path + _query_without_token(handler.request)})}"


def url_without_token(handler: web.RequestHandler) -> str | None:
    """Where a signed-in page request that carries ``?token=`` is sent: the same address without it (None when there is
    no token to drop). The login cookie is set by then; the token would stay in the address bar, the history and any
    link copied from the page."""
    request = handler.request
    if request.method != "GET" or "token" not in request.query_arguments or not handler.current_user:
        return None
    return request.path + _query_without_token(request)
