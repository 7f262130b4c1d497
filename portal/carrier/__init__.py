"""The carrier dashboard."""
