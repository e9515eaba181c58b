"""The inventory as sheets: one sheet (or CSV file) per kind of object, one column per field.

Columns are derived from the models, so a new field is a new column without editing this file:
nested objects become dotted columns (`ssh.key`, `capacity.a_to_b`, `d14.soc.provider`), lists
of plain values are one cell separated by commas (`servers`, `from`, `ntp`), and lists of
objects get their own sheet (a server's services, the province's units). Headers may be the
English column name or its Vietnamese label, in any case. Pure: no file is read here.
"""

from __future__ import annotations

import enum
import ipaddress
import re
import types
import typing
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from provdc.inventory import model


@dataclass(frozen=True)
class Column:
    key: str          # dotted path in the object, e.g. ssh.key
    kind: str         # str | int | float | bool | date | datetime | list
    required: bool
    help: str = ""


@dataclass(frozen=True)
class Sheet:
    name: str                  # English sheet name = inventory section (or a child list)
    vi: str                    # Vietnamese sheet name
    cls: type[BaseModel]
    key_value: bool = False    # a sheet of `field | value` rows (province, lab)
    parent: str | None = None  # child sheet: the column naming the owning object (services -> server)


SHEETS = (
    Sheet("province", "tinh", model.Province, key_value=True),
    Sheet("units", "don_vi_hanh_chinh", model.AdminUnit),
    Sheet("sites", "dia_diem", model.Site),
    Sheet("zones", "vung_mang", model.Zone),
    Sheet("servers", "may_chu", model.Server),
    Sheet("services", "dich_vu", model.Service, parent="server"),
    Sheet("devices", "thiet_bi", model.Device),
    Sheet("systems", "he_thong", model.System),
    Sheet("agencies", "co_quan", model.Agency),
    Sheet("links", "duong_truyen", model.Link),
    Sheet("maintenance", "bao_tri", model.Maintenance),
    Sheet("waivers", "ngoai_le", model.Waiver),
    Sheet("evidence", "ho_so", model.Evidence),
    Sheet("lab", "lab", model.Lab, key_value=True),
)
SHEET_BY_NAME = {s.name: s for s in SHEETS} | {s.vi: s for s in SHEETS}

# Vietnamese headers. A column without one is written with its English key in both templates.
VI = {
    "id": "mã", "name": "tên", "kind": "loại", "parent": "đơn vị cha", "code": "mã tỉnh", "ntp": "máy chủ ntp",
    "tier": "cấp", "address": "địa chỉ", "location.lat": "vĩ độ", "location.lon": "kinh độ", "site": "địa điểm",
    "cidr": "dải địa chỉ", "gateway": "cổng mặc định", "hostname": "tên máy", "zone": "vùng mạng", "role": "vai trò",
    "os": "hệ điều hành", "owner": "cơ quan sở hữu", "ssh.user": "tài khoản ssh", "ssh.port": "cổng ssh",
    "ssh.key": "khóa ssh", "ssh.known_hosts": "tệp known_hosts", "tags": "nhãn", "server": "máy chủ",
    "port": "cổng", "proto": "giao thức", "tls": "tls", "from": "truy cập từ", "path": "đường dẫn kiểm tra",
    "level": "cấp độ", "framework": "khung tiêu chuẩn", "servers": "các máy chủ", "sla_target": "mục tiêu sla (%)",
    "approval": "quyết định phê duyệt", "unit": "đơn vị hành chính", "lan": "có mạng lan", "wan": "đường truyền wan",
    "video_points": "điểm cầu truyền hình", "capacity.a_to_b": "băng thông a→b", "capacity.b_to_a": "băng thông b→a",
    "provider": "nhà cung cấp", "path_id": "tuyến vật lý", "start": "bắt đầu", "end": "kết thúc",
    "reason": "lý do", "approved_by": "người phê duyệt", "check": "kiểm tra", "justification": "lý do ngoại lệ",
    "approver": "người duyệt", "expires": "hết hạn", "supernet": "dải lab", "prefix": "tiền tố", "controller": "máy điều khiển",
}
KV_HEADERS = {"en": ("field", "value"), "vi": ("trường", "giá trị")}
TRUE_WORDS = frozenset({"true", "yes", "y", "x", "1", "có", "co", "đúng", "dung"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "không", "khong", "sai", ""})


def _leaf(annotation: Any) -> Any:
    """The annotation without Optional / Annotated wrappers."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else str
        else:
            return annotation


def _kind(annotation: Any) -> str:
    leaf = _leaf(annotation)
    if typing.get_origin(leaf) is list:
        return "list"
    if leaf is bool:
        return "bool"
    if leaf is int:
        return "int"
    if leaf is float:
        return "float"
    if leaf is datetime:
        return "datetime"
    if leaf is date:
        return "date"
    return "str"


def _is_model(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, BaseModel)


def columns(sheet: Sheet) -> list[Column]:
    cols = [Column(sheet.parent, "str", True, "id of the owning object")] if sheet.parent else []
    return cols + _columns(sheet.cls, "", True)


def _columns(cls: type[BaseModel], prefix: str, required_parent: bool) -> list[Column]:
    out = []
    for name, f in cls.model_fields.items():
        key = prefix + (f.alias or name)
        leaf = _leaf(f.annotation)
        inner = typing.get_args(leaf)[0] if typing.get_origin(leaf) is list else None
        if _is_model(leaf):
            out += _columns(leaf, key + ".", required_parent and f.is_required())
        elif inner is not None and _is_model(inner):
            continue  # a list of objects: its own sheet (services, units)
        else:
            out.append(Column(key, _kind(f.annotation), required_parent and f.is_required(), f.description or ""))
    return out


def header(column: Column, lang: str) -> str:
    return VI.get(column.key, column.key) if lang == "vi" else column.key


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", str(text).strip().lower())


def header_map(sheet: Sheet) -> dict[str, Column]:
    """Every accepted spelling of a header -> its column (English key or Vietnamese label)."""
    out = {}
    for c in columns(sheet):
        out[_norm(c.key)] = c
        if c.key in VI:
            out[_norm(VI[c.key])] = c
    return out


# ---------------------------------------------------------------------------- model -> rows

def _flatten(data: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            continue
        else:
            out[prefix + k] = ", ".join(map(str, v)) if isinstance(v, list) else v
    return out


def rows_of(doc: model.Document) -> dict[str, list[dict[str, Any]]]:
    """The document as sheets of rows keyed by column key (values as a workbook holds them)."""
    dump = lambda m: m.model_dump(mode="json", by_alias=True, exclude_defaults=True)  # noqa: E731
    out: dict[str, list[dict[str, Any]]] = {}
    out["province"] = [_flatten({k: v for k, v in dump(doc.province).items() if k != "units"})]
    out["units"] = [_flatten(dump(u)) for u in doc.province.units]
    for section in model.LIST_SECTIONS:
        out[section] = [_flatten(dump(item)) for item in getattr(doc, section)]
    out["services"] = [{"server": s.id, **_flatten(dump(svc))} for s in doc.servers for svc in s.services]
    if doc.lab is not None:
        out["lab"] = [_flatten(dump(doc.lab))]
    return out


# ---------------------------------------------------------------------------- rows -> model

@dataclass(frozen=True)
class Rejected:
    """A cell or a row that could not be imported, and why."""

    sheet: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"{self.sheet}, row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


def convert(value: Any, kind: str) -> Any:
    """A cell's value as the model's type; raises ValueError with a message for the user."""
    if isinstance(value, str):
        value = value.strip()
    if kind == "list":
        return [x.strip() for x in value.split(",") if x.strip()] if isinstance(value, str) else [value]
    if kind == "bool":
        if isinstance(value, bool):
            return value
        word = _norm(value)
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError(f"not yes/no: {value!r} (write có/không or true/false)")
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError(f"not a whole number: {value!r}")
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"[-+]?\d+", value):
            return int(value)
        raise ValueError(f"not a whole number: {value!r}")
    if kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        try:
            return float(str(value).replace(",", "."))
        except ValueError:
            raise ValueError(f"not a number: {value!r}") from None
    if kind in ("date", "datetime"):
        if isinstance(value, datetime):
            return value.date() if kind == "date" and value.time() == datetime.min.time() else value
        return value  # text: the schema parses it (and says what is wrong)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


def set_path(target: dict, dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for p in parents:
        target = target.setdefault(p, {})
    target[last] = value


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: how spreadsheets name columns."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


# Values a workbook may hold that the model reads through its own parsers (addresses, enums).
SCALAR_TYPES = (str, int, float, bool, date, datetime, ipaddress.IPv4Address, enum.Enum)
