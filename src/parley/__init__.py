"""Parley: software for a standing NATO–Russia military crisis-prevention arrangement."""

__version__ = "0.1.0"
__all__ = ["__version__"]
