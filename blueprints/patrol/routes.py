"""Patrol views (filled in by the patrol feature)."""
