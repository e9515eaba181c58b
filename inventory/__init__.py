"""The inventory: one declarative YAML model of the provincial data center.

Everything else in provdc reads it: playbooks (Ansible inventory), checks (what to audit and at
which level), exporters (targets, contracts, SLA targets) and the lab (its digital twin).
"""

from provdc.inventory.index import Inventory, load_inventory

__all__ = ["Inventory", "load_inventory"]
