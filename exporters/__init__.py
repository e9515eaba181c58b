"""Prometheus: our collector for inventory, contracts, SLA targets and audit results, and the
generated configs for blackbox_exporter and snmp_exporter (planned, issue 6)."""
