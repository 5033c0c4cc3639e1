"""Rendering for the CLI: one-line errors, JSON, rich tables."""

import json
import sys
from typing import Any

from rich.console import Console

# When stdout is not a terminal (a pipe, a file, a test), render wide tables without wrapping.
stdout_console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
stderr_console = Console(stderr=True, highlight=False)


def error_line(message: str) -> None:
    """One clear line on stderr."""
    first_line = " ".join(message.split())
    sys.stderr.write(f"parley: error: {first_line}\n")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    sys.stdout.write("\n")


__all__ = ["error_line", "print_json", "stderr_console", "stdout_console"]
