"""Loading a drop into ``raw`` (module map: docs/architecture.md)."""
