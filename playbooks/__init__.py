"""Provisioning: the inventory becomes an Ansible inventory and the project's roles (site.yml)
run through ansible-runner. The roles implement the baseline that `provdc audit` verifies."""

from pathlib import Path

PLAYBOOKS_DIR = Path(__file__).resolve().parent
