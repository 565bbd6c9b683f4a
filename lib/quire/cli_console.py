"""``quire tokens``: the access tokens of the console and the API (``quire serve``)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.table import Table

from quire.config import get_settings

tokens_app = typer.Typer(help="Access tokens of the console and the API: create, list, revoke.", no_args_is_help=True)


def _check_client(slug: str) -> None:
    from quire.serve import check_client

    check_client(slug, get_settings())


@tokens_app.command("create")
def create(
    role: Annotated[str, typer.Option(help="viewer (read), runner (read and run) or admin (also pause schedules).")],
    client: Annotated[Optional[str], typer.Option(help="Only this client's runs, files and apps (slug).")] = None,
    name: Annotated[str, typer.Option(help="What the token is for, shown in lists and as the requester of its runs.")] = "",
) -> None:
    """Create a token and print its secret once (only a hash of it is kept)."""
    from quire.terminal import err, out
    from quire.state import open_state, tokens

    if client is not None:  # an empty --client (an unset shell variable) must not make a token for every client
        _check_client(client)
    row, secret = tokens.create(open_state(get_settings().state), role=role, client=client, name=name)
    scope = f" for client {client}" if client else ""
    err.print(f"token {row['id']} ({row['role']}{scope}) created; its secret is shown only now:", highlight=False)
    out.print(secret, highlight=False, markup=False)


@tokens_app.command("list")
def list_tokens(
    all_tokens: Annotated[bool, typer.Option("--all", help="Include revoked tokens.")] = False,
) -> None:
    """List the tokens (never their secrets)."""
    from quire.terminal import out
    from quire.state import open_state, tokens

    rows = tokens.listing(open_state(get_settings().state), include_revoked=all_tokens)
    table = Table("id", "name", "role", "client", "created (UTC)", "last used", "revoked")
    for r in rows:
        table.add_row(str(r["id"]), r["name"], r["role"], r["client"] or "", f"{r['created_at']:%Y-%m-%d %H:%M}",
                      f"{r['last_used_at']:%Y-%m-%d %H:%M}" if r["last_used_at"] else "",
                      f"{r['revoked_at']:%Y-%m-%d %H:%M}" if r["revoked_at"] else "")
    out.print(table if rows else "no tokens", highlight=False)


@tokens_app.command("revoke")
def revoke(token_id: Annotated[int, typer.Argument(metavar="ID", help="The id from `quire tokens list`.")]) -> None:
    """Revoke a token: requests with it are refused from now on (signed-in browsers within seconds)."""
    from quire.terminal import out
    from quire.state import open_state, tokens

    row = tokens.revoke(open_state(get_settings().state), token_id)
    out.print(f"token {row['id']} ({row['name']}) revoked", highlight=False)
