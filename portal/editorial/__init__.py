"""(feature package; see docs/architecture.md)"""
