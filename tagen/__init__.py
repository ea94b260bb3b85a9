"""tagen: settings, backend wiring (the one composition root) and the `tagen` CLI."""

__version__ = "0.1.0"
