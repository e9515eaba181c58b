"""Reading YAML that needs no positions (the shipped catalogues and message texts, evidence
records): libyaml's parser where PyYAML was built with it, 7 to 10 times faster than the
pure-Python one (the requirement catalogue is read at each start of `provdc`), the same result.
Writing it (the generated monitoring configuration, drafts, exports): libyaml's emitter, 2 to 5
times faster than the pure-Python one, the same text (checked on every example province)."""

from __future__ import annotations

import yaml

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SafeDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load_yaml(text: str):
    """yaml.safe_load, on libyaml when it is there."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a safe loader, C or Python


def dump_yaml(data, stream=None, **options):
    """yaml.safe_dump, on libyaml when it is there."""
    return yaml.dump_all([data], stream, Dumper=SafeDumper, **options)
