"""Monthly compliance reports in Vietnamese and English, rendered with jinja2 (planned, issue 7)."""
