"""Sync API views (filled in by the offline feature)."""
