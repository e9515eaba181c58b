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
            if re.search(r"type filter hook input\b", line):
                rs.hooks.append(chain)
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
            if not dport or dport.group(2) or (saddr and saddr.group(1)):
                unknown.append(rule)  # a port-less or negated accept admits more than any declaration says
                continue
            sources = set(_values(saddr.group(2), table, rs)) if saddr else {ANY}
            for port in _ports(_values(dport.group(3), table, rs)):
                admitted.setdefault((dport.group(1), port), set()).update(sources)
    for hook in rs.hooks:
        walk(hook, 0)
    return admitted, unknown


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
