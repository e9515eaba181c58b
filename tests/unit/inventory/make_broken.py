"""Regenerates broken/: valid/minimal.yaml with exactly one defect per file, marked on its line."""
from pathlib import Path
HERE = Path(__file__).resolve().parent
base = (HERE / "valid" / "minimal.yaml").read_text().split("\n", 1)[1]
M = "  # <- expect: "
cases = {
 "syntax-unclosed-flow": [("    targets: {systems: [portal]}\n", "    targets: {systems: [portal]\n    reason: upgrade" + M + "| YAML syntax error\n")],
 "duplicate-key": [("    address: 10.20.10.11\n", "    address: 10.20.10.11\n    address: 10.20.10.12" + M + "address | duplicate key\n")],
 "unknown-section": [("servers:\n", "severs:" + M + "severs | did you mean 'servers'\n")],
 "unknown-key-server": [("    role: web\n", "    role: web\n    adress: 10.20.10.11" + M + "servers[web1].adress | did you mean 'address'\n")],
 "port-not-integer": [("        port: 443\n", "        port: https" + M + "servers[web1].services[0].port | valid integer\n")],
 "port-out-of-range": [("        port: 5432\n", "        port: 70000" + M + "servers[db1].services[0].port | less than or equal to 65535\n")],
 "missing-zone": [("    zone: db\n", ""), ("  - id: db1\n", "  - id: db1" + M + "servers[db1].zone | required field is missing\n")],
 "level-too-high": [("    level: 3\n", "    level: 6" + M + "systems[portal].level | less than or equal to 5\n")],
 "level-zero": [("    level: 3\n", "    level: 0" + M + "systems[portal].level | greater than or equal to 1\n")],
 "level-not-number": [("    level: 3\n", "    level: high" + M + "systems[portal].level | valid integer\n")],
 "duplicate-server-id": [("  - id: db1\n", "  - id: web1" + M + "servers[web1].id | duplicate id 'web1'\n"), ("servers: [web1, db1]", "servers: [web1]"), ("    address: 10.20.30.11\n", "    address: 10.20.30.11\n")],
 "duplicate-zone-id": [("  - id: mgmt\n", "  - id: db" + M + "zones[db].id | duplicate id 'db'\n"), ("    zone: mgmt\n", "    zone: db\n"), ("    address: 10.20.40.2\n", "    address: 10.20.30.2\n")],
 "unknown-zone": [("    zone: db\n", "    zone: database" + M + "servers[db1].zone | unknown zone 'database'\n")],
 "unknown-system-server": [("servers: [web1, db1]", "servers: [web1, db9]" + M + "systems[portal].servers[1] | unknown server 'db9'")],
 "unknown-agency-parent": [("    parent: ubnd\n    unit: xa-b\n", "    parent: ubnd-huyen" + M + "agencies[ubnd-xa-b].parent | unknown agency 'ubnd-huyen'\n    unit: xa-b\n")],
 "agency-cycle": [("    tier: province\n    lan: true\n", "    tier: province\n    parent: so-a" + M + "agencies[ubnd].parent | cycle in the agency hierarchy: ubnd -> so-a -> ubnd\n    lan: true\n")],
 "address-outside-zone": [("    address: 10.20.30.11\n", "    address: 10.20.31.11" + M + "servers[db1].address | outside zone 'db' (10.20.30.0/24)\n")],
 "network-address": [("    address: 10.20.30.11\n", "    address: 10.20.30.0" + M + "servers[db1].address | outside zone 'db'\n")],
 "overlapping-zones": [("    cidr: 10.20.40.0/24\n", "    cidr: 10.20.0.0/16" + M + "zones[mgmt].cidr | overlaps zones 'dmz' (10.20.10.0/24), 'db' (10.20.30.0/24)\n")],
 "plaintext-ssh-key": [("      key: file:keys/id\n", "      key: hunter2-secret" + M + "servers[web1].ssh.key | plaintext secret\n")],
 "plaintext-snmp-community": [("      community: env:SNMP_COMMUNITY\n", "      community: public" + M + "devices[rtr1].snmp.community | plaintext secret\n")],
 "cidr-host-bits": [("    cidr: 10.20.30.0/24\n", "    cidr: 10.20.30.5/24" + M + "zones[db].cidr | has host bits set\n")],
 "bad-ip-address": [("    address: 10.20.10.11\n", "    address: 10.20.300.11" + M + "servers[web1].address | valid IPv4 address\n")],
 "duplicate-address": [("  - id: db1\n    hostname: db1\n    address: 10.20.30.11\n    zone: db\n", "  - id: db1\n    hostname: db1\n    address: 10.20.10.11" + M + "servers[db1].address | already used by server 'web1'\n    zone: dmz\n")],
 "bad-capacity": [("    capacity: 10Mbps\n", "    capacity: fast" + M + "links[wan-ubnd].capacity | not a rate: 'fast'\n")],
 "endpoint-two-kinds": [("    b: {agency: ubnd, address: 10.20.100.2/30}\n", "    b: {agency: ubnd, site: dc, address: 10.20.100.2/30}" + M + "links[wan-ubnd].b | exactly one of site, agency or provider\n")],
 "measured-by-unknown-device": [("    measured_by: {device: rtr1, interface: wan1}\n", "    measured_by: {device: rtr9, interface: wan1}" + M + "links[wan-ubnd].measured_by.device | unknown device 'rtr9'\n")],
 "service-from-unknown-zone": [("        from: [dmz]\n", "        from: [app]" + M + "servers[db1].services[0].from[0] | 'app' is neither a zone nor one of\n")],
 "maintenance-ends-first": [("    end: 2026-11-01T23:00:00+07:00\n", "    end: 2026-11-01T21:00:00+07:00" + M + "maintenance[mw1].end | ends before it starts\n")],
 "waiver-bad-date": [("    expires: 2027-01-01\n", "    expires: someday" + M + "waivers[0].expires | valid date\n")],
 "waiver-unknown-host": [("    scope: {host: web1}\n", "    scope: {host: web9}" + M + "waivers[0].scope.host | unknown host 'web9'\n")],
 "unit-unknown-parent": [("      parent: huyen-a\n", "      parent: huyen-z" + M + "province.units[xa-b].parent | unknown unit 'huyen-z'\n")],
 "agency-bad-tier": [("    name: Sở A\n    tier: province\n", "    name: Sở A\n    tier: ministry" + M + "agencies[so-a].tier | 'province', 'district' or 'commune'\n")],
 "datacenter-without-tier": [("    tier: 3\n", ""), ("  - id: dc\n    name: Trung", "  - id: dc" + M + "sites[dc].tier | must state its TCVN 9250\n    name: Trung")],
 "gateway-outside-zone": [("    gateway: 10.20.10.1\n", "    gateway: 10.20.11.1" + M + "zones[dmz].gateway | not a usable address of 10.20.10.0/24\n")],
 "system-without-servers": [("servers: [web1, db1]", "servers: []" + M + "systems[portal].servers | at least 1 item")],
 "zone-bad-kind": [("    kind: dmz\n", "    kind: demilitarised" + M + "zones[dmz].kind | Input should be 'edge'\n")],
 "sla-over-100": [("    sla_target: 99.9\n", "    sla_target: 101" + M + "systems[portal].sla_target | less than or equal to 100\n")],
 "duplicate-service-port": [("        from: [dmz]\n", "        from: [dmz]\n      - name: pg2\n        port: 5432" + M + "servers[db1].services[1].port | 5432/tcp is declared twice\n")],
 "agency-wan-not-its-link": [("    tier: province\n    parent: ubnd\n", "    tier: province\n    parent: ubnd\n    wan: wan-ubnd" + M + "agencies[so-a].wan | does not end at agency 'so-a'\n")],
 "version-unsupported": [("version: 1\n", "version: 2" + M + "version | Input should be 1\n")],
 "device-ssh-without-address": [("    zone: mgmt\n    address: 10.20.40.2\n", "    ssh: {key: file:keys/id}" + M + "devices[rtr1].ssh | needs a management `address`\n")],
 # -- issue 14: input that never breaks provdc
 "date-february-30": [("    expires: 2027-01-01\n", "    expires: 2027-02-30" + M + "waivers[0].expires | valid date\n")],
 "date-month-13": [("    expires: 2027-01-01\n", "    expires: 2027-13-01" + M + "waivers[0].expires | valid date\n")],
 "time-hour-25": [("    start: 2026-11-01T22:00:00+07:00\n", "    start: 2026-11-01T25:00:00+07:00" + M + "maintenance[mw1].start | valid datetime\n")],
 "capacity-infinite": [("    capacity: 10Mbps\n", "    capacity: .inf" + M + "links[wan-ubnd].capacity | finite\n")],
 "capacity-infinite-text": [("    capacity: 10Mbps\n", "    capacity: 1e999" + M + "links[wan-ubnd].capacity | finite\n")],
 "maintenance-naive-and-aware": [("    end: 2026-11-01T23:00:00+07:00\n", "    end: 2026-11-01T23:00:00" + M + "maintenance[mw1].end | both have a time zone\n")],
 "secret-file-blank": [("      key: file:keys/id\n", '      key: "file:   "' + M + "servers[web1].ssh.key | `file:` must be followed by a path\n")],
 "level-quoted": [("    level: 3\n", '    level: "3"' + M + "systems[portal].level | not a quoted string\n")],
 "lan-on-is-text": [("    tier: province\n    lan: true\n", "    tier: province\n    lan: on" + M + "agencies[ubnd].lan | valid boolean\n")],
 "sla-quoted": [("    sla_target: 99.9\n", '    sla_target: "99.9"' + M + "systems[portal].sla_target | not a quoted string\n")],
 "waiver-unknown-check": [("  - check: ssh_port_not_default\n", "  - check: ssh_port_not_defualt" + M + "waivers[0].check | unknown check 'ssh_port_not_defualt' (did you mean 'ssh_port_not_default'?)\n")],
 "syntax-unclosed-quote": [("    name: Sở A\n", '    name: "Sở A' + M + "| YAML syntax error\n")],
 "syntax-unclosed-single-quote": [("    reason: upgrade\n", "    reason: 'upgrade" + M + "| YAML syntax error\n")],
 "key-with-brackets": [("    role: web\n", '    role: web\n    "ports[0]": 443' + M + 'servers[web1]["ports[0]"] | unknown key\n')],
 "key-with-colon": [("    role: web\n", '    role: web\n    "os:version": 12' + M + 'servers[web1]["os:version"] | unknown key\n')],
 "key-with-dot": [("  id: test\n", '  id: test\n  "name.vi": Tỉnh' + M + 'province["name.vi"] | unknown key\n')],
 "duplicate-key-flow": [("    b: {agency: ubnd, address: 10.20.100.2/30}\n", "    b: {agency: ubnd, agency: so-a, address: 10.20.100.2/30}" + M + "agency | duplicate key\n")],
 "tab-indentation": [("    role: database\n", "\trole: database" + M + "| YAML syntax error\n")],
 "port-octal-1-1-is-not-octal": [("        port: 5432\n", "        port: 0o200000" + M + "servers[db1].services[0].port | less than or equal to 65535\n")],
 "control-character": [("    reason: upgrade\n", "    reason: up\x07grade" + M + "| character U+0007 is not allowed\n")],
 # -- issue 13: an appliance's configuration backup
 "tls-ca-directory": [("        tls: true\n", "        tls: true\n        tls_ca: certs/" + M + "servers[web1].services[0].tls_ca | a file, not a directory\n")],
 "province-tls-ca-nul": [("  ntp: 10.20.40.10\n", "  ntp: 10.20.40.10\n  tls_ca: \"ca\\0.pem\"" + M + "province.tls_ca | without NUL bytes\n")],
 "config-backup-absolute": [("      community: env:SNMP_COMMUNITY\n", "      community: env:SNMP_COMMUNITY\n    config_backup: /etc/rtr1.cfg" + M + "devices[rtr1].config_backup | relative to the inventory directory\n")],
 "config-backup-on-ssh-device": [("      community: env:SNMP_COMMUNITY\n", "      community: env:SNMP_COMMUNITY\n    ssh: {key: file:keys/id}\n    config_backup: configs/rtr1.cfg" + M + "devices[rtr1].config_backup | for appliances without `ssh`\n")],
 "not-a-mapping": [(None, "- just" + M + "| must be a mapping of sections\n- a list\n")],
}
out = HERE / "broken"; out.mkdir(parents=True, exist_ok=True)
for name, edits in cases.items():
    text = base
    for old, new in edits:
        if old is None:
            text = new; continue
        assert old in text, (name, old)
        text = text.replace(old, new, 1)
    assert text.count("# <- expect:") == 1, name
    (out / f"{name}.yaml").write_text(f"# Broken on purpose: exactly one defect, on the line marked '<- expect'.\n{text}")
print(len(cases))
