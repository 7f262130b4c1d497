"""The provider dashboard."""
