"""The pod as the API returns it (``PodV2Response``) and the nested types it shares with requests."""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING

from ._base import Int64, Model
from .status import PodStatus, decode_status

__all__ = [
    "EnvVar",
    "ExposePort",
    "PersistentVolume",
    "Pod",
    "PortSelector",
    "from_epoch_ms",
    "parse_ssh_cmd",
]

PortSelector = int | str
"""Picks exposed ports: a container port number (``22``) or a protocol name (``"ssh"``, any case)."""


class EnvVar(Model, kw_only=True):
    """One environment variable (``KeyValuePairDTO``)."""

    key: str
    value: str


class ExposePort(Model, kw_only=True):
    """A port to expose. In responses the proxy fields and ``healthy`` are filled in.

    >>> ExposePort(port=8888, protocol="http")
    ExposePort(port=8888, protocol='http')
    """

    port: int
    protocol: str | None = None
    proxy_port: int | None = None
    host: str | None = None
    healthy: bool | None = None
    ingress_url: str | None = None
    service_name: str | None = None

    @property
    def ready(self) -> bool:
        """``healthy is True`` with a ``host`` and a ``proxy_port``: something to connect to.

        Right after create an entry carries only ``port`` and ``protocol``; a missing field
        counts as "not ready".
        """
        return self.healthy is True and bool(self.host) and self.proxy_port is not None

    def matches(self, selector: PortSelector) -> bool:
        """Whether ``selector`` (a container port, or a protocol name in any case) picks this entry.

        >>> ExposePort(port=22, protocol="SSH").matches("ssh")
        True
        """
        if isinstance(selector, str):
            return (self.protocol or "").casefold() == selector.casefold()
        return self.port == selector

    @property
    def label(self) -> str:
        """A short name for messages: ``"22/SSH"``, or ``"8080"`` without a protocol."""
        return f"{self.port}/{self.protocol}" if self.protocol else str(self.port)


class PersistentVolume(Model, kw_only=True):
    """A persistent volume attached to the pod (request and response share this shape).

    Two request shapes are documented: the guides' ``{volumeId, mountPath, needBackup}``
    and the generated schema's ``{id, volumeType, mountPath, ...}``; this model holds
    either (or both: ``VolumeMount`` fills ``volume_id`` and ``id`` with the same id).
    Responses use the generated shape, where ``id`` is the volume's id.
    """

    mount_path: str
    volume_type: str | None = None
    volume_id: int | None = None
    need_backup: bool | None = None
    id: int | None = None
    name: str | None = None
    mount_mode: str | None = None
    volume_size: int | None = None
    # Exact: a JSON number or a decimal string ("0.007") decodes into Decimal, never via float.
    volume_price: Decimal | None = None
    cloud_storage_type: str | None = None
    system_volume_type: str | None = None
    system_volume_type_enum: str | None = None

    def __post_init__(self) -> None:
        price = self.volume_price
        # A price given in Python as an int or float is kept exactly as written (its repr),
        # so a request round-trips and cost sums stay Decimal; bad types are left for
        # PodCreateRequest.validate to name.
        if isinstance(price, (int, float)) and not isinstance(price, bool) and math.isfinite(price):
            self.volume_price = Decimal(repr(price))


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def from_epoch_ms(value: int | None) -> datetime | None:
    """Epoch milliseconds as an aware UTC ``datetime``, exact to the millisecond.

    ``None``, and values no ``datetime`` can hold (a server bug), give ``None``.

    >>> from_epoch_ms(1700000000123)
    datetime.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=datetime.timezone.utc)
    """
    if value is None:
        return None
    try:
        # timedelta keeps the milliseconds exact, where a float division may not.
        return _EPOCH + timedelta(milliseconds=value)
    except (OverflowError, ValueError, TypeError):
        return None


class Pod(Model, kw_only=True):
    """A pod (``PodV2Response``). Every field but ``id`` and ``status`` may be absent.

    ``created_at`` / ``updated_at`` are epoch milliseconds as sent; ``created`` and
    ``updated`` give the same instants as ``datetime``.

    A ``Pod`` is a snapshot, often shared (one poll serves every waiter): treat it as
    read-only. Fields are declared in the order the API sends them (``status`` after
    ``ssh_cmd``), so a big listing decodes faster (``benchmarks/bench_decode.py``).
    """

    id: Int64
    org_id: int | None = None
    applicant_id: int | None = None
    name: str | None = None
    image_id: int | None = None
    official_image: str | None = None
    image_public_type: str | None = None
    image: str | None = None
    image_registry: str | None = None
    image_registry_username: str | None = None
    resource_type: str | None = None
    gpu_type: str | None = None
    gpu_display_name: str | None = None
    gpu_count: int | None = None
    shm_in_gb: int | None = None
    single_card_vram_in_gb: int | None = None
    single_card_ram_in_gb: int | None = None
    single_card_vcpu: int | None = None
    location: str | None = None
    region: str | None = None
    cloud_type: str | None = None
    container_volume_in_gb: int | None = None
    persistent_volume_in_gb: int | None = None
    persistent_mount_path: str | None = None
    network_upload_mbps: float | None = None
    network_download_mbps: float | None = None
    disk_read_speed_mbps: float | None = None
    disk_write_speed_mbps: float | None = None
    # Prices decode exactly into Decimal, whether the API sends a JSON number or a decimal
    # string such as "0.65" (resources spec §4.3); see hourly_cost.
    single_card_price: Decimal | None = None
    persistent_volume_price: Decimal | None = None
    container_volume_price: Decimal | None = None
    initialization_command: str | None = None
    environment_vars: list[EnvVar] | None = None
    expose: list[ExposePort] | None = None
    ssh_cmd: str | None = None
    if TYPE_CHECKING:
        status: PodStatus
    else:
        # The wire may carry a v1 integer status; __post_init__ turns it into a PodStatus.
        status: PodStatus | int
    created_at: int | None = None
    updated_at: int | None = None
    persistent_volumes: list[PersistentVolume] | None = None
    internal_ip: str | None = None
    desired_state: str | None = None
    # Not in the documented PodV2Response; decoded when a server sends it.
    container_registry_auth_id: int | None = None

    def __post_init__(self) -> None:
        if type(self.status) is not PodStatus:
            self.status = decode_status(self.status)

    @property
    def created(self) -> datetime | None:
        """``created_at`` as an aware UTC datetime."""
        return from_epoch_ms(self.created_at)

    @property
    def updated(self) -> datetime | None:
        """``updated_at`` as an aware UTC datetime."""
        return from_epoch_ms(self.updated_at)

    @property
    def hourly_cost(self) -> Decimal | None:
        """What this pod costs per hour while RUNNING, as an exact ``Decimal``; ``None`` if unknown.

        ``single_card_price x gpu_count + container_volume_price x container_volume_in_gb +
        persistent_volume_price x persistent_volume_in_gb + sum(volume_price x volume_size)``
        over ``persistent_volumes`` (the formula documented for pods). Prices are decoded
        exactly, from a JSON number or a decimal string. ``None`` when a needed price (or
        the size it multiplies) is missing, or is negative or not finite: never a guess.

        Units and currency are not documented by the API: USD per GPU-hour and USD per
        GB-hour is the documented reading. Billing is per second from RUNNING; a PAUSED pod
        still pays for its storage (the disk and volume terms), a TERMINATED one nothing.

        >>> Pod(id=1, status="RUNNING", gpu_count=2, single_card_price=Decimal("0.65")).hourly_cost
        Decimal('1.30')
        """
        from ._cost import hourly_cost

        return hourly_cost(self)

    def ports(self, ports: Iterable[PortSelector] | None = None) -> list[ExposePort]:
        """The ``expose`` entries ``ports`` selects (``None``: every entry), in wire order."""
        entries = self.expose or []
        if ports is None:
            return list(entries)
        wanted = list(ports)
        return [e for e in entries if any(e.matches(w) for w in wanted)]

    def unready_ports(self, ports: Iterable[PortSelector] | None = None) -> list[str]:
        """Labels of the selected ports that are not ready yet (see :meth:`is_ready`).

        A selector that matches no ``expose`` entry at all is listed as it was given: a
        port the pod does not expose can never become ready.

        >>> pod = Pod(id=1, status="RUNNING", expose=[ExposePort(port=22, protocol="SSH")])
        >>> pod.unready_ports(["ssh", 8888])
        ['22/SSH', '8888']
        """
        wanted = None if ports is None else list(ports)
        entries = self.ports(wanted)
        out = [e.label for e in entries if not e.ready]
        for selector in wanted or ():
            if not any(e.matches(selector) for e in entries):
                out.append(str(selector))
        return out

    def is_ready(self, ports: Iterable[PortSelector] | None = None) -> bool:
        """Whether the pod is usable: RUNNING, and every selected port healthy and addressed.

        ::

            pod.is_ready()                 # every exposed port
            pod.is_ready(["ssh"])          # the SSH entry (protocol compared in any case)
            pod.is_ready([22, 8888])       # by container port

        ``ports=None`` selects every ``expose`` entry (a RUNNING pod exposing nothing is
        ready). A selected entry is ready when ``healthy is True`` and it has a ``host``
        and a ``proxy_port``; a selector matching no entry is never ready. RUNNING alone is
        not enough: the provider flips the status before the ports answer.
        """
        if self.status is not PodStatus.RUNNING:
            return False
        return not self.unready_ports(ports)

    @property
    def ssh_endpoint(self) -> tuple[str, int] | None:
        """``(host, port)`` to SSH to: the SSH ``expose`` entry, else parsed from ``ssh_cmd``.

        ``None`` when neither says. The entry is found by protocol ``SSH`` in any case (or,
        failing that, container port 22) and must carry ``host`` and ``proxy_port``.

        >>> Pod(id=1, status="RUNNING", ssh_cmd="ssh root@8hd.op1.yottalabs.ai -p 30056").ssh_endpoint
        ('8hd.op1.yottalabs.ai', 30056)
        """
        entries = self.ports(["ssh"]) or self.ports([22])
        for entry in entries:
            if entry.host and entry.proxy_port is not None:
                return entry.host, entry.proxy_port
        return parse_ssh_cmd(self.ssh_cmd)

    @property
    def volume_ids(self) -> list[int]:
        """The ids of the volumes mounted in this pod, in order (entries without one skipped)."""
        out = []
        for vol in self.persistent_volumes or ():
            vid = vol.volume_id if vol.volume_id is not None else vol.id
            if vid is not None:
                out.append(vid)
        return out

    @property
    def credential_id(self) -> int | None:
        """The registry credential the pod pulls its image with (``container_registry_auth_id``).

        ``None`` if the pod has none, or the server did not say: ``PodV2Response`` does not
        document the field, so a real server may leave it out.
        """
        return self.container_registry_auth_id

    def env(self, key: str) -> str | None:
        """The value of environment variable ``key`` on this pod, or ``None``."""
        for var in self.environment_vars or ():
            if var.key == key:
                return var.value
        return None


def parse_ssh_cmd(command: str | None) -> tuple[str, int] | None:
    """``(host, port)`` from an ``ssh`` command line such as the pod's ``sshCmd``.

    Understands ``user@host``, ``-p PORT`` / ``-pPORT`` anywhere, and options with values
    (``-i key``, ``-L spec``); the port defaults to 22. ``None`` if no host can be found.

    >>> parse_ssh_cmd("ssh root@pod-ip -p 10022")
    ('pod-ip', 10022)
    >>> parse_ssh_cmd("ssh -i k.pem -L 8888:localhost:8888 user@h.example -p 30056")
    ('h.example', 30056)
    >>> parse_ssh_cmd("ssh root@192.168.1.100")
    ('192.168.1.100', 22)
    """
    if not command:
        return None
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    if not words or words[0].rsplit("/", 1)[-1] != "ssh":
        return None
    host: str | None = None
    port = 22
    i = 1
    while i < len(words):
        word = words[i]
        if word.startswith("-") and len(word) > 1:
            flag, rest = word[1], word[2:]
            if flag in _SSH_VALUE_FLAGS:
                value = rest if rest else (words[i + 1] if i + 1 < len(words) else "")
                i += 1 if rest else 2
                if flag == "p":
                    if not value.isascii() or not value.isdigit() or not 0 < int(value) < 65536:
                        return None
                    port = int(value)
                continue
            i += 1
            continue
        if host is None:
            host = word.rsplit("@", 1)[-1]
        i += 1
    return (host, port) if host and _HOST.fullmatch(host) else None


# ssh(1) options that take a value (the rest are flags).
_SSH_VALUE_FLAGS = frozenset("BbcDEeFIiJLlmOoPpQRSWw")
_HOST = re.compile(r"[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]")
