"""``PodCreateRequest`` (``PodV2CreateRequest``) and its client-side validation."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec

from .._validation import INT64_MAX, check_bounded_int, check_id, check_items, check_utf8
from ..errors import ValidationError
from ._base import Model
from .credential import RegistryCredential
from .pod import EnvVar, ExposePort, PersistentVolume
from .volume import Volume, VolumeMount

__all__ = ["PodCreateRequest", "check_create_request"]

_INT32_MAX = 2**31 - 1


class PodCreateRequest(Model, kw_only=True):
    """The body of ``POST /v2/pods``. Validated on construction.

    >>> PodCreateRequest(name="train-0", image="nvidia/cuda:12.1.0-base-ubuntu22.04",
    ...                  gpu_type="NVIDIA_H100_80G", gpu_count=1,
    ...                  environment_vars=[EnvVar(key="MODE", value="train")],
    ...                  expose=[ExposePort(port=8888, protocol="http")])  # doctest: +ELLIPSIS
    PodCreateRequest(name='train-0', ...)

    Invalid input raises :class:`~yotta_async.ValidationError` naming the field, so a bad
    request never reaches the network.

    ``container_registry_auth_id`` takes a :class:`RegistryCredential` or its id (an int or
    a digit string, parsed exactly) and holds the int. ``volumes`` takes
    :class:`VolumeMount` entries; validation folds each into ``persistent_volumes`` (as
    ``PersistentVolume(volume_id=id, id=id, ...)``, see :class:`VolumeMount` for why both)
    and leaves ``volumes`` empty, so the request always shows what will be sent::

        PodCreateRequest(name="n", image="me/private:1", gpu_type="NVIDIA_H100_80G",
                         gpu_count=1, container_registry_auth_id=cred,
                         volumes=[VolumeMount(vol, "/mnt/data")])
    """

    name: str
    image: str
    gpu_type: str
    gpu_count: int
    regions: list[str] | None = None
    if TYPE_CHECKING:
        container_registry_auth_id: int | str | RegistryCredential | None = None
    else:
        container_registry_auth_id: int | None = None
    image_registry: str | None = None
    image_public_type: str | None = None
    resource_type: str | None = None
    shm_in_gb: int | None = None
    min_single_card_ram_in_gb: int | None = None
    min_single_card_vram_in_gb: int | None = None
    min_single_card_vcpu: int | None = None
    container_volume_in_gb: int | None = None
    persistent_volume_in_gb: int | None = None
    initialization_command: str | None = None
    environment_vars: list[EnvVar] | None = None
    expose: list[ExposePort] | None = None
    persistent_volumes: list[PersistentVolume] | None = None
    # Never on the wire: validate() moves these into persistent_volumes.
    volumes: list[VolumeMount] | None = None

    def __post_init__(self) -> None:
        self.validate()

    def renamed(self, name: str) -> PodCreateRequest:
        """A validated copy of this request under another ``name`` (``group.launch`` numbers pods)."""
        copy = msgspec.structs.replace(self, name=name)
        copy.validate()
        return copy

    def validate(self) -> None:
        """Check every documented constraint; raise ``ValidationError`` naming the field."""
        _text(self.name, "name", lo=1, hi=255)
        _text(self.image, "image", lo=1, hi=255)
        _text(self.gpu_type, "gpu_type", lo=1)
        count = check_bounded_int(self.gpu_count, "gpu_count", lo=1, hi=_INT32_MAX)
        if count & (count - 1):
            raise ValidationError("gpu_count", f"must be a power of two (1, 2, 4, 8, ...), got {count}")
        if self.regions is not None:
            regions = _list(self.regions, "regions")
            for i, region in enumerate(regions):
                _text(region, f"regions[{i}]", lo=1)
            if len(set(regions)) != len(regions):
                raise ValidationError("regions", "must not repeat a region")
        self.container_registry_auth_id = _credential_id(self.container_registry_auth_id)
        self._fold_volumes()
        if self.image_registry is not None:
            _text(self.image_registry, "image_registry", lo=0, hi=255)
        _choice(self.image_public_type, "image_public_type", ("PUBLIC", "PRIVATE"))
        _choice(self.resource_type, "resource_type", ("GPU", "CPU"))
        for field in _SIZE_FIELDS:
            _opt_int(getattr(self, field), field, hi=_INT32_MAX)
        if self.initialization_command is not None:
            _text(self.initialization_command, "initialization_command", lo=0)
        for i, var in enumerate(_list(self.environment_vars, "environment_vars", EnvVar)):
            _text(var.key, f"environment_vars[{i}].key", lo=1)
            _text(var.value, f"environment_vars[{i}].value", lo=1)
        for i, port in enumerate(_list(self.expose, "expose", ExposePort)):
            check_bounded_int(port.port, f"expose[{i}].port", lo=0, hi=65535)
            if port.protocol is not None:
                _text(port.protocol, f"expose[{i}].protocol", lo=1)
        for i, vol in enumerate(_list(self.persistent_volumes, "persistent_volumes", PersistentVolume)):
            where = f"persistent_volumes[{i}]"
            _text(vol.mount_path, f"{where}.mount_path", lo=1)
            if vol.volume_type is not None or (vol.volume_id is None and vol.id is None):
                # With no volume id, the generated schema's required volumeType must say what to mount.
                _text(vol.volume_type, f"{where}.volume_type", lo=1)
            _opt_int(vol.id, f"{where}.id", hi=INT64_MAX)
            _opt_int(vol.volume_id, f"{where}.volume_id", hi=INT64_MAX)
            if vol.id is not None and vol.volume_id is not None and vol.id != vol.volume_id:
                raise ValidationError(f"{where}.volume_id", f"differs from id ({vol.volume_id} != {vol.id})")
            if vol.need_backup is not None and not isinstance(vol.need_backup, bool):
                raise ValidationError(f"{where}.need_backup", "expected true or false")
            _opt_int(vol.volume_size, f"persistent_volumes[{i}].volume_size", hi=_INT32_MAX)
            for name in _VOLUME_TEXT_FIELDS:
                if getattr(vol, name) is not None:
                    _text(getattr(vol, name), f"persistent_volumes[{i}].{name}", lo=0)
            _choice(vol.system_volume_type_enum, f"persistent_volumes[{i}].system_volume_type_enum",
                    ("LOCAL", "CEPH"))
            _opt_number(vol.volume_price, f"persistent_volumes[{i}].volume_price")

    def _fold_volumes(self) -> None:
        mounts = _list(self.volumes, "volumes", VolumeMount)
        if not mounts:
            self.volumes = None
            return
        converted = [_mount(m, f"volumes[{i}]") for i, m in enumerate(mounts)]
        existing = _list(self.persistent_volumes, "persistent_volumes", PersistentVolume)
        self.persistent_volumes = [*existing, *converted]
        self.volumes = None

    @classmethod
    def build(cls, **fields: Any) -> PodCreateRequest:
        """Build a request from keyword arguments, with friendlier shapes accepted.

        ``env`` (or ``environment_vars``) may be a mapping, ``expose`` may hold plain port
        numbers or ``"8888/http"`` strings, and ``region`` is short for ``regions=[region]``::

            PodCreateRequest.build(name="n", image="img", gpu_type="NVIDIA_H100_80G",
                                   gpu_count=1, env={"MODE": "train"}, expose=[8888, "22/tcp"])
        """
        if "env" in fields:
            if "environment_vars" in fields:
                raise ValidationError("env", "give env or environment_vars, not both")
            fields["environment_vars"] = fields.pop("env")
        if "region" in fields:
            if "regions" in fields:
                raise ValidationError("region", "give region or regions, not both")
            fields["regions"] = [fields.pop("region")]
        env = fields.get("environment_vars")
        if isinstance(env, Mapping):
            fields["environment_vars"] = [EnvVar(key=k, value=v) for k, v in env.items()]
        if fields.get("expose") is not None:
            fields["expose"] = [_port(p, i) for i, p in enumerate(check_items(fields["expose"], "expose"))]
        unknown = set(fields) - set(cls.__struct_fields__)
        if unknown:
            raise ValidationError(sorted(unknown)[0], "is not a field of PodCreateRequest")
        try:
            return cls(**fields)
        except TypeError as exc:  # a missing required field
            raise ValidationError(_missing_field(exc, cls), str(exc)) from None


_SIZE_FIELDS = (
    "shm_in_gb",
    "min_single_card_ram_in_gb",
    "min_single_card_vram_in_gb",
    "min_single_card_vcpu",
    "container_volume_in_gb",
    "persistent_volume_in_gb",
)

_VOLUME_TEXT_FIELDS = ("name", "mount_mode", "cloud_storage_type", "system_volume_type")


def _credential_id(value: object) -> int | None:
    """A credential reference as the int id the API takes (exact, never through a float)."""
    if value is None:
        return None
    if isinstance(value, RegistryCredential):
        value = value.id
    return check_id(value, "container_registry_auth_id")


def _mount(mount: VolumeMount, where: str) -> PersistentVolume:
    volume = mount.volume.id if isinstance(mount.volume, Volume) else mount.volume
    vid = check_id(volume, f"{where}.volume")
    _text(mount.mount_path, f"{where}.mount_path", lo=1)
    if mount.need_backup is not None and not isinstance(mount.need_backup, bool):
        raise ValidationError(f"{where}.need_backup", "expected true or false")
    for name in ("volume_type", "mount_mode"):
        if getattr(mount, name) is not None:
            _text(getattr(mount, name), f"{where}.{name}", lo=1)
    return PersistentVolume(
        mount_path=mount.mount_path,
        volume_id=vid,
        id=vid,
        need_backup=mount.need_backup,
        volume_type=mount.volume_type,
        mount_mode=mount.mount_mode,
    )


def _missing_field(exc: TypeError, cls: type[Model]) -> str:
    text = str(exc)
    for name in cls.__struct_fields__:
        if f"'{name}'" in text:
            return name
    return "request"


def _port(value: object, i: int) -> ExposePort:
    if isinstance(value, ExposePort):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return ExposePort(port=value)
    if isinstance(value, str):
        port, _, proto = value.partition("/")
        if port.strip().isascii() and port.strip().isdigit():  # isdigit() alone takes "²"
            return ExposePort(port=int(port), protocol=proto.strip() or None)
    raise ValidationError(f"expose[{i}]", f"expected a port number or 'PORT/proto', got {value!r}")


def _text(value: object, field: str, *, lo: int, hi: int | None = None) -> str:
    if not isinstance(value, str):
        raise ValidationError(field, f"expected a string, got {type(value).__name__}")
    if len(value) < lo:
        raise ValidationError(field, "must not be empty")
    if hi is not None and len(value) > hi:
        raise ValidationError(field, f"must be at most {hi} characters, got {len(value)}")
    check_utf8(value, field)
    return value


def _opt_number(value: object, field: str) -> None:
    if value is None:
        return
    if not isinstance(value, (int, float, Decimal)) or isinstance(value, bool):
        raise ValidationError(field, f"expected a number, got {type(value).__name__}")
    if not (value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)):
        raise ValidationError(field, f"must be a finite number, got {value!r}")


def _opt_int(value: object, field: str, *, hi: int) -> None:
    if value is not None:
        check_bounded_int(value, field, lo=0, hi=hi)


def _choice(value: object, field: str, choices: tuple[str, ...]) -> None:
    if value is not None and value not in choices:
        raise ValidationError(field, f"must be one of {', '.join(choices)}, got {value!r}")


def _list(value: object, field: str, item: type | None = None) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError(field, f"expected a list, got {type(value).__name__}")
    if item is not None:
        for i, element in enumerate(value):
            if not isinstance(element, item):
                raise ValidationError(
                    f"{field}[{i}]", f"expected {item.__name__}, got {type(element).__name__}"
                )
    return value


def check_create_request(request: object, fields: dict[str, Any]) -> PodCreateRequest:
    """A validated ``PodCreateRequest`` from a request object *or* keyword fields (not both)."""
    if request is not None and fields:
        raise ValidationError("request", "pass a PodCreateRequest or keyword fields, not both")
    if request is None:
        return PodCreateRequest.build(**fields)
    if not isinstance(request, PodCreateRequest):
        raise ValidationError(
            "request", f"expected a PodCreateRequest, got {type(request).__name__}"
        )
    request.validate()  # it may have been mutated since construction
    return request
