"""Shipped index specs (YAML). ``default_v1.yaml`` implements DESIGN.md §4."""
