"""Tables and JSON for the resource commands: GPU availability, credentials and volumes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._output import Output

if TYPE_CHECKING:
    from ..models import GpuType
    from ..models.credential import RegistryCredential
    from ..models.volume import Volume

__all__ = ["print_credentials", "print_gpus", "print_volumes"]

_VOLUME_STYLE = {"active": "green", "error": "bold red", "deleting": "dim"}


def print_gpus(out: Output, types: Sequence[GpuType]) -> None:
    """GPU type x region availability: the API's objects as JSON, or one row per pair."""
    if out.json:
        out.emit_json(list(types))
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, header_style="bold")
    for header in ("GPU TYPE", "REGION", "REGION NAME", "AVAILABLE", "VM TYPE ID"):
        table.add_column(header, no_wrap=True)
    rows = 0
    for gpu in types:
        for region in gpu.regions:
            available = {True: Text("yes", style="green"), False: Text("no", style="red")}.get(
                region.available, Text("unknown", style="dim")  # type: ignore[arg-type]
            )
            vm = "" if region.vm_type_id is None else str(region.vm_type_id)
            name = Text(region.region_name or "")
            table.add_row(Text(gpu.gpu_type), Text(region.region), name, available, vm)
            rows += 1
    out.print_table(table, squeeze=False)
    if not rows:
        out.info("no GPU type matches")


def print_credentials(out: Output, creds: Sequence[RegistryCredential], *, one: bool = False) -> None:
    """Credentials (never a password: the API returns none and the SDK keeps none)."""
    if out.json:
        out.emit_json(creds[0] if one else list(creds))
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, header_style="bold")
    for header in ("ID", "NAME", "TYPE", "CREATED"):
        table.add_column(header, no_wrap=True)
    for cred in creds:
        created = cred.created
        when = "" if created is None else created.strftime("%Y-%m-%d %H:%M:%SZ")
        table.add_row(str(cred.id), Text(cred.name), Text(str(cred.type)), when)
    out.print_table(table, squeeze=False)
    if not creds:
        out.info("no credentials")


def print_volumes(out: Output, volumes: Sequence[Volume], *, one: bool = False) -> None:
    """Volumes with their status and mount count."""
    if out.json:
        out.emit_json(volumes[0] if one else list(volumes))
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, header_style="bold")
    for header in ("ID", "NAME", "TYPE", "STATUS", "SIZE", "REGION", "MOUNTS", "CREATED"):
        table.add_column(header, no_wrap=True)
    for vol in volumes:
        status = str(vol.status)
        size = "" if vol.size_in_gb is None else f"{vol.size_in_gb} GB"
        created = vol.created
        when = "" if created is None else created.strftime("%Y-%m-%d %H:%M:%SZ")
        table.add_row(
            str(vol.id), Text(vol.name), Text(str(vol.storage_type)),
            Text(status, style=_VOLUME_STYLE.get(status.lower(), "")), size, Text(vol.region or ""),
            str(vol.mount_count), when,
        )
    out.print_table(table, squeeze=False)
    if not volumes:
        out.info("no volumes")
