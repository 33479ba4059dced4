"""``PodCreateFields``: the keyword form of a create, typed for mypy (PEP 692 ``Unpack``)."""

# No ``from __future__ import annotations`` here: the annotations are evaluated, so that
# ``Required``/``NotRequired`` shape ``__required_keys__`` at run time on every Python.
import sys
from collections.abc import Mapping, Sequence
from typing import Literal

from .credential import RegistryCredential
from .pod import EnvVar, ExposePort, PersistentVolume
from .volume import VolumeMount

if sys.version_info >= (3, 11):
    from typing import NotRequired, Required, TypedDict
else:  # typing has Required/NotRequired only from 3.11
    from typing_extensions import NotRequired, Required, TypedDict

__all__ = ["PodCreateFields"]


class PodCreateFields(TypedDict):
    """The keyword form of a create: ``client.pods.create(**fields)`` (PEP 692 ``Unpack``).

    The fields of :class:`PodCreateRequest` plus the friendlier shapes :meth:`PodCreateRequest.build`
    accepts (``env`` as a mapping, ``expose`` as port numbers or ``"8888/http"``, ``region``),
    typed so that mypy rejects ``gpu_typ=...`` or ``gpu_count="1"``.
    """

    name: Required[str]
    image: Required[str]
    gpu_type: Required[str]
    gpu_count: Required[int]
    regions: NotRequired[list[str] | None]
    region: NotRequired[str]
    container_registry_auth_id: NotRequired[int | str | RegistryCredential | None]
    image_registry: NotRequired[str | None]
    image_public_type: NotRequired[Literal["PUBLIC", "PRIVATE"] | None]
    resource_type: NotRequired[Literal["GPU", "CPU"] | None]
    shm_in_gb: NotRequired[int | None]
    min_single_card_ram_in_gb: NotRequired[int | None]
    min_single_card_vram_in_gb: NotRequired[int | None]
    min_single_card_vcpu: NotRequired[int | None]
    container_volume_in_gb: NotRequired[int | None]
    persistent_volume_in_gb: NotRequired[int | None]
    initialization_command: NotRequired[str | None]
    environment_vars: NotRequired[list[EnvVar] | Mapping[str, str] | None]
    env: NotRequired[list[EnvVar] | Mapping[str, str]]
    expose: NotRequired[Sequence[int | str | ExposePort] | None]
    persistent_volumes: NotRequired[list[PersistentVolume] | None]
    volumes: NotRequired[list[VolumeMount] | None]
