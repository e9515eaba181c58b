"""The one exception tree of provdc. The CLI turns any ProvdcError into a one-line message."""

from __future__ import annotations


class ProvdcError(Exception):
    """Base of every error provdc raises on purpose; carries a message for the user."""

    exit_code = 1


class InventoryError(ProvdcError):
    """The inventory could not be loaded; `problems` lists every defect found."""

    def __init__(self, problems: list) -> None:
        self.problems = problems
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"inventory has {len(problems)} {noun}")


class SecretError(ProvdcError):
    """A secret reference could not be resolved (missing variable or unreadable file)."""


class PrivilegeError(ProvdcError):
    """The command needs root (network namespaces, mounts, raw sockets)."""


class ScopeError(ProvdcError):
    """A scan or probe target lies outside the inventory's declared zones: refused before sending."""
