"""The `herald` command: set up, create and watch campaigns, run the jobs and the worker."""

from __future__ import annotations

import logging
import sys

from rich.text import Text

from herald.cli import audit, campaigns, events, messages, operations, setup  # noqa: F401  (importing registers the commands)
from herald.cli.base import app, err_console
from herald.errors import HeraldError

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: herald's own errors become one readable line and exit code 1, never a stack trace."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except HeraldError as exc:
        # the message as Text: it may quote what others wrote (a tenant from the broker, a provider's reply),
        # which rich would read as markup ("[/x]" raised a MarkupError) or emoji codes (":-1:")
        line = Text.assemble(("Error:", "bold red"), " ", str(exc))
        err_console.print(line, highlight=False, soft_wrap=True)  # one line, however wide
        sys.exit(1)
