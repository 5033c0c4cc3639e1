"""The Merkle tree of a hotline log, exactly as in RFC 9162 §2.1 (Certificate Transparency).

A log of ``n`` entries is summarised by the root of a binary hash tree over the entries' leaf
hashes. Two proofs let a party that holds only a root check the log without trusting its writer:

* an **inclusion proof** shows that an entry is leaf ``index`` of the tree of ``size`` leaves;
* a **consistency proof** shows that the tree of ``old_size`` leaves is a prefix of the tree of
  ``new_size`` leaves: the log was only appended to, never rewritten.

:class:`MerkleTree` keeps every complete subtree hash it has computed (about ``2n`` hashes in all),
so appending costs one hash amortised, and a root or proof for any size up to the current one costs
``O(log² n)`` cached look-ups and at most ``O(log n)`` fresh hashes per level. The module-level
functions over a plain list of leaf hashes build such a tree first (``O(n)``); keep a tree when
asking many questions of one log.

The two ``verify_*`` functions are the RFC's verification algorithms (§2.1.3.2 and §2.1.4.2). They
return ``False`` for anything that is not a valid proof, including garbage of the wrong type or
length, and never raise.
"""

import hashlib
from collections.abc import Iterable, Sequence

from parley.hotline.errors import MalformedError, ProofError

HASH_SIZE = 32
#: Sizes and indices are unsigned 64-bit integers in RFC 9162.
MAX_TREE_SIZE = 2**64 - 1
#: A proof in a tree of at most 2**64 leaves has at most 64 nodes (a consistency proof 65 with the
#: old root prepended); longer ones are rejected before any hashing.
_MAX_PROOF_NODES = 64

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    """The RFC 9162 hash of one log entry: SHA-256(0x00 ‖ entry)."""
    return hashlib.sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 9162 hash of an interior node: SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """The k of RFC 9162: the largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """An append-only RFC 9162 tree over leaf hashes, with a memo of complete subtree hashes.

    ``self._levels[h][i]`` is the hash of the complete subtree of ``2**h`` leaves that starts at
    leaf ``i * 2**h``; level 0 holds the leaf hashes themselves.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for hashed in leaf_hashes:
            self.append(hashed)

    def __len__(self) -> int:
        return len(self._levels[0])

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def append(self, leaf: bytes) -> int:
        """Append one leaf hash; return its index."""
        if not isinstance(leaf, bytes) or len(leaf) != HASH_SIZE:
            got = len(leaf) if isinstance(leaf, bytes | bytearray) else type(leaf).__name__
            raise MalformedError(f"a leaf hash is {HASH_SIZE} bytes, got {got}")
        index = len(self._levels[0])
        self._levels[0].append(leaf)
        # Every time a level gets an even number of nodes, its last two close a subtree above.
        height = 0
        while len(self._levels[height]) % 2 == 0:
            level = self._levels[height]
            if height + 1 == len(self._levels):
                self._levels.append([])
            self._levels[height + 1].append(node_hash(level[-2], level[-1]))
            height += 1
        return index

    def copy(self) -> "MerkleTree":
        """An independent tree with the same leaves (no hashing: the levels are copied)."""
        twin = MerkleTree()
        twin._levels = [list(level) for level in self._levels]
        return twin

    def append_entry(self, entry: bytes) -> int:
        """Append the leaf hash of ``entry``; return its index."""
        return self.append(leaf_hash(entry))

    def leaf(self, index: int) -> bytes:
        """The leaf hash at ``index``."""
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.size:
            raise ProofError(f"no leaf {index} in a tree of {self.size} leaves")
        return self._levels[0][index]

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree of the first ``size`` leaves (default: all of them)."""
        size = self.size if size is None else size
        self._check_size("size", size)
        return EMPTY_ROOT if size == 0 else self._range_hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of RFC 9162 §2.1.3.1 for leaf ``index`` in the tree of ``size`` leaves."""
        size = self.size if size is None else size
        self._check_size("size", size)
        if not 0 <= index < size:
            raise ProofError(f"no inclusion proof for leaf {index} in a tree of {size} leaves")
        path: list[bytes] = []
        low, high = 0, size
        # Walk from the root down to the leaf, keeping the sibling of the side that holds it.
        while high - low > 1:
            split = low + _largest_power_of_two_below(high - low)
            if index < split:
                path.append(self._range_hash(split, high))
                high = split
            else:
                path.append(self._range_hash(low, split))
                low = split
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The proof of RFC 9162 §2.1.4.1 that the first ``old_size`` leaves are a prefix of the
        first ``new_size``. Empty when ``old_size`` is 0 or equals ``new_size``."""
        new_size = self.size if new_size is None else new_size
        self._check_size("new size", new_size)
        if not 0 <= old_size <= new_size:
            raise ProofError(
                f"no consistency proof from size {old_size} to size {new_size} "
                "(the old size must be between 0 and the new size)"
            )
        if old_size in (0, new_size):
            return []
        path: list[bytes] = []
        low, high = 0, new_size
        # SUBPROOF(m, D[low:high], old_root_known); ``old_size`` stays an absolute leaf count.
        old_root_known = True
        while old_size - low != high - low:
            split = low + _largest_power_of_two_below(high - low)
            if old_size <= split:
                path.append(self._range_hash(split, high))
                high = split
            else:
                path.append(self._range_hash(low, split))
                low = split
                old_root_known = False
        if not old_root_known:
            path.append(self._range_hash(low, high))
        path.reverse()
        return path

    def _check_size(self, what: str, size: int) -> None:
        if isinstance(size, bool) or not isinstance(size, int):
            raise ProofError(f"the {what} must be an integer, got {type(size).__name__}")
        if not 0 <= size <= self.size:
            raise ProofError(f"the {what} {size} is outside a tree of {self.size} leaves")

    def _range_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range the RFC recursion produces: ``start`` is a multiple of
        the largest power of two not above ``end - start``, so the range splits into complete
        subtrees of decreasing size, which fold from the right."""
        parts: list[bytes] = []
        position = start
        while position < end:
            height = (end - position).bit_length() - 1
            parts.append(self._levels[height][position >> height])
            position += 1 << height
        result = parts[-1]
        for part in reversed(parts[:-1]):
            result = node_hash(part, result)
        return result


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The RFC 9162 root of a list of leaf hashes (SHA-256 of nothing for an empty list)."""
    return MerkleTree(leaf_hashes).root()


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """The inclusion proof for leaf ``index`` in the tree of the first ``size`` leaf hashes."""
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= len(leaf_hashes):
        raise ProofError(f"the size {size} is outside a list of {len(leaf_hashes)} leaf hashes")
    return MerkleTree(leaf_hashes[:size]).inclusion_proof(index)


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """The consistency proof from ``old_size`` to ``new_size`` over a list of leaf hashes."""
    if (
        isinstance(new_size, bool)
        or not isinstance(new_size, int)
        or not 0 <= new_size <= len(leaf_hashes)
    ):
        raise ProofError(
            f"the new size {new_size} is outside a list of {len(leaf_hashes)} leaf hashes"
        )
    return MerkleTree(leaf_hashes[:new_size]).consistency_proof(old_size)


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TREE_SIZE


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_proof(proof: object) -> bool:
    return (
        isinstance(proof, list | tuple)
        and len(proof) <= _MAX_PROOF_NODES
        and all(_is_hash(node) for node in proof)
    )


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> bool:
    """Whether ``proof`` shows that ``leaf`` (a leaf hash) is leaf ``index`` of the tree of
    ``size`` leaves whose root is ``root_hash`` (RFC 9162 §2.1.3.2)."""
    if not (_is_hash(leaf) and _is_hash(root_hash) and _is_size(index) and _is_size(size)):
        return False
    if not _is_proof(proof) or index >= size:
        return False
    fn, sn = index, size - 1
    result = leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and result == root_hash


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows that the tree of ``old_size`` leaves with root ``old_root`` is a
    prefix of the tree of ``new_size`` leaves with root ``new_root`` (RFC 9162 §2.1.4.2).

    The RFC defines the proof for ``0 < old_size < new_size``; the two edge cases take an empty
    proof: equal sizes need equal roots, and the empty tree (whose root must be SHA-256 of nothing)
    is a prefix of every tree.
    """
    if not (_is_size(old_size) and _is_size(new_size) and _is_hash(old_root)):
        return False
    if not (_is_hash(new_root) and _is_proof(proof)) or old_size > new_size:
        return False
    if old_size == new_size:
        roots_agree = old_root == new_root and (old_size > 0 or old_root == EMPTY_ROOT)
        return len(proof) == 0 and roots_agree
    if old_size == 0:
        return len(proof) == 0 and old_root == EMPTY_ROOT
    if len(proof) == 0:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first_root = second_root = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            first_root = node_hash(node, first_root)
            second_root = node_hash(node, second_root)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            second_root = node_hash(second_root, node)
        fn >>= 1
        sn >>= 1
    return sn == 0 and first_root == old_root and second_root == new_root


__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MAX_TREE_SIZE",
    "MerkleTree",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]
