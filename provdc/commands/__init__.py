"""The `provdc` command groups, one module each; `provdc.cli` only assembles them.

A command module parses arguments and prints: it calls the typed API of its part and
computes no figure of its own (scores, drift, periods and waivers live in their parts).
"""
