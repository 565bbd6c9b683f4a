"""Two clients with one slug (a clients table or view without a unique slug): neither's report runs.

Which of them a run, its brand and its e-mail's recipient would get was up to the database's row
order: `--all-clients` ran the slug twice, rendering one client both times and the other never,
and the contact looked up for delivery could belong to the other client.
"""

from __future__ import annotations

import pytest

from quire.errors import WarehouseDataError
from support import rebuild_table, run_quire, warehouse_copy

SLUG = "town-of-fairdale"


@pytest.fixture
def shared_slug(quire_env, tiny_warehouse, tmp_path) -> dict[str, str]:
    path = tmp_path / "shared.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        # Rebuilt without its constraints, as a view or another database's table may be.
        rebuild_table(con, "clients")
        con.execute("insert into clients select 99, org_id, 'Other Fairdale', slug, sector, plan, region, signup_date, "
                    "'other@example.com', brand, status, churned_on, locale, currency from clients where slug = ?", [SLUG])
    return {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{path}"}


def test_a_slug_two_clients_share_is_refused_with_both_ids_and_never_mailed(shared_slug, settings_for):
    from quire.delivery.outbox import client_contact
    from quire.pipeline import fan_out_clients, prepare

    settings = settings_for(shared_slug)
    with pytest.raises(WarehouseDataError, match=rf"2 clients share the slug '{SLUG}' in the clients table \(client_id "
                                                 r"\d+, 99\), so none of their reports runs; give each client a slug"):
        prepare("client", {"client": SLUG}, settings)
    assert fan_out_clients({}, settings).count(SLUG) == 1  # listed once, refused once
    assert client_contact(SLUG, settings) is None  # no guess at whose address it is

    run = run_quire(shared_slug, "run", "client", "-p", f"client={SLUG}")
    assert run.returncode != 0 and run.stdout == ""
    assert run.stderr.strip().splitlines()[-1].startswith(f"error: 2 clients share the slug '{SLUG}'"), run.stderr
    assert "Traceback" not in run.stderr
    # `warehouse check` said only that a slug repeats, and that the client report can run.
    check = run_quire(shared_slug, "warehouse", "check", "--report", "client")
    assert ("clients.slug: 1 row has a slug another row has too: those clients' reports are refused; give each client "
            "a slug of its own") in " ".join(check.stdout.split()), check.stdout
