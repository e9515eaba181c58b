"""The jobs `provdc serve` runs on schedule. Each runs the CLI itself in a child process, so a
scheduled run writes exactly what the command writes (and a crash in a run never takes the
service down); the report job then e-mails what it rendered.

  audit    provdc audit PATH --results-dir STATE/audits (the exporter publishes the newest)
  report   provdc report PATH --prometheus ... --from ... --to ... --format pdf, in each language
           of the schedule, then an e-mail to the schedule's receivers: the PDFs attached, links
           to the HTML served by `provdc serve` under /reports/
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from provdc import mail
from provdc.checks.results import latest_run_file
from provdc.inventory import Inventory
from provdc.proc import CLEAN_ENV
from provdc.schedule import VN, When

AUDIT_OK = (0, 3)  # 3: the audit ran and found failures; that is a result, not a failed run


@dataclass(frozen=True)
class Context:
    path: Path
    inv: Inventory
    run_dir: Path
    audits: Path
    prometheus: str
    public_url: str
    timeout: float


@dataclass(frozen=True)
class Outcome:
    ok: bool
    detail: str
    outputs: tuple[Path, ...] = ()


def _cli(ctx: Context, *args: str) -> subprocess.CompletedProcess:
    with open(ctx.run_dir / "job.log", "a", encoding="utf-8") as log:
        log.write(f"$ provdc {' '.join(args)}\n")
        log.flush()
        return subprocess.run([sys.executable, "-m", "provdc.cli", *args], stdout=log, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, env=dict(CLEAN_ENV), timeout=ctx.timeout, check=False)


def run_audit(ctx: Context, when: When, slot: datetime) -> Outcome:
    before = latest_run_file(ctx.audits) if ctx.audits.is_dir() else None
    r = _cli(ctx, "audit", str(ctx.path), "--results-dir", str(ctx.audits), "--format", "json",
             "-o", str(ctx.run_dir / "audit.json"))
    result = latest_run_file(ctx.audits)
    if r.returncode not in AUDIT_OK or result is None or result == before:
        return Outcome(False, f"provdc audit exited {r.returncode} (see job.log)")
    found = "no failures" if r.returncode == 0 else "failures found"
    return Outcome(True, f"{result.name}: {found}", (result, ctx.run_dir / "audit.json"))


def run_report(ctx: Context, when: When, slot: datetime) -> Outcome:
    start, end = when.period_before(slot)
    job = ctx.inv.doc.schedule.report
    outputs: list[Path] = []
    audit = ["--audit", str(ctx.audits)] if ctx.audits.is_dir() and latest_run_file(ctx.audits) else []
    for lang in job.langs:
        r = _cli(ctx, "report", str(ctx.path), "--prometheus", ctx.prometheus, "--from", start.isoformat(),
                 "--to", end.isoformat(), *audit, "--lang", lang, "--format", "pdf", "--out", str(ctx.run_dir))
        if r.returncode != 0:
            return Outcome(False, f"provdc report --lang {lang} exited {r.returncode} (see job.log)", tuple(outputs))
        outputs += sorted(p for p in ctx.run_dir.glob(f"*-{lang}.*") if p.suffix in (".html", ".pdf"))
    if not job.receivers:
        return Outcome(True, f"{len(outputs)} files, no receivers to e-mail", tuple(outputs))
    to = [addr for rid in job.receivers for r in ctx.inv.doc.alerting.receivers if r.id == rid for addr in r.email]
    msg = mail.message(ctx.inv.doc.alerting.smtp, to, report_subject(ctx.inv, start, end),
                       report_text(ctx, start, end, outputs), [p for p in outputs if p.suffix == ".pdf"])
    try:
        mail.send(ctx.inv.doc.alerting.smtp, ctx.inv.base, msg)
    except mail.MailError as exc:
        return Outcome(False, str(exc), tuple(outputs))
    return Outcome(True, f"{len(outputs)} files, e-mailed to {len(to)} address(es)", tuple(outputs))


def report_subject(inv: Inventory, start: datetime, end: datetime) -> str:
    period = f"{start.astimezone(VN):%d/%m/%Y %H:%M} – {end.astimezone(VN):%d/%m/%Y %H:%M}"
    return f"[provdc] Báo cáo tuân thủ / Compliance report — {inv.province.name} — {period}"


def report_text(ctx: Context, start: datetime, end: datetime, outputs: list[Path]) -> str:
    links = "\n".join(f"  {ctx.public_url}/reports/{p.parent.name}/{p.name}" for p in outputs if p.suffix == ".html")
    return (f"Báo cáo tuân thủ của {ctx.inv.province.name} cho kỳ {start.astimezone(VN):%d/%m/%Y %H:%M} – "
            f"{end.astimezone(VN):%d/%m/%Y %H:%M} (giờ Việt Nam): bản PDF đính kèm, bản HTML tại:\n{links}\n\n"
            f"Compliance report of {ctx.inv.province.name} for {start.astimezone(VN):%Y-%m-%d %H:%M} – "
            f"{end.astimezone(VN):%Y-%m-%d %H:%M} (Vietnam time): PDF attached, HTML at the links above.\n\n"
            "— provdc serve\n")


RUNNERS = {"audit": run_audit, "report": run_report}
