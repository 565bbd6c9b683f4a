"""Tenant-free data that every run of a batch needs: computed once by the batch, handed to each run.

The client reports of one period all compare their client with the same anonymous
portfolio aggregates; querying them 1,000 times is 1,000 times the same answer. A
report module registers a *provider* that computes such values for a batch's
parameters, and reads them with :func:`get`, which computes the value itself when the
run is not part of a batch (a notebook in JupyterLab, a single run).

Only data that belongs to no tenant may travel this way (aggregates over all clients
that publish no client's figures, reference tables): a provider never receives a
client, and a key never names one. A client's own rows are always queried in that
client's run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from quire.batch.runner import RunRequest
    from quire.config import Settings

T = TypeVar("T")
#: provider(list of the batch's parameter dicts, warehouse URL) -> {key: value}; keyed by notebook name.
Provider = Callable[[Sequence[dict[str, Any]], str], dict[tuple, Any]]
_providers: dict[str, Provider] = {}
_values: dict[tuple, Any] = {}


def provider(notebook: str) -> Callable[[Provider], Provider]:
    """Register the decorated function as the shared-data provider of reports running ``notebook`` (its stem)."""
    def register(fn: Provider) -> Provider:
        _providers[notebook] = fn
        return fn
    return register


def install(values: dict[tuple, Any]) -> None:
    """Make ``values`` this process's shared data (called in a run's process before the notebook runs)."""
    _values.clear()
    _values.update(values)


def get(key: tuple, compute: Callable[[], T]) -> T:
    """The batch's value for ``key``, or ``compute()`` when this run is not part of a batch that has it."""
    if key in _values:
        value = _values[key]
        return value.copy() if hasattr(value, "copy") else value  # a run may change its frame; the next must not see it
    return compute()


def attach(requests: list[RunRequest], settings: Settings) -> list[RunRequest]:
    """Compute the shared data of each report in ``requests`` once and attach it to that report's requests."""
    by_notebook: dict[str, list[RunRequest]] = {}
    for request in requests:
        if request.plan is not None:
            by_notebook.setdefault(Path(request.plan.spec.notebook).stem, []).append(request)
    computed: dict[str, dict[tuple, Any]] = {}
    for notebook, group in by_notebook.items():
        if len(group) < 2:
            continue  # nothing to share, and a single run need not import the report module here
        fn = _load_provider(notebook)
        if fn is not None:
            computed[notebook] = fn([r.plan.params for r in group], settings.warehouse)
    return [replace(r, shared=computed[stem]) if r.plan is not None and (stem := Path(r.plan.spec.notebook).stem) in computed
            else r for r in requests]


def _load_provider(notebook: str) -> Provider | None:
    """The provider of ``notebook``'s report module (``quire.reports.<notebook>``), if it has one."""
    import importlib

    try:
        importlib.import_module(f"quire.reports.{notebook}")
    except ImportError:
        return None
    return _providers.get(notebook)
