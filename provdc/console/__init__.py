"""The web console: server-rendered pages over the inventory, the stored audit runs, the
serve state directory and (when given) Prometheus. It reads figures, it computes none."""
