"""Key-checked Unix sockets between one user's processes: the warm service and the print service listen on them.

multiprocessing's ``Listener`` checks a peer's key inside ``accept()``, so one peer that connects
and then says nothing (a process stopped with Ctrl-Z, or any other program of the same user)
would hold up every connection after it. Here each peer's key is checked in that peer's own
thread. And a client can bound its wait for the server's first word: a server stopped with
Ctrl-Z still accepts connections (the kernel queues them) but never answers them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from multiprocessing.connection import Client, Connection, Listener, answer_challenge, deliver_challenge


def serve_forever(listener: Listener, key: str, serve: Callable[[Connection], None], stopped: threading.Event,
                  name: str) -> None:
    """Accept connections on ``listener`` (made without an authkey) until ``stopped``; each peer that proves
    ``key`` is served by ``serve`` in a thread of its own, named ``name``."""
    while not stopped.is_set():
        try:
            conn = listener.accept()
        except OSError:  # the listener was closed: ``stopped`` is about to be seen
            continue
        threading.Thread(target=_check_then_serve, args=(conn, key.encode(), serve), name=name, daemon=True).start()


def _check_then_serve(conn: Connection, key: bytes, serve: Callable[[Connection], None]) -> None:
    try:
        deliver_challenge(conn, key)
        answer_challenge(conn, key)
    except Exception:  # a wrong key, garbage, or a peer that left: nothing to serve
        conn.close()
        return
    serve(conn)


def connect(path: str, key: str, timeout: float | None = None) -> Connection:
    """A connection to the server listening at ``path``, both sides having proved ``key``.

    With ``timeout``, raises :class:`TimeoutError` when the server has not begun the check within
    that many seconds (it is stopped, or hung); the usual ``OSError`` when nothing listens there.
    """
    conn = Client(path, family="AF_UNIX")
    try:
        if timeout is not None and not conn.poll(timeout):
            raise TimeoutError(f"no answer within {timeout:g} s")
        answer_challenge(conn, key.encode())
        deliver_challenge(conn, key.encode())
    except BaseException:
        conn.close()
        raise
    return conn
