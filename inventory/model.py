"""The inventory schema: what a provincial data center is made of.

Pydantic models validate shape and types of each object (unknown keys are errors, secrets must
be references); cross-object rules (references, CIDRs, cycles) live in `validate.py`. Models are
frozen: the inventory is resolved once and then only read.
"""

from __future__ import annotations

import ipaddress
import math
import re
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, field_validator

from provdc.secrets import REF_PATTERN

ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
Id = Annotated[str, Field(pattern=ID_PATTERN)]


def _secret_ref(value: Any) -> Any:
    # A plaintext secret must never be accepted, and its value must not be echoed in the error.
    if isinstance(value, str) and not REF_PATTERN.match(value):
        if value.startswith("file:") and value[5:] != value[5:].strip():
            raise ValueError("`file:` must be followed by a path, without blanks around it: write file:PATH")
        raise ValueError("plaintext secret: write a reference (env:NAME or file:PATH), never the value")
    return value


SecretRefStr = Annotated[str, BeforeValidator(_secret_ref)]
# Numbers and booleans are what YAML says they are: a quoted "3" is text, not a level, and
# `yes`/`on` are text under YAML 1.2, so pydantic's lax coercion must not turn them back.
Int = StrictInt
Bool = StrictBool
Float = Annotated[StrictFloat, Field(allow_inf_nan=False)]


def _file_path(v: str) -> str:
    """A file path as the inventory may write one: relative to the inventory directory or absolute."""
    if "\x00" in v or v != v.strip():
        raise ValueError("a file path without NUL bytes or surrounding spaces")
    if v.endswith("/"):
        raise ValueError("a file, not a directory")
    return v


FilePath = Annotated[str, Field(min_length=1), AfterValidator(_file_path)]

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:b|bit|bps|bit/s|bits/s)?\s*$", re.IGNORECASE)
_RATE_FACTOR = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def parse_rate(value: Any) -> Any:
    """'100Mbps', '2 Mbit/s', '1G' or a plain number of bits per second -> int bits/s."""
    if isinstance(value, bool):
        raise ValueError("a rate must be a number of bits/s or a string like '100Mbps'")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"a rate must be a finite number of bits/s, not {value}")
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        m = _RATE.match(value)
        if m:
            number = float(m.group(1)) * _RATE_FACTOR[m.group(2).lower()]
            if not math.isfinite(number):
                raise ValueError(f"not a rate: {value!r} is too large")
            return int(number)
    raise ValueError(f"not a rate: {value!r} (write e.g. 100Mbps, 2Mbit/s, 1G)")


Rate = Annotated[int, BeforeValidator(parse_rate), Field(gt=0)]


class Strict(BaseModel):
    """Base: unknown keys are errors, objects are immutable after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# ---------------------------------------------------------------- province and administration

class UnitKind(str, Enum):
    district = "district"   # huyện, thị xã, thành phố thuộc tỉnh (before 1 July 2025)
    commune = "commune"     # xã
    ward = "ward"           # phường
    town = "town"           # thị trấn


class AdminUnit(Strict):
    """An administrative unit below the province. Districts are optional (two-tier since 2025)."""

    id: Id
    name: str
    kind: UnitKind
    parent: Id | None = None


class Province(Strict):
    id: Id
    name: str
    code: str | None = None
    ntp: list[str] = Field(default_factory=list, description="NTP servers every host syncs to")
    units: list[AdminUnit] = Field(default_factory=list)
    tls_ca: FilePath | None = Field(None, description="PEM file of the CA certificates the province's TLS services "
                                    "verify against (relative to the inventory directory or absolute); "
                                    "default: the system trust store")

    @field_validator("ntp", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


# ---------------------------------------------------------------------------- sites and zones

class Location(Strict):
    lat: Float = Field(ge=-90, le=90)
    lon: Float = Field(ge=-180, le=180)


class SiteKind(str, Enum):
    data_center = "data_center"          # Trung tâm tích hợp dữ liệu
    service_center = "service_center"    # Trung tâm phục vụ hành chính công
    backup = "backup"                    # backup / DR site
    office = "office"


class Site(Strict):
    id: Id
    name: str
    kind: SiteKind
    tier: Int | None = Field(None, ge=1, le=4, description="TCVN 9250 / TIA-942 tier")
    location: Location | None = None
    address: str | None = None


class ZoneKind(str, Enum):
    edge = "edge"
    dmz = "dmz"
    servers = "servers"                       # internal server zone
    database = "database"
    management = "management"
    device_management = "device_management"
    wireless = "wireless"
    user = "user"


class Zone(Strict):
    id: Id
    site: Id
    kind: ZoneKind
    cidr: ipaddress.IPv4Network
    gateway: ipaddress.IPv4Address | None = Field(None, description="router address in the zone")
    name: str | None = None

    @field_validator("cidr", mode="before")
    @classmethod
    def _strict_cidr(cls, v: Any) -> Any:
        if isinstance(v, str):
            try:
                return ipaddress.IPv4Network(v, strict=True)
            except ValueError as exc:
                raise ValueError(f"not an IPv4 network in CIDR form: {exc}") from None
        return v


# ------------------------------------------------------------------------- servers and devices

class Exposure(str, Enum):
    internet = "internet"   # reachable from the Internet uplinks
    wan = "wan"             # reachable from agencies over the specialised network
    internal = "internal"   # any zone of the inventory
    localhost = "localhost" # the host itself only


class Service(Strict):
    """A port a server exposes, and to whom. `from_` lists exposures and/or zone ids."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: Id
    port: Int = Field(ge=1, le=65535)
    proto: Literal["tcp", "udp"] = "tcp"
    kind: Literal["http", "https", "ssh", "postgresql", "mysql", "smtp", "submission", "imaps",
                  "dns", "ntp", "snmp", "node_exporter", "syslog", "generic"] = "generic"
    tls: Bool = False
    from_: list[str] = Field(default_factory=lambda: ["internal"], alias="from")
    path: str | None = Field(None, description="HTTP path probed for availability")
    tls_ca: FilePath | None = Field(None, description="PEM file of the CA certificates this TLS service's chain "
                                    "must verify against (relative to the inventory directory or absolute); "
                                    "default: the province's tls_ca, else the system trust store")


class SSH(Strict):
    user: str = "root"
    port: Int = Field(22, ge=1, le=65535)
    key: SecretRefStr | None = None
    known_hosts: str | None = None


class Server(Strict):
    id: Id
    hostname: str
    address: ipaddress.IPv4Address
    zone: Id
    role: Id
    os: str = "debian12"
    owner: Id | None = Field(None, description="agency that owns the server")
    services: list[Service] = Field(default_factory=list)
    ssh: SSH = SSH()
    tags: list[str] = Field(default_factory=list)


def _snmp_version(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value  # `version: 3` reads as 3


class SNMP(Strict):
    """How monitoring reads a device: SNMPv2c with a community, or SNMPv3 authPriv (a user with
    authentication and privacy passphrases). Every secret is a reference."""

    version: Annotated[Literal["2c", "3"], BeforeValidator(_snmp_version)] = "2c"
    community: SecretRefStr | None = None
    username: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]{1,32}$")
    auth_password: SecretRefStr | None = None
    priv_password: SecretRefStr | None = None
    # what both net-snmp (snmpd) and snmp_exporter speak; SHA-256 and AES-128 by default
    auth_protocol: Literal["SHA", "SHA256", "SHA512"] = "SHA256"
    priv_protocol: Literal["AES"] = "AES"
    port: Int = Field(161, ge=1, le=65535)

    @property
    def secret_refs(self) -> list[str]:
        return [r for r in (self.community, self.auth_password, self.priv_password) if r]


class DeviceKind(str, Enum):
    router = "router"
    switch = "switch"
    firewall = "firewall"
    waf = "waf"
    db_firewall = "db_firewall"
    storage = "storage"
    vpn = "vpn"
    ips = "ips"


class Device(Strict):
    """A network device: routers, core switches, firewalls (redundancy and SNMP live here)."""

    id: Id
    kind: DeviceKind
    role: str | None = Field(None, description="core_switch, central_fw, waf, dbf, wan_router, ...")
    site: Id
    zone: Id | None = None
    address: ipaddress.IPv4Address | None = Field(None, description="management address")
    snmp: SNMP | None = None
    ha_group: str | None = None
    # A Linux device (a Debian router or firewall) that provdc provisions over SSH: its snmpd
    # serves the counters of the links it measures. Vendor appliances leave `ssh` out and are
    # configured by hand; provisioning lists them.
    os: str | None = None
    ssh: SSH | None = Field(None, description="how provdc reaches a Linux device to provision its snmpd")
    # A vendor appliance provdc cannot log in to: its running configuration as exported by the
    # operators (IOS-style text), which the audit's appliance checks parse.
    config_backup: str | None = Field(None, min_length=1, description="the appliance's configuration backup, "
                                      "relative to the inventory directory")

    @field_validator("config_backup")
    @classmethod
    def _relative_file(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if "\x00" in v or v != v.strip():
            raise ValueError("a file path without NUL bytes or surrounding spaces")
        if v.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", v):
            raise ValueError("a path relative to the inventory directory, not an absolute one")
        if v.endswith("/"):
            raise ValueError("a file, not a directory")
        return v


# ---------------------------------------------------------------------------- systems, agencies

class Framework(str, Enum):
    nd85_tcvn11930 = "nd85_tcvn11930"
    nd331_tcvn14423 = "nd331_tcvn14423"


class OnsiteTeam(Strict):
    unit: str
    lead: str | None = None
    members: Int | None = Field(None, ge=0)


class SOC(Strict):
    provider: str
    contract_end: date
    licence: str | None = None


class Assessment(Strict):
    date: date
    assessor: str
    licence: str | None = None


class NationalMonitoring(Strict):
    connected: date
    reference: str | None = None


class Directive14(Strict):
    """Evidence for the four-layer protection model (Directive 14/CT-TTg)."""

    onsite_team: OnsiteTeam | None = None
    soc: SOC | None = None
    assessment: Assessment | None = None
    national_monitoring: NationalMonitoring | None = None


class Backup(Strict):
    max_age_hours: Int = Field(24, ge=1)
    target: Id | None = Field(None, description="server holding the copies (must not be the source)")
    path: str = "/var/backups/provdc"


class SystemKind(str, Enum):
    portal = "portal"                          # cổng dịch vụ công / cổng thông tin
    document_management = "document_management"
    one_stop_shop = "one_stop_shop"            # một cửa điện tử
    email = "email"
    lgsp = "lgsp"                              # nền tảng tích hợp, chia sẻ dữ liệu
    video_conference = "video_conference"
    other = "other"


class System(Strict):
    id: Id
    name: str
    kind: SystemKind = SystemKind.other
    level: Int = Field(ge=1, le=5, description="approved security level (cấp độ)")
    framework: Framework = Framework.nd85_tcvn11930
    owner: Id | None = None
    servers: list[Id] = Field(min_length=1)
    sla_target: Float = Field(99.5, gt=0, le=100, description="monthly availability target, percent")
    approval: str | None = Field(None, description="level approval decision, e.g. 'QĐ 123/QĐ-UBND'")
    backup: Backup | None = None
    d14: Directive14 = Directive14()
    started: date | None = Field(None, description="when its investment or build started (Decree 331 Art. 39 transition)")


class AgencyTier(str, Enum):
    province = "province"   # sở, ban, ngành and the provincial People's Committee
    district = "district"   # UBND huyện and district-level units
    commune = "commune"     # UBND xã / phường / thị trấn


class Agency(Strict):
    id: Id
    name: str
    tier: AgencyTier
    parent: Id | None = None
    unit: Id | None = Field(None, description="administrative unit (district/commune) it serves")
    lan: Bool = False
    wan: Id | None = Field(None, description="id of the WAN link connecting it")
    video_points: Int = Field(0, ge=0)


# --------------------------------------------------------------------------------------- links

class LinkKind(str, Enum):
    wan = "wan"                                          # mạng truyền số liệu chuyên dùng
    internet_domestic = "internet_domestic"
    internet_international = "internet_international"
    inter_site = "inter_site"


class Endpoint(Strict):
    """One end of a link: a site (through a device), an agency, or an upstream provider."""

    site: Id | None = None
    agency: Id | None = None
    provider: str | None = None
    device: Id | None = None
    interface: str | None = None
    address: ipaddress.IPv4Interface | None = None


class Capacity(Strict):
    """Contracted capacity per direction, bits per second (a_to_b is egress at end a)."""

    a_to_b: Rate
    b_to_a: Rate


def _symmetric_capacity(value: Any) -> Any:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return {"a_to_b": value, "b_to_a": value}
    return value


class Measurement(Strict):
    """Which device interface's counters measure the link (SNMP IF-MIB)."""

    device: Id
    interface: str


class Link(Strict):
    id: Id
    kind: LinkKind
    a: Endpoint
    b: Endpoint
    capacity: Annotated[Capacity, BeforeValidator(_symmetric_capacity)]
    provider: str | None = None
    path_id: str | None = Field(None, description="physical path, for redundancy")
    measured_by: Measurement | None = None


# ------------------------------------------------------------------- maintenance and waivers

class MaintenanceTargets(Strict):
    systems: list[Id] = Field(default_factory=list)
    servers: list[Id] = Field(default_factory=list)
    links: list[Id] = Field(default_factory=list)


class Maintenance(Strict):
    id: Id
    start: datetime
    end: datetime
    targets: MaintenanceTargets
    reason: str
    approved_by: str | None = None


class WaiverScope(Strict):
    host: Id | None = None
    system: Id | None = None
    agency: Id | None = None


class Waiver(Strict):
    check: str = Field(pattern=r"^[a-z0-9_]+$")
    scope: WaiverScope = WaiverScope()
    justification: str = Field(min_length=10)
    approver: str
    expires: date


# ------------------------------------------------------------------------------------ evidence

class Attachment(Strict):
    path: str = Field(min_length=1, description="the document's file, relative to the inventory directory")
    sha256: str | None = Field(None, pattern=r"^[0-9a-fA-F]{64}$", description="its SHA-256 when recorded")


class Evidence(Strict):
    """A dated document that shows a requirement is met (a decision, contract, report, plan):
    what the audit judges for requirements no check can see."""

    id: Id
    requirements: list[Annotated[str, Field(pattern=r"^[A-Z]{3}-\d{2}$")]] = Field(min_length=1)
    systems: list[Id] = Field(default_factory=list, description="the systems it covers (all when empty)")
    document: str = Field(min_length=1, description="document number, e.g. 'QĐ 45/QĐ-UBND'")
    date: date
    issuer: str = Field(min_length=1)
    approver: str = Field(min_length=1)
    valid_until: date | None = None
    attachment: Attachment | None = None
# ------------------------------------------------------------------- alerting and schedules

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(value: Any) -> Any:
    if isinstance(value, str) and not _EMAIL.match(value.strip()):
        raise ValueError(f"not an e-mail address: {value!r}")
    return value


Email = Annotated[str, BeforeValidator(_email)]


class SMTP(Strict):
    """The mail relay Alertmanager and `provdc serve` send through. Always TLS: port 465 speaks
    TLS from the first byte, any other port must offer STARTTLS (refused otherwise)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, str_strip_whitespace=True)

    smarthost: str = Field(pattern=r"^[A-Za-z0-9.-]+:\d{1,5}$", description="HOST:PORT of the relay")
    from_: Email = Field(alias="from")
    username: str | None = None
    password: SecretRefStr | None = None
    ca: str | None = Field(None, description="CA certificate file that signs the relay's certificate (private CA)")
    hello: str | None = Field(None, description="name sent in EHLO (default: the machine's host name)")

    @property
    def host(self) -> str:
        return self.smarthost.rpartition(":")[0]

    @property
    def port(self) -> int:
        return int(self.smarthost.rpartition(":")[2])


class Webhook(Strict):
    url: str = Field(pattern=r"^https?://\S+$")
    token: SecretRefStr | None = Field(None, description="bearer token, as a reference")


class Receiver(Strict):
    """Who is told: e-mail addresses and/or a webhook (chat bridge, ticketing)."""

    id: Id
    email: list[Email] = Field(default_factory=list)
    webhook: Webhook | None = None


class Severity(str, Enum):
    page = "page"       # someone acts now
    ticket = "ticket"   # someone acts this working day


class AlertRoute(Strict):
    """Alerts about one owner agency (and/or one severity) go to a receiver; first match wins."""

    agency: Id | None = None
    severity: Severity | None = None
    receiver: Id


class Alerting(Strict):
    """Alertmanager generated from the inventory: receivers, routes by agency and severity."""

    smtp: SMTP | None = None
    receivers: list[Receiver] = Field(min_length=1)
    default_receiver: Id
    routes: list[AlertRoute] = Field(default_factory=list)
    external_url: str | None = Field(None, pattern=r"^https?://\S+$",
                                     description="where staff reach `provdc serve` (links in e-mails)")


# "daily 02:00", "monthly 1 07:00" (day 1-28, so every month has it), "every 10m"; seconds
# ("every 20s") are for drills and tests, where waiting for a minute slot is most of the wait
WHEN_PATTERN = re.compile(r"^(daily ([01]\d|2[0-3]):[0-5]\d|monthly ([1-9]|1\d|2[0-8]) ([01]\d|2[0-3]):[0-5]\d"
                          r"|every [1-9]\d*(s|m|h))$")


def _when(value: Any) -> Any:
    if isinstance(value, str) and not WHEN_PATTERN.match(value.strip()):
        raise ValueError(f"not a schedule: {value!r} (write 'daily HH:MM', 'monthly DAY HH:MM' with DAY 1-28, "
                         "or 'every N' as 'every 30m', 'every 2h', 'every 20s')")
    return value


class Job(Strict):
    when: Annotated[str, BeforeValidator(_when)] = Field(description="daily HH:MM | monthly DAY HH:MM | every N(s|m|h), Vietnam time")
    receivers: list[Id] = Field(default_factory=list, description="alerting receivers e-mailed the result (reports)")
    langs: list[Literal["vi", "en"]] = Field(default_factory=lambda: ["vi", "en"])


class Schedule(Strict):
    """Jobs `provdc serve` runs (Vietnam time, UTC+7)."""

    audit: Job = Job(when="daily 02:00")
    report: Job = Job(when="monthly 1 07:00")


# ------------------------------------------------------------------------------- paperwork

class Signer(Strict):
    """One line of a document's signature block: who prepares, reviews or approves it."""

    role: Literal["prepared", "reviewed", "approved"]
    title: str = Field(min_length=1, description="e.g. 'Giám đốc Sở Khoa học và Công nghệ'")
    name: str | None = Field(None, description="left blank for a signature by hand when unknown")


NUMBER_FIELDS = ("seq", "kind", "year")


class Paperwork(Strict):
    """How the province's documents are headed and signed (Decree 30/2020 layout): the issuing
    unit under its authority, the place, the number pattern, the signers and recipients, and
    optionally its own Word template (letterhead, styles) instead of the shipped one."""

    authority: str | None = Field(None, description="cơ quan chủ quản, e.g. 'UBND TỈNH THÍ NGHIỆM'")
    unit: str = Field(min_length=1, description="issuing unit, e.g. 'SỞ KHOA HỌC VÀ CÔNG NGHỆ'")
    place: str = Field(min_length=1, description="place in the date line: '<place>, ngày ... tháng ... năm ...'")
    number: str = Field("{seq}/{kind}", description="document number pattern; fields {seq} {kind} {year}")
    template: str | None = Field(None, description="a .docx whose styles, header and footer the documents use")
    signers: list[Signer] = Field(default_factory=list)
    recipients: list[str] = Field(default_factory=list)

    @field_validator("number")
    @classmethod
    def _known_fields(cls, v: str) -> str:
        unknown = sorted(set(re.findall(r"{([^{}]*)}", v)) - set(NUMBER_FIELDS))
        if unknown:
            raise ValueError(f"unknown field {{{unknown[0]}}} in the number pattern (use {{seq}}, {{kind}}, {{year}})")
        return v

    @field_validator("template")
    @classmethod
    def _docx(cls, v: str | None) -> str | None:
        if v is not None and not v.lower().endswith(".docx"):
            raise ValueError("the template must be a Word .docx file")
        return v


# -------------------------------------------------------------------------------- the document

class Defaults(Strict):
    """Values merged into every object of a kind before validation (object values win)."""

    server: dict[str, Any] = Field(default_factory=dict)
    system: dict[str, Any] = Field(default_factory=dict)
    link: dict[str, Any] = Field(default_factory=dict)
    agency: dict[str, Any] = Field(default_factory=dict)
    device: dict[str, Any] = Field(default_factory=dict)


class Lab(Strict):
    """Settings for the lab twin: the supernet every lab address must fall inside."""

    supernet: ipaddress.IPv4Network
    prefix: str = Field("pd", pattern=r"^[a-z]{1,4}$", description="prefix of every namespace, bridge and veth")
    controller: ipaddress.IPv4Address | None = Field(
        None, description="this machine's address in the management zone (default: its last usable address)")


class Document(Strict):
    """A whole inventory after files are merged and defaults resolved."""

    version: Literal[1] = 1
    province: Province
    defaults: Defaults = Defaults()
    sites: list[Site] = Field(default_factory=list)
    zones: list[Zone] = Field(default_factory=list)
    servers: list[Server] = Field(default_factory=list)
    devices: list[Device] = Field(default_factory=list)
    systems: list[System] = Field(default_factory=list)
    agencies: list[Agency] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    maintenance: list[Maintenance] = Field(default_factory=list)
    waivers: list[Waiver] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    alerting: Alerting | None = None
    schedule: Schedule = Schedule()
    paperwork: Paperwork | None = None
    lab: Lab | None = None


LIST_SECTIONS = ("sites", "zones", "servers", "devices", "systems", "agencies", "links", "maintenance", "waivers",
                 "evidence")
MAP_SECTIONS = ("version", "province", "defaults", "alerting", "schedule", "paperwork", "lab")
