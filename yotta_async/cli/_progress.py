"""The launch progress display: pods per state and elapsed time, live on a terminal, as lines otherwise."""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ..models.status import ENDING
from ._output import Output

if TYPE_CHECKING:
    from .._group import PodGroup
    from ..models import Pod
    from ..resources.pods import Pods

__all__ = ["Tracker", "live_display"]

log = logging.getLogger("yotta_async.cli")

# Display order of the states; "creating" counts requests whose pod has not been seen yet.
ORDER = ("creating", "PENDING", "PREPARING", "INITIALIZING", "RUNNING", "PAUSING", "PAUSED",
         "TERMINATING", "TERMINATED", "FAILED")
STYLE = {"RUNNING": "green", "PAUSED": "yellow", "FAILED": "red", "TERMINATED": "dim", "creating": "cyan"}
# The state each phase heads for (by its first word): the bar counts pods that reached it.
# Phases not listed ("keeping", "done") keep the previous target.
TARGET = {"creating": "RUNNING", "waiting": "RUNNING", "deleting": "TERMINATED",
          "pausing": "PAUSED", "cleaning": "TERMINATED"}


def _elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}" if minutes < 60 else f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


class Tracker:
    """Follows a group's pods through ``client.pods.watch()`` and counts them per state.

    The watch shares the client's one poller with every waiter, so following the pods
    costs no requests of its own. ``say`` receives one line per phase change when no live
    display is drawn (stderr is not a terminal).
    """

    def __init__(self, *, count: int, name: str, label: str, group: PodGroup) -> None:
        self.count = count
        self.name = name
        self.label = label
        self.group = group
        self.current = "starting"
        self.target = "RUNNING"
        self.started = time.monotonic()
        self.latest: dict[int, Pod] = {}
        self.say: Callable[[str], None] | None = None
        # With placements (failover): where each pod was placed, and every failover so far.
        self.placed: dict[int, str] = {}
        self.failovers: list[str] = []
        self.placements = False

    def phase(self, name: str) -> None:
        """Enter a new phase ("creating", "waiting for RUNNING", "deleting", ...)."""
        if name == self.current:
            return
        self.current = name
        self.target = TARGET.get(name.split()[0], self.target)
        log.debug("launch phase: %s", name)
        if self.say is not None:
            if name == "creating":
                detail = f"{self.count} pod(s) named {self.name} in group {self.label}"
            else:
                detail = ", ".join(f"{n} {s}" for s, n in self.counts().items() if n) or "no pods"
                detail += f"; {self.cost()}"
            self.say(f"[{_elapsed(self.elapsed())}] {name}: {detail}")

    def cost(self) -> str:
        """The group's total hourly cost, e.g. ``$19.9200/h``."""
        from ._output import money

        return f"${money(self.group.hourly_cost)}/h"

    def failover(self, event: Any) -> None:
        """Record one step of a launch with placements (a ``FailoverEvent``)."""
        self.placements = True
        kind, where = event.kind, str(event.placement) if event.placement is not None else ""
        if kind == "created" and event.pod_id is not None:
            self.placed[event.pod_id] = where
            return
        if kind == "landed" or kind == "creating":
            return
        if kind == "skipped":
            line = f"skipping {where}: the GPU catalogue reports it unavailable"
        elif kind == "refused":
            why = event.reason.removeprefix("create refused: ")
            line = f"pod #{event.slot}: create refused on {where} ({why}); trying the next placement"
        elif kind == "failed":
            line = f"pod {event.pod_id} (#{event.slot}) went FAILED on {where} before RUNNING: " \
                   "deleted, trying the next placement"
        else:
            line = f"pod #{event.slot}: no placement left"
        if kind in ("refused", "failed"):
            self.failovers.append(line)
        log.debug("failover: %s", line)
        if self.say is not None:
            self.say(f"[{_elapsed(self.elapsed())}] {line}")

    def by_placement(self) -> Counter[str]:
        """Live pods per placement (pods that failed over are counted where they are now)."""
        counts: Counter[str] = Counter()
        for pid, pod in self.snapshots().items():
            where = self.placed.get(pid)
            if where and pod.status not in ENDING:
                counts[where] += 1
        return counts

    def elapsed(self) -> float:
        """Seconds since the launch started."""
        return time.monotonic() - self.started

    async def follow(self, pods: Pods) -> None:
        """Record every status change of the group's pods until cancelled."""
        from .._token import group_of

        try:
            async for change in pods.watch():
                pod = change.pod
                if pod.id in self.latest or group_of(pod) == self.label:
                    gone = change.current is None
                    self.latest[pod.id] = pod if not gone else _terminated(pod)
        except Exception as exc:  # the display is best effort; the launch itself goes on
            log.debug("progress display stopped following pods: %r", exc)

    def observe(self, pods: list[Pod]) -> None:
        """Record snapshots the launch itself received (newer than the watch may have seen)."""
        for pod in pods:
            self.latest[pod.id] = pod

    def snapshots(self) -> dict[int, Pod]:
        """The newest snapshot of each group pod, from the group itself or from the watch."""
        known = {p.id: p for p in self.group.pods}
        replaced = self.group.replaced
        for pid, pod in self.latest.items():
            if pid in replaced:
                continue  # failover deleted it and made another in its place
            # The group's cleanup looks at pods on its own; keep whichever view is newer.
            mine = known.get(pid)
            if mine is None or (pod.updated_at or 0) >= (mine.updated_at or 0):
                known[pid] = pod
        return known

    def counts(self) -> Counter[str]:
        """Pods per state, with "creating" for creates not yet seen as pods."""
        known = self.snapshots()
        counts = Counter(str(p.status) for p in known.values())
        sent = len(self.group.tokens)
        counts["creating"] = max(0, sent - len(known)) if self.current == "creating" else 0
        return counts

    def render(self) -> Any:
        """The live display: a title line, a bar towards the phase's target state, the counts."""
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        counts = self.counts()
        target = self.target
        total = max(self.count, sum(n for s, n in counts.items() if s != "creating"))
        title = Text.assemble(
            ("launch ", "bold"), (f"{self.name} x {self.count}", "bold cyan"),
            f"  group {self.label}  ", (self.current, "yellow"), f"  {_elapsed(self.elapsed())}",
            ("  " + self.cost(), "bold"),
        )
        grid = Table.grid(padding=(0, 1))
        grid.add_row(title)
        bar = Table.grid(padding=(0, 1))
        bar.add_row(ProgressBar(total=total, completed=counts[target], width=40),
                    Text(f"{counts[target]}/{total} {target}"))
        grid.add_row(bar)
        line = Text()
        for state in ORDER:
            if counts[state]:
                line.append(f"{state} {counts[state]}  ", style=STYLE.get(state, ""))
        grid.add_row(line or Text("no pods yet", style="dim"))
        if self.placements:
            where = Text("placements: ", style="bold")
            for place, n in self.by_placement().items():
                where.append(f"{place} {n}  ")
            where.append(f"failovers {len(self.failovers)}", style="yellow" if self.failovers else "dim")
            grid.add_row(where)
            for recent in self.failovers[-3:]:
                grid.add_row(Text(recent, style="dim"))
        return grid


def _terminated(pod: Pod) -> Pod:
    import msgspec

    from ..models import PodStatus

    return msgspec.structs.replace(pod, status=PodStatus.TERMINATED)


@contextlib.contextmanager
def live_display(out: Output, tracker: Tracker) -> Iterator[None]:
    """A rich ``Live`` view on stderr while the block runs; phase lines when not a terminal."""
    if not out.progress_enabled:
        if not out.quiet:
            tracker.say = out.info
        yield
        return
    from rich.live import Live

    console = out.stderr_console()
    with Live(
        get_renderable=tracker.render, console=console, refresh_per_second=8,
        transient=False, redirect_stdout=False, redirect_stderr=False,
    ):
        out.live = console
        try:
            yield
        finally:
            out.live = None
