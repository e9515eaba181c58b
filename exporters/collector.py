"""provdc's own Prometheus collector: what only the inventory knows.

Custom collectors on a private registry, with metric families built fresh at every scrape
(nothing is `set` on globals, so no stale label sets). Topology labels that belong to a
*target* (site, zone, role of a probed server) come from service discovery (file_sd), not from
here; the labels below identify the inventory object each sample describes.

Audit results are read from the newest file of a directory at scrape time (cached by file and
modification time). A missing or corrupt file never stops the inventory metrics: it shows as
`provdc_audit_results_up 0` with the reason in `provdc_audit_results_error_info`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from prometheus_client.core import CollectorRegistry, GaugeMetricFamily, InfoMetricFamily, Metric

from provdc.checks.governance import assessment_due
from provdc.checks.results import AuditRun, drift, latest_run_file, load_run, previous_run_file
from provdc.inventory import Inventory
from provdc.inventory.stats import TIERS


VN_TIME = timezone(timedelta(hours=7))


def _gauge(name: str, doc: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels or [])


class InventoryCollector:
    """Servers, systems, agencies, links, contracts, SLA targets, maintenance, connectivity."""

    def __init__(self, inventory: Inventory, now=lambda: datetime.now(timezone.utc)) -> None:
        self.inv = inventory
        self.now = now

    def describe(self) -> list[Metric]:
        return []  # registering must not run a collection

    def collect(self) -> Iterator[Metric]:
        inv = self.inv
        yield from self._servers_and_systems()
        yield from self._links()
        yield from self._agencies()
        yield from self._maintenance()
        objects = _gauge("provdc_inventory_objects", "Objects declared in the inventory, by kind.", ["kind"])
        for kind in ("servers", "devices", "systems", "agencies", "links", "zones", "sites"):
            objects.add_metric([kind], len(getattr(inv.doc, kind)))
        yield objects

    def _servers_and_systems(self) -> Iterator[Metric]:
        inv = self.inv
        server = InfoMetricFamily("provdc_server", "A server of the inventory.",
                                  labels=["server", "hostname", "address", "zone", "site", "role", "os", "owner"])
        level = _gauge("provdc_server_security_level", "Highest approved security level among the systems a server runs.", ["server"])
        for s in inv.doc.servers:
            server.add_metric([], {"server": s.id, "hostname": s.hostname, "address": str(s.address), "zone": s.zone,
                                   "site": inv.zones[s.zone].site, "role": s.role, "os": s.os, "owner": s.owner or ""})
            if inv.server_level(s.id):
                level.add_metric([s.id], inv.server_level(s.id))
        system = InfoMetricFamily("provdc_system", "An information system of the inventory.",
                                  labels=["system", "name", "kind", "framework", "owner"])
        sys_level = _gauge("provdc_system_security_level", "Approved security level (cấp độ 1-5).", ["system"])
        sla = _gauge("provdc_system_sla_target_ratio", "Monthly availability target of the system, 0-1.", ["system"])
        membership = _gauge("provdc_system_server", "1 for each server a system runs on.", ["system", "server"])
        for s in inv.doc.systems:
            system.add_metric([], {"system": s.id, "name": s.name, "kind": s.kind.value, "framework": s.framework.value,
                                   "owner": s.owner or ""})
            sys_level.add_metric([s.id], s.level)
            sla.add_metric([s.id], s.sla_target / 100)
            for sid in s.servers:
                membership.add_metric([s.id, sid], 1)
        yield from (server, level, system, sys_level, sla, membership)
        yield from self._governance_dates()

    def _governance_dates(self) -> Iterator[Metric]:
        owner = _gauge("provdc_system_owner", "1 per system, labelled with its owner agency (joins route alerts by agency).",
                       ["system", "agency"])
        soc = _gauge("provdc_soc_contract_end_timestamp_seconds",
                     "When the system's SOC contract ends (Unix time, start of that day in UTC+7).", ["system", "agency"])
        due = _gauge("provdc_assessment_due_timestamp_seconds",
                     "When the system's next independent assessment is due (Unix time; 0 if none was ever recorded).",
                     ["system", "agency"])
        for s in self.inv.doc.systems:
            agency = s.owner or ""
            owner.add_metric([s.id, agency], 1)
            if s.d14.soc is not None:
                soc.add_metric([s.id, agency], _vn_midnight(s.d14.soc.contract_end))
            when = assessment_due(s)
            if when is not None:
                due.add_metric([s.id, agency], 0 if when.year == 1970 else _vn_midnight(when))
        yield from (owner, soc, due)

    def _links(self) -> Iterator[Metric]:
        info = InfoMetricFamily("provdc_link", "A link of the inventory and the interface whose counters measure it.",
                                labels=["link", "kind", "provider", "device", "interface", "measured_end"])
        contract = _gauge("provdc_link_contracted_bytes_per_second",
                          "Contracted capacity per direction in bytes/s, the base unit (contracts say bits/s: x8); "
                          "a_to_b is egress at the link's end a.", ["link", "direction"])
        for link in self.inv.doc.links:
            m = link.measured_by
            end = "" if m is None else ("a" if m.device == link.a.device else "b")
            info.add_metric([], {"link": link.id, "kind": link.kind.value, "provider": link.provider or "",
                                 "device": m.device if m else "", "interface": m.interface if m else "", "measured_end": end})
            contract.add_metric([link.id, "a_to_b"], link.capacity.a_to_b / 8)
            contract.add_metric([link.id, "b_to_a"], link.capacity.b_to_a / 8)
        yield from (info, contract)

    def _agencies(self) -> Iterator[Metric]:
        info = InfoMetricFamily("provdc_agency", "An agency of the province.", labels=["agency", "name", "tier", "parent", "link"])
        total = _gauge("provdc_agencies", "Agencies per tier.", ["tier"])
        lan = _gauge("provdc_agencies_with_lan", "Agencies with a LAN, per tier.", ["tier"])
        wan = _gauge("provdc_agencies_on_wan", "Agencies connected to the WAN (specialised network), per tier.", ["tier"])
        for a in self.inv.doc.agencies:
            info.add_metric([], {"agency": a.id, "name": a.name, "tier": a.tier.value, "parent": a.parent or "", "link": a.wan or ""})
        for tier in TIERS:
            members = [a for a in self.inv.doc.agencies if a.tier.value == tier]
            total.add_metric([tier], len(members))
            lan.add_metric([tier], sum(a.lan for a in members))
            wan.add_metric([tier], sum(a.wan is not None for a in members))
        yield from (info, total, lan, wan)

    def _maintenance(self) -> Iterator[Metric]:
        active = _gauge("provdc_maintenance_active", "1 while an announced maintenance window covers the target.",
                        ["window", "target_kind", "target"])
        now = self.now()
        for mw in self.inv.doc.maintenance:
            start, end = _aware(mw.start), _aware(mw.end)
            value = 1.0 if start <= now < end else 0.0
            for kind in ("systems", "servers", "links"):
                for target in getattr(mw.targets, kind):
                    active.add_metric([mw.id, kind[:-1], target], value)
        yield active


def _vn_midnight(day) -> float:
    return datetime.combine(day, datetime.min.time(), VN_TIME).timestamp()


def _aware(moment: datetime) -> datetime:
    # a window without a time zone is read in Vietnam's time (UTC+7), where the province runs
    return moment.replace(tzinfo=VN_TIME) if moment.tzinfo is None else moment


class AuditCollector:
    """The newest audit run of a directory: per check and host status, scores, waivers."""

    def __init__(self, results_dir: Path | None) -> None:
        self.dir = results_dir
        self._cache: tuple[tuple[str, float], AuditRun] | None = None
        self._previous: tuple[str, AuditRun | None] | None = None

    def describe(self) -> list[Metric]:
        return []

    def _load(self) -> tuple[AuditRun | None, str]:
        if self.dir is None:
            return None, "no results directory configured"
        if not self.dir.is_dir():
            return None, f"results directory {self.dir} does not exist"
        path = latest_run_file(self.dir)
        if path is None:
            return None, f"no audit-*.json in {self.dir}"
        key = (str(path), path.stat().st_mtime)
        if self._cache and self._cache[0] == key:
            return self._cache[1], ""
        try:
            run = load_run(path)
        except ValueError as exc:
            return None, str(exc)
        self._cache = (key, run)
        return run, ""

    def collect(self) -> Iterator[Metric]:
        run, problem = self._load()
        up = _gauge("provdc_audit_results_up", "1 if the latest audit results were read; see provdc_audit_results_error_info.")
        up.add_metric([], 0.0 if run is None else 1.0)
        yield up
        if run is None:
            err = InfoMetricFamily("provdc_audit_results_error", "Why audit results could not be read.", labels=["reason"])
            err.add_metric([], {"reason": problem[:200]})
            yield err
            return
        yield from self._findings(run)
        yield from self._summary(run)
        yield from self._drift(run)

    def _previous_run(self) -> AuditRun | None:
        """The run before the newest (for drift), cached by name; unreadable counts as none."""
        newest = latest_run_file(self.dir)
        before = previous_run_file(newest) if newest else None
        if before is None:
            return None
        if self._previous is None or self._previous[0] != str(before):
            try:
                self._previous = (str(before), load_run(before))
            except ValueError:
                self._previous = (str(before), None)
        return self._previous[1]

    def _summary(self, run: AuditRun) -> Iterator[Metric]:
        """The run's own figures, as stored in it (the same the CLI and reports print)."""
        groups = _gauge("provdc_audit_group_score_ratio", "Severity-weighted score of a system, level, agency or "
                        "requirement, 0-1, with and without waivers (as stored in the audit run).",
                        ["kind", "group", "waivers"])
        for kind in ("system", "level", "agency", "requirement"):
            for name, pair in run.group_scores(kind).items():
                for value, label in ((pair.with_waivers, "counted"), (pair.without_waivers, "ignored")):
                    if value is not None:
                        groups.add_metric([kind, name, label], value)
        reqs = _gauge("provdc_requirement_status", "Latest audit: 1 for the status of each requirement per system.",
                      ["framework", "requirement", "system", "status"])
        for r in run.requirements:
            reqs.add_metric([r.framework, r.id, r.system, r.status.value], 1)
        yield from (groups, reqs)

    def _drift(self, run: AuditRun) -> Iterator[Metric]:
        previous = self._previous_run()
        if previous is None:
            return
        counts = drift(previous, run).counts()
        family = _gauge("provdc_audit_drift_findings", "Findings that changed since the previous audit run: "
                        "new failures, fixes and changed evidence.", ["kind"])
        for kind, n in counts.items():
            family.add_metric([kind], n)
        yield family

    def _findings(self, run: AuditRun) -> Iterator[Metric]:
        status = _gauge("provdc_check_status", "Latest audit: 1 for the status each check has on each host "
                        "(results cached from the audit run; see provdc_audit_last_run_timestamp_seconds).",
                        ["check", "host", "layer", "severity", "status"])
        for f in run.findings:
            status.add_metric([f.check, f.host or "", f.layer, f.severity, f.status.value], 1)
        findings = _gauge("provdc_audit_findings", "Findings of the latest audit per status.", ["status"])
        for st in sorted({f.status.value for f in run.findings}):
            findings.add_metric([st], sum(1 for f in run.findings if f.status.value == st))
        scores = _gauge("provdc_audit_score_ratio", "Severity-weighted score per layer, 0-1, with and without waivers.",
                        ["layer", "waivers"])
        for layer, pair in run.group_scores("layer").items():
            for value, label in ((pair.with_waivers, "counted"), (pair.without_waivers, "ignored")):
                if value is not None:
                    scores.add_metric([layer, label], value)
        levels = _gauge("provdc_audit_level_score_ratio", "Severity-weighted score per security level (its systems and "
                        "their servers), 0-1, with and without waivers.", ["level", "waivers"])
        for level, pair in run.group_scores("level").items():   # the run's own per-level scores
            for value, label in ((pair.with_waivers, "counted"), (pair.without_waivers, "ignored")):
                if value is not None:
                    levels.add_metric([level, label], value)
        waivers = _gauge("provdc_waiver_expiry_timestamp_seconds",
                         "When each waiver expires (Unix time, start of its expiry day in UTC+7); days to expiry: "
                         "(provdc_waiver_expiry_timestamp_seconds - time()) / 86400.", ["check", "scope"])
        for w in run.waivers:
            waivers.add_metric([w.check, w.scope], _vn_midnight(w.expires))
        last = _gauge("provdc_audit_last_run_timestamp_seconds", "When the latest audit run finished (Unix time).")
        last.add_metric([], run.finished.timestamp())
        partial = _gauge("provdc_audit_partial", "1 if the latest audit could not complete on every host.")
        partial.add_metric([], float(run.partial))
        yield from (status, findings, scores, levels, waivers, last, partial)


class HealthCollector:
    """`provdc_up` and the duration of this scrape, measured around the other collectors."""

    def __init__(self, others: list) -> None:
        self.others = others

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        start = time.perf_counter()
        ok = 1.0
        families: list[Metric] = []
        for collector in self.others:
            try:
                families.extend(collector.collect())
            except Exception:  # noqa: BLE001 - a failing part must show as provdc_up 0, not a 500
                ok = 0.0
        yield from families
        up = _gauge("provdc_up", "1 if every provdc collector succeeded in this scrape.")
        up.add_metric([], ok)
        yield up
        took = _gauge("provdc_scrape_duration_seconds", "Time this scrape took to build provdc's metrics.")
        took.add_metric([], time.perf_counter() - start)
        yield took


def build_registry(inventory: Inventory, results_dir: Path | None = None, *, now=None) -> CollectorRegistry:
    """A private registry with provdc's collectors (never the global REGISTRY); `now` replaces
    the clock in tests."""
    inv_collector = InventoryCollector(inventory, now) if now else InventoryCollector(inventory)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HealthCollector([inv_collector, AuditCollector(results_dir)]))
    return registry
