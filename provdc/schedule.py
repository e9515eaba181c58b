"""When scheduled jobs are due: pure functions over the inventory's `when` strings, Vietnam time.

A job's *anchor* is the last slot it completed (or the moment `provdc serve` first started with
a fresh state directory). The next slot after the anchor is due once the clock passes it; slots
missed while the service was down collapse into one run, made at start-up and marked late (one
audit now is worth more than seven audits of a past week).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

VN = timezone(timedelta(hours=7))
_WHEN = re.compile(r"^(?:daily (?P<dh>\d\d):(?P<dm>\d\d)|monthly (?P<day>\d+) (?P<mh>\d\d):(?P<mm>\d\d)"
                   r"|every (?P<n>\d+)(?P<unit>[smh]))$")


@dataclass(frozen=True)
class When:
    kind: str          # daily, monthly, every
    hour: int = 0
    minute: int = 0
    day: int = 1
    every: timedelta = timedelta(0)

    @classmethod
    def parse(cls, text: str) -> "When":
        m = _WHEN.match(text.strip())
        if not m:
            raise ValueError(f"not a schedule: {text!r}")
        if m["dh"]:
            return cls("daily", int(m["dh"]), int(m["dm"]))
        if m["day"]:
            return cls("monthly", int(m["mh"]), int(m["mm"]), day=int(m["day"]))
        unit = {"s": timedelta(seconds=1), "m": timedelta(minutes=1), "h": timedelta(hours=1)}[m["unit"]]
        return cls("every", every=int(m["n"]) * unit)

    def next_after(self, moment: datetime) -> datetime:
        """The first slot strictly after `moment` (an aware datetime), in Vietnam time."""
        t = moment.astimezone(VN)
        if self.kind == "every":
            step, offset = self.every.total_seconds(), VN.utcoffset(None).total_seconds()
            # slots on multiples of the step counted from a Vietnam midnight: stable across
            # restarts, and "every 2h" runs at even hours of the local clock
            return datetime.fromtimestamp((int((t.timestamp() + offset) // step) + 1) * step - offset, VN)
        if self.kind == "daily":
            slot = t.replace(hour=self.hour, minute=self.minute, second=0, microsecond=0)
            return slot if slot > t else slot + timedelta(days=1)
        slot = t.replace(day=self.day, hour=self.hour, minute=self.minute, second=0, microsecond=0)
        if slot > t:
            return slot
        year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
        return slot.replace(year=year, month=month)

    def period_before(self, slot: datetime) -> tuple[datetime, datetime]:
        """What a report run at `slot` covers: the previous calendar month for a monthly job, the
        previous day for a daily one, the last interval for `every`."""
        slot = slot.astimezone(VN)
        if self.kind == "every":
            return slot - self.every, slot
        if self.kind == "daily":
            end = slot.replace(hour=0, minute=0, second=0, microsecond=0)
            return end - timedelta(days=1), end
        end = slot.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        start = (end - timedelta(days=1)).replace(day=1)
        return start, end


def due_slot(when: When, anchor: datetime, now: datetime) -> datetime | None:
    """The slot to run now, or None. Missed slots collapse into the latest one."""
    slot = when.next_after(anchor)
    if slot > now:
        return None
    while (later := when.next_after(slot)) <= now:
        slot = later
    return slot


def slot_name(slot: datetime) -> str:
    """A slot as a directory name: 20261201T070000+0700."""
    return slot.astimezone(VN).strftime("%Y%m%dT%H%M%S%z")
