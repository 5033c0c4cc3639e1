"""The hotline's errors: one branch of the :class:`parley.errors.ParleyError` family.

Each carries one clear line saying what was wrong, so that a node can log it, a peer can be told
why its request was refused, and the CLI can print it.
"""

from parley.errors import ParleyError


class HotlineError(ParleyError):
    """Base of every error the hotline raises on purpose."""


class MalformedError(HotlineError):
    """Bytes that should be a note, checkpoint, signature or hash do not parse."""


class SignatureError(HotlineError):
    """A signature is missing, from no trusted key, or does not verify."""


class ProofError(HotlineError):
    """A Merkle proof was asked for sizes or indices the tree cannot prove."""


__all__ = ["HotlineError", "MalformedError", "ProofError", "SignatureError"]
