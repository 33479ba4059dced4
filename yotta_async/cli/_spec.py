"""The pod-create flags shared by ``pods create`` and ``launch``, and ``--from-file`` decoding."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ._config import UsageError
from ._types import resource_id

__all__ = ["SIMULATE_DEFAULTS", "add_create_arguments", "build_request", "placements_of"]

# Only under --simulate, where nothing bills: the README's demo needs no image or GPU flags.
SIMULATE_DEFAULTS = {
    "name": "demo",
    "image": "nvidia/cuda:12.1.0-base-ubuntu22.04",
    "gpuType": "NVIDIA_H100_80G",
}

# (flag, wire field, type, help); each maps one scalar PodV2CreateRequest field.
_SCALARS: tuple[tuple[str, str, type, str], ...] = (
    ("--name", "name", str, "pod name, 1-255 characters (--simulate default: demo)"),
    ("--image", "image", str, "container image (--simulate default: nvidia/cuda:12.1.0-base-ubuntu22.04)"),
    ("--gpu-type", "gpuType", str, "GPU type, e.g. NVIDIA_H100_80G (--simulate default: that one)"),
    ("--gpu-count", "gpuCount", int, "GPUs per pod, a power of two (default 1)"),
    ("--init-cmd", "initializationCommand", str, "command run when the pod starts"),
    ("--container-registry-auth-id", "containerRegistryAuthId", int, "registry credentials id"),
    ("--image-registry", "imageRegistry", str, "image registry URL"),
    ("--shm-in-gb", "shmInGb", int, "shared memory, GB"),
    ("--min-single-card-ram-in-gb", "minSingleCardRamInGb", int, "minimum RAM per GPU, GB"),
    ("--min-single-card-vram-in-gb", "minSingleCardVramInGb", int, "minimum VRAM per GPU, GB"),
    ("--min-single-card-vcpu", "minSingleCardVcpu", int, "minimum vCPUs per GPU"),
    ("--container-volume-in-gb", "containerVolumeInGb", int, "container disk, GB"),
    ("--persistent-volume-in-gb", "persistentVolumeInGb", int, "persistent volume, GB"),
)
_CHOICES = (
    ("--image-public-type", "imagePublicType", ("PUBLIC", "PRIVATE"), "whether the image is public"),
    ("--resource-type", "resourceType", ("GPU", "CPU"), "GPU or CPU pod"),
)
_VOLUME_KEYS = {
    "mount_path": "mountPath",
    "volume_type": "volumeType",
    "id": "id",
    "name": "name",
    "mount_mode": "mountMode",
    "volume_size": "volumeSize",
    "volume_price": "volumePrice",
    "cloud_storage_type": "cloudStorageType",
    "system_volume_type": "systemVolumeType",
    "system_volume_type_enum": "systemVolumeTypeEnum",
}
_VOLUME_INTS = {"id", "volumeSize"}


def _dest(wire: str) -> str:
    return "spec_" + wire


def add_create_arguments(parser: argparse.ArgumentParser, *, placements: bool = False) -> None:
    """Add one flag per ``PodV2CreateRequest`` field, plus ``--from-file``.

    With ``placements`` (``launch``), ``--gpu-type`` may be repeated as well as
    ``--region``: several of either make an ordered list of placements (see
    :func:`placements_of`) to fail over across.
    """
    group = parser.add_argument_group("pod spec (flags override --from-file)")
    group.add_argument(
        "--from-file",
        metavar="SPEC.json",
        help="a PodV2CreateRequest as JSON (camelCase API fields); '-' reads stdin",
    )
    for flag, wire, kind, text in _SCALARS:
        if placements and wire == "gpuType":
            group.add_argument(
                flag, dest="gpu_types", action="append", metavar="TYPE",
                help=text + "; repeat it (and/or --region) to fail over: placements are tried in the "
                            "order of the product of the two lists",
            )
            continue
        group.add_argument(flag, dest=_dest(wire), type=kind, help=text, metavar=_metavar(flag, kind))
    for flag, wire, choices, text in _CHOICES:
        group.add_argument(flag, dest=_dest(wire), choices=choices, type=str.upper, help=text)
    group.add_argument(
        "--region", dest=_dest("regions"), action="append", metavar="REGION",
        help="acceptable region (repeat for several), e.g. us-east-1",
    )
    group.add_argument(
        "--env", dest=_dest("environmentVars"), action="append", metavar="KEY=VALUE",
        type=_env, help="environment variable (repeatable)",
    )
    group.add_argument(
        "--expose", dest=_dest("expose"), action="append", metavar="PORT[/PROTO]",
        type=_expose, help="port to expose, e.g. 8888/http (repeatable)",
    )
    group.add_argument(
        "--credential", dest="credential", type=resource_id("credential"), metavar="ID",
        help="registry credential for a private image (see 'credentials create')",
    )
    group.add_argument(
        "--mount", dest="mounts", action="append", metavar="VOLUME_ID:/PATH", type=_mount,
        help="mount a volume (see 'volumes create') at PATH; repeatable",
    )
    group.add_argument(
        "--volume", dest=_dest("persistentVolumes"), action="append", metavar="SPEC",
        type=_volume,
        help="persistent volume: MOUNT_PATH:TYPE or key=value pairs "
        "(mount_path=/data,volume_type=NFS,volume_size=100,id=..,name=..,mount_mode=..); repeatable",
    )


def _metavar(flag: str, kind: type) -> str:
    if flag.endswith("-in-gb"):
        return "GB"
    if kind is int:
        return "ID" if flag.endswith("-id") else "N"
    return {"--init-cmd": "CMD", "--image-registry": "URL", "--gpu-type": "TYPE"}.get(
        flag, flag.lstrip("-").upper()
    )


def _env(text: str) -> dict[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return {"key": key, "value": value}


def _expose(text: str) -> dict[str, Any]:
    port, _, proto = text.partition("/")
    if not port.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected PORT or PORT/PROTO, got {text!r}")
    out: dict[str, Any] = {"port": int(port)}
    if proto.strip():
        out["protocol"] = proto.strip()
    return out


def _mount(text: str) -> dict[str, Any]:
    """``VOLUME_ID:/PATH`` as the wire entry ``VolumeMount`` sends (the id under both names)."""
    vid, sep, path = text.partition(":")
    if not sep or not path:
        raise argparse.ArgumentTypeError(f"expected VOLUME_ID:/PATH, got {text[:60]!r}")
    volume = resource_id("volume")(vid)
    return {"volumeId": volume, "id": volume, "mountPath": path}


def _volume(text: str) -> dict[str, Any]:
    if "=" not in text:
        path, sep, kind = text.rpartition(":")
        if not sep or not path or not kind:
            raise argparse.ArgumentTypeError(f"expected MOUNT_PATH:TYPE or key=value pairs, got {text!r}")
        return {"mountPath": path, "volumeType": kind}
    out: dict[str, Any] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        key = key.strip()
        wire = _VOLUME_KEYS.get(key) or (key if key in _VOLUME_KEYS.values() else None)
        if not sep or wire is None:
            raise argparse.ArgumentTypeError(
                f"unknown volume key {key!r}; use {', '.join(_VOLUME_KEYS)}"
            )
        if wire in _VOLUME_INTS:
            if not value.strip().isdigit():
                raise argparse.ArgumentTypeError(f"volume {key} must be an integer, got {value!r}")
            out[wire] = int(value)
        elif wire == "volumePrice":
            try:
                out[wire] = float(value)
            except ValueError:
                raise argparse.ArgumentTypeError(f"volume price must be a number, got {value!r}") from None
        else:
            out[wire] = value.strip()
    return out


def _read_file(path: str) -> dict[str, Any]:
    import msgspec

    name = "stdin" if path == "-" else path
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"--from-file {name}: {exc.strerror or exc}") from None
    try:
        data = msgspec.json.decode(raw)
    # msgspec raises UnicodeDecodeError for invalid UTF-8 and RecursionError for deep nesting.
    except (msgspec.DecodeError, ValueError, RecursionError) as exc:
        raise UsageError(f"--from-file {name}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"--from-file {name}: expected a JSON object, got {type(data).__name__}")
    return data


def build_request(args: argparse.Namespace, *, simulate: bool) -> Any:
    """The ``PodCreateRequest`` the flags (and ``--from-file``) describe.

    Raises :class:`UsageError` naming the problem: a missing required flag, an unknown
    field in the file, or a field that fails validation.
    """
    import msgspec

    from .. import PodCreateRequest

    source = getattr(args, "from_file", None)
    fields = _read_file(source) if source else {}
    names = {f.encode_name for f in msgspec.structs.fields(PodCreateRequest)} - {"volumes"}
    unknown = sorted(set(fields) - names)
    if unknown:
        raise UsageError(
            f"--from-file {'stdin' if source == '-' else source}: unknown field {unknown[0]!r} "
            "(fields are the API's camelCase names, e.g. gpuType)"
        )
    for wire in names:
        value = getattr(args, _dest(wire), None)
        if value is not None:
            fields[wire] = value
    gpu_types = getattr(args, "gpu_types", None)
    if gpu_types:
        fields["gpuType"] = gpu_types[0]  # the first preference; failover tries the rest
    credential = getattr(args, "credential", None)
    if credential is not None:
        if getattr(args, _dest("containerRegistryAuthId"), None) is not None:
            raise UsageError("give --credential or --container-registry-auth-id, not both")
        fields["containerRegistryAuthId"] = credential
    mounts = getattr(args, "mounts", None)
    if mounts:
        fields["persistentVolumes"] = [*fields.get("persistentVolumes", []), *mounts]
    fields.setdefault("gpuCount", 1)
    if simulate:
        for wire, value in SIMULATE_DEFAULTS.items():
            fields.setdefault(wire, value)
    missing = [w for w in ("name", "image", "gpuType") if w not in fields]
    if missing:
        flags = ", ".join("--" + _kebab(w) for w in missing)
        raise UsageError(f"missing {flags} (give them as flags or in --from-file)")
    try:
        return msgspec.convert(fields, PodCreateRequest)
    except msgspec.ValidationError as exc:
        where = f"--from-file {source}: " if source else ""
        cause = exc.__cause__
        raise UsageError(f"invalid pod spec: {where}{cause if cause is not None else exc}") from None


def placements_of(args: argparse.Namespace, gpu_type: str) -> list[tuple[str, str]] | None:
    """The failover order ``launch`` flags ask for: ``(gpu_type, region)`` pairs, or ``None``.

    Repeated ``--gpu-type`` and/or ``--region`` give the product of the two lists, types
    first, each in the order given (``--gpu-type A --gpu-type B --region r1 --region r2``:
    A@r1, A@r2, B@r1, B@r2). One type and at most one region is a plain launch (``None``).
    """
    types = list(dict.fromkeys(getattr(args, "gpu_types", None) or [gpu_type]))
    regions = list(dict.fromkeys(getattr(args, _dest("regions"), None) or []))
    if len(types) <= 1 and len(regions) <= 1:
        return None
    if not regions:
        raise UsageError("several --gpu-type need at least one --region: placements are (type, region) pairs")
    return [(t, r) for t in types for r in regions]


def _kebab(wire: str) -> str:
    return "".join("-" + c.lower() if c.isupper() else c for c in wire)
