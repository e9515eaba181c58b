"""The lab: the inventory's digital twin in network namespaces on one machine."""
