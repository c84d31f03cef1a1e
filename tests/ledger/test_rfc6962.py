"""The RFC 6962 tree and RFC 9162 proof verification, against the published CT vectors,
exhaustively for small trees, and as properties of random trees."""

from __future__ import annotations

import hashlib
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import BadConsistencyProof, BadInclusionProof
from ledger.merkle import (
    EMPTY_ROOT,
    SETTLED_LEVEL,
    AssembledTree,
    CompactRange,
    MemoryTree,
    SettledNodes,
    StridedNodes,
    consistency_proof,
    frontier_keys,
    hash_children,
    hash_leaf,
    inclusion_proof,
    is_stored_level,
    root_from_leaves,
    subtree_hashes,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

# Certificate Transparency reference vectors (transparency-dev/merkle testdata).
INPUTS = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
LEAVES = [hash_leaf(bytes.fromhex(x)) for x in INPUTS]
LEAF_HEX = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
]
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
N23 = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
N4_7 = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
N67 = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
N45 = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
N0_3 = ROOTS[4]
TREE = MemoryTree(LEAVES)


def spec_mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, literally: the oracle for the property tests."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hash_children(spec_mth(leaves[:k]), spec_mth(leaves[k:]))


def flips(data: bytes, every_bit: bool = True):
    step = 1 if every_bit else 8
    for bit in range(0, len(data) * 8, step):
        flipped = bytearray(data)
        flipped[bit // 8] ^= 1 << (bit % 8)
        yield bytes(flipped)


def tree(n: int) -> MemoryTree:
    return MemoryTree([hash_leaf(i.to_bytes(4, "big")) for i in range(n)])


# --- the published vectors -------------------------------------------------------------------


def test_leaf_hashes_match_the_vectors():
    assert [leaf.hex() for leaf in LEAVES] == LEAF_HEX


@pytest.mark.parametrize("n", range(9))
def test_roots_match_the_vectors(n):
    assert tree_root(n, TREE).hex() == ROOTS[n]
    assert root_from_leaves(LEAVES[:n]).hex() == ROOTS[n]
    assert spec_mth(LEAVES[:n]).hex() == ROOTS[n]


@pytest.mark.parametrize(
    ("index", "size", "path"),
    [
        (0, 1, []),
        (0, 8, [LEAF_HEX[1], N23, N4_7]),
        (5, 8, [LEAF_HEX[4], N67, N0_3]),
        (2, 3, [ROOTS[2]]),
        (1, 5, [LEAF_HEX[0], N23, LEAF_HEX[4]]),
    ],
)
def test_inclusion_proofs_match_the_vectors(index, size, path):
    proof = inclusion_proof(index, size, TREE)
    assert [p.hex() for p in proof] == path
    verify_inclusion(LEAVES[index], index, size, proof, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        (1, 1, []),
        (1, 8, [LEAF_HEX[1], N23, N4_7]),
        (6, 8, [N45, N67, N0_3]),
        (2, 5, [N23, LEAF_HEX[4]]),
    ],
)
def test_consistency_proofs_match_the_vectors(old, new, path):
    proof = consistency_proof(old, new, TREE)
    assert [p.hex() for p in proof] == path
    verify_consistency(old, new, proof, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]))


def test_the_empty_tree_is_the_hash_of_nothing():
    assert EMPTY_ROOT.hex() == ROOTS[0]
    assert CompactRange().root() == EMPTY_ROOT


# --- exhaustive rejects for small trees ------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 17))
def test_inclusion_every_alteration_is_refused(n):
    t = tree(n)
    root = t.root()
    for index in range(n):
        leaf, proof = t.levels[0][index], inclusion_proof(index, n, t)
        verify_inclusion(leaf, index, n, proof, root)
        every_bit = n <= 8
        for i, element in enumerate(proof):
            for bad in flips(element, every_bit):
                with pytest.raises(BadInclusionProof):
                    verify_inclusion(leaf, index, n, [*proof[:i], bad, *proof[i + 1 :]], root)
        for bad in flips(root, every_bit):
            with pytest.raises(BadInclusionProof):
                verify_inclusion(leaf, index, n, proof, bad)
        for bad in flips(leaf, every_bit):
            with pytest.raises(BadInclusionProof):
                verify_inclusion(bad, index, n, proof, root)
        for other in range(n + 2):
            if other != index:
                with pytest.raises(BadInclusionProof):
                    verify_inclusion(leaf, other, n, proof, root)
        # The tree size is not bound by the path but by the signed checkpoint that pairs it
        # with the root (see test_receipts: every bit of the size is covered there).
        with pytest.raises(BadInclusionProof):
            verify_inclusion(leaf, index, n, [*proof, root], root)
        if proof:
            with pytest.raises(BadInclusionProof):
                verify_inclusion(leaf, index, n, proof[:-1], root)


@pytest.mark.parametrize("n", range(2, 17))
def test_consistency_every_alteration_is_refused(n):
    t = tree(n)
    new_root = t.root()
    for m in range(1, n):
        old_root, proof = t.root(m), consistency_proof(m, n, t)
        verify_consistency(m, n, proof, old_root, new_root)
        every_bit = n <= 8
        for i, element in enumerate(proof):
            for bad in flips(element, every_bit):
                with pytest.raises(BadConsistencyProof):
                    verify_consistency(m, n, [*proof[:i], bad, *proof[i + 1 :]], old_root, new_root)
        for bad in flips(old_root, every_bit):
            with pytest.raises(BadConsistencyProof):
                verify_consistency(m, n, proof, bad, new_root)
        for bad in flips(new_root, every_bit):
            with pytest.raises(BadConsistencyProof):
                verify_consistency(m, n, proof, old_root, bad)
        for other in range(n + 2):
            if other != m:
                with pytest.raises(BadConsistencyProof):
                    verify_consistency(other, n, proof, old_root, new_root)
        with pytest.raises(BadConsistencyProof):
            verify_consistency(m, n, [*proof, new_root], old_root, new_root)
        with pytest.raises(BadConsistencyProof):
            verify_consistency(m, n, proof[:-1], old_root, new_root)
        with pytest.raises(BadConsistencyProof):
            verify_consistency(m, n, [], old_root, new_root)


def test_consistency_edge_cases():
    t = tree(5)
    with pytest.raises(BadConsistencyProof):
        verify_consistency(5, 3, [], t.root(5), t.root(3))
    with pytest.raises(BadConsistencyProof):
        verify_consistency(5, 5, [t.root(5)], t.root(5), t.root(5))
    with pytest.raises(BadConsistencyProof):
        verify_consistency(5, 5, [], t.root(5), t.root(4))
    with pytest.raises(BadConsistencyProof):
        verify_consistency(0, 5, [t.root(5)], EMPTY_ROOT, t.root(5))
    verify_consistency(0, 5, [], EMPTY_ROOT, t.root(5))
    verify_consistency(5, 5, [], t.root(5), t.root(5))


def test_inclusion_edge_cases():
    t = tree(4)
    with pytest.raises(BadInclusionProof):
        verify_inclusion(t.levels[0][0], 0, 0, [], EMPTY_ROOT)
    with pytest.raises(BadInclusionProof):
        verify_inclusion(t.levels[0][0], 4, 4, inclusion_proof(3, 4, t), t.root())
    with pytest.raises(BadInclusionProof):
        verify_inclusion(t.levels[0][0][:31], 0, 4, inclusion_proof(0, 4, t), t.root())


@pytest.mark.parametrize(("k", "n"), [(1, 4), (3, 8), (5, 13), (8, 16)])
def test_a_forked_prefix_fails_consistency(k, n):
    honest = tree(n)
    fork = MemoryTree([*honest.levels[0][:k], hash_leaf(b"forged")])
    with pytest.raises(BadConsistencyProof):
        verify_consistency(
            k + 1, n, consistency_proof(k + 1, n, honest), fork.root(), honest.root()
        )


# --- properties of random trees --------------------------------------------------------------

leaf_lists = st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=300, unique=True)


@settings(max_examples=60, deadline=None)
@given(leaf_lists)
def test_every_way_of_computing_the_root_agrees(leaves):
    t = MemoryTree(leaves)
    compact = CompactRange()
    for leaf in leaves:
        compact.append(leaf)
    expected = spec_mth(leaves)
    assert root_from_leaves(leaves) == expected
    assert t.root() == expected
    assert compact.root() == expected
    assert CompactRange.load(len(leaves), t).root() == expected
    assert len(frontier_keys(len(leaves))) == len(leaves).bit_count()


@settings(max_examples=80, deadline=None)
@given(leaf_lists, st.data())
def test_random_proofs_verify_and_are_bound_to_their_index(leaves, data):
    t = MemoryTree(leaves)
    n = len(leaves)
    index = data.draw(st.integers(0, n - 1))
    proof = inclusion_proof(index, n, t)
    verify_inclusion(leaves[index], index, n, proof, spec_mth(leaves))
    other = data.draw(st.integers(0, n - 1))
    if other != index:
        with pytest.raises(BadInclusionProof):
            verify_inclusion(leaves[index], other, n, proof, spec_mth(leaves))
    m = data.draw(st.integers(1, n))
    verify_consistency(m, n, consistency_proof(m, n, t), spec_mth(leaves[:m]), spec_mth(leaves))


def test_compact_range_reports_the_subtrees_each_leaf_completes():
    compact, t = CompactRange(), MemoryTree()
    for i in range(64):
        leaf = hash_leaf(bytes([i]))
        completed = compact.append(leaf)
        t.append(leaf)
        for (level, idx), digest in completed:
            assert t.levels[level][idx] == digest
        assert [level for (level, _), _ in completed] == [
            level for level in range(1, (i ^ (i + 1)).bit_length()) if is_stored_level(level)
        ]


@settings(max_examples=60, deadline=None)
@given(leaf_lists, st.data())
def test_a_compact_range_extended_by_runs_completes_the_subtrees_of_the_whole_tree(leaves, data):
    """``extend`` (an append's leaves at once) from an edge loaded at any size: the stored
    subtrees it reports, in order, and its root are those of the tree of all the leaves."""
    t = MemoryTree(leaves)
    start = data.draw(st.integers(0, len(leaves) - 1))
    compact, at = CompactRange.load(start, MemoryTree(leaves[:start])), start
    while at < len(leaves):
        run = data.draw(st.integers(1, len(leaves) - at))
        completed = compact.extend(leaves[at : at + run])
        expected = [
            ((level, i >> level), t.levels[level][i >> level])
            for i in range(at, at + run)
            for level in range(1, (i ^ (i + 1)).bit_length())
            if is_stored_level(level)
        ]
        assert completed == expected
        at += run
        assert compact.size == at
        assert compact.root() == spec_mth(leaves[:at])


@pytest.mark.parametrize("n", [1, 15, 16, 17, 255, 256, 300, 1000])
def test_proofs_from_strided_storage_equal_proofs_from_every_level(n):
    full = tree(n)
    stored = {
        (level, idx): digest
        for level, hashes in enumerate(full.levels)
        if is_stored_level(level)
        for idx, digest in enumerate(hashes)
    }

    class OnlyStoredLevels:
        def read_nodes(self, keys):
            return {key: stored[key] for key in keys}

    strided = StridedNodes(OnlyStoredLevels())
    assert tree_root(n, strided) == full.root()
    for index in {0, n // 3, n - 1}:
        assert inclusion_proof(index, n, strided) == inclusion_proof(index, n, full)
    for m in {1, n // 2, n - 1} - {0}:
        assert consistency_proof(m, n, strided) == consistency_proof(m, n, full)
    assert CompactRange.load(n, strided).root() == full.root()


def test_settled_nodes_answer_as_the_store_while_the_tree_grows_and_keep_only_high_subtrees():
    full = tree(3000)
    reads: list[tuple[int, int]] = []

    class Store:
        def read_nodes(self, keys):
            reads.extend(keys)
            return full.read_nodes(keys)

    settled = SettledNodes(Store(), limit=5)
    # The tree grows between questions: a subtree kept at one size is the same at any later one.
    for n in (300, 1000, 1024, 2049, 3000):
        assert tree_root(n, settled) == full.root(n)
        for index in (0, n // 3, n - 1):
            assert inclusion_proof(index, n, settled) == inclusion_proof(index, n, full)
        assert consistency_proof(n // 2, n, settled) == consistency_proof(n // 2, n, full)
    assert 0 < len(settled.nodes) <= 5
    assert all(level >= SETTLED_LEVEL for level, _ in settled.nodes)
    assert all(settled.nodes[key] == full.read_nodes([key])[key] for key in settled.nodes)

    # A kept subtree is not asked of the store again; a low one is, every time.
    reads.clear()
    high, low = next(iter(settled.nodes)), (0, 7)
    assert settled.read_nodes([high, low]) == full.read_nodes([high, low])
    assert reads == [low]


@settings(max_examples=80, deadline=None)
@given(leaf_lists, st.data())
def test_a_tree_assembled_from_runs_and_their_subtrees_is_the_whole_tree(leaves, data):
    """The verifier's tree: runs of leaves, each with its subtrees hashed apart (or, when its
    place was not known there, without them), cut at checkpoint sizes, give every node, root
    and proof of the tree made from all the leaves at once."""
    n = len(leaves)
    runs = sorted(data.draw(st.sets(st.integers(1, n - 1), max_size=5))) if n > 1 else []
    cuts = data.draw(st.lists(st.integers(0, n + 3), max_size=4))
    whole = MemoryTree(leaves)
    tree = AssembledTree(cuts)
    for lo, hi in itertools.pairwise([0, *runs, n]):
        run = b"".join(leaves[lo:hi])
        tree.add(run, subtree_hashes(lo, run, cuts) if data.draw(st.booleans()) else None)
    assert tree.size == n
    for size in range(1, n + 1):
        assert tree.root(size) == whole.root(size)
    old = data.draw(st.integers(1, n))
    assert consistency_proof(old, n, tree) == consistency_proof(old, n, whole)
    index = data.draw(st.integers(0, n - 1))
    assert inclusion_proof(index, n, tree) == inclusion_proof(index, n, whole)


def test_the_subtrees_of_a_run_are_the_largest_that_fit_between_the_cuts():
    leaves = b"".join(hash_leaf(bytes([i])) for i in range(24))
    # Leaves 3..23, cut at 10 and 16: [3], [4..7], [8..9], then [10..11], [12..15], [16..23].
    assert sorted(subtree_hashes(3, leaves[3 * 32 :], [10, 16, 30])) == [
        (0, 3),
        (1, 4),
        (1, 5),
        (2, 1),
        (2, 3),
        (3, 2),
    ]
