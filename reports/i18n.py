"""Message catalogues and each language's number and date conventions (99,95 % in Vietnamese)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path

from provdc.yamlread import load_yaml

CATALOGS = Path(__file__).with_name("catalogs")
LANGS = ("vi", "en")
VN = timezone(timedelta(hours=7))


@cache
def catalog(lang: str) -> dict[str, str]:
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}; choose one of {', '.join(LANGS)}")
    return load_yaml((CATALOGS / f"{lang}.yaml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Locale:
    lang: str

    def t(self, key: str, **values: object) -> str:
        text = catalog(self.lang)[key]
        return text.format(**values) if values else text

    def number(self, value: float | None, digits: int = 2) -> str:
        if value is None:
            return "—"
        text = f"{value:,.{digits}f}"
        if self.lang == "vi":  # Vietnamese: '.' groups thousands, ',' marks decimals
            text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
        return text

    def percent(self, ratio: float | None, digits: int = 2) -> str:
        return "—" if ratio is None else f"{self.number(ratio * 100, digits)}%"

    def date(self, moment: datetime | float) -> str:
        m = datetime.fromtimestamp(moment, VN) if isinstance(moment, (int, float)) else moment.astimezone(VN)
        return m.strftime("%d/%m/%Y") if self.lang == "vi" else m.strftime("%Y-%m-%d")

    def date_of(self, day) -> str:
        return day.strftime("%d/%m/%Y") if self.lang == "vi" else day.isoformat()

    def datetime(self, moment: datetime | float) -> str:
        m = datetime.fromtimestamp(moment, VN) if isinstance(moment, (int, float)) else moment.astimezone(VN)
        # every time is printed with its zone: a report is read far from where it was made
        return m.strftime("%H:%M:%S %d/%m/%Y (UTC+7)") if self.lang == "vi" else m.strftime("%Y-%m-%d %H:%M:%S (UTC+7)")

    def rate(self, bps: float | None) -> str:
        if bps is None:
            return "—"
        for factor, unit in ((1e9, "Gbps"), (1e6, "Mbps"), (1e3, "kbps")):
            if bps >= factor:
                return f"{self.number(bps / factor, 2)} {unit}"
        return f"{self.number(bps, 0)} bps"

    def duration(self, seconds: float) -> str:
        if seconds % 86400 == 0:
            return f"{int(seconds // 86400)} {'ngày' if self.lang == 'vi' else 'day(s)'}"
        if seconds % 60 == 0:
            return f"{int(seconds // 60)} {'phút' if self.lang == 'vi' else 'min'}"
        return f"{int(seconds)} s"
