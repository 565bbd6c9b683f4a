"""A throwaway PostgreSQL 15 server for the tests (Debian's package, installed by `make setup`)."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def installed() -> bool:
    return (PG_BIN / "initdb").exists()


def _as_postgres(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: use its own OS user (Debian's package creates it).
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server() -> Iterator[int]:
    """Start a server on 127.0.0.1 in a temp dir (fsync off: test data only); yields its port."""
    base = Path(tempfile.mkdtemp(prefix="quire-pg-"))
    data, port = base / "data", _free_port()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"]),
                   check=True, capture_output=True, timeout=60)
    subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-t", "30",
                                 "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
                                       "-c max_connections=200", "start"]),
                   check=True, capture_output=True, timeout=60)
    try:
        yield port
    finally:
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "-t", "30", "stop"]),
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def new_database(port: int) -> str:
    """A fresh, empty database on the server; returns its SQLAlchemy URL."""
    import psycopg

    name = f"quire_{secrets.token_hex(4)}"
    with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # a generated name, not input
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{name}"
