"""The demo platform: a real HTTP server on loopback with synthetic but realistic data."""

from lowdash_desktop.demo.server import DemoPlatform, Faults, Request, Response, serve_forever_cli

__all__ = ["DemoPlatform", "Faults", "Request", "Response", "serve_forever_cli"]
