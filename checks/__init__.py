"""Four-layer security checks (network, host, application, data) gated by security level, plus
Directive 14 governance evidence (planned, issue 5)."""
