"""The employer dashboard."""
