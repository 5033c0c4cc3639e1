"""The one exception family of Parley.

Every error a user can cause (a missing file, an unknown format, a bad option, an invalid policy)
is a :class:`ParleyError` whose message is one clear line; the CLI prints it and exits non-zero.
"""


class ParleyError(Exception):
    """Base of every error Parley raises on purpose."""


class InputError(ParleyError):
    """A file or value given by the user cannot be used (missing, unreadable, malformed)."""


class UnknownFormatError(InputError):
    """The format of a file is unknown or could not be detected."""


class ConfigError(ParleyError):
    """A configuration file (sides, policy, settings) is invalid."""


class StrictModeError(ParleyError):
    """Rows were rejected while ``--strict`` was in force."""


__all__ = ["ConfigError", "InputError", "ParleyError", "StrictModeError", "UnknownFormatError"]
