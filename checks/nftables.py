"""The host's nftables ruleset as `nft list ruleset` prints it, reduced to what its input hooks
accept: (protocol, port) -> the sources admitted, compared with what the inventory declares.
Pure and tested offline; only chains reached from an input hook count (jumps and gotos
followed), a named set is expanded, and a rule the parser does not understand is a finding,
never silently ignored.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

ANY = "0.0.0.0/0"


@dataclass
class Ruleset:
    chains: dict[str, list[str]] = field(default_factory=dict)     # "table/chain" -> rule lines
    hooks: list[str] = field(default_factory=list)                 # input-hook chains
    sets: dict[str, list[str]] = field(default_factory=dict)       # "table/set" -> elements
    forward: list[str] = field(default_factory=list)               # forward-hook chains
    policies: dict[str, str] = field(default_factory=dict)         # base chain -> its policy


def parse_ruleset(text: str) -> Ruleset:
    rs = Ruleset()
    table = chain = None
    set_name, set_lines = None, []
    for raw in text.splitlines():
        line = raw.strip()
        if m := re.match(r"^table\s+\S+\s+(\S+)\s*\{", line):
            table, chain = m.group(1), None
        elif m := re.match(r"^(?:set|map)\s+(\S+)\s*\{", line):
            set_name, set_lines = f"{table}/{m.group(1)}", []
        elif set_name is not None:
            if line == "}":
                body = " ".join(set_lines)
                em = re.search(r"elements\s*=\s*\{([^}]*)\}", body)
                rs.sets[set_name] = [e.strip() for e in em.group(1).split(",")] if em else []
                set_name = None
            else:
                set_lines.append(line)
        elif m := re.match(r"^chain\s+(\S+)\s*\{", line):
            chain = f"{table}/{m.group(1)}"
            rs.chains[chain] = []
        elif chain is not None and line == "}":
            chain = None
        elif chain is not None and line:
            if m := re.search(r"type filter hook (input|forward)\b", line):
                (rs.hooks if m.group(1) == "input" else rs.forward).append(chain)
                if p := re.search(r"\bpolicy\s+(\w+)", line):
                    rs.policies[chain] = p.group(1)
            elif not line.startswith("type "):
                rs.chains[chain].append(line)
    return rs


def _values(expr: str, table: str, rs: Ruleset) -> list[str]:
    expr = expr.strip()
    if expr.startswith("@"):
        return rs.sets.get(f"{table}/{expr[1:]}", [])
    if expr.startswith("{"):
        return [e.strip() for e in expr.strip("{}").split(",") if e.strip()]
    return [expr]


def _ports(values: list[str]) -> set[int]:
    out: set[int] = set()
    for v in values:
        if "-" in v and all(p.strip().isdigit() for p in v.split("-")):
            lo, hi = (int(p) for p in v.split("-"))
            out.update(range(lo, min(hi, lo + 2048) + 1))
        elif v.isdigit():
            out.add(int(v))
    return out


VALUE = r"(@\w+|\{[^}]*\}|\S+)"


def accepted(rs: Ruleset) -> tuple[dict[tuple[str, int], set[str]], list[str]]:
    """(proto, port) -> admitted source networks, and the accept rules not understood."""
    admitted: dict[tuple[str, int], set[str]] = {}
    rules, unknown = accept_rules(rs, rs.hooks)
    for proto, port, sources, _ in rules:
        admitted.setdefault((proto, port), set()).update(sources)
    return admitted, unknown


def accept_rules(rs: Ruleset, hooks: list[str]) -> tuple[list[tuple[str, int, set[str], set[str]]], list[str]]:
    """(proto, port, sources, destinations) per port every accept rule reached from `hooks`
    admits (established/related, loopback and ICMP rules aside), and the rules not understood."""
    out: list[tuple[str, int, set[str], set[str]]] = []
    unknown: list[str] = []
    seen: set[str] = set()

    def walk(chain: str, depth: int) -> None:
        if chain in seen or depth > 8:
            return
        seen.add(chain)
        table = chain.split("/")[0]
        for rule in rs.chains.get(chain, []):
            if m := re.search(r"\b(?:jump|goto)\s+(\S+)", rule):
                walk(f"{table}/{m.group(1)}", depth + 1)
                continue
            if not re.search(r"\baccept\b", rule) or rule.startswith("ct state") or re.match(r'^iif(name)?\s+"?lo"?\s', rule) \
                    or re.match(r"^(ip\s+protocol\s+)?icmp\b", rule):
                continue
            dport = re.search(r"\b(tcp|udp)\s+dport\s+(!=\s*)?" + VALUE, rule)
            saddr = re.search(r"\bip\s+saddr\s+(!=\s*)?" + VALUE, rule)
            daddr = re.search(r"\bip\s+daddr\s+(!=\s*)?" + VALUE, rule)
            if not dport or dport.group(2) or (saddr and saddr.group(1)) or (daddr and daddr.group(1)):
                unknown.append(rule)  # a port-less or negated accept admits more than any declaration says
                continue
            sources = set(_values(saddr.group(2), table, rs)) if saddr else {ANY}
            targets = set(_values(daddr.group(2), table, rs)) if daddr else {ANY}
            for port in _ports(_values(dport.group(3), table, rs)):
                out.append((dport.group(1), port, sources, targets))
    for hook in hooks:
        walk(hook, 0)
    return out, unknown


def declared(inv, server) -> dict[tuple[str, int], set[str]]:
    """What the inventory admits per port: each service's sources plus the management zones
    (monitoring probes every service from there), as the firewall role writes them."""
    from provdc.inventory.exports import monitoring_cidrs, source_cidrs

    out: dict[tuple[str, int], set[str]] = {}
    for svc in server.services:
        sources = set(source_cidrs(inv, svc.from_))
        out[(svc.proto, svc.port)] = {ANY} if ANY in sources else sources | set(monitoring_cidrs(inv))
    return out


def _networks(source: str) -> list[ipaddress.IPv4Network] | None:
    """A source as nft prints it: an address, a prefix, or a range `a-b` (nft merges adjacent
    prefixes of an interval set into one range)."""
    try:
        if "-" in source:
            first, last = (ipaddress.IPv4Address(x.strip()) for x in source.split("-", 1))
            return list(ipaddress.summarize_address_range(first, last))
        return [ipaddress.IPv4Network(source, strict=False)]
    except ValueError:
        return None


def covered(source: str, allowed: set[str]) -> bool:
    """Whether every address of `source` lies inside one of the `allowed` networks."""
    nets = _networks(source)
    wanted = [n for a in allowed for n in (_networks(a) or [])]
    return nets is not None and all(any(n.subnet_of(w) for w in wanted) for n in nets)


def compare(rs: Ruleset, wanted: dict[tuple[str, int], set[str]], names: dict[str, str] | None = None) -> list[str]:
    """Findings: a port admitted from a source the inventory does not allow, or not declared at
    all; a source that is a declared zone's network is named by its zone id."""
    names = names or {}

    def label(net: str) -> str:
        return f"{net} ({names[net]})" if net in names else net

    admitted, unknown = accepted(rs)
    problems = [f"rule not understood, admits more than declared: {r}" for r in unknown]
    for (proto, port), sources in sorted(admitted.items()):
        allowed = wanted.get((proto, port))
        if allowed is None:
            problems.append(f"{port}/{proto} accepted from {', '.join(label(x) for x in sorted(sources))} but not declared")
            continue
        extra = sorted(s for s in sources if not covered(s, allowed))
        if extra:
            problems.append(f"{port}/{proto} accepted from {', '.join(label(x) for x in extra)}; "
                            f"declared {', '.join(label(x) for x in sorted(allowed))}")
    return problems


def declared_matrix(inv) -> dict[tuple[str, int, str], tuple[str, set[str]]]:
    """The zone matrix as the inventory declares it, per destination: (proto, port, address)
    -> (server id, the networks that may reach it: its `from:` sources and the management
    zones, which monitor every service)."""
    out = {}
    for server in inv.doc.servers:
        for (proto, port), sources in declared(inv, server).items():
            out[(proto, port, f"{server.address}/32")] = (server.id, sources)
    return out


def compare_forward(rs: Ruleset, matrix: dict[tuple[str, int, str], tuple[str, set[str]]],
                    names: dict[str, str] | None = None) -> list[str]:
    """Findings on what a router forwards: no forward hook dropping by default, a rule not
    understood, or a port forwarded to a destination that does not declare it, or from a
    source that destination's declaration does not admit. Sources and destinations that are
    declared zones' networks are named by their zone id."""
    names = names or {}

    def label(net: str) -> str:
        return f"{net} ({names[net]})" if net in names else net

    if not rs.forward:
        return ["no forward hook: every packet between its interfaces is forwarded"]
    problems = [f"forward chain {c} has policy {rs.policies.get(c, 'accept')}: what no rule names is forwarded"
                for c in rs.forward if rs.policies.get(c, "accept") != "drop"]
    rules, unknown = accept_rules(rs, rs.forward)
    problems += [f"rule not understood, forwards more than declared: {r}" for r in unknown]
    for proto, port, sources, targets in rules:
        inside = [(addr, sid, allowed) for (p, n, addr), (sid, allowed) in sorted(matrix.items())
                  if (p, n) == (proto, port) and any(covered(addr, {t}) for t in targets)]
        if not inside:
            problems.append(f"{port}/{proto} forwarded to {', '.join(label(t) for t in sorted(targets))} "
                            f"from {', '.join(label(x) for x in sorted(sources))}: no server there declares it")
            continue
        for addr, sid, allowed in inside:
            extra = sorted(x for x in sources if not covered(x, allowed))
            if extra:
                problems.append(f"{port}/{proto} forwarded to {sid} from {', '.join(label(x) for x in extra)}; "
                                f"declared {', '.join(label(x) for x in sorted(allowed))}")
        undeclared = sorted({sid for (p, n, addr), (sid, _) in matrix.items() if (p, n) != (proto, port)
                             and any(covered(addr, {t}) for t in targets)} - {sid for _, sid, _ in inside})
        if undeclared:
            problems.append(f"{port}/{proto} forwarded to {', '.join(label(t) for t in sorted(targets))}, "
                            f"which also reaches {', '.join(undeclared)}: they do not declare it")
    return list(dict.fromkeys(problems))
