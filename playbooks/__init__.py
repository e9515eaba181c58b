"""Provisioning: the inventory becomes an Ansible inventory and the project's roles run through
ansible-runner (planned, issue 4)."""
