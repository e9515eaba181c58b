"""provdc: one declarative inventory of a provincial data center drives provisioning,
security audits, Prometheus monitoring and compliance reports."""

__version__ = "0.1.0"
