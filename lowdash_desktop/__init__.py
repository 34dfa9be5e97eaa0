"""Lowdash Desktop: the operator desktop app for lowrouter."""

__version__ = "0.1.0"
