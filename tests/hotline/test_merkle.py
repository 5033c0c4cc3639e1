"""The RFC 9162 Merkle tree: published test vectors, an independent reference, corrupted proofs."""

import hashlib
import random
from collections.abc import Iterator, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import parley.hotline.merkle as merkle_module
from parley.hotline.errors import MalformedError, ProofError
from parley.hotline.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# ---------------------------------------------------------------------------------------------
# The RFC 6962 reference tree of 8 leaves used by the Certificate Transparency test suites.
# Data copied from transparency-dev/merkle (Apache-2.0): testonly/constants.go (LeafInputs,
# NodeHashes, RootHashes), proof/verify_test.go (inclusionProofs, whose leaf numbers are 1-based
# there and 0-based here; consistencyProofs; roots) and testonly/reference_test.go
# (TestRefInclusionProof, TestRefConsistencyProof).
# ---------------------------------------------------------------------------------------------

LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]

#: Root of the tree of the first ``size`` leaves, for size 0..8.
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

#: Hashes of every complete subtree: level (0 = leaves), then position within the level.
NODE_HASHES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]

#: (leaf index, tree size, audit path)
INCLUSION_VECTORS = [
    (0, 1, []),
    (0, 2, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"]),
    (1, 2, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

#: (old size, new size, consistency proof)
CONSISTENCY_VECTORS = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

REFERENCE_LEAVES = [leaf_hash(data) for data in LEAF_INPUTS]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def _unhex(hashes: Sequence[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hashes]


# ---------------------------------------------------------------------------------------------
# An independent reference, written straight from the recursive definitions of RFC 9162 §2.1:
# proofs are lists of subtree ranges; verifying evaluates the claimed tree from known ranges.
# ---------------------------------------------------------------------------------------------


def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def ref_root(hashes: Sequence[bytes]) -> bytes:
    if not hashes:
        return EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = _split(len(hashes))
    return node_hash(ref_root(hashes[:k]), ref_root(hashes[k:]))


def path_ranges(index: int, low: int, high: int) -> list[tuple[int, int]]:
    """PATH(m, D[low:high]) as the ranges of the subtrees it lists."""
    if high - low == 1:
        return []
    mid = low + _split(high - low)
    if index < mid:
        return [*path_ranges(index, low, mid), (mid, high)]
    return [*path_ranges(index, mid, high), (low, mid)]


def subproof_ranges(old: int, low: int, high: int, known: bool) -> list[tuple[int, int]]:
    """SUBPROOF(m, D[low:high], b) as the ranges of the subtrees it lists."""
    if old == high:
        return [] if known else [(low, high)]
    mid = low + _split(high - low)
    if old <= mid:
        return [*subproof_ranges(old, low, mid, known), (mid, high)]
    return [*subproof_ranges(old, mid, high, False), (low, mid)]


def _hash_from(known: dict[tuple[int, int], bytes], low: int, high: int) -> bytes | None:
    if (low, high) in known:
        return known[(low, high)]
    if high - low <= 1:
        return None
    mid = low + _split(high - low)
    left, right = _hash_from(known, low, mid), _hash_from(known, mid, high)
    return None if left is None or right is None else node_hash(left, right)


def ref_inclusion_proof(hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    return [ref_root(hashes[a:b]) for a, b in path_ranges(index, 0, size)]


def ref_consistency_proof(hashes: Sequence[bytes], old: int, new: int) -> list[bytes]:
    if old in (0, new):
        return []
    return [ref_root(hashes[a:b]) for a, b in subproof_ranges(old, 0, new, True)]


def _all_hashes(*values: object) -> bool:
    return all(isinstance(v, bytes) and len(v) == 32 for v in values)


def ref_verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> bool:
    if not (0 <= index < size and _all_hashes(leaf, root_hash, *proof)):
        return False
    ranges = path_ranges(index, 0, size)
    if len(ranges) != len(proof):
        return False
    known = dict(zip(ranges, proof, strict=True))
    known[(index, index + 1)] = leaf
    return _hash_from(known, 0, size) == root_hash


def ref_verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    if not (0 <= old <= new and _all_hashes(old_root, new_root, *proof)):
        return False
    if old == new:
        return not proof and old_root == new_root and (old > 0 or old_root == EMPTY_ROOT)
    if old == 0:
        return not proof and old_root == EMPTY_ROOT
    ranges = subproof_ranges(old, 0, new, True)
    if len(ranges) != len(proof):
        return False
    known = dict(zip(ranges, proof, strict=True))
    if old & (old - 1) == 0:
        known[(0, old)] = old_root  # the proof leaves out the old root when it is a subtree
    return _hash_from(known, 0, old) == old_root and _hash_from(known, 0, new) == new_root


def _leaves(count: int, seed: int = 0) -> list[bytes]:
    return [leaf_hash(f"entry {seed}/{i}".encode()) for i in range(count)]


# ---------------------------------------------------------------------------------------------
# Published vectors
# ---------------------------------------------------------------------------------------------


def test_leaf_hashes_match_the_published_level_zero() -> None:
    assert [h.hex() for h in REFERENCE_LEAVES] == NODE_HASHES[0]


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert root([]) == hashlib.sha256(b"").digest() == bytes.fromhex(ROOTS[0])
    assert MerkleTree().root() == EMPTY_ROOT


@pytest.mark.parametrize("size", range(9))
def test_published_roots(size: int) -> None:
    expected = bytes.fromhex(ROOTS[size])
    assert root(REFERENCE_LEAVES[:size]) == expected
    assert MerkleTree(REFERENCE_LEAVES).root(size) == expected
    assert ref_root(REFERENCE_LEAVES[:size]) == expected


def test_every_published_complete_subtree_hash() -> None:
    for level, hashes in enumerate(NODE_HASHES):
        width = 1 << level
        for position, expected in enumerate(hashes):
            subtree = REFERENCE_LEAVES[position * width : (position + 1) * width]
            assert root(subtree).hex() == expected, (level, position)


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION_VECTORS)
def test_published_inclusion_proofs(index: int, size: int, path: list[str]) -> None:
    expected = _unhex(path)
    tree = MerkleTree(REFERENCE_LEAVES)
    assert tree.inclusion_proof(index, size) == expected
    assert inclusion_proof(REFERENCE_LEAVES, index, size) == expected
    root_hash = bytes.fromhex(ROOTS[size])
    assert verify_inclusion(REFERENCE_LEAVES[index], index, size, expected, root_hash)


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY_VECTORS)
def test_published_consistency_proofs(old: int, new: int, path: list[str]) -> None:
    expected = _unhex(path)
    assert MerkleTree(REFERENCE_LEAVES).consistency_proof(old, new) == expected
    assert consistency_proof(REFERENCE_LEAVES, old, new) == expected
    old_root, new_root = bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new])
    assert verify_consistency(old, new, old_root, new_root, expected)
    assert not verify_consistency(old, new, new_root, old_root, expected) or old == new


def test_published_single_entry_cases() -> None:
    """From verify_test.go: a one-leaf tree's root is its leaf hash and its proof is empty."""
    hashed = leaf_hash(b"data")
    assert verify_inclusion(hashed, 0, 1, [], hashed)
    assert not verify_inclusion(hashed, 0, 1, [], b"")
    assert not verify_inclusion(b"", 0, 1, [], hashed)
    for index, size in [(0, 0), (1, 0), (2, 1)]:
        assert not verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(1, 1, SOME_HASH, SOME_HASH, [])
    assert not verify_consistency(1, 1, SOME_HASH, EMPTY_ROOT, [])
    assert not verify_consistency(1, 0, SOME_HASH, SOME_HASH, [])
    assert not verify_consistency(1, 2, SOME_HASH, EMPTY_ROOT, [])
    assert not verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])
    assert not verify_consistency(1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])


# ---------------------------------------------------------------------------------------------
# Against the reference, exhaustively for small trees
# ---------------------------------------------------------------------------------------------


def test_tree_matches_reference_for_every_size_index_and_pair_up_to_40() -> None:
    hashes = _leaves(40)
    tree = MerkleTree()
    for size in range(41):
        assert tree.root() == ref_root(hashes[:size])
        for index in range(size):
            assert tree.inclusion_proof(index) == ref_inclusion_proof(hashes, index, size)
        for old in range(size + 1):
            assert tree.consistency_proof(old) == ref_consistency_proof(hashes, old, size)
        if size < 40:
            assert tree.append(hashes[size]) == size


def test_historical_roots_and_proofs_from_a_grown_tree() -> None:
    hashes = _leaves(100)
    tree = MerkleTree(hashes)
    for size in (1, 7, 31, 64, 65, 99):
        assert tree.root(size) == ref_root(hashes[:size])
        assert tree.inclusion_proof(size - 1, size) == ref_inclusion_proof(hashes, size - 1, size)
        old = min(3, size)
        assert tree.consistency_proof(old, size) == ref_consistency_proof(hashes, old, size)


def test_proof_cost_is_logarithmic() -> None:
    """Counted hash operations, not time: no proof rehashes the tree."""
    tree = MerkleTree(_leaves(4097))
    calls = 0
    real = merkle_module.node_hash

    def counting(left: bytes, right: bytes) -> bytes:
        nonlocal calls
        calls += 1
        return real(left, right)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(merkle_module, "node_hash", counting)
        tree.inclusion_proof(1000, 4095)  # 4095 leaves: every right edge is ragged
        tree.consistency_proof(1001, 4095)
        tree.root(4095)
        tree.append_entry(b"one more")
    # About 12 hashes for each of the four operations (log2 4095 ≈ 12), where rehashing the
    # tree would take 4094 for each.
    assert 12 <= calls <= 4 * 13


# ---------------------------------------------------------------------------------------------
# Systematically corrupted proofs: every one must be rejected
# ---------------------------------------------------------------------------------------------

MAX_SIZE = 20
TREE = MerkleTree(_leaves(2 * MAX_SIZE + 2))
OTHER_TREE = MerkleTree(_leaves(2 * MAX_SIZE + 2, seed=1))


def _flip(data: bytes, bit: int) -> bytes:
    changed = bytearray(data)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


def _bits_to_flip(size: int) -> range | list[int]:
    """All 256 bits up to 16 leaves; a fixed spread of 64 bits for larger trees."""
    return range(256) if size <= 16 else sorted({0, 7, 8, 255, *range(3, 256, 4)})


def _structural_corruptions(
    proof: list[bytes], extra: Sequence[bytes], size: int
) -> Iterator[tuple[str, list[bytes]]]:
    """Proofs that differ from ``proof`` in their nodes only."""
    for i, node in enumerate(proof):
        for bit in _bits_to_flip(size):
            yield f"flip bit {bit} of node {i}", [*proof[:i], _flip(node, bit), *proof[i + 1 :]]
        yield f"drop node {i}", proof[:i] + proof[i + 1 :]
        yield f"node {i} one byte short", [*proof[:i], node[:-1], *proof[i + 1 :]]
        yield f"node {i} one byte long", [*proof[:i], node + b"\x00", *proof[i + 1 :]]
        yield f"node {i} empty", [*proof[:i], b"", *proof[i + 1 :]]
        yield f"node {i} as hex text", [*proof[:i], node.hex().encode(), *proof[i + 1 :]]
        if i + 1 < len(proof) and proof[i] != proof[i + 1]:
            swapped = [*proof[:i], proof[i + 1], proof[i], *proof[i + 2 :]]
            yield f"swap nodes {i} and {i + 1}", swapped
    for position in range(len(proof) + 1):
        for label, node in [
            ("some hash", SOME_HASH),
            *((f"extra {j}", e) for j, e in enumerate(extra)),
        ]:
            yield f"insert {label} at {position}", [*proof[:position], node, *proof[position:]]
        if position < len(proof):
            yield f"duplicate node {position}", [*proof[: position + 1], *proof[position:]]
    yield "append empty bytes", [*proof, b""]
    yield "proof reversed", proof[::-1] if len(set(proof)) > 1 else [*proof, SOME_HASH]
    if proof:
        yield "empty proof", []


def _inclusion_cases() -> Iterator[tuple[int, int]]:
    for size in range(1, MAX_SIZE + 1):
        for index in range(size):
            yield index, size


@pytest.mark.parametrize("size", range(1, MAX_SIZE + 1))
def test_corrupted_inclusion_proofs_are_rejected(size: int) -> None:
    accepted: list[str] = []
    root_hash = TREE.root(size)
    for index in range(size):
        leaf = TREE.leaf(index)
        proof = TREE.inclusion_proof(index, size)
        assert verify_inclusion(leaf, index, size, proof, root_hash)
        extra = [root_hash, leaf, TREE.root(size + 1)]
        for label, bad in _structural_corruptions(proof, extra, size):
            if verify_inclusion(leaf, index, size, bad, root_hash):
                accepted.append(f"leaf {index}: {label}")
        wrong_roots = {
            "flipped root bit 0": _flip(root_hash, 0),
            "flipped root bit 255": _flip(root_hash, 255),
            "empty-tree root": EMPTY_ROOT,
            "root of the next size": TREE.root(size + 1),
            "root of another tree": OTHER_TREE.root(size),
            "short root": root_hash[:-1],
            "the leaf as root": leaf if size > 1 else SOME_HASH,
        }
        for label, wrong_root in wrong_roots.items():
            if verify_inclusion(leaf, index, size, proof, wrong_root):
                accepted.append(f"leaf {index}: {label}")
        wrong_leaves = {
            "flipped leaf bit": _flip(leaf, 100),
            "entry bytes not hashed": f"entry 0/{index}".encode(),
            "another tree's leaf": OTHER_TREE.leaf(index),
            "neighbouring leaf": TREE.leaf(index + 1),
            "the root as leaf": root_hash if size > 1 else SOME_HASH,
        }
        for label, wrong_leaf in wrong_leaves.items():
            if verify_inclusion(wrong_leaf, index, size, proof, root_hash):
                accepted.append(f"leaf {index}: {label}")
        if proof:
            # Moving a byte between the leaf and the first node keeps SHA-256(0x01 ‖ l ‖ r) the
            # same: only the 32-byte length rule stops it.
            shifted = {
                "byte moved from node 0 to the leaf": (proof[0][-1:] + leaf, proof[0][:-1]),
                "byte moved from node 0 after the leaf": (leaf + proof[0][:1], proof[0][1:]),
            }
            for label, (moved_leaf, moved_node) in shifted.items():
                if verify_inclusion(moved_leaf, index, size, [moved_node, *proof[1:]], root_hash):
                    accepted.append(f"leaf {index}: {label}")
        for wrong_index in [*range(size), size, size + 1, -1, 2**64, 2**70]:
            if wrong_index != index and verify_inclusion(leaf, wrong_index, size, proof, root_hash):
                accepted.append(f"leaf {index}: claimed index {wrong_index}")
        for wrong_size in (0, index, -1, 2**64, 2**70):
            if verify_inclusion(leaf, index, wrong_size, proof, root_hash):
                accepted.append(f"leaf {index}: claimed size {wrong_size}")
    assert accepted == []


@pytest.mark.parametrize("size", range(1, MAX_SIZE + 1))
def test_inclusion_with_another_size_only_where_the_path_has_the_same_shape(size: int) -> None:
    """RFC 9162 proofs do not bind the tree size: when leaf ``i`` has the same path shape in trees
    of ``n`` and ``n'`` leaves, the proof verifies for both (e.g. leaf 4 of 7 and of 8 leaves).
    The size a verifier trusts must come from a signed checkpoint. Every other size is rejected,
    exactly as the independent reference decides."""
    root_hash = TREE.root(size)
    for index in range(size):
        leaf, proof = TREE.leaf(index), TREE.inclusion_proof(index, size)
        for claimed in {size - 1, size + 1, size + 2, 2 * size, size // 2, index + 1, 64}:
            got = verify_inclusion(leaf, index, claimed, proof, root_hash)
            assert got == ref_verify_inclusion(leaf, index, claimed, proof, root_hash)
            if claimed <= index or len(path_ranges(index, 0, claimed)) != len(proof):
                assert not got


def test_inclusion_size_ambiguity_example() -> None:
    proof = TREE.inclusion_proof(4, 7)
    assert verify_inclusion(TREE.leaf(4), 4, 8, proof, TREE.root(7))
    assert not verify_inclusion(TREE.leaf(4), 4, 8, proof, TREE.root(8))


@pytest.mark.parametrize("new", range(1, MAX_SIZE + 1))
def test_corrupted_consistency_proofs_are_rejected(new: int) -> None:
    accepted: list[str] = []
    new_root = TREE.root(new)
    for old in range(1, new + 1):
        old_root = TREE.root(old)
        proof = TREE.consistency_proof(old, new)
        assert verify_consistency(old, new, old_root, new_root, proof)
        extra = [old_root, new_root, *proof[:1]]
        for label, bad in _structural_corruptions(proof, extra, new):
            if verify_consistency(old, new, old_root, new_root, bad):
                accepted.append(f"{old}->{new}: {label}")
        wrong_pairs = {
            "flipped old root": (_flip(old_root, 3), new_root),
            "flipped new root": (old_root, _flip(new_root, 250)),
            "old root of another tree": (OTHER_TREE.root(old), new_root),
            "new root of another tree": (old_root, OTHER_TREE.root(new)),
            "empty-tree old root": (EMPTY_ROOT, new_root),
            "short new root": (old_root, new_root[:16]),
            "root of the next size": (old_root, TREE.root(new + 1)),
        }
        if old != new:
            wrong_pairs["swapped roots"] = (new_root, old_root)
        for label, (wrong_old_root, wrong_new_root) in wrong_pairs.items():
            if verify_consistency(old, new, wrong_old_root, wrong_new_root, proof):
                accepted.append(f"{old}->{new}: {label}")
        for old_size, new_size in [(new, old), (old, -1), (-1, new), (old, 2**64)]:
            if (old_size, new_size) != (old, new) and verify_consistency(
                old_size, new_size, old_root, new_root, proof
            ):
                accepted.append(f"{old}->{new}: claimed sizes {old_size}->{new_size}")
        if old < new and verify_consistency(0, new, old_root, new_root, proof):
            accepted.append(f"{old}->{new}: claimed old size 0")
    assert accepted == []


@pytest.mark.parametrize("new", range(1, MAX_SIZE + 1))
def test_consistency_with_other_sizes_agrees_with_the_reference(new: int) -> None:
    """Changed sizes are rejected unless the claimed sizes give the very same computation (the
    same size ambiguity as for inclusion); the independent reference decides which."""
    new_root = TREE.root(new)
    for old in range(0, new + 1):
        old_root = TREE.root(old)
        proof = TREE.consistency_proof(old, new)
        claims = {
            (old - 1, new),
            (old + 1, new),
            (old, new - 1),
            (old, new + 1),
            (old, 2 * new),
            (old, new // 2),
            (old ^ 2, new),
            (0, new),
            (old, 0),
        }
        for claimed_old, claimed_new in claims:
            got = verify_consistency(claimed_old, claimed_new, old_root, new_root, proof)
            want = ref_verify_consistency(claimed_old, claimed_new, old_root, new_root, proof)
            assert got == want, (old, new, claimed_old, claimed_new)


def test_the_empty_tree_is_a_prefix_of_every_tree() -> None:
    assert verify_consistency(0, 5, EMPTY_ROOT, TREE.root(5), [])
    assert not verify_consistency(0, 5, TREE.root(1), TREE.root(5), [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, TREE.root(5), [TREE.root(5)])
    assert not verify_consistency(0, 0, EMPTY_ROOT, TREE.root(1), [])


@pytest.mark.parametrize(
    "garbage",
    [None, "not bytes", 3.5, [b"x"], [None], [b"\x00" * 32] * 65, b"\x00" * 32, {b"a": 1}],
)
def test_verifiers_never_raise_on_garbage(garbage: object) -> None:
    leaf, good_root = TREE.leaf(0), TREE.root(2)
    proof = TREE.inclusion_proof(0, 2)
    assert not verify_inclusion(leaf, 0, 2, garbage, good_root)  # type: ignore[arg-type]
    assert not verify_inclusion(garbage, 0, 2, proof, good_root)  # type: ignore[arg-type]
    assert not verify_inclusion(leaf, garbage, 2, proof, good_root)  # type: ignore[arg-type]
    assert not verify_inclusion(leaf, 0, garbage, proof, good_root)  # type: ignore[arg-type]
    assert not verify_inclusion(leaf, 0, 2, proof, garbage)  # type: ignore[arg-type]
    cproof = TREE.consistency_proof(1, 3)
    old_root, new_root = TREE.root(1), TREE.root(3)
    assert not verify_consistency(1, 3, old_root, new_root, garbage)  # type: ignore[arg-type]
    assert not verify_consistency(garbage, 3, old_root, new_root, cproof)  # type: ignore[arg-type]
    assert not verify_consistency(1, garbage, old_root, new_root, cproof)  # type: ignore[arg-type]
    assert not verify_consistency(1, 3, garbage, new_root, cproof)  # type: ignore[arg-type]
    assert not verify_consistency(1, 3, old_root, garbage, cproof)  # type: ignore[arg-type]


def test_booleans_are_not_sizes() -> None:
    hashed = leaf_hash(b"x")
    assert not verify_inclusion(hashed, False, True, [], hashed)
    assert verify_inclusion(hashed, 0, 1, [], hashed)


# ---------------------------------------------------------------------------------------------
# Generation errors
# ---------------------------------------------------------------------------------------------


def test_impossible_proof_requests_raise_proof_error() -> None:
    tree = MerkleTree(_leaves(5))
    with pytest.raises(ProofError, match="leaf 5 in a tree of 5"):
        tree.inclusion_proof(5)
    with pytest.raises(ProofError, match="outside a tree of 5"):
        tree.inclusion_proof(0, 6)
    with pytest.raises(ProofError, match="leaf 0 in a tree of 0"):
        tree.inclusion_proof(0, 0)
    with pytest.raises(ProofError, match="from size 4 to size 3"):
        tree.consistency_proof(4, 3)
    with pytest.raises(ProofError, match="outside a tree of 5"):
        tree.root(6)
    with pytest.raises(ProofError, match="no leaf -1"):
        tree.leaf(-1)
    with pytest.raises(ProofError, match="outside a list of 5"):
        inclusion_proof(_leaves(5), 0, 6)
    with pytest.raises(ProofError, match="outside a list of 5"):
        consistency_proof(_leaves(5), 0, 6)


def test_a_leaf_hash_must_be_32_bytes() -> None:
    with pytest.raises(MalformedError, match="32 bytes, got 31"):
        MerkleTree().append(b"\x00" * 31)
    with pytest.raises(MalformedError, match="got str"):
        MerkleTree().append("not bytes")  # type: ignore[arg-type]


def test_trivial_consistency_proofs_are_empty() -> None:
    tree = MerkleTree(_leaves(6))
    assert tree.consistency_proof(0) == []
    assert tree.consistency_proof(6) == []
    assert len(tree) == tree.size == 6


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

sizes = st.integers(min_value=1, max_value=300)


@settings(max_examples=150, deadline=None)
@given(size=sizes, data=st.data())
def test_every_inclusion_proof_verifies(size: int, data: st.DataObject) -> None:
    hashes = _leaves(size, seed=size)
    tree = MerkleTree(hashes)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = tree.inclusion_proof(index)
    assert proof == ref_inclusion_proof(hashes, index, size)
    assert verify_inclusion(hashes[index], index, size, proof, tree.root())
    assert verify_inclusion(hashes[index], index, size, proof, ref_root(hashes))


@settings(max_examples=150, deadline=None)
@given(size=sizes, data=st.data())
def test_every_consistency_proof_verifies(size: int, data: st.DataObject) -> None:
    hashes = _leaves(size, seed=size)
    tree = MerkleTree(hashes)
    new = data.draw(st.integers(min_value=0, max_value=size))
    old = data.draw(st.integers(min_value=0, max_value=new))
    proof = tree.consistency_proof(old, new)
    assert proof == ref_consistency_proof(hashes, old, new)
    assert verify_consistency(old, new, tree.root(old), tree.root(new), proof)


@settings(max_examples=150, deadline=None)
@given(size=sizes, data=st.data())
def test_proofs_fail_against_another_trees_root(size: int, data: st.DataObject) -> None:
    hashes = _leaves(size, seed=size)
    changed_at = data.draw(st.integers(min_value=0, max_value=size - 1))
    other = list(hashes)
    other[changed_at] = leaf_hash(b"a different entry")
    tree, other_tree = MerkleTree(hashes), MerkleTree(other)

    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = tree.inclusion_proof(index)
    assert not verify_inclusion(hashes[index], index, size, proof, other_tree.root())

    old = data.draw(st.integers(min_value=1, max_value=size))
    cproof = tree.consistency_proof(old)
    assert not verify_consistency(old, size, tree.root(old), other_tree.root(), cproof)
    if changed_at < old:
        assert not verify_consistency(old, size, other_tree.root(old), tree.root(), cproof)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=70))
def test_appending_entries_one_by_one_tracks_every_root(entries: list[bytes]) -> None:
    tree = MerkleTree()
    hashes: list[bytes] = []
    for entry in entries:
        tree.append_entry(entry)
        hashes.append(leaf_hash(entry))
        assert tree.root() == ref_root(hashes)
    assert [tree.leaf(i) for i in range(len(entries))] == hashes


def test_random_large_tree_spot_checks() -> None:
    rng = random.Random(9162)
    hashes = _leaves(1500, seed=7)
    tree = MerkleTree(hashes)
    for _ in range(50):
        size = rng.randint(1, 1500)
        index = rng.randrange(size)
        old = rng.randint(0, size)
        assert verify_inclusion(
            hashes[index], index, size, tree.inclusion_proof(index, size), tree.root(size)
        )
        cproof = tree.consistency_proof(old, size)
        assert verify_consistency(old, size, tree.root(old), tree.root(size), cproof)
