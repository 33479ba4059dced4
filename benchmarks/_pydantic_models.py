"""The pod schema as pydantic v2 models: the competitor an openai-style SDK would use.

Written the way pydantic's documentation recommends for speed, with no handicaps: camelCase
aliases from an ``alias_generator``, and the whole body validated straight from JSON bytes by
a ``TypeAdapter`` built once (``validate_json`` parses in Rust; there is no ``json.loads`` +
``model_validate`` double pass).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, TypeAdapter
from pydantic.alias_generators import to_camel

from yotta_async.models import PodStatus


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class EnvVar(_Model):
    key: str
    value: str


class ExposePort(_Model):
    port: int
    protocol: str | None = None
    proxy_port: int | None = None
    host: str | None = None
    healthy: bool | None = None
    ingress_url: str | None = None
    service_name: str | None = None


class PersistentVolume(_Model):
    mount_path: str
    volume_type: str
    id: int | None = None
    name: str | None = None
    mount_mode: str | None = None
    volume_size: int | None = None
    volume_price: float | None = None
    cloud_storage_type: str | None = None
    system_volume_type: str | None = None
    system_volume_type_enum: str | None = None


class Pod(_Model):
    id: int
    status: PodStatus
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
    single_card_price: float | None = None
    persistent_volume_price: float | None = None
    container_volume_price: float | None = None
    initialization_command: str | None = None
    environment_vars: list[EnvVar] | None = None
    expose: list[ExposePort] | None = None
    ssh_cmd: str | None = None
    created_at: int | None = None
    updated_at: int | None = None
    persistent_volumes: list[PersistentVolume] | None = None
    internal_ip: str | None = None
    desired_state: str | None = None


class PodListEnvelope(_Model):
    code: int
    message: str | None = None
    data: list[Pod] | None = None


POD_LIST = TypeAdapter(PodListEnvelope)
