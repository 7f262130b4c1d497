"""The supervisor dashboard."""
