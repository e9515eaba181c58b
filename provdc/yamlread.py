"""Reading YAML that needs no positions (the shipped catalogues and message texts, evidence
records): libyaml's parser where PyYAML was built with it, 7 to 10 times faster than the
pure-Python one (the requirement catalogue is read at each start of `provdc`), the same result."""

from __future__ import annotations

import yaml

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str):
    """yaml.safe_load, on libyaml when it is there."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a safe loader, C or Python
