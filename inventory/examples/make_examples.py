"""Regenerates the thua-thien-hue, soc-trang and phu-tho example provinces from public figures.

Run: python inventory/examples/make_examples.py (writes the YAML beside it)."""
import re, unicodedata, yaml
from pathlib import Path
OUT = Path(__file__).resolve().parent  # run from anywhere: writes beside this script

def slug(s):
    s = unicodedata.normalize("NFD", s.replace("đ","d").replace("Đ","D"))
    s = "".join(c for c in s if unicodedata.category(c) != "Mn").lower()
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")[:60]

DEPTS = ["Văn phòng UBND tỉnh","Văn phòng Đoàn ĐBQH và HĐND tỉnh","Sở Nội vụ","Sở Tài chính","Sở Tư pháp",
 "Sở Công Thương","Sở Giáo dục và Đào tạo","Sở Y tế","Sở Xây dựng","Sở Nông nghiệp và Môi trường",
 "Sở Khoa học và Công nghệ","Sở Văn hóa, Thể thao và Du lịch","Sở Dân tộc và Tôn giáo","Sở Ngoại vụ",
 "Thanh tra tỉnh","Ban Quản lý Khu kinh tế, công nghiệp","Ban Dân tộc","Đài Phát thanh và Truyền hình",
 "Trung tâm Phục vụ hành chính công","Ban Quản lý dự án đầu tư xây dựng","Quỹ Đầu tư phát triển",
 "Trường Cao đẳng Y tế","Trường Cao đẳng Công nghiệp","Trung tâm Xúc tiến đầu tư","Liên minh Hợp tác xã",
 "Sở Lao động - Thương binh và Xã hội","Sở Giao thông vận tải","Sở Kế hoạch và Đầu tư","Sở Thông tin và Truyền thông",
 "Sở Tài nguyên và Môi trường","Ban Quản lý các dự án ODA","Trung tâm Bảo tồn di tích","Vườn quốc gia","Văn phòng Điều phối nông thôn mới"]

def write(name, files):
    d = OUT / name; d.mkdir(parents=True, exist_ok=True)
    for fname, (comment, data) in files.items():
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120, default_flow_style=None)
        (d / fname).write_text(comment + text, encoding="utf-8")

def dc_block(prefix, site_id, site_name, tier, lat, lon, extra_sites=()):
    o = prefix
    sites = [{"id": site_id, "name": site_name, "kind": "data_center", "tier": tier, "location": {"lat": lat, "lon": lon}}] + list(extra_sites)
    zones = [{"id": f"{site_id}-{k}", "site": site_id, "kind": kind, "cidr": f"{o}.{n}.0/24", "gateway": f"{o}.{n}.1"}
             for k, kind, n in [("edge","edge",0),("dmz","dmz",10),("srv","servers",20),("db","database",30),("mgmt","management",40),("devmgmt","device_management",50)]]
    return sites, zones

def devices(o, site):
    return [
      {"id": "core-fw1", "kind": "firewall", "role": "central_fw", "site": site, "zone": f"{site}-devmgmt", "address": f"{o}.50.2", "ha_group": "core-fw"},
      {"id": "core-fw2", "kind": "firewall", "role": "central_fw", "site": site, "zone": f"{site}-devmgmt", "address": f"{o}.50.3", "ha_group": "core-fw"},
      {"id": "core-sw1", "kind": "switch", "role": "core_switch", "site": site, "zone": f"{site}-devmgmt", "address": f"{o}.50.4", "ha_group": "core-sw"},
      {"id": "core-sw2", "kind": "switch", "role": "core_switch", "site": site, "zone": f"{site}-devmgmt", "address": f"{o}.50.5", "ha_group": "core-sw"},
      {"id": "wan-rtr", "kind": "router", "role": "wan_router", "site": site, "zone": f"{site}-edge", "address": f"{o}.0.2", "snmp": {"version": "2c", "community": "env:PROVDC_SNMP_COMMUNITY"}},
      {"id": "inet-rtr", "kind": "router", "role": "internet_router", "site": site, "zone": f"{site}-edge", "address": f"{o}.0.3", "snmp": {"version": "2c", "community": "env:PROVDC_SNMP_COMMUNITY"}},
    ]

def internet(o, site, dom, intl):
    return [
      {"id": "inet-domestic", "kind": "internet_domestic", "a": {"site": site, "device": "inet-rtr", "interface": "isp1", "address": f"{o}.200.1/30"},
       "b": {"provider": "VNPT", "address": f"{o}.200.2/30"}, "capacity": dom, "provider": "VNPT", "path_id": "fibre-1",
       "measured_by": {"device": "inet-rtr", "interface": "isp1"}},
      {"id": "inet-international", "kind": "internet_international", "a": {"site": site, "device": "inet-rtr", "interface": "isp2", "address": f"{o}.200.5/30"},
       "b": {"provider": "Viettel", "address": f"{o}.200.6/30"}, "capacity": intl, "provider": "Viettel", "path_id": "fibre-2",
       "measured_by": {"device": "inet-rtr", "interface": "isp2"}},
    ]

class Wan:
    def __init__(self, o): self.o, self.n, self.links = o, 0, []
    def add(self, agency_id, cap):
        base = self.n * 4; self.n += 1
        third, fourth = 100 + base // 256, base % 256
        lid = f"wan-{agency_id}"[:63]
        self.links.append({"id": lid, "kind": "wan",
            "a": {"site": "ttdl", "device": "wan-rtr", "interface": f"wan{self.n}", "address": f"{self.o}.{third}.{fourth+1}/30"},
            "b": {"agency": agency_id, "address": f"{self.o}.{third}.{fourth+2}/30"}, "capacity": cap,
            "measured_by": {"device": "wan-rtr", "interface": f"wan{self.n}"}})
        return lid

def servers(o, site, specs):
    out = []
    zone_ip = {"dmz": 10, "srv": 20, "db": 30, "mgmt": 40}
    counters = {}
    for sid, zone, role, services in specs:
        counters[zone] = counters.get(zone, 10) + 1
        out.append({"id": sid, "hostname": sid, "address": f"{o}.{zone_ip[zone]}.{counters[zone]}", "zone": f"{site}-{zone}", "role": role, "services": services})
    return out

HTTPS = lambda src: [{"name": "https", "port": 443, "kind": "https", "tls": True, "from": src, "path": "/"}]
PG = lambda src: [{"name": "postgresql", "port": 5432, "kind": "postgresql", "from": src}]
DEFAULTS = lambda owner: {"server": {"os": "debian12", "owner": owner,
    "ssh": {"user": "ansible", "port": 2222, "key": "file:keys/provdc_ed25519"},
    "services": [{"name": "ssh", "port": 2222, "kind": "ssh", "from": ["ttdl-mgmt"]},
                 {"name": "node-exporter", "port": 9100, "kind": "node_exporter", "from": ["ttdl-mgmt"]}]},
    "system": {"framework": "nd85_tcvn11930"}}
D14 = {"onsite_team": {"unit": "Trung tâm Chuyển đổi số tỉnh", "members": 6},
       "soc": {"provider": "Trung tâm Giám sát an toàn không gian mạng quốc gia (NCSC)", "contract_end": "2027-12-31"},
       "assessment": {"date": "2026-05-20", "assessor": "Đơn vị đánh giá độc lập được cấp phép"},
       "national_monitoring": {"connected": "2020-09-30"}}

# ------------------------------------------------------------------ Thừa Thiên Huế
def hue():
    o = "10.46"
    districts = [("tp-hue","Thành phố Huế"),("tx-huong-thuy","Thị xã Hương Thủy"),("tx-huong-tra","Thị xã Hương Trà"),
                 ("phong-dien","Huyện Phong Điền"),("quang-dien","Huyện Quảng Điền"),("phu-vang","Huyện Phú Vang"),
                 ("phu-loc","Huyện Phú Lộc"),("a-luoi","Huyện A Lưới"),("nam-dong","Huyện Nam Đông")]
    ward_names = ["An Cựu","An Đông","An Hòa","An Tây","Đông Ba","Gia Hội","Hương An","Hương Hồ","Hương Long","Hương Sơ",
        "Hương Vinh","Kim Long","Phú Hậu","Phú Hội","Phú Nhuận","Phú Thượng","Phước Vĩnh","Phường Đúc","Tây Lộc","Thuận An",
        "Thuận Hòa","Thuận Lộc","Thủy Biều","Thủy Vân","Thủy Xuân","Trường An","Vỹ Dạ"]
    units = [{"id": d, "name": n, "kind": "district"} for d, n in districts]
    units += [{"id": "p-" + slug(w), "name": "Phường " + w, "kind": "ward", "parent": "tp-hue"} for w in ward_names]
    wan = Wan(o); agencies = [{"id": "ubnd-tinh", "name": "Ủy ban nhân dân tỉnh", "tier": "province", "lan": True, "wan": None}]
    agencies[0]["wan"] = wan.add("ubnd-tinh", "100Mbps")
    for name in DEPTS[:33]:
        aid = slug(name); agencies.append({"id": aid, "name": name, "tier": "province", "parent": "ubnd-tinh", "lan": True, "wan": wan.add(aid, "20Mbps")})
    # 56 district-level units: each district's People's Committee plus its specialised offices
    offices = ["UBND", "Phòng Nội vụ", "Phòng Tài chính - Kế hoạch", "Phòng Văn hóa - Thông tin", "Phòng Kinh tế", "Văn phòng HĐND và UBND", "Phòng Tư pháp"]
    count = 0
    for d, n in districts:
        for off in offices:
            if count == 56: break
            aid = slug(f"{off} {d}") if off != "UBND" else f"ubnd-{d}"
            agencies.append({"id": aid, "name": f"{off} {n}", "tier": "district", "unit": d,
                             "parent": "ubnd-tinh" if off == "UBND" else f"ubnd-{d}", "lan": True, "wan": wan.add(aid, "10Mbps")})
            count += 1
    for w in ward_names:
        aid = "ubnd-p-" + slug(w)
        agencies.append({"id": aid, "name": "UBND phường " + w, "tier": "commune", "unit": "p-" + slug(w), "parent": "ubnd-tp-hue", "lan": True, "wan": wan.add(aid, "4Mbps")})
    sites, zones = dc_block(o, "ttdl", "Trung tâm Giám sát điều hành đô thị thông minh tỉnh (Hue-S)", 3, 16.4637, 107.5909,
        [{"id": "ttdl-dr", "name": "Trung tâm dữ liệu dự phòng", "kind": "backup", "tier": 2, "location": {"lat": 16.39, "lon": 107.70}},
         {"id": "tthcc", "name": "Trung tâm Phục vụ hành chính công tỉnh", "kind": "service_center", "location": {"lat": 16.4620, "lon": 107.5950}}])
    zones.append({"id": "dr-srv", "site": "ttdl-dr", "kind": "servers", "cidr": f"{o}.60.0/24", "gateway": f"{o}.60.1"})
    zones.append({"id": "tthcc-user", "site": "tthcc", "kind": "user", "cidr": f"{o}.70.0/24"})
    srv = servers(o, "ttdl", [
        ("dvc-web1","dmz","web",HTTPS(["internet","wan"])),("dvc-web2","dmz","web",HTTPS(["internet","wan"])),
        ("mail1","dmz","mail",[{"name":"smtp","port":25,"kind":"smtp","from":["internet","wan"]},{"name":"imaps","port":993,"kind":"imaps","tls":True,"from":["wan"]}]),
        ("qlvb-app1","srv","app",HTTPS(["wan"])),("mcdt-app1","srv","app",HTTPS(["wan","ttdl-dmz"])),
        ("lgsp1","srv","integration",[{"name":"lgsp-api","port":8443,"kind":"https","tls":True,"from":["wan","ttdl-srv"]}]),
        ("hues-app1","srv","app",HTTPS(["internet","wan"])),
        ("db1","db","database",PG(["ttdl-srv","ttdl-dmz"])),("db2","db","database",PG(["ttdl-srv"])),
        ("mon1","mgmt","monitoring",[]),("bastion1","mgmt","bastion",[])])
    srv.append({"id": "backup1", "hostname": "backup1", "address": f"{o}.60.11", "zone": "dr-srv", "role": "backup"})
    systems = [
      {"id":"dvc","name":"Cổng dịch vụ công và Hệ thống thông tin giải quyết TTHC tỉnh","kind":"one_stop_shop","level":3,"owner":"ubnd-tinh","servers":["dvc-web1","dvc-web2","mcdt-app1","db1"],"sla_target":99.9,"backup":{"target":"backup1"},"d14":D14},
      {"id":"qlvb","name":"Hệ thống quản lý văn bản và điều hành","kind":"document_management","level":2,"servers":["qlvb-app1","db2"],"sla_target":99.5,"backup":{"target":"backup1"},"d14":D14},
      {"id":"email","name":"Hệ thống thư điện tử công vụ","kind":"email","level":2,"servers":["mail1"],"sla_target":99.5},
      {"id":"lgsp","name":"Nền tảng tích hợp, chia sẻ dữ liệu tỉnh","kind":"lgsp","level":3,"servers":["lgsp1","db2"],"sla_target":99.9,"framework":"nd331_tcvn14423","backup":{"target":"backup1"},"d14":D14},
      {"id":"hue-s","name":"Nền tảng đô thị thông minh Hue-S","kind":"portal","level":3,"servers":["hues-app1","db1"],"sla_target":99.9,"d14":D14},
      {"id":"ttdl-infra","name":"Hạ tầng Trung tâm dữ liệu","kind":"other","level":3,"servers":["mon1","bastion1","backup1"],"sla_target":99.9}]
    links = internet(o, "ttdl", "100Mbps", "2Mbps") + wan.links + [
      {"id":"dr-link","kind":"inter_site","a":{"site":"ttdl","device":"core-fw1","address":f"{o}.210.1/30"},"b":{"site":"ttdl-dr","address":f"{o}.210.2/30"},"capacity":"1Gbps","path_id":"dr-fibre-1"}]
    head = "# Thừa Thiên Huế (before the 2025 reorganisation: three-tier, with districts).\n# Public figures: 34/34 provincial units, 56 district-level units and 27 Huế wards on the WAN;\n# data center Internet 100 Mbps domestic and 2 Mbps international. Addresses are illustrative.\n"
    write("thua-thien-hue", {
      "province.yaml": (head, {"version": 1, "province": {"id":"thua-thien-hue","name":"Tỉnh Thừa Thiên Huế","code":"46","ntp":[f"{o}.40.10"],"units":units}, "defaults": DEFAULTS("so-khoa-hoc-va-cong-nghe")}),
      "network.yaml": ("", {"sites": sites, "zones": zones, "devices": devices(o,"ttdl"), "links": links}),
      "servers.yaml": ("", {"servers": srv}), "systems.yaml": ("", {"systems": systems}), "agencies.yaml": ("", {"agencies": agencies})})

# ------------------------------------------------------------------ Sóc Trăng
def soc_trang():
    o = "10.94"
    districts = ["Thành phố Sóc Trăng","Thị xã Vĩnh Châu","Thị xã Ngã Năm","Huyện Châu Thành","Huyện Kế Sách","Huyện Mỹ Tú",
                 "Huyện Cù Lao Dung","Huyện Long Phú","Huyện Mỹ Xuyên","Huyện Thạnh Trị","Huyện Trần Đề"]
    units = [{"id": slug(d), "name": d, "kind": "district"} for d in districts]
    communes = []
    for i in range(109):
        d = districts[i % 11]
        cid = f"xa-{slug(d)}-{i // 11 + 1}"[:63]
        communes.append((cid, f"Xã {i // 11 + 1} ({d})", slug(d)))
        units.append({"id": cid, "name": communes[-1][1], "kind": "commune", "parent": slug(d)})
    wan = Wan(o)
    agencies = [{"id":"ubnd-tinh","name":"Ủy ban nhân dân tỉnh","tier":"province","lan":True,"wan":wan.add("ubnd-tinh","100Mbps"),"video_points":4}]
    for name in DEPTS[:20]:
        aid = slug(name); agencies.append({"id":aid,"name":name,"tier":"province","parent":"ubnd-tinh","lan":True,"wan":wan.add(aid,"20Mbps")})
    agencies[1]["video_points"] = 1; agencies[2]["video_points"] = 1   # 2 extended provincial points
    for aid, name in [("cong-an-tinh","Công an tỉnh"),("bo-chqs-tinh","Bộ Chỉ huy Quân sự tỉnh"),("bo-chbp-tinh","Bộ Chỉ huy Bộ đội Biên phòng tỉnh")]:
        agencies.append({"id":aid,"name":name,"tier":"province","parent":"ubnd-tinh","lan":True,"wan":wan.add(aid,"10Mbps"),"video_points":1})
    for d in districts:
        aid = "ubnd-" + slug(d)
        agencies.append({"id":aid,"name":"UBND " + d,"tier":"district","unit":slug(d),"parent":"ubnd-tinh","lan":True,"wan":wan.add(aid,"10Mbps"),"video_points":1})
    for cid, name, d in communes:
        aid = "ubnd-" + cid
        agencies.append({"id":aid[:63],"name":"UBND " + name,"tier":"commune","unit":cid,"parent":"ubnd-" + d,"lan":True,"wan":wan.add(aid[:63],"4Mbps"),"video_points":1})
    sites, zones = dc_block(o, "ttdl", "Trung tâm tích hợp dữ liệu tỉnh Sóc Trăng", 3, 9.6025, 105.9739)
    specs = [(f"portal-web{i}","dmz","web",HTTPS(["internet","wan"])) for i in (1,2,3,4)]
    specs += [("mail1","dmz","mail",[{"name":"smtp","port":25,"kind":"smtp","from":["internet","wan"]}]),("mail2","dmz","mail",[{"name":"smtp","port":25,"kind":"smtp","from":["internet","wan"]}])]
    specs += [(f"app{i}","srv","app",HTTPS(["wan","ttdl-dmz"])) for i in range(1,9)]
    specs += [("lgsp1","srv","integration",HTTPS(["wan"])),("lgsp2","srv","integration",HTTPS(["wan"])),("vc-mcu1","srv","video",HTTPS(["wan"]))]
    specs += [(f"db{i}","db","database",PG(["ttdl-srv","ttdl-dmz"])) for i in (1,2,3,4)]
    specs += [("mon1","mgmt","monitoring",[]),("backup1","mgmt","backup",[]),("bastion1","mgmt","bastion",[])]
    srv = servers(o, "ttdl", specs)
    assert len(srv) == 24
    systems = [{"id":"cong-ttdt","name":"Cổng thông tin điện tử tỉnh","kind":"portal","level":2,"servers":["portal-web1","portal-web2","db1"],"sla_target":99.5}]
    depts = [a for a in agencies if a["tier"] == "province" and a["id"] not in ("ubnd-tinh","cong-an-tinh","bo-chqs-tinh","bo-chbp-tinh")]
    for i, a in enumerate(depts[:20]):
        systems.append({"id":("ttdt-"+a["id"])[:63],"name":"Trang thông tin điện tử " + a["name"],"kind":"portal","level":1,"owner":a["id"],"servers":[f"portal-web{3 + i % 2}"],"sla_target":99.0})
    for d in districts:
        systems.append({"id":("ttdt-"+slug(d))[:63],"name":"Trang thông tin điện tử " + d,"kind":"portal","level":1,"owner":"ubnd-"+slug(d),"servers":["portal-web3","portal-web4"],"sla_target":99.0})
    systems += [
      {"id":"mcdt","name":"Hệ thống thông tin giải quyết TTHC tỉnh","kind":"one_stop_shop","level":3,"servers":["app1","app2","db2"],"sla_target":99.9,"backup":{"target":"backup1"},"d14":D14},
      {"id":"qlvb","name":"Hệ thống quản lý văn bản và điều hành","kind":"document_management","level":2,"servers":["app3","app4","db3"],"sla_target":99.5,"backup":{"target":"backup1"}},
      {"id":"email","name":"Hệ thống thư điện tử công vụ","kind":"email","level":2,"servers":["mail1","mail2"],"sla_target":99.5},
      {"id":"lgsp","name":"Nền tảng tích hợp, chia sẻ dữ liệu tỉnh","kind":"lgsp","level":3,"servers":["lgsp1","lgsp2","db4"],"sla_target":99.9,"d14":D14},
      {"id":"hntt","name":"Hệ thống hội nghị truyền hình trực tuyến","kind":"video_conference","level":2,"servers":["vc-mcu1"],"sla_target":99.5},
      {"id":"ttdl-infra","name":"Hạ tầng Trung tâm tích hợp dữ liệu","kind":"other","level":3,"servers":["mon1","backup1","app5","app6","app7","app8"],"sla_target":99.9}]
    head = "# Sóc Trăng (three-tier, with districts). Public figures: an integration data center with 24 servers;\n# 20 department portals and 11 district portals; 129 video-conference points\n# (4 provincial, 2 extended, 11 district, 109 commune, 3 security forces). Addresses are illustrative.\n"
    write("soc-trang", {
      "province.yaml": (head, {"version":1,"province":{"id":"soc-trang","name":"Tỉnh Sóc Trăng","code":"94","ntp":[f"{o}.40.11"],"units":units},"defaults":DEFAULTS("so-khoa-hoc-va-cong-nghe")}),
      "network.yaml": ("", {"sites": sites, "zones": zones, "devices": devices(o,"ttdl"), "links": internet(o,"ttdl","200Mbps","10Mbps") + wan.links}),
      "servers.yaml": ("", {"servers": srv}), "systems.yaml": ("", {"systems": systems}), "agencies.yaml": ("", {"agencies": agencies})})

# ------------------------------------------------------------------ Phú Thọ
def phu_tho():
    o = "10.25"
    districts = ["Thành phố Việt Trì","Thị xã Phú Thọ","Huyện Đoan Hùng","Huyện Hạ Hòa","Huyện Thanh Ba","Huyện Phù Ninh","Huyện Yên Lập",
                 "Huyện Cẩm Khê","Huyện Tam Nông","Huyện Lâm Thao","Huyện Thanh Sơn","Huyện Thanh Thủy","Huyện Tân Sơn"]
    units = [{"id": slug(d), "name": d, "kind": "district"} for d in districts]
    wan = Wan(o)
    agencies = [{"id":"ubnd-tinh","name":"Ủy ban nhân dân tỉnh","tier":"province","lan":True,"wan":wan.add("ubnd-tinh","100Mbps")}]
    for name in DEPTS[:22]:
        aid = slug(name); agencies.append({"id":aid,"name":name,"tier":"province","parent":"ubnd-tinh","lan":True,"wan":wan.add(aid,"20Mbps")})
    for d in districts:
        aid = "ubnd-" + slug(d)
        agencies.append({"id":aid,"name":"UBND " + d,"tier":"district","unit":slug(d),"parent":"ubnd-tinh","lan":True,"wan":wan.add(aid,"10Mbps")})
    sites, zones = dc_block(o, "ttdl", "Trung tâm tích hợp dữ liệu tỉnh Phú Thọ", 2, 21.3227, 105.4019,
        [{"id":"tthcc","name":"Trung tâm Phục vụ hành chính công tỉnh Phú Thọ","kind":"service_center","location":{"lat":21.3150,"lon":105.4100}}])
    zones += [{"id":"tthcc-srv","site":"tthcc","kind":"servers","cidr":f"{o}.80.0/24","gateway":f"{o}.80.1"},
              {"id":"tthcc-db","site":"tthcc","kind":"database","cidr":f"{o}.81.0/24","gateway":f"{o}.81.1"},
              {"id":"tthcc-user","site":"tthcc","kind":"user","cidr":f"{o}.82.0/24"}]
    srv = servers(o, "ttdl", [("dvc-web1","dmz","web",HTTPS(["internet","wan"])),("qlvb-app1","srv","app",HTTPS(["wan"])),
        ("db-qlvb1","db","database",PG(["ttdl-srv"])),("mon1","mgmt","monitoring",[]),("backup1","mgmt","backup",[])])
    srv += [{"id":"hcc-app1","hostname":"hcc-app1","address":f"{o}.80.11","zone":"tthcc-srv","role":"app","services":HTTPS(["wan","tthcc-user"])},
            {"id":"hcc-app2","hostname":"hcc-app2","address":f"{o}.80.12","zone":"tthcc-srv","role":"app","services":HTTPS(["wan","tthcc-user"])},
            {"id":"hcc-db1","hostname":"hcc-db1","address":f"{o}.81.11","zone":"tthcc-db","role":"database","services":PG(["tthcc-srv"])},
            {"id":"hcc-db2","hostname":"hcc-db2","address":f"{o}.81.12","zone":"tthcc-db","role":"database","services":PG(["tthcc-srv"])}]
    systems = [
      {"id":"dvc","name":"Cổng dịch vụ công tỉnh","kind":"portal","level":3,"servers":["dvc-web1","hcc-app1","hcc-db1"],"sla_target":99.9,"backup":{"target":"backup1"},"d14":D14},
      {"id":"mcdt","name":"Hệ thống một cửa điện tử","kind":"one_stop_shop","level":3,"servers":["hcc-app1","hcc-app2","hcc-db1","hcc-db2"],"sla_target":99.9,"backup":{"target":"backup1"},"d14":D14},
      {"id":"qlvb","name":"Hệ thống quản lý văn bản và điều hành","kind":"document_management","level":2,"servers":["qlvb-app1","db-qlvb1"],"sla_target":99.5,"backup":{"target":"backup1"}},
      {"id":"ttdl-infra","name":"Hạ tầng Trung tâm tích hợp dữ liệu","kind":"other","level":3,"servers":["mon1","backup1"],"sla_target":99.9}]
    links = internet(o,"ttdl","100Mbps","4Mbps") + wan.links + [
      {"id":"ttdl-tthcc","kind":"inter_site","a":{"site":"ttdl","device":"core-fw1","address":f"{o}.210.1/30"},"b":{"site":"tthcc","address":f"{o}.210.2/30"},"capacity":"1Gbps"}]
    head = "# Phú Thọ (three-tier, with districts). Public figures: a public administration service center with\n# 2 application servers and 2 database servers; 13 districts; provincial departments; document\n# management, one-stop-shop and public-service portal systems. Addresses are illustrative.\n"
    write("phu-tho", {
      "province.yaml": (head, {"version":1,"province":{"id":"phu-tho","name":"Tỉnh Phú Thọ","code":"25","ntp":[f"{o}.40.11"],"units":units},"defaults":DEFAULTS("so-khoa-hoc-va-cong-nghe")}),
      "network.yaml": ("", {"sites": sites, "zones": zones, "devices": devices(o,"ttdl"), "links": links}),
      "servers.yaml": ("", {"servers": srv}), "systems.yaml": ("", {"systems": systems}), "agencies.yaml": ("", {"agencies": agencies})})

hue(); soc_trang(); phu_tho()
