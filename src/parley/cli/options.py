"""Options shared by several commands."""

from pathlib import Path

import typer

from parley.errors import UnknownFormatError
from parley.tracks.readers import AUTO, format_names

FORMAT_OPTION: str = typer.Option(
    AUTO, "--format", "-f", help="Input format: auto (sniffed) or one of `parley tracks formats`."
)
SIDES_OPTION: Path | None = typer.Option(
    None,
    "--sides",
    help="TOML file assigning tracks to parties (default: the packaged NATO/Russia).",
)
STRICT_OPTION: bool = typer.Option(
    False, "--strict", help="Exit non-zero when any input row is rejected."
)


def format_choice(name: str) -> str:
    if name != AUTO and name not in format_names():
        raise UnknownFormatError(
            f"unknown format {name!r} (known: {AUTO}, {', '.join(format_names())})"
        )
    return name


__all__ = ["FORMAT_OPTION", "SIDES_OPTION", "STRICT_OPTION", "format_choice"]
