"""Secret references: the inventory names where a secret lives, never the secret itself.

Two schemes: `env:NAME` (an environment variable) and `file:PATH` (a file; a relative path is
taken from the inventory's own directory). Resolution happens only at the moment of use, and the
value is never logged; `redact()` masks known values in any text that leaves the process.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from provdc.errors import SecretError

# A file path neither starts nor ends with blanks: `file:` followed by spaces names no file.
REF_PATTERN = re.compile(r"^(env:[A-Za-z_][A-Za-z0-9_]*|file:\S(?:.*\S)?)$")


@dataclass(frozen=True, slots=True)
class SecretRef:
    """A parsed `env:` or `file:` reference."""

    scheme: str
    target: str

    @classmethod
    def parse(cls, text: str) -> "SecretRef":
        if not REF_PATTERN.match(text):
            raise SecretError("not a secret reference: expected env:NAME or file:PATH")
        scheme, _, target = text.partition(":")
        return cls(scheme, target)

    def __str__(self) -> str:
        return f"{self.scheme}:{self.target}"

    def path(self, base: Path) -> Path:
        """The file a `file:` reference points to, relative paths taken from `base`."""
        if self.scheme != "file":
            raise SecretError(f"{self} is not a file reference")
        p = Path(self.target)
        return p if p.is_absolute() else (base / p)

    def resolve(self, base: Path) -> str:
        """The secret's value; raises SecretError naming the reference (never the value)."""
        if self.scheme == "env":
            value = os.environ.get(self.target)
            if value is None:
                raise SecretError(f"secret {self}: environment variable {self.target} is not set")
            _KNOWN_VALUES.add(value)
            return value
        try:
            value = self.path(base).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SecretError(f"secret {self}: {exc.strerror}") from None
        _KNOWN_VALUES.add(value)
        return value


# Every secret value resolved in this process, so output paths can mask them.
_KNOWN_VALUES: set[str] = set()


def redact(text: str) -> str:
    """Replace every secret value this process has resolved by `***`."""
    for value in sorted(_KNOWN_VALUES, key=len, reverse=True):
        if len(value) >= 4:
            text = text.replace(value, "***")
    return text
