"""What `provdc provision --remediate AUDIT.json` runs: the roles that fix the checks that
failed, on the hosts where they failed, and nothing else. Pure: tested offline."""

from __future__ import annotations

from dataclasses import dataclass

from provdc.checks.registry import CheckRegistry
from provdc.checks.results import AuditRun, Status


@dataclass(frozen=True)
class RemediationPlan:
    tags: list[str]              # roles to run
    hosts: list[str] | None      # where; None when a failed check is not tied to one host
    manual: list[str]            # failed checks no role fixes (their remediation text says how)

    @property
    def limit(self) -> str | None:
        return ",".join(self.hosts) if self.hosts else None


def plan_remediation(run: AuditRun, registry: CheckRegistry, devices: frozenset[str] = frozenset()) -> RemediationPlan:
    """`devices`: the inventory's devices, where the baseline roles do not run: a host check
    that failed on one is fixed by hand (manual), like a check no role fixes."""
    tags: set[str] = set()
    hosts: set[str] = set()
    anywhere = False
    manual: set[str] = set()
    for finding in run.findings:
        if finding.status is not Status.FAIL or finding.check not in registry:
            continue
        fixes = registry[finding.check].tags
        if not fixes or finding.host in devices:
            manual.add(finding.check)
            continue
        tags.update(fixes)
        if finding.host:
            hosts.add(finding.host)
        else:
            anywhere = True
    return RemediationPlan(sorted(tags), None if anywhere or not hosts else sorted(hosts), sorted(manual))
