"""The RFC 6962 Merkle tree: hashes, proofs from stored subtrees, and RFC 9162 verification.

A node is named by ``(level, idx)``: the perfect subtree over leaves
``[idx << level, (idx + 1) << level)``; level 0 names a leaf hash. Proofs are computed from
those nodes, so a store that keeps every completed subtree answers in O(log n) lookups.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Protocol

from ledger.errors import BadConsistencyProof, BadInclusionProof

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeKey = tuple[int, int]
Range = tuple[int, int]


def hash_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaves(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes, bottom-up: an unpaired node is promoted, never duplicated."""
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    while len(level) > 1:
        paired = [hash_children(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


# --- which subtrees a root or a proof is made of -------------------------------------------


def range_nodes(lo: int, hi: int) -> list[NodeKey]:
    """The perfect subtrees that MTH(D[lo:hi]) is built from, left to right."""
    width = hi - lo
    if width <= 0:
        raise ValueError("empty range")
    if width & (width - 1) == 0 and lo % width == 0:
        level = width.bit_length() - 1
        return [(level, lo >> level)]
    k = split_point(width)
    return range_nodes(lo, lo + k) + range_nodes(lo + k, hi)


def range_hash(lo: int, hi: int, nodes: Mapping[NodeKey, bytes]) -> bytes:
    width = hi - lo
    if width & (width - 1) == 0 and lo % width == 0:
        level = width.bit_length() - 1
        return nodes[(level, lo >> level)]
    k = split_point(width)
    return hash_children(range_hash(lo, lo + k, nodes), range_hash(lo + k, hi, nodes))


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """RFC 6962 PATH(index, D[size]) as leaf ranges, from the leaf's sibling up."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} is not in a tree of size {size}")
    path: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo += k
    path.reverse()
    return path


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """RFC 6962 PROOF(old_size, D[new_size]) as leaf ranges."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from {old_size} to {new_size}")
    proof: list[Range] = []
    lo, width, m, whole = 0, new_size, old_size, True
    while m != width:
        k = split_point(width)
        if m <= k:
            proof.append((lo + k, lo + width))
            width = k
        else:
            proof.append((lo, lo + k))
            lo, m, width, whole = lo + k, m - k, width - k, False
    if not whole:
        proof.append((lo, lo + width))
    proof.reverse()
    return proof


class NodeReader(Protocol):
    """Anything that can hand out stored subtree hashes (memory, a database)."""

    def read_nodes(self, keys: Collection[NodeKey]) -> Mapping[NodeKey, bytes]: ...


def _hashes_of(ranges: Sequence[Range], reader: NodeReader) -> list[bytes]:
    keys = {key for lo, hi in ranges for key in range_nodes(lo, hi)}
    nodes = reader.read_nodes(keys)
    return [range_hash(lo, hi, nodes) for lo, hi in ranges]


def tree_root(size: int, reader: NodeReader) -> bytes:
    if size == 0:
        return EMPTY_ROOT
    return _hashes_of([(0, size)], reader)[0]


def inclusion_proof(index: int, size: int, reader: NodeReader) -> list[bytes]:
    return _hashes_of(inclusion_ranges(index, size), reader)


def consistency_proof(old_size: int, new_size: int, reader: NodeReader) -> list[bytes]:
    if old_size == 0 or old_size == new_size:
        return []
    return _hashes_of(consistency_ranges(old_size, new_size), reader)


# --- RFC 9162 verification ------------------------------------------------------------------


def _check_hashes(proof: Sequence[bytes], error: type[Exception]) -> None:
    for element in proof:
        if len(element) != HASH_SIZE:
            raise error(f"a proof hash has {len(element)} bytes, not {HASH_SIZE}")


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 section 2.1.3.2; raises BadInclusionProof on every reject path."""
    _check_hashes([leaf, root, *proof], BadInclusionProof)
    if index < 0 or index >= size:
        raise BadInclusionProof("index is not below the tree size", index=index)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise BadInclusionProof("proof is longer than the tree is deep", index=index)
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise BadInclusionProof("proof is too short", index=index)
    if r != root:
        raise BadInclusionProof(
            "proof does not lead to the root", index=index, expected=root.hex(), found=r.hex()
        )


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> None:
    """RFC 9162 section 2.1.4.2; raises BadConsistencyProof on every reject path."""
    _check_hashes([old_root, new_root, *proof], BadConsistencyProof)
    if old_size < 0 or old_size > new_size:
        raise BadConsistencyProof(f"old size {old_size} is larger than new size {new_size}")
    if old_size == new_size:
        if proof:
            raise BadConsistencyProof("equal sizes need an empty proof")
        if old_root != new_root:
            raise BadConsistencyProof(
                "equal sizes with different roots", expected=old_root.hex(), found=new_root.hex()
            )
        return
    if old_size == 0:
        if proof:
            raise BadConsistencyProof("a proof from the empty tree must be empty")
        return
    if not proof:
        raise BadConsistencyProof("empty proof")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise BadConsistencyProof("proof is too long")
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise BadConsistencyProof("proof is too short")
    if fr != old_root:
        raise BadConsistencyProof(
            "proof does not lead to the old root", expected=old_root.hex(), found=fr.hex()
        )
    if sr != new_root:
        raise BadConsistencyProof(
            "proof does not lead to the new root", expected=new_root.hex(), found=sr.hex()
        )


# --- appending ------------------------------------------------------------------------------


def frontier_keys(size: int) -> list[NodeKey]:
    """The perfect subtrees whose hashes summarise a tree of ``size`` leaves, left to right."""
    keys: list[NodeKey] = []
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            start = size >> (level + 1) << (level + 1)
            keys.append((level, start >> level))
    return keys


class CompactRange:
    """The right edge of the tree: enough to append leaves and compute the root in O(log n)."""

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        self.size = size
        self.hashes = list(hashes)
        if len(self.hashes) != size.bit_count():
            raise ValueError("a compact range holds one hash per set bit of its size")

    @classmethod
    def load(cls, size: int, reader: NodeReader) -> CompactRange:
        keys = frontier_keys(size)
        nodes = reader.read_nodes(keys)
        return cls(size, [nodes[key] for key in keys])

    def append(self, leaf: bytes) -> list[tuple[NodeKey, bytes]]:
        """Add a leaf; return the stored subtrees (``is_stored_level``) that it completes."""
        return self.extend((leaf,))

    def extend(self, leaves: Iterable[bytes]) -> list[tuple[NodeKey, bytes]]:
        """Add leaves; return the stored subtrees (``is_stored_level``, never a leaf) that
        they complete, in order: what an append stores beside its entries."""
        hashes, index = self.hashes, self.size
        completed: list[tuple[NodeKey, bytes]] = []
        for leaf in leaves:
            node, level = leaf, 0
            while index >> level & 1:
                node = hash_children(hashes.pop(), node)
                level += 1
                if is_stored_level(level):
                    completed.append(((level, index >> level), node))
            hashes.append(node)
            index = self.size = index + 1
        return completed

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        node = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            node = hash_children(left, node)
        return node


NODE_STRIDE = 4
# Kept in memory by SettledNodes: subtrees of 256 leaves and more, at most 2**16 of them
# (~10 MB; every one of a ledger of 16,777,216 entries).
SETTLED_LEVEL = 8
SETTLED_LIMIT = 1 << 16


def is_stored_level(level: int) -> bool:
    """Stores keep leaves and every NODE_STRIDE-th level, as tiles do: ~n/15 rows for n leaves."""
    return level % NODE_STRIDE == 0


class StridedNodes:
    """Any subtree hash, computed from a store that keeps only the stored levels."""

    def __init__(self, stored: NodeReader) -> None:
        self.stored = stored

    def read_nodes(self, keys: Collection[NodeKey]) -> dict[NodeKey, bytes]:
        spans = {(level, idx): _base_span(level, idx) for level, idx in keys}
        wanted = {(base, i) for base, first, last in spans.values() for i in range(first, last)}
        stored = self.stored.read_nodes(wanted)
        nodes = {}
        for key, (base, first, last) in spans.items():
            level = [stored[(base, i)] for i in range(first, last)]
            while len(level) > 1:
                level = [hash_children(level[i], level[i + 1]) for i in range(0, len(level), 2)]
            nodes[key] = level[0]
        return nodes


class SettledNodes:
    """Subtrees of at least 2**SETTLED_LEVEL leaves, kept once read from ``stored``: a perfect
    subtree's hash never changes once its leaves exist, and the proofs and roots of any size
    share the high ones, so a proof reads from the store only the few low ones it needs."""

    def __init__(self, stored: NodeReader, limit: int = SETTLED_LIMIT) -> None:
        self.stored = stored
        self.limit = limit
        self.nodes: dict[NodeKey, bytes] = {}

    def read_nodes(self, keys: Collection[NodeKey]) -> dict[NodeKey, bytes]:
        nodes = self.nodes
        found = {key: nodes[key] for key in keys if key in nodes}
        if len(found) < len(keys):
            read = self.stored.read_nodes([key for key in keys if key not in found])
            for key, value in read.items():
                if key[0] >= SETTLED_LEVEL and len(nodes) < self.limit:
                    nodes[key] = value
            found.update(read)
        return found


def _base_span(level: int, idx: int) -> tuple[int, int, int]:
    base = level - level % NODE_STRIDE
    width = 1 << (level - base)
    return base, idx * width, (idx + 1) * width


class MemoryTree:
    """Every completed subtree in memory: for verifiers, exports and tests."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [list(leaves)]
        level = self.levels[0]
        sha256 = hashlib.sha256
        while len(level) > 1:
            # hash_children, written out: a verifier builds a million nodes here.
            level = [
                sha256(b"\x01" + level[i] + level[i + 1]).digest()
                for i in range(0, len(level) - 1, 2)
            ]
            self.levels.append(level)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append(self, leaf: bytes) -> None:
        self.levels[0].append(leaf)
        level, idx = 0, self.size - 1
        while idx & 1:
            node = hash_children(self.levels[level][idx - 1], self.levels[level][idx])
            level, idx = level + 1, idx >> 1
            if len(self.levels) == level:
                self.levels.append([])
            self.levels[level].append(node)

    def read_nodes(self, keys: Collection[NodeKey]) -> dict[NodeKey, bytes]:
        return {(level, idx): self.levels[level][idx] for level, idx in keys}

    def root(self, size: int | None = None) -> bytes:
        return tree_root(self.size if size is None else size, self)


def subtree_hashes(
    start: int, leaves: bytes | bytearray, cuts: Iterable[int] = ()
) -> dict[NodeKey, bytes]:
    """The perfect subtrees over the leaves ``start..`` (their hashes as one ``bytes``): the
    largest that fit between the ``cuts``, so that the root of a tree whose size is a cut is
    made from them, never from their leaves. Where the leaves were checked (a worker process),
    this is the tree's work done there, not after the last run."""
    end = start + len(leaves) // HASH_SIZE
    bounds = sorted({start, end, *(cut for cut in cuts if start < cut < end)})
    sha256 = hashlib.sha256
    nodes: dict[NodeKey, bytes] = {}
    for lo, hi in itertools.pairwise(bounds):
        while lo < hi:
            # The largest power of two that lo is a multiple of and that fits before hi.
            level = (hi - lo).bit_length() - 1
            if lo:
                level = min(level, (lo & -lo).bit_length() - 1)
            at = (lo - start) * HASH_SIZE
            layer = leaves[at : at + (HASH_SIZE << level)]
            while len(layer) > HASH_SIZE:
                # hash_children, written out: a million nodes are made here.
                layer = b"".join(
                    [
                        sha256(b"\x01" + layer[i : i + 2 * HASH_SIZE]).digest()
                        for i in range(0, len(layer), 2 * HASH_SIZE)
                    ]
                )
            nodes[(level, lo >> level)] = bytes(layer)
            lo += 1 << level
    return nodes


class AssembledTree:
    """A tree put together from runs of leaves, each with the hashes of perfect subtrees over
    it (``subtree_hashes``, made where the run was checked, or here when it comes without);
    any other node is made from those, or from the leaves, when asked, and kept."""

    def __init__(self, cuts: Iterable[int] = ()) -> None:
        self.cuts = tuple(cuts)
        self.leaves = bytearray()
        self.nodes: dict[NodeKey, bytes] = {}

    @property
    def size(self) -> int:
        return len(self.leaves) // HASH_SIZE

    def add(self, leaves: bytes | bytearray, nodes: Mapping[NodeKey, bytes] | None = None) -> None:
        """Leaves that follow on, with ``subtree_hashes(self.size, leaves, ...)`` if known."""
        self.nodes.update(subtree_hashes(self.size, leaves, self.cuts) if nodes is None else nodes)
        self.leaves += leaves

    def node(self, level: int, idx: int) -> bytes:
        if level == 0:
            return bytes(self.leaves[idx * HASH_SIZE : (idx + 1) * HASH_SIZE])
        node = self.nodes.get((level, idx))
        if node is None:
            node = hash_children(self.node(level - 1, 2 * idx), self.node(level - 1, 2 * idx + 1))
            self.nodes[(level, idx)] = node
        return node

    def read_nodes(self, keys: Collection[NodeKey]) -> dict[NodeKey, bytes]:
        return {(level, idx): self.node(level, idx) for level, idx in keys}

    def root(self, size: int | None = None) -> bytes:
        return tree_root(self.size if size is None else size, self)
