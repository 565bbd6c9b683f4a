"""Fixtures of the console tests (helpers in ``console_support``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from console_support import CLIENT_A, CLIENT_B, CONCLUSION, Server, console_env, publish_run, start_serve, stop

@dataclass
class ApiWorld:
    """A running console server with tokens of every kind and published runs of two clients."""

    server: Server
    engine: object
    outputs: Path
    tokens: dict[str, str] = field(default_factory=dict)
    runs: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="session")
def api_world(tiny_warehouse, tmp_path_factory) -> ApiWorld:
    from quire.state import open_state, tokens

    base = tmp_path_factory.mktemp("console-api")
    env = console_env(tiny_warehouse, base)
    engine = open_state(env["QUIRE_STATE_URL"])
    outputs = base / "outputs"
    world = ApiWorld(server=None, engine=engine, outputs=outputs)  # type: ignore[arg-type]
    for name, role, client in [("admin", "admin", None), ("runner", "runner", None), ("viewer", "viewer", None),
                               ("client_a", "runner", CLIENT_A), ("client_b", "viewer", CLIENT_B),
                               ("client_a_admin", "admin", CLIENT_A), ("revoked", "admin", None)]:
        row, secret = tokens.create(engine, role=role, client=client, name=f"test {name}")
        world.tokens[name] = secret
        if name == "revoked":
            tokens.revoke(engine, row["id"])
    start = datetime(2026, 11, 2, 6, 0)
    for k, (period, views) in enumerate([("2026-08", 100.0), ("2026-09", 120.0), ("2026-10", 90.0)]):
        world.runs[f"a{k}"] = publish_run(engine, outputs, report="client", client=CLIENT_A, period=period,
                                          figures={"views": views, "clicks": views / 10}, created=start + timedelta(hours=k))
    world.runs["b0"] = publish_run(engine, outputs, report="client", client=CLIENT_B, period="2026-10",
                                   figures={"views": 55.0}, created=start + timedelta(hours=5))
    world.runs["exec"] = publish_run(engine, outputs, report="executive", client=None, period="2026-10",
                                     figures={"mrr": 1000.0}, created=start + timedelta(hours=6),
                                     conclusion=CONCLUSION)
    world.runs["failed"] = publish_run(engine, outputs, report="client", client=CLIENT_A, period="2026-10",
                                       figures={}, created=start + timedelta(hours=7), status="failed")
    world.server = start_serve(env, base / "serve.log")
    yield world
    stop(world.server.process)
