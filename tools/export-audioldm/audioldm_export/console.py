"""Progress lines on stdout, flushed at once: an export runs for minutes and its output is often piped."""
from __future__ import annotations


def log(msg: str) -> None:
    """Prints one progress line and flushes it."""
    print(msg, flush=True)
