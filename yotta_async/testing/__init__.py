"""The embedded Pods API v2 simulator: ``Simulator``, its clocks, timings and fault plan.

Behaviour decisions, where the real API leaves room:

* Envelope ``{"code", "message", "data"}`` on every reply. A missing or wrong ``X-Api-Key``
  gets HTTP 401 with code 401. Business errors are HTTP 200 with code 10001 (invalid
  parameters, naming the camelCase field), 12001 (wrong state) or 13000 (not found).
* A path id that is not an integer, or is outside int64, gets 10001; an integer id that does
  not exist gets 13000. Unknown routes get HTTP 404 with code 10001.
* Create returns the new pod (PENDING). Pods go PENDING -> INITIALIZING -> RUNNING; pause
  (RUNNING only) PAUSING -> PAUSED; resume (PAUSED only) INITIALIZING -> RUNNING. Delete is
  accepted in every state except TERMINATING/TERMINATED (FAILED included: that is how a
  failed pod is cleaned up) and goes TERMINATING -> TERMINATED, then the pod is gone (13000)
  after ``Timings.retention``. Deleting a TERMINATING or TERMINATED pod gets 12001.
* GPU catalogue: every known GPU type is offered, unlimited, in five regions unless
  ``catalogue={gpu_type: {region: gpus or None}}`` says otherwise; ``sim.set_capacity(t,
  r, n)`` changes it during a run. A type with offers exists only in those regions; an
  unknown spelling is unlimited everywhere. ``capacity={gpu_type: n}`` adds a cap across
  regions, and ``capacity={(gpu_type, region): n}`` replaces that type's offers. Capacity
  counts GPUs. A pod holds its GPUs from create until TERMINATED or FAILED (PAUSED pods keep
  theirs, so resume never fails for capacity). ``GET /v2/vms/types`` reports ``available``
  from what remains. A create beyond capacity is accepted (10000) like the real API, but
  the pod stays PENDING briefly and then goes FAILED ("could not start: insufficient
  resources") without holding GPUs. The first region of ``regions`` (or, without
  ``regions``, of the default region and the offered ones) with room is chosen. With
  ``over_capacity="refuse"`` such a create is refused instead, with code
  :data:`CAPACITY_ERROR_CODE` (24000, the provider's only documented capacity-like code,
  from Elastic), and no pod is made.
* Exposed ports report ``healthy: true`` a seeded, configurable delay after RUNNING
  (``port_health``, per port; ``math.inf`` for never); ``loopback_ports=True`` backs each
  with a real socket on 127.0.0.1 so TCP probes connect for real; ``protocol_case``
  switches ``expose[].protocol`` to upper or lower case.
* Registry credentials (``/v2/container-registry-auths``) keep the password only as a
  salted digest. A credential is in use while a live pod (not TERMINATED or FAILED) was
  created with it; its delete is then refused. Volumes (``/v2/volumes``) go ``creating`` ->
  ``active`` after :class:`ResourceTimings`, and ``resizing`` / ``deleting`` likewise;
  ``mountCount`` counts the live pods mounting a volume, and delete or resize is refused
  while it is above 0 or the volume is not active. A pod naming an unknown credential
  (code 10001), an unknown volume (10001) or a non-active volume (12001) is refused.
  Unknown credential or volume ids get HTTP 404 with code 40400. Lists page from 1 with
  ``size`` capped at 100.
* Ambiguous spec points are played per :class:`Variants` (``sim.variants``).
* Faults (500/502/429/reset) are decided before the handler, so they never change state;
  "reply lost" faults (``lost_reset``/``lost_500``) happen after a successful handler on any
  route, so the action did take effect.
"""

from __future__ import annotations

from .._protocol import CAPACITY_ERROR_CODE
from ._clock import Clock, ManualClock, MonotonicClock
from ._faults import FaultPlan, FaultRule
from ._resources import ResourceTimings
from ._simulator import Simulator
from ._state import Timings
from ._variants import Variants

__all__ = [
    "CAPACITY_ERROR_CODE",
    "Clock",
    "FaultPlan",
    "FaultRule",
    "ManualClock",
    "MonotonicClock",
    "ResourceTimings",
    "Simulator",
    "Timings",
    "Variants",
]
