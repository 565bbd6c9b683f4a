"""Whose app kernel is whose: a kernel answers only the user it was handed to.

An app page gets a kernel (a preheated one from the pool, or one started for it) and talks
to it by its id: ``/api/kernels/<id>`` (its model, its shutdown), ``…/channels`` (the
widgets' websocket) and ``/voila/api/shutdown/<id>`` (the page's close). jupyter_server
and Voilà check only that a request is signed in, so any user who learnt another page's
kernel id — from a log line, a shared screen, a proxy — could read that page's app, drive
its pickers (an operator's kernel offers every client) or shut it down. Here the page
request records who got the kernel, and those addresses answer 404 to anyone else, as for
a kernel that does not exist.

The owner is the console token (``quire-token:<id>``) or, for the server token and
``--no-auth``, the operator: one principal, whatever the browser.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from jupyter_server.services.kernels.handlers import KernelHandler
from tornado import web
from tornado.ioloop import IOLoop
from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

from quire.console.access import TOKEN_USER

OPERATOR = "operator"
#: The user an app page is being served to, while its handler gets or starts the page's kernel.
_PAGE_USER: ContextVar[str | None] = ContextVar("quire_page_user", default=None)


def principal(handler: web.RequestHandler) -> str:
    """Who a signed-in request is, as a kernel's owner: ``quire-token:<id>``, else :data:`OPERATOR`."""
    username = getattr(handler.current_user, "username", "") or ""
    return username if username.startswith(TOKEN_USER) else OPERATOR


class KernelOwners:
    """Kernel id → the principal its page was served to, recorded as Voilà hands kernels to pages."""

    def __init__(self, kernel_manager: Any) -> None:
        self._owners: dict[str, str] = {}
        self._kernels = kernel_manager
        # Voilà's page handler takes a page's kernel through these two (its pool refills call the class's own
        # start_kernel, so a kernel waiting in a pool belongs to nobody until a page gets it).
        # (Without preheating there is no pool and no get_rendered_notebook.)
        for name in ("start_kernel", "get_rendered_notebook"):
            if hasattr(kernel_manager, name):
                setattr(kernel_manager, name, self._recording(getattr(kernel_manager, name), name))

    def _recording(self, method, name: str):
        async def record(*args: Any, **kwargs: Any):
            result = await method(*args, **kwargs)
            owner = _PAGE_USER.get()
            if owner is not None:
                kernel_id = result if name == "start_kernel" else result[2]
                self._owners = {k: v for k, v in self._owners.items() if k in self._kernels}  # forget ended kernels
                self._owners[kernel_id] = owner
            return result

        return record

    def serving(self, handler: web.RequestHandler):
        """Context of an app page's request: the kernel it gets is recorded as the requester's."""
        return _Serving(principal(handler))

    def check(self, handler: web.RequestHandler, kernel_id: str) -> None:
        """404 unless ``kernel_id`` was handed to the requester's page."""
        if self._owners.get(kernel_id) != principal(handler):
            raise web.HTTPError(404)


class _Serving:
    def __init__(self, owner: str) -> None:
        self.owner = owner

    def __enter__(self) -> None:
        self._reset = _PAGE_USER.set(self.owner)

    def __exit__(self, *exc: Any) -> None:
        _PAGE_USER.reset(self._reset)


def _owners(handler: web.RequestHandler) -> KernelOwners:
    return handler.settings["quire"]["kernel_owners"]


class OwnKernelHandler(KernelHandler):
    """``/api/kernels/<id>``: the kernel's model and shutdown, for its owner only."""

    @web.authenticated
    async def get(self, kernel_id: str) -> None:
        _owners(self).check(self, kernel_id)
        await super().get(kernel_id)

    @web.authenticated
    async def delete(self, kernel_id: str) -> None:
        _owners(self).check(self, kernel_id)
        await super().delete(kernel_id)


class OwnKernelWebsocketHandler(VoilaKernelWebsocketHandler):
    """``/api/kernels/<id>/channels``: the widgets' websocket, for the kernel's owner only."""

    async def pre_get(self) -> None:
        # After jupyter_server's authentication (a request without a user never gets here).
        _owners(self).check(self, self.kernel_id)
        await super().pre_get()

    def on_message(self, ws_message: Any) -> None:
        # An open app outlived its token's revocation: the socket was checked only when it opened.
        if not self.identity_provider.still_valid(self.current_user):
            self.close(4003, "the token was revoked")
            # Nobody may use the kernel now; left running (a few hundred MB), it would wait for the idle culler.
            IOLoop.current().spawn_callback(self.kernel_manager.shutdown_kernel, self.kernel_id)
            return
        super().on_message(ws_message)


class OwnShutdownHandler(VoilaShutdownKernelHandler):
    """``/voila/api/shutdown/<id>``: a page's close shuts its own kernel down, no one else's."""

    @web.authenticated
    async def post(self, kernel_id: str) -> None:
        _owners(self).check(self, kernel_id)
        await super().post(kernel_id)
