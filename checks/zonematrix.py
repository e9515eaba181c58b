"""The zone matrix: for every pair (source zone, target service) what the inventory allows, and
what answers when asked from inside the source zone. Pure and tested offline; the sweep itself
(one SSH round trip to a managed host of each zone) is `engine.zone_sweep_plan` (the scope
guard) then `engine.sweep_zones`.

Expected: a target server's TCP service admits a source zone when the zone's network lies
inside what the firewall role opens for that port (`nftables.declared`: the service's `from:`
sources and the management zones). Pairs inside one zone are not swept (no zone boundary).
Measured: from one managed host of the source zone (a server, else a Linux device with `ssh`),
a bounded TCP connect sweep of the other zones' servers' declared addresses on their declared
TCP ports, with bash's /dev/tcp and coreutils' `timeout` (nothing is installed on the host):
`open` (connected), `closed` (refused) or `filtered` (no answer within the connect timeout, or
an ICMP error). A zone with no managed host, or whose hosts could not be reached, leaves its
pairs unmeasured: never a pass.

Judged per target server: FAIL when a denied pair answers; else ERROR when a denied pair could
not be measured; else PASS. Allowed pairs that do not answer are named (availability is the
monitoring's to judge), and so are unmeasured allowed pairs (nothing there can be a breach).
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass, field

from provdc.checks.registry import Verdict
from provdc.checks.results import Status

STATES = ("open", "closed", "filtered")
CONCURRENCY = 32          # connects in flight at once on the vantage host
CONNECT_TIMEOUT = 1       # seconds per connect
DONE = "provdc-sweep-done"
VANTAGE_TRIES = 2         # managed hosts of a zone tried in turn when one does not answer over SSH
SHOWN = 12                # denied pairs named in one finding; the rest are counted


@dataclass(frozen=True)
class Pair:
    """One cell of the matrix: a source zone towards one declared TCP service of a server."""

    source: str              # zone id
    target: str              # server id
    address: str
    port: int
    service: str
    allowed: bool
    why: str                 # why the inventory allows or denies it


@dataclass(frozen=True)
class Sweep:
    """What one zone's sweep found: the state per (address, port), from which host; or why
    nothing was measured (`vantage` None)."""

    vantage: str | None
    states: dict[tuple[str, int], str] = field(default_factory=dict)
    error: str = ""


@dataclass(frozen=True)
class Observation:
    pair: Pair
    found: str | None        # open, closed, filtered; None: unmeasured
    vantage: str | None = None
    reason: str = ""         # why unmeasured


# ----------------------------------------------------------------------------------- expected

def _why(inv, svc, zone, allowed: bool) -> str:
    from provdc.checks.nftables import covered
    from provdc.inventory.exports import monitoring_cidrs, source_cidrs

    net = str(zone.cidr)
    if not allowed:
        return f"{svc.name} admits {', '.join(svc.from_) or 'nothing'} and the management zones only"
    reasons = [f"from: {src}" for src in svc.from_ if covered(net, set(source_cidrs(inv, [src])))]
    if covered(net, set(monitoring_cidrs(inv))):
        reasons.append("management zone")
    return ", ".join(reasons) or "declared sources"


def expected(inv, targets) -> list[Pair]:
    """Every (source zone, target TCP service) pair across a zone boundary, with what the
    inventory says of it; zones and targets in the inventory's order."""
    from provdc.checks.nftables import covered, declared

    pairs = []
    for server in targets:
        admitted = declared(inv, server)
        for svc in server.services:
            if svc.proto != "tcp":
                continue
            for zone in inv.doc.zones:
                if zone.id == server.zone:
                    continue
                allowed = covered(str(zone.cidr), admitted[("tcp", svc.port)])
                pairs.append(Pair(zone.id, server.id, str(server.address), svc.port, svc.name, allowed,
                                  _why(inv, svc, zone, allowed)))
    return pairs


def vantages(inv) -> dict[str, list]:
    """Per zone, the managed hosts a sweep can start from: its servers (by id), then the Linux
    devices reached over SSH whose management address lies in it."""
    out: dict[str, list] = {z.id: [] for z in inv.doc.zones}
    for server in sorted(inv.doc.servers, key=lambda s: s.id):
        out[server.zone].append(server)
    for device in sorted(inv.doc.devices, key=lambda d: d.id):
        if device.ssh is not None and device.address is not None and device.zone in out \
                and device.address in inv.zones[device.zone].cidr:
            out[device.zone].append(device)
    return out


def probes(pairs: list[Pair], zone: str) -> list[tuple[str, int]]:
    """The (address, port) connects one zone's sweep makes, each once, in order."""
    return list(dict.fromkeys((p.address, p.port) for p in pairs if p.source == zone))


# ------------------------------------------------------------------------------------- sweep

SWEEP = r"""export LC_ALL=C
probe() {
  err=$(timeout "$PROVDC_CONNECT_TIMEOUT" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" -eq 0 ]; then state=open
  elif [ "$rc" -eq 124 ]; then state=filtered
  else case "$err" in *refused*) state=closed ;; *) state=filtered ;; esac
  fi
  echo "$state $1 $2"
}
n=0
for t in $PROVDC_PROBES; do
  probe "${t%:*}" "${t#*:}" &
  n=$((n + 1))
  if [ "$n" -ge "$PROVDC_CONCURRENCY" ]; then wait -n; n=$((n - 1)); fi
done
wait
echo "@DONE@"
""".replace("@DONE@", DONE)


def sweep_script(targets: list[tuple[str, int]]) -> str:
    """The bash script a vantage host runs (`bash -s`): the connects, at most CONCURRENCY at
    once, each given CONNECT_TIMEOUT seconds; one line per connect, then the end marker."""
    env = {"PROVDC_PROBES": " ".join(f"{a}:{p}" for a, p in targets), "PROVDC_CONCURRENCY": str(CONCURRENCY),
           "PROVDC_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT)}
    return "".join(f"{k}={shlex.quote(v)}\n" for k, v in env.items()) + SWEEP


def sweep_seconds(count: int) -> float:
    """An upper bound of a sweep of `count` connects on the host (rounds of CONCURRENCY)."""
    return math.ceil(count / CONCURRENCY) * (CONNECT_TIMEOUT + 0.5) + 1.0


def parse_sweep(text: str, vantage: str) -> Sweep:
    """The sweep's output; without its end marker the sweep was cut short, and what it did
    print still counts (the rest stays unmeasured)."""
    states: dict[tuple[str, int], str] = {}
    done = False
    for line in text.splitlines():
        parts = line.split()
        if parts == [DONE]:
            done = True
        elif len(parts) == 3 and parts[0] in STATES and parts[2].isdigit():
            states[(parts[1], int(parts[2]))] = parts[0]
    return Sweep(vantage, states, "" if done else "sweep cut short")


# ------------------------------------------------------------------------------------ judging

def observe(pairs: list[Pair], sweeps: dict[str, Sweep]) -> dict[str, list[Observation]]:
    """Each target's pairs with what its source zone's sweep found."""
    out: dict[str, list[Observation]] = {}
    for p in pairs:
        sweep = sweeps.get(p.source)
        state = sweep.states.get((p.address, p.port)) if sweep is not None else None
        if state is not None:
            obs = Observation(p, state, sweep.vantage)
        else:
            reason = (sweep.error if sweep is not None and sweep.error else "no answer for this port") \
                if sweep is not None else "not swept"
            obs = Observation(p, None, sweep.vantage if sweep is not None else None, reason)
        out.setdefault(p.target, []).append(obs)
    return out


def _cell(o: Observation) -> str:
    via = f" via {o.vantage}" if o.vantage else ""
    return f"from {o.pair.source}{via}: {o.pair.address}:{o.pair.port} ({o.pair.service})"


def _unmeasured(obs: list[Observation]) -> str:
    by_zone: dict[tuple[str, str], list[int]] = {}
    for o in obs:
        by_zone.setdefault((o.pair.source, o.reason), []).append(o.pair.port)
    return "; ".join(f"from {zone} ({reason}): {', '.join(map(str, sorted(set(ports))))}"
                     for (zone, reason), ports in by_zone.items())


def judge(observations: list[Observation]) -> Verdict:
    """A target server's row of the matrix (see the module docstring)."""
    if not observations:
        return Verdict.not_applicable("no TCP service across a zone boundary is declared")
    expected_text = "from each zone only the services the inventory admits answer"
    breaches = [o for o in observations if o.found == "open" and not o.pair.allowed]
    unmeasured_denied = [o for o in observations if o.found is None and not o.pair.allowed]
    unmeasured_allowed = [o for o in observations if o.found is None and o.pair.allowed]
    silent = [o for o in observations if o.found in ("closed", "filtered") and o.pair.allowed]
    notes = []
    if unmeasured_denied:
        notes.append(f"unmeasured, denied: {_unmeasured(unmeasured_denied)}")
    if unmeasured_allowed:
        notes.append(f"unmeasured, allowed: {_unmeasured(unmeasured_allowed)}")
    if silent:
        notes.append("allowed but not answering: " + "; ".join(f"{_cell(o)} {o.found}" for o in silent))
    measured = [o for o in observations if o.found is not None]
    zones = sorted({o.pair.source for o in measured})
    if breaches:
        found = "; ".join(f"{_cell(o)} open, expected denied ({o.pair.why})" for o in breaches[:SHOWN])
        more = [f"and {len(breaches) - SHOWN} more denied pairs open"] if len(breaches) > SHOWN else []
        return Verdict(Status.FAIL, expected_text, "; ".join([found, *more, *notes]))
    tally = (f"{len(measured)} pairs measured from {len(zones)} zones ({', '.join(zones) or 'none'}): "
             f"{sum(o.found == 'open' for o in measured)} allowed open, "
             f"{sum(not o.pair.allowed for o in measured)} denied closed or filtered")
    if unmeasured_denied:
        return Verdict(Status.ERROR, expected_text, "; ".join([*notes, tally]))
    return Verdict(Status.PASS, expected_text, "; ".join([tally, *notes]))
