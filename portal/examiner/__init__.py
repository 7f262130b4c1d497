"""The examiner dashboard."""
