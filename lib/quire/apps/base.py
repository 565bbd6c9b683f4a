"""The machinery every stakeholder app shares: validated pickers, one output area, recompute on change.

An app is a row of pickers above an HTML output area. Changing a picker
recomputes the report through the same ``quire.reports.*`` functions the scheduled runs
use and re-displays the app's sections (charts and tables are the report's own display
objects, so an app and a rendered report always agree).

Widget messages are client input. A picker's value reaches the kernel only as an index
into options the server chose; anything else (an index out of range, a value not in the
app's own list of allowed values) is refused, the app says so in its message line and
keeps the last good value. Nothing from a widget message is ever evaluated.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import ipywidgets as widgets
from markupsafe import escape
from traitlets import TraitError

from quire.display import Callout, Fragment
from quire.errors import QuireError
from quire.formatting import number
from quire.periods import Period, add_months

#: Environment variable that pins the client app to one client (``quire serve --client``).
TENANT_ENV = "QUIRE_APP_CLIENT"
#: The same pin for one kernel of an internal server, opened by a client's console token (Voilà passes the
#: server-set X-Quire-Tenant request header to that kernel's environment; see quire.console.access.pin_app).
REQUEST_TENANT_ENV = "HTTP_X_QUIRE_TENANT"
#: Output metadata of an app's ``text/html``: it is the snapshot of a widget (templates/voila/quire).
SNAPSHOT_MARK = "quire_snapshot"


#: The loggers through which the kernel reports a widget message it could not handle (ipykernel's and comm's).
COMM_LOGGERS = ("ipykernel.comm", "Comm")


class _WithoutTraceback(logging.Formatter):
    """The message and the exception's type, never its traceback."""

    def format(self, record: logging.LogRecord) -> str:
        error = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else None
        plain = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None, "stack_info": None})
        return super().format(plain) + (f" ({error})" if error else "")


def _comm_errors_without_traceback() -> None:
    """Report the kernel's errors about widget messages in one line, without the traceback.

    Unconfigured, they reach Python's last-resort handler with their traceback, on the kernel's
    stderr, which the kernel sends to the page (even a write to the process's own stderr is
    captured and forwarded): a crafted ``comm_open`` or ``comm_msg`` got back the server's file
    paths and library versions. What the page sent, and that it was refused, is all it learns.
    """
    handler = logging.StreamHandler()  # sys.stderr as it is now: in a kernel, its stream to the page
    handler.setFormatter(_WithoutTraceback("[quire app] %(name)s: %(message)s"))
    for name in COMM_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False


_comm_errors_without_traceback()


class AppInputError(QuireError):
    """A value sent by an app's browser page is not one of the values the app offers."""

    exit_code = 2


def pinned_client() -> str | None:
    """The client slug this server is pinned to (client-facing mode), or None for internal use."""
    return (os.environ.get(TENANT_ENV, "").strip() or os.environ.get(REQUEST_TENANT_ENV, "").strip()) or None


def opened(make: Callable[[], App]) -> App | Callout:
    """The app ``make`` builds, showing its first view; when the warehouse cannot serve it (no MRR ledger,
    no experiments: an imported warehouse may hold one report's data), a message saying why instead of a
    traceback in the stakeholder's browser."""
    try:
        return make().show()
    except QuireError as exc:
        text = str(exc)
        return Callout(text[:1].upper() + text[1:], "warning", title="This app cannot open on this warehouse.")


def period_options(first_month: date, last_month: date, months: int = 12, quarters: int = 4) -> list[tuple[str, str]]:
    """(label, key) of the recent complete months, then the recent complete quarters, newest first."""
    options = []
    for k in range(months):
        p = Period(add_months(last_month, -k), "month")
        if p.start >= first_month:
            options.append((p.label, p.key))
    # The newest quarter that is complete by the end of last_month.
    q_last = date(last_month.year, 3 * ((last_month.month - 1) // 3) + 1, 1)
    if add_months(q_last, 2) > last_month:
        q_last = add_months(q_last, -3)
    for k in range(quarters):
        p = Period(add_months(q_last, -3 * k), "quarter")
        if p.start >= first_month:
            options.append((p.label, p.key))
    return options


class Picker(widgets.Dropdown):
    """A dropdown whose state updates from the browser are checked, never trusted.

    ipywidgets applies a widget message with :meth:`set_state`; a value outside the
    options (e.g. ``{"index": 99}`` from a crafted message) raises a ``TraitError``
    there, which would only reach the kernel log. Here it is refused visibly: the app
    shows a message and the browser is sent the current, valid state back.
    """

    def __init__(self, *args: Any, on_reject: Callable[[str], None] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_reject = on_reject

    def set_state(self, sync_data: dict[str, Any]) -> None:
        try:
            super().set_state(sync_data)
        except (TraitError, TypeError, ValueError):
            sent = str(sync_data.get("index", sync_data))[:80]
            if self._on_reject:
                self._on_reject(f"{self.description or 'This picker'}: {sent} is not one of its choices; "
                                f"the app keeps {self.label!s}.")
            self.send_state()  # put the browser's picker back on the valid value


def sections_html(parts: Iterable[Any]) -> str:
    """The sections as one HTML string for the app's output area.

    Wrapped so that the page's TeX typesetter leaves it alone ("$98,889 to $98,505" is money,
    not maths) and JupyterLab's rendered-HTML rules (which app.css adjusts) still apply.
    """
    body = "".join(part.html() if isinstance(part, Fragment)
                   else part._repr_html_() if hasattr(part, "_repr_html_") else str(escape(str(part)))
                   for part in parts)
    return f'<div class="jp-RenderedHTMLCommon tex2jax_ignore mathjax_ignore">{body}</div>'


class App:
    """Pickers, a message line and an output area; subclasses say what the pickers are and what to show."""

    title = "App"

    def __init__(self, choices: Mapping[str, tuple[str, Sequence[tuple[str, str]], str]], *,
                 fixed: Mapping[str, str] | None = None, url: str | None = None) -> None:
        """``choices``: name -> (label, [(option label, value)…], initial value); ``fixed``: values not offered."""
        self.url = url
        self.fixed = dict(fixed or {})
        self.allowed = {name: [value for _, value in options] for name, (_, options, _) in choices.items()}
        self.message = widgets.HTML(layout=widgets.Layout(min_height="1.5em"))
        self.message.add_class("q-app-message")
        self.pickers: dict[str, Picker] = {}
        for name, (label, options, initial) in choices.items():
            picker = Picker(options=list(options), value=initial, description=label, on_reject=self._reject,
                            style={"description_width": "initial"}, layout=widgets.Layout(width="auto"))
            picker.add_class(f"q-app-picker-{name}")
            picker.observe(self._changed, names="value")
            self.pickers[name] = picker
        self.status = widgets.HTML()
        self.status.add_class("q-app-status")
        # An HTML widget, not an ipywidgets Output: Voilà's server-side executor replays what an Output
        # captures back to the kernel, and with large outputs (charts as data URIs) a page then hangs at
        # "Executing 1 of 2" now and then (plain Voilà 0.5.13, no Quire code: 7 of 16 loads hung with an
        # Output holding 8 images of 80 kB, none of 16 with the same HTML in an HTML widget).
        self.output = widgets.HTML()
        self.output.add_class("q-app-output")
        controls = widgets.HBox([*self.pickers.values(), self.status], layout=widgets.Layout(flex_flow="row wrap"))
        controls.add_class("q-app-controls")
        self.widget = widgets.VBox([controls, self.message, self.output])
        self.widget.add_class("q-app")
        self.renders = 0
        self.last_seconds = 0.0

    # -- values ------------------------------------------------------------------------------
    def values(self) -> dict[str, str]:
        """The current values, each checked against the app's own list (and the fixed ones)."""
        found = {}
        for name, picker in self.pickers.items():
            self.check(name, picker.value)
            found[name] = picker.value
        return {**found, **self.fixed}

    def check(self, name: str, value: Any) -> None:
        """Raise :class:`AppInputError` unless ``value`` is one of the values offered for ``name``."""
        if name in self.fixed:
            if value != self.fixed[name]:
                raise AppInputError(f"{name} is fixed for this app; {value!r} is refused")
            return
        if name not in self.allowed:
            raise AppInputError(f"this app has no {name!r} setting")
        if value not in self.allowed[name]:
            raise AppInputError(f"{value!r} is not one of the choices for {name}")

    def select(self, name: str, value: str) -> None:
        """Set a picker as the browser would; a refused value leaves the app unchanged and says why."""
        try:
            self.check(name, value)
        except AppInputError as exc:
            self._reject(str(exc))
            return
        self.pickers[name].value = value

    # -- rendering ---------------------------------------------------------------------------
    def sections(self, values: Mapping[str, str]) -> Iterable[Any]:
        """The display objects to show for ``values`` (subclasses)."""
        raise NotImplementedError

    def refresh(self) -> None:
        """Recompute and re-display; a QuireError (e.g. an empty period) is shown as a message, not a traceback."""
        t0 = time.perf_counter()
        self.status.value = '<span class="q-app-busy">Updating…</span>'
        try:
            parts = [p for p in self.sections(self.values()) if p is not None]
        except QuireError as exc:
            # An alert: a screen reader says that the report it was reading is gone, and why.
            parts = [Callout(str(exc), "warning", title="Nothing to show.", role="alert")]
        self.output.value = sections_html(parts)
        self.renders += 1
        self.last_seconds = time.perf_counter() - t0
        # The counter lets a browser (and the tests) tell one render from the next.
        self.status.value = f'<span class="q-app-ready" data-render="{self.renders}">Updated in {number(self.last_seconds, 1)} s</span>'

    def _changed(self, change: Mapping[str, Any]) -> None:
        self.message.value = ""
        self.refresh()

    def _reject(self, text: str) -> None:
        self.message.value = f'<div class="q-callout q-warning" role="alert">{escape(text)}</div>'

    def show(self) -> "App":
        """Compute the first view; the notebook's last expression then displays the app."""
        self.refresh()
        # One line on the kernel's own stderr, which is the server's log: with preheating, Voilà
        # reports a pool "filled" once a kernel has started, not once the app has rendered.
        print(f"[quire] {type(self).__name__} ready in {self.last_seconds:.1f} s", file=sys.__stderr__, flush=True)
        return self

    def snapshot_html(self) -> str:
        """The app as it stands, as static HTML: what a page shows until its widgets are live.

        Same sections as the live output area; the pickers are shown with their current
        choice, disabled (they cannot act before the kernel is connected), every option
        listed so that they are as wide as the live ones.
        """
        pickers = "".join(
            f'<div class="q-app-snapshot-picker"><label>{escape(p.description)}</label><select disabled>'
            + "".join(f"<option{' selected' if value == p.value else ''}>{escape(label)}</option>"
                      for label, value in p.options)
            + "</select></div>"
            for p in self.pickers.values())
        def html_widget(name: str, value: str) -> str:  # an HTML widget's two nested boxes
            return f'<div class="q-app-snapshot-{name}"><div class="q-app-snapshot-content">{value}</div></div>'

        return (f'<div class="q-app-snapshot" aria-busy="true"><div class="q-app-snapshot-controls">{pickers}'
                f'{html_widget("status", self.status.value)}</div>'
                f'<div class="q-app-snapshot-message">{self.message.value}</div>'
                f'{html_widget("output", self.output.value)}</div>')

    def _repr_mimebundle_(self, include=None, exclude=None) -> tuple[dict[str, Any], dict[str, Any]]:
        """The widget, and as ``text/html`` its snapshot (marked so, for the Voilà template to serve at once).

        A preheated app is computed before anyone asks for it: with the snapshot in the page's
        HTML its charts show as soon as the page arrives, and the widget, once its scripts
        have loaded and its kernel is connected, takes its place. A frontend without widgets
        shows the snapshot.
        """
        data = self.widget._repr_mimebundle_(include=include, exclude=exclude) or {}
        return {**data, "text/html": self.snapshot_html()}, {"text/html": {SNAPSHOT_MARK: True}}
