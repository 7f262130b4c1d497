"""The member dashboard."""
