"""``python -m parley``: the same as the ``parley`` command."""

from parley.cli.main import entry

__all__: list[str] = []

if __name__ == "__main__":
    entry()
