"""The loaded inventory, indexed for the parts that read it (playbooks, checks, exporters, lab)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from provdc.errors import InventoryError
from provdc.inventory import model

from provdc.inventory.load import dedupe, find_files, locate_all, read_source, sort_key, validate_raw


@dataclass(frozen=True)
class Inventory:
    """A valid inventory. `base` is the directory `file:` secret references are relative to."""

    doc: model.Document
    base: Path
    files: tuple[Path, ...] = field(default=())

    @property
    def province(self) -> model.Province:
        return self.doc.province

    @cached_property
    def sites(self) -> dict[str, model.Site]:
        return {s.id: s for s in self.doc.sites}

    @cached_property
    def zones(self) -> dict[str, model.Zone]:
        return {z.id: z for z in self.doc.zones}

    @cached_property
    def servers(self) -> dict[str, model.Server]:
        return {s.id: s for s in self.doc.servers}

    @cached_property
    def devices(self) -> dict[str, model.Device]:
        return {d.id: d for d in self.doc.devices}

    @cached_property
    def systems(self) -> dict[str, model.System]:
        return {s.id: s for s in self.doc.systems}

    @cached_property
    def agencies(self) -> dict[str, model.Agency]:
        return {a.id: a for a in self.doc.agencies}

    @cached_property
    def links(self) -> dict[str, model.Link]:
        return {link.id: link for link in self.doc.links}

    @cached_property
    def units(self) -> dict[str, model.AdminUnit]:
        return {u.id: u for u in self.doc.province.units}

    @cached_property
    def systems_by_server(self) -> dict[str, list[model.System]]:
        out: dict[str, list[model.System]] = {s: [] for s in self.servers}
        for system in self.doc.systems:
            for sid in system.servers:
                out[sid].append(system)
        return out

    @cached_property
    def snmp_agents(self) -> list[model.Device]:
        """Linux devices provdc provisions over SSH whose snmpd measures at least one link."""
        return [d for d in self.doc.devices if d.ssh is not None and d.snmp is not None and d.id in self.measuring_devices]

    @cached_property
    def unmanaged_snmp_agents(self) -> list[model.Device]:
        """Devices that measure a link but are configured by hand (vendor appliances)."""
        return [d for d in self.doc.devices if d.ssh is None and d.id in self.measuring_devices]

    @cached_property
    def measuring_devices(self) -> set[str]:
        """Ids of the devices whose interface counters measure a link."""
        return {link.measured_by.device for link in self.doc.links if link.measured_by}

    def server_level(self, server_id: str) -> int | None:
        """The highest approved level among the systems a server runs (ND 85 Art. 5.2)."""
        levels = [s.level for s in self.systems_by_server.get(server_id, [])]
        return max(levels) if levels else None

    def site_of(self, server: model.Server) -> model.Site:
        return self.sites[self.zones[server.zone].site]

    @property
    def has_districts(self) -> bool:
        """Older, three-tier inventories have districts; two-tier ones (since 1 July 2025) do not."""
        return any(u.kind == model.UnitKind.district for u in self.doc.province.units)


def load_inventory(path: str | Path) -> Inventory:
    """Load and validate the inventory at `path`; raises InventoryError listing every problem
    (unreadable entries, syntax, duplicates, schema, cross-object rules), all in one run."""
    path = Path(path)
    files, problems = find_files(path)
    source = read_source(path, files)
    source.problems[:0] = problems
    doc, defects = validate_raw(source) if source.raw or not source.problems else (None, [])
    if source.problems or defects or source.file_defects or doc is None:
        located = locate_all(source, defects)
        raise InventoryError(sorted(dedupe(source.problems + located), key=sort_key))
    base = path if path.is_dir() else path.parent
    return Inventory(doc=doc, base=base.resolve(), files=tuple(files))
