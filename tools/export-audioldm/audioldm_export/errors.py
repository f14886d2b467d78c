"""What stops an export: errors the user can act on (printed without a traceback) and the exit statuses."""
from __future__ import annotations

# Exit statuses (README "Options"): done, export or check failed, bad command line, packages missing.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_MISSING_DEPENDENCIES = 0, 1, 2, 3


class ExportError(Exception):
    """A problem the user can act on; printed without a traceback."""


class MissingDependencies(ExportError):
    """A package the export needs cannot be imported (exit 3); the message names it and the install command."""
