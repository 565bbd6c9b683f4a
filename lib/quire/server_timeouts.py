"""What every connection to a database server gets from Quire: a bound on the wait for the server's answer.

Without one, libpq waits for ever on a server that accepts the connection but never answers
(overloaded, stopped, behind a half-open tunnel): ``quire run`` or the scheduler would hang
without a word instead of saying the database cannot be reached.
"""

from __future__ import annotations

from sqlalchemy.engine import URL

#: Seconds to wait for a database server to answer a new connection (a healthy one answers in milliseconds).
CONNECT_TIMEOUT = 20

#: The PostgreSQL drivers that take libpq's ``connect_timeout``.
_LIBPQ_DRIVERS = ("psycopg", "psycopg2", "psycopg2cffi")


def server_connect_args(url: URL) -> dict[str, object]:
    """The connect arguments that bound the wait for the server at ``url``; none for a file database, or
    when the URL says ``connect_timeout`` itself (the URL wins)."""
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in _LIBPQ_DRIVERS \
            and "connect_timeout" not in url.query:
        return {"connect_timeout": CONNECT_TIMEOUT}
    return {}
