"""Waiting: acceptors (data), the single-resource loop, the shared pod watcher, and its streams.

Modules, bottom up:

- :mod:`.acceptors`: ``Acceptor`` and ``WaitTarget`` (what ends a wait), the pod targets
  ``RUNNING``, ``PAUSED`` and ``TERMINATED``.
- :mod:`.tracker`: ``Tracker``, one wait's view of one resource and the verdict its
  acceptors give; ``PodTracker`` for pods.
- :mod:`.loop`: ``poll_until``, the single-resource loop (one GET per poll, jittered
  backoff, wall-clock deadline), generic over the snapshot type; ``wait_for_pod``.
- :mod:`.watcher`: ``PodWatcher``, one background task per client that lists pods for
  every subscriber, tuned by ``WatchPolicy``.
- :mod:`.ready`: ``READY`` (``Readiness``), the target "RUNNING and the exposed ports
  healthy" (optionally TCP-probed), and ``ReadyTracker``.
- :mod:`.streams`: ``Settle`` (many waits on one subscription), ``PodWatchStream`` and
  ``PodChange`` (``client.pods.watch``), ``AsCompleted``.

Which engine serves a wait:

- ``wait_all``, ``as_completed`` and ``watch`` always use the shared watcher: their cost
  is one list request per tick, whatever the number of pods.
- A lone ``wait_until_*`` (no other wait running on the client) uses the single-resource
  loop: one GET per poll is cheaper than a list when only one pod is watched, and that
  GET needs no region filter to stay small.
- A ``wait_until_*`` that starts while another wait is running joins the shared watcher
  instead (unless it passes its own ``backoff=``), so a thousand concurrent
  ``wait_until_running`` calls cost about one list per tick rather than a thousand GETs.

Both engines judge snapshots with the same trackers, so they agree on every outcome.
"""

from .acceptors import PAUSED, RUNNING, TERMINATED, Acceptor, OnChange, WaitTarget, target_for
from .loop import DEFAULT_WAIT_BACKOFF, MIN_POLL_INTERVAL, poll_until, wait_for_pod
from .ready import (
    READY,
    Readiness,
    ReadyTracker,
    Target,
    launch_target,
    probe_ready,
    resolve_until,
    wait_until_of,
)
from .streams import AsCompleted, PodChange, PodWatchStream, Settle
from .tracker import PodTracker, Tracker, call_on_change
from .watcher import Observation, PodListing, PodWatcher, Subscription, WatchPolicy

__all__ = [
    "DEFAULT_WAIT_BACKOFF",
    "MIN_POLL_INTERVAL",
    "PAUSED",
    "READY",
    "RUNNING",
    "TERMINATED",
    "Acceptor",
    "AsCompleted",
    "Observation",
    "OnChange",
    "PodChange",
    "PodListing",
    "PodTracker",
    "PodWatchStream",
    "PodWatcher",
    "Readiness",
    "ReadyTracker",
    "Settle",
    "Subscription",
    "Target",
    "Tracker",
    "WaitTarget",
    "WatchPolicy",
    "call_on_change",
    "launch_target",
    "poll_until",
    "probe_ready",
    "resolve_until",
    "target_for",
    "wait_until_of",
    "wait_for_pod",
]
