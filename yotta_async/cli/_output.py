"""Everything the CLI prints: JSON or rich tables on stdout, messages and progress on stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from ..models import Pod

__all__ = ["ActionResult", "Output", "money"]

_STATUS_STYLE = {
    "RUNNING": "green",
    "PAUSED": "yellow",
    "PAUSING": "yellow",
    "FAILED": "bold red",
    "TERMINATED": "dim",
    "TERMINATING": "dim",
}


class ActionResult:
    """The outcome of one pause/resume/delete: ``error`` is ``None`` on success."""

    __slots__ = ("error", "pod_id")

    def __init__(self, pod_id: int | str, error: BaseException | None = None) -> None:
        self.pod_id = pod_id
        self.error = error

    def to_json(self) -> dict[str, Any]:
        """``{"id": ..., "ok": true}`` or ``{"id": ..., "ok": false, "error": {...}}``."""
        if self.error is None:
            return {"id": self.pod_id, "ok": True}
        err: dict[str, Any] = {"type": type(self.error).__name__, "message": str(self.error)}
        code = getattr(self.error, "code", None)
        if code is not None:
            err["code"] = code
        return {"id": self.pod_id, "ok": False, "error": err}


class Output:
    """Writes one document to stdout per command and everything else to stderr.

    ``mode`` is ``"table"`` or ``"json"``. rich is imported only when a table or a
    progress display is drawn, so ``--output json`` never loads it.
    """

    def __init__(self, mode: str = "table", *, quiet: bool = False) -> None:
        self.mode = mode
        self.quiet = quiet
        self._stdout: Console | None = None
        self._stderr: Console | None = None
        # Set while a live display runs: messages then print above it instead of through it.
        self.live: Console | None = None
        self._api: dict[int, dict[str, Any]] = {}

    def remember(self, raw_pods: Iterable[dict[str, Any]]) -> None:
        """Pods as the API sent them: JSON output adds the fields the SDK's model lacks."""
        for raw in raw_pods:
            try:
                self._api[int(raw["id"])] = raw
            except (KeyError, TypeError, ValueError):
                continue

    @property
    def json(self) -> bool:
        """True for ``--output json``."""
        return self.mode == "json"

    @property
    def progress_enabled(self) -> bool:
        """A live display is drawn only on a terminal, and never with ``--quiet``."""
        return not self.quiet and sys.stderr.isatty()

    # -- consoles --------------------------------------------------------------------------
    def stdout_console(self) -> Console:
        """A rich console on stdout; wide when piped so a table never wraps mid-row."""
        if self._stdout is None:
            from rich.console import Console

            self._stdout = Console(file=sys.stdout, highlight=False, soft_wrap=False)
            if not self._stdout.is_terminal:
                self._stdout.width = 1000
        return self._stdout

    def stderr_console(self) -> Console:
        """A rich console on stderr, for progress displays."""
        if self._stderr is None:
            from rich.console import Console

            self._stderr = Console(file=sys.stderr, highlight=False)
        return self._stderr

    def print_table(self, table: Any, *, squeeze: bool = True) -> None:
        """Print a rich renderable on stdout without the trailing blanks rich pads rows with.

        ``squeeze=False`` renders at the table's natural width even on a narrow terminal
        (the terminal wraps the lines), so that no id is ever cut short with an ellipsis.
        """
        from rich.measure import Measurement

        console = self.stdout_console()
        width = console.width
        if not squeeze:
            natural = Measurement.get(console, console.options.update(width=10_000), table).maximum
            console.width = max(width, natural)
        try:
            with console.capture() as captured:
                console.print(table)
        finally:
            console.width = width
        lines = captured.get().splitlines()
        sys.stdout.write("".join(line.rstrip() + "\n" for line in lines))
        sys.stdout.flush()

    # -- messages --------------------------------------------------------------------------
    def info(self, message: str) -> None:
        """A progress note on stderr (silenced by ``--quiet``)."""
        if not self.quiet:
            self._stderr_line(message)

    def line(self, message: str) -> None:
        """A log line on stderr that ``--quiet`` does not silence (the reaper's actions)."""
        self._stderr_line(message)

    def error(self, message: str) -> None:
        """An error line on stderr; never silenced."""
        self._stderr_line(f"yotta-async: error: {message}")

    def _stderr_line(self, text: str) -> None:
        if self.live is not None:
            self.live.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            print(text, file=sys.stderr, flush=True)

    # -- documents -------------------------------------------------------------------------
    def emit_json(self, value: Any) -> None:
        """``value`` as one JSON document (models encode with their camelCase API names)."""
        import msgspec

        # Prices are Decimal in the models; they go out as JSON numbers, as the API sends them.
        encoder = msgspec.json.Encoder(decimal_format="number")
        text = msgspec.json.format(encoder.encode(value), indent=2)
        sys.stdout.buffer.write(text + b"\n")
        sys.stdout.flush()

    def pods(self, pods: Sequence[Pod], *, placements: Mapping[int, str] | None = None) -> None:
        """A list of pods: a JSON array, or one table row per pod.

        ``placements`` (a launch with failover) adds a PLACEMENT column: where each pod
        landed, by pod id (pods without an entry show blank).
        """
        if self.json:
            self.emit_json([self.as_sent(p) for p in pods])
            return
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, pad_edge=False, header_style="bold")
        headers = ["ID", "NAME", "STATUS", "GPU", "REGION", "$/H", "CREATED"]
        if placements is not None:
            headers.append("PLACEMENT")
        for header in headers:
            table.add_column(header, no_wrap=True, justify="right" if header == "$/H" else "left")
        for pod in pods:
            status = str(pod.status)
            gpu = f"{pod.gpu_count or '?'} x {pod.gpu_type}" if pod.gpu_type else ""
            # Text(), not str: the API's strings are data, never rich markup ("[/]" would crash).
            cells: list[Any] = [
                str(pod.id), Text(pod.name or ""), Text(status, style=_STATUS_STYLE.get(status, "")),
                Text(gpu), Text(pod.region or ""), money(pod.hourly_cost), _when(pod.created_at),
            ]
            if placements is not None:
                cells.append(Text(placements.get(pod.id, "")))
            table.add_row(*cells)
        self.print_table(table, squeeze=False)
        if not pods:
            self.info("no pods")

    def pod(self, pod: Pod) -> None:
        """One pod: its JSON object, or a two-column table of every field it has."""
        if self.json:
            self.emit_json(self.as_sent(pod))
            return
        import msgspec
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for key, value in msgspec.to_builtins(pod).items():
            if key in ("createdAt", "updatedAt") and isinstance(value, int):
                text = f"{_when(value)} ({value})"
            elif isinstance(value, (list, dict)):
                text = msgspec.json.encode(value).decode()
            else:
                text = str(value)
            table.add_row(key, Text(text))  # data, not rich markup
        table.add_row("$/h", Text(money(pod.hourly_cost, unknown="unknown (a price is missing)")))
        self.print_table(table)

    def as_sent(self, pod: Pod) -> Any:
        """The snapshot's fields, plus any field the API sent that the model does not know."""
        raw = self._api.get(pod.id)
        if not raw:
            return pod
        import msgspec

        from ..models import Pod

        known = {f.encode_name for f in msgspec.structs.fields(Pod)}
        doc: dict[str, Any] = msgspec.to_builtins(pod)
        doc.update((key, value) for key, value in raw.items() if key not in known)
        return doc

    def actions(self, verb: str, results: Sequence[ActionResult]) -> None:
        """The outcome of an action on several pods: a JSON array, or a table."""
        if self.json:
            self.emit_json([r.to_json() for r in results])
            return
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, pad_edge=False, header_style="bold")
        table.add_column("ID", no_wrap=True)
        table.add_column("RESULT")
        for r in results:
            if r.error is None:
                table.add_row(str(r.pod_id), Text(f"{verb} requested", style="green"))
            else:
                table.add_row(str(r.pod_id), Text(f"failed: {r.error}", style="red"))
        self.print_table(table)


def money(amount: Decimal | None, *, unknown: str = "?") -> str:
    """An hourly cost for display: ``0.65`` -> ``"0.6500"``; ``None`` -> ``unknown``.

    Four decimals show per-GB storage prices that a cent would round away; the exact value
    is in ``pod.hourly_cost`` (and ``-o json`` carries the raw price fields).
    """
    if amount is None:
        return unknown
    return f"{amount:.4f}"


def _when(epoch_ms: int | None) -> str:
    from ..models.pod import from_epoch_ms  # None for a value no datetime can hold (a server bug)

    moment = from_epoch_ms(epoch_ms)
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%SZ")
