"""The audit engine: gather facts once per host (one SSH round trip, all hosts in parallel),
judge every applicable check, apply waivers, and return an AuditRun.

Failure is never success: an unreachable host, a timeout, an unparsable fact or a check that
raises becomes ERROR on exactly the findings concerned, and the run is marked partial.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from provdc.checks import appliance, application, data, design, devices, governance, hardening, host, network  # noqa: F401 - registers the checks
from provdc.checks import zonematrix
from provdc.checks.facts import FACT_SCRIPT, FactError, parse_facts
from provdc.checks.probes import probe_service
from provdc.checks.registry import DEFAULT, Check, CheckRegistry, Verdict
from provdc.checks.results import AppliedWaiver, AuditRun, Finding, RequirementRef, Status, Vantage, WaiverRecord, summarise
from provdc.exporters.monitoring import check_scope
from provdc.inventory import Inventory, model
from provdc.inventory.catalogue import Bar, bar_for, load_catalogue
from provdc.inventory.connection import Connection
from provdc.lab.guard import require_lab_routed
from provdc.proc import run_command

CONTEXT_FACTS = {"server", "level", "inv", "system", "today", "bar"}
ZONE_SWEEP = (f"ssh to a managed host of each zone: bash /dev/tcp connect sweep of the other zones' servers "
              f"({zonematrix.CONNECT_TIMEOUT} s per connect, {zonematrix.CONCURRENCY} at once)")


@dataclass
class Options:
    layers: set[str] | None = None
    systems: set[str] | None = None
    hosts: set[str] | None = None
    waivers: list[model.Waiver] = field(default_factory=list)
    timeout: float = 20.0
    today: date = field(default_factory=date.today)


@dataclass
class HostFacts:
    facts: dict[str, Any]
    seconds: float
    error: str | None = None         # the whole host failed (unreachable, timeout)


def ssh_argv(inv: Inventory, server: model.Server, timeout: float) -> list[str]:
    """The fact script's connection: half the step's time to connect, the rest to run."""
    return Connection.of(inv, server).ssh_argv("sh", "-s", connect_timeout=int(timeout / 2))


def ssh_sources(inv: Inventory) -> list[str]:
    """Source addresses sshd's Match blocks are evaluated for: the controller (the management
    source) first, then one address inside every declared zone, so a Match block that loosens
    a setting for any zone is judged."""
    lab = getattr(inv.doc, "lab", None)
    out = [str(lab.controller)] if lab is not None and getattr(lab, "controller", None) else []
    for zone in sorted(inv.doc.zones, key=lambda z: (z.kind != model.ZoneKind.management, z.id)):
        hosts = list(zone.cidr.hosts())
        if hosts and str(hosts[-1]) not in out:
            out.append(str(hosts[-1]))
    return out[:12]


def fact_script(inv: Inventory, server: model.Server) -> str:
    """The fact script with what the host cannot know itself: who administers it from where."""
    env = {"PROVDC_SSH_USER": server.ssh.user, "PROVDC_SSH_SOURCES": " ".join(ssh_sources(inv)),
           "PROVDC_SSH_LADDR": str(server.address), "PROVDC_SSH_LPORT": str(server.ssh.port),
           "PROVDC_BACKUP_PATHS": " ".join(sorted({sys.backup.path for sys in inv.doc.systems
                                                   if sys.backup and sys.backup.target == server.id}) or ["/var/backups/provdc"])}
    return "".join(f"{k}={shlex.quote(v)}\n" for k, v in env.items()) + FACT_SCRIPT


def gather(inv: Inventory, server: model.Server, timeout: float) -> HostFacts:
    """One host's facts: the fact script over one SSH connection, and probes of its declared
    HTTP(S) services from here, all within `timeout` seconds per step."""
    start = time.monotonic()
    facts = _ssh_facts(inv, server, timeout)
    facts.facts["web"] = _web_facts(inv, server, timeout)
    facts.seconds = time.monotonic() - start
    return facts


def _round_trip(argv: list[str], script: str, timeout: float) -> tuple[str, str | None]:
    """One SSH round trip: a script on standard input, its output back; or why the host did not
    answer (not reached, not in time, no ssh client)."""
    r = run_command(argv, input=script, timeout=timeout)
    if r.timed_out:
        return r.stdout, f"no answer within {timeout:.0f} s"
    if r.missing:
        return "", r.describe()
    if r.returncode == 255:  # ssh's own failure: the host was not reached
        return "", f"unreachable over SSH: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else 'no reason given'}"
    return r.stdout, None


def _ssh_facts(inv: Inventory, server: model.Server, timeout: float) -> HostFacts:
    start = time.monotonic()
    out, error = _round_trip(ssh_argv(inv, server, timeout), fact_script(inv, server), timeout)
    seconds = time.monotonic() - start
    return HostFacts({}, seconds, error) if error else HostFacts(parse_facts(out), seconds)


def _sweep_zone(inv: Inventory, candidates: list, targets: list[tuple[str, int]], timeout: float) -> zonematrix.Sweep:
    """One zone's connect sweep from the first of its managed hosts that answers over SSH."""
    if not candidates:
        return zonematrix.Sweep(None, error="no managed host in the zone")
    connect = max(1, min(5, int(timeout / 2)))
    budget = min(timeout, connect + zonematrix.sweep_seconds(len(targets)) + 2)
    errors = []
    for host in candidates[:zonematrix.VANTAGE_TRIES]:
        out, error = _round_trip(Connection.of(inv, host).ssh_argv("bash", "-s", connect_timeout=connect),
                                 zonematrix.sweep_script(targets), budget)
        if error is None or out:
            sweep = zonematrix.parse_sweep(out, host.id)
            return sweep if error is None else zonematrix.Sweep(host.id, sweep.states, error)
        errors.append(f"{host.id}: {error}")
    return zonematrix.Sweep(None, error="; ".join(errors))


def zone_sweep_plan(inv: Inventory,
                    targets: list[model.Server]) -> tuple[list[zonematrix.Pair], dict[str, tuple[list, list]]]:
    """The zone matrix pairs of `targets` and, per zone with something to sweep, its vantage
    hosts and connects. Every address a sweep connects to and every vantage host passes the
    scope guard here, before any packet."""
    pairs = zonematrix.expected(inv, targets)
    hosts = zonematrix.vantages(inv)
    plan = {zone: (hosts[zone], probes) for zone in hosts if (probes := zonematrix.probes(pairs, zone))}
    check_scope(inv, sorted({a for _, probes in plan.values() for a, _ in probes}
                            | {str(h.address) for candidates, _ in plan.values() for h in candidates[:zonematrix.VANTAGE_TRIES]}))
    return pairs, plan


def sweep_zones(inv: Inventory, pairs: list[zonematrix.Pair], plan: dict[str, tuple[list, list]],
                timeout: float) -> dict[str, list[zonematrix.Observation]]:
    """Every zone of the plan swept from inside, all zones in parallel: each target's row."""
    if not plan:
        return {}
    with ThreadPoolExecutor(max_workers=min(8, len(plan))) as pool:
        futures = {zone: pool.submit(_sweep_zone, inv, candidates, probes, timeout)
                   for zone, (candidates, probes) in plan.items()}
        sweeps = {zone: fut.result() for zone, fut in futures.items()}
    return zonematrix.observe(pairs, sweeps)


def tls_trust(inv: Inventory, svc: model.Service) -> str | None:
    """The CA file a TLS service's chain must verify against: the service's, else the province's
    (relative paths from the inventory directory); None: the system trust store."""
    declared = svc.tls_ca or inv.doc.province.tls_ca
    return None if declared is None else str(inv.base / declared)


def _web_facts(inv: Inventory, server: model.Server, timeout: float) -> list[dict] | FactError:
    web = [svc for svc in server.services if svc.kind in ("http", "https") and svc.proto == "tcp"]
    try:
        return [probe_service(str(server.address), svc.port, svc.tls or svc.kind == "https", svc.path or "/", min(timeout, 5),
                              hostname=server.hostname, cafile=tls_trust(inv, svc))
                for svc in web]
    except Exception as exc:  # noqa: BLE001 - an unreachable service makes the web fact unavailable: ERROR
        return FactError(f"web probe failed: {type(exc).__name__}: {exc}")


def _judge(c: Check, values: dict[str, Any]) -> Verdict:
    """The check's verdict from `values` (a `bar` there is the one this verdict reads). A check
    of sshd settings is judged on the global configuration and again on each connection's
    (`sshd -T -C`: every Match block that applies to that user and source): a Match block that
    weakens a setting for one source fails the check and is named."""
    verdict = _judge_once(c, values)
    contexts = values.get("sshd_contexts")
    if "sshd" not in c.facts or verdict.status is not Status.PASS or not isinstance(contexts, dict):
        return verdict
    for label, settings in sorted(contexts.items()):
        merged = {**values["sshd"], **settings} if isinstance(values.get("sshd"), dict) else settings
        v = _judge_once(c, {**values, "sshd": merged})
        if v.status is not Status.PASS:
            return Verdict(v.status, v.expected, f"for {label} (Match): {v.found}")
    return verdict


def _judge_once(c: Check, values: dict[str, Any]) -> Verdict:
    args = []
    for name in c.facts:
        value = values.get(name)
        if isinstance(value, FactError):
            return Verdict.error(str(value))
        if name not in values:
            return Verdict.error(f"fact {name} was not gathered")
        args.append(value)
    try:
        return c.func(*args)
    except Exception as exc:  # noqa: BLE001 - a crashed check is ERROR on its finding, never a PASS
        return Verdict.error(f"check crashed: {type(exc).__name__}: {exc}")


def _refs(check_id: str, frameworks: set[str]) -> list[RequirementRef]:
    """The requirements a check serves under the frameworks of the systems it judges."""
    catalogue = load_catalogue()
    return [RequirementRef(framework=fid, id=r.id, clause=r.clause)
            for fid in sorted(frameworks) for r in catalogue.framework(fid).for_check(check_id)]


def _finding(c: Check, verdict: Verdict, host_id: str | None, system_id: str | None, seconds: float, evidence: str,
             frameworks: set[str], bar: Bar, provisioned: bool = True) -> Finding:
    """`provisioned` False: the baseline roles do not run there (a device), so no tag is offered."""
    return Finding(check=c.id, layer=c.layer, severity=c.severity, status=verdict.status, host=host_id, system=system_id,
                   title=c.title, expected=verdict.expected, found=verdict.found, evidence=evidence, seconds=round(seconds, 4),
                   remediation=c.remediation + (f" (provdc provision --tags {','.join(c.tags)})" if c.tags and provisioned else ""),
                   requirements=_refs(c.id, frameworks), bar=bar.describe_used())


def _judge_with_bar(c: Check, values: dict[str, Any], bar: Bar) -> tuple[Verdict, Bar]:
    fresh = bar.fresh()
    return _judge(c, {**values, "bar": fresh}), fresh


def _selected(c: Check, opts: Options) -> bool:
    return opts.layers is None or c.layer in opts.layers


def device_host(inv: Inventory, device: model.Device) -> model.Server:
    """A Linux device reached over SSH, seen as a host: its management address, its sshd
    (admitted from the management zones) and snmpd (from where monitoring polls)."""
    mgmt = [z.id for z in inv.doc.zones if z.kind in (model.ZoneKind.management, model.ZoneKind.device_management)]
    services = [model.Service(name="ssh", port=device.ssh.port, kind="ssh", **{"from": mgmt})]
    if device.snmp is not None:
        services.append(model.Service(name="snmp", port=device.snmp.port, proto="udp", kind="snmp", **{"from": mgmt}))
    return model.Server(id=device.id, hostname=device.id, address=device.address, zone=device.zone or (mgmt or ["-"])[0],
                        role=(device.role or device.kind.value).replace("_", "-"), os=device.os or "debian12", services=services, ssh=device.ssh)


def _audited_hosts(inv: Inventory, opts: Options) -> list[tuple[model.Server, str]]:
    """(host, scope) pairs: the servers, and the devices provdc reaches over SSH (routers and
    firewalls audited like servers, by the device-scope checks)."""
    servers = [(s, "host") for s in inv.doc.servers
               if (opts.hosts is None or s.id in opts.hosts)
               and (opts.systems is None or any(x.id in opts.systems for x in inv.systems_by_server[s.id]))]
    routers = [(device_host(inv, d), "device") for d in inv.doc.devices
               if d.ssh is not None and d.address is not None and opts.systems is None
               and (opts.hosts is None or d.id in opts.hosts)]
    return servers + routers


def checks_for(scope: str, checks: list[Check]) -> list[Check]:
    """The checks a host of this scope runs: a server its host-scope checks; a device (a Linux
    router or firewall) its device checks and every host-layer check a device check does not
    stand for, like a server (devices.STANDS_FOR)."""
    if scope == "host":
        return [c for c in checks if c.scope == "host"]
    return [c for c in checks if c.scope == "device"
            or (c.scope == "host" and c.layer == "host" and c.id not in devices.STANDS_FOR)]


def _host_findings(inv: Inventory, checks: list[Check], opts: Options, progress: Callable[[str], None],
                   gathered_out: dict[str, dict], scan: dict[str, Any],
                   reach_job: Future | None = None) -> tuple[list[Finding], bool]:
    """`reach_job`, when the zone matrix is audited, is its sweep, running meanwhile."""
    hosts = [(h, scope) for h, scope in _audited_hosts(inv, opts) if checks_for(scope, checks)]
    if not hosts:
        return [], False
    with ThreadPoolExecutor(max_workers=min(32, len(hosts))) as pool:
        gathered = dict(zip([h.id for h, _ in hosts], pool.map(lambda h: gather(inv, h[0], opts.timeout), hosts)))
    reach = reach_job.result() if reach_job is not None else None
    gathered_out.update({sid: hf.facts for sid, hf in gathered.items() if hf.error is None})
    findings, partial = [], False
    everything = list(inv.doc.systems)
    top_level = max((x.level for x in everything), default=1)
    for s, scope in hosts:
        hf = gathered[s.id]
        # a device carries every system's traffic: it is held to the strictest of them
        systems = inv.systems_by_server.get(s.id, []) if scope == "host" else everything
        level = (inv.server_level(s.id) or 1) if scope == "host" else top_level
        host_bar, frameworks = bar_for(systems), {x.framework.value for x in systems} or {"nd85_tcvn11930"}
        progress(f"{s.id}: facts in {hf.seconds:.2f} s" + (f" ({hf.error})" if hf.error else ""))
        partial |= hf.error is not None
        values = {**hf.facts, "server": s, "level": level, "inv": inv, "now": datetime.now(timezone.utc)}
        if s.id in scan:
            values["open_ports"] = scan[s.id]
        if reach is not None and scope == "host":
            values["zone_reach"] = reach.get(s.id, [])
        mine = checks_for(scope, checks)
        for c in mine:
            t = time.perf_counter()
            bar = host_bar.fresh()
            if c.level > level:
                verdict = Verdict.not_applicable(f"applies from level {c.level}; {s.id} serves level {level}")
            elif scope == "device" and c.id in devices.NOT_ON_ROUTERS:
                verdict = Verdict.not_applicable(devices.NOT_ON_ROUTERS[c.id])
            elif hf.error:
                verdict = Verdict.error(hf.error)
            else:
                verdict, bar = _judge_with_bar(c, values, host_bar)
            partial |= verdict.status is Status.ERROR
            evidence = ZONE_SWEEP if "zone_reach" in c.facts else \
                f"ssh {s.ssh.user}@{s.address}: fact script ({', '.join(c.facts)})"
            findings.append(_finding(c, verdict, s.id, None, time.perf_counter() - t + hf.seconds / max(1, len(mine)),
                                     evidence, frameworks, bar,
                                     provisioned=scope == "host"))
    return findings, partial


def appliance_config(inv: Inventory, device: model.Device) -> dict | FactError | None:
    """A vendor appliance's configuration backup (`config_backup`, relative to the inventory),
    read here and parsed by the pure `appliance.parse_config`: None when the inventory names
    none, a FactError naming the file when it cannot be read or is not a configuration."""
    if device.config_backup is None:
        return None
    name = device.config_backup
    try:
        text = (inv.base / name).read_bytes().decode("utf-8-sig")
    except OSError as exc:
        return FactError(f"configuration backup {name} unreadable ({exc.strerror or exc})")
    except UnicodeDecodeError as exc:
        return FactError(f"configuration backup {name} is not UTF-8 text (byte {exc.start})")
    try:
        return appliance.parse_config(text.splitlines())
    except FactError as exc:
        return FactError(f"configuration backup {name}: {exc}")
    except Exception as exc:  # noqa: BLE001 - a parser crash is ERROR on the appliance's findings, never a PASS
        return FactError(f"configuration backup {name} could not be parsed: {type(exc).__name__}: {exc}")


def _appliance_findings(inv: Inventory, checks: list[Check], opts: Options,
                        progress: Callable[[str], None]) -> tuple[list[Finding], bool]:
    """The appliance checks on each device provdc cannot log in to, from its configuration
    backup; one without a backup is NOT_ASSESSED (never PASS), an unreadable one ERROR. Like
    the devices reached over SSH, an appliance is held to the strictest system."""
    appliances = [d for d in inv.doc.devices if d.ssh is None and opts.systems is None
                  and (opts.hosts is None or d.id in opts.hosts)]
    if not appliances or not checks:
        return [], False
    everything = list(inv.doc.systems)
    level = max((x.level for x in everything), default=1)
    province_bar, frameworks = bar_for(everything), {x.framework.value for x in everything} or {"nd85_tcvn11930"}
    findings, partial = [], False
    for d in appliances:
        start = time.perf_counter()
        config = appliance_config(inv, d)
        seconds = time.perf_counter() - start
        progress(f"{d.id}: " + ("no configuration backup" if config is None else f"configuration backup in {seconds:.2f} s"))
        evidence = f"configuration backup {d.config_backup}" if d.config_backup else "no config_backup in the inventory"
        for c in checks:
            t = time.perf_counter()
            bar = province_bar.fresh()
            if c.level > level:
                verdict = Verdict.not_applicable(f"applies from level {c.level}; the highest level here is {level}")
            elif config is None:
                verdict = Verdict.not_assessed(f"no configuration backup: set config_backup for {d.id} in the inventory")
            else:
                verdict, bar = _judge_with_bar(c, {"config": config, "inv": inv, "device": d}, province_bar)
            partial |= verdict.status is Status.ERROR
            findings.append(_finding(c, verdict, d.id, None, time.perf_counter() - t + seconds / len(checks),
                                     evidence, frameworks, bar))
    return findings, partial


def _system_findings(inv: Inventory, checks: list[Check], opts: Options, host_facts: dict[str, dict]) -> list[Finding]:
    out = []
    for system in inv.doc.systems:
        if opts.systems is not None and system.id not in opts.systems:
            continue
        system_bar = bar_for([system])
        for c in checks:
            t = time.perf_counter()
            bar = system_bar.fresh()
            if c.level > system.level:
                verdict = Verdict.not_applicable(f"applies from level {c.level}; {system.id} is level {system.level}")
            else:
                verdict, bar = _judge_with_bar(c, {"system": system, "today": opts.today, "inv": inv,
                                                   "host_facts": host_facts, "now": datetime.now(timezone.utc)}, system_bar)
            out.append(_finding(c, verdict, None, system.id, time.perf_counter() - t, "inventory evidence",
                                {system.framework.value}, bar))
    return out


def _inventory_findings(inv: Inventory, checks: list[Check], opts: Options, net: dict | None) -> list[Finding]:
    level = max((s.level for s in inv.doc.systems), default=1)
    province_bar = bar_for(list(inv.doc.systems))
    frameworks = {s.framework.value for s in inv.doc.systems} or {"nd85_tcvn11930"}
    out = []
    for c in checks:
        t = time.perf_counter()
        bar = province_bar.fresh()
        values = {"inv": inv, "today": opts.today, **({"network": net} if net is not None else {})}
        if c.level > level:
            verdict = Verdict.not_applicable(f"applies from level {c.level}; the highest level here is {level}")
        else:
            verdict, bar = _judge_with_bar(c, values, province_bar)
        out.append(_finding(c, verdict, None, None, time.perf_counter() - t, "inventory design", frameworks, bar))
    return out


# -------------------------------------------------------------------------------------- waivers

def _waiver_scope(w: model.Waiver) -> str:
    for kind in ("host", "system", "agency"):
        value = getattr(w.scope, kind)
        if value:
            return f"{kind}:{value}"
    return "all"


def _covers(w: model.Waiver, f: Finding, inv: Inventory) -> bool:
    if w.check != f.check:
        return False
    sc = w.scope
    if sc.host:
        return f.host == sc.host
    if sc.system:
        return f.system == sc.system or (f.host is not None and any(x.id == sc.system for x in inv.systems_by_server.get(f.host, [])))
    if sc.agency:
        owner = inv.servers[f.host].owner if f.host in inv.servers else None
        return owner == sc.agency or (f.system is not None and inv.systems[f.system].owner == sc.agency)
    return True


def apply_waivers(findings: list[Finding], waivers: list[model.Waiver], inv: Inventory, today: date) -> list[Finding]:
    """A failing finding covered by a valid waiver becomes WAIVED; under an expired waiver it
    stays FAIL and says so. Passing findings are never touched, and neither are ERRORs: a waiver
    accepts a known failure, and an unreachable host's state is not known."""
    out = []
    for f in findings:
        w = next((w for w in waivers if _covers(w, f, inv)), None)
        if w is None or f.status is not Status.FAIL:
            out.append(f)
            continue
        applied = AppliedWaiver(approver=w.approver, expires=w.expires, justification=w.justification)
        if w.expires < today:
            out.append(f.model_copy(update={"status": Status.FAIL, "waiver": applied,
                                            "found": f"{f.found} (waiver expired {w.expires.isoformat()})"}))
        else:
            out.append(f.model_copy(update={"status": Status.WAIVED, "waiver": applied}))
    return out


def vantage_of(inv: Inventory) -> Vantage:
    """This machine as the audit's vantage point (the inventory's controller address if declared)."""
    import socket

    from provdc import __version__

    lab = getattr(inv.doc, "lab", None)
    address = str(lab.controller) if lab is not None and lab.controller else None
    return Vantage(host=socket.gethostname(), address=address, tool=f"provdc {__version__}")


def run_audit(inv: Inventory, opts: Options = Options(), registry: CheckRegistry = DEFAULT,
              progress: Callable[[str], None] = lambda _: None) -> AuditRun:
    started = datetime.now(timezone.utc)
    selected = [c for c in registry if _selected(c, opts)]
    if any(c.scope in ("host", "device") or "network" in c.facts for c in selected):
        require_lab_routed(inv, "audit")
    host_checks = [c for c in selected if c.scope in ("host", "device")]
    host_facts: dict[str, dict] = {}
    network_view: dict[str, Any] | None = None
    with ThreadPoolExecutor(max_workers=1) as pool:
        # the sweeps from inside each zone run while nmap scans from here and the facts are gathered
        reach_job = None
        if any("zone_reach" in c.facts for c in host_checks):
            progress("zone matrix: sweeping from inside each zone")
            pairs, plan = zone_sweep_plan(inv, [sv for sv, scope in _audited_hosts(inv, opts) if scope == "host"])
            reach_job = pool.submit(sweep_zones, inv, pairs, plan, opts.timeout)
        if any("open_ports" in c.facts or "network" in c.facts for c in selected):
            servers = [sv for sv in inv.doc.servers if opts.hosts is None or sv.id in opts.hosts]
            progress("nmap: scanning the zones")
            network_view = network.gather_network(inv, servers, sweep=opts.hosts is None and opts.systems is None)
        findings, partial = _host_findings(inv, host_checks, opts, progress, host_facts,
                                           (network_view or {}).get("open", {}), reach_job)
    more, broken = _appliance_findings(inv, [c for c in selected if c.scope == "appliance"], opts, progress)
    findings, partial = findings + more, partial or broken
    findings += _system_findings(inv, [c for c in selected if c.scope == "system"], opts, host_facts)
    if opts.hosts is None and opts.systems is None:
        findings += _inventory_findings(inv, [c for c in selected if c.scope == "inventory"], opts, network_view)
    waivers = [*inv.doc.waivers, *opts.waivers]
    findings = sorted(apply_waivers(findings, waivers, inv, opts.today),
                      key=lambda f: (f.host or "", f.system or "", f.layer, f.check))
    summary = summarise(inv, findings, opts.today)
    return AuditRun(province=inv.province.id, started=started, finished=datetime.now(timezone.utc), partial=partial,
                    findings=findings, vantage=vantage_of(inv),
                    waivers=[WaiverRecord(check=w.check, scope=_waiver_scope(w), approver=w.approver, expires=w.expires)
                             for w in waivers],
                    **dict(summary))
