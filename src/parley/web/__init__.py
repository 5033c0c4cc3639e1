"""The HTTP face of a node: the peer protocol and the officers' API (:func:`create_app`)."""

from parley.web.app import create_app

__all__ = ["create_app"]
