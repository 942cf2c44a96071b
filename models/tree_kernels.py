"""Numba kernels that evaluate flattened tree ensembles (pure functions of arrays, ``cache=True``).

Node table
----------
The kernels walk a *node table*, a record array with one 8-byte record per node (dtype
:data:`NODE_DTYPE`), built from scikit-learn's parallel arrays by
:meth:`magnetscreen.models.trees.FlatEnsemble.node_table`. The nodes of each tree are renumbered in
depth-first pre-order, left subtree first (:func:`preorder_kernel`), so an inner node's left child is the
next node and only the right one needs a link:

``threshold`` : float32
    The largest float32 that is <= scikit-learn's float64 threshold (NaN at a leaf).
``link`` : uint32
    ``feature << 24 | (right - node)``: the split feature (0 at a leaf; at most 255) and the distance
    from the node to its right child (0 at a leaf; less than 2^24 nodes within a tree).

A row at node ``c`` moves to ``c + 1`` (the left child) when ``x[feature] <= threshold``, else to
``c + (link & 0xFFFFFF)``; a leaf stays where it is.

Split rule and exactness
------------------------
scikit-learn casts X to float32 and sends a sample left when ``float64(x) <= t``, t a float64. For a
float32 x this holds exactly when ``x <= f`` with f the largest float32 not above t (if x <= f then
x <= t; if x <= t, x is a float32 not above t, so x <= f by the choice of f), so the kernels compare
in float32 and take the same branch as scikit-learn for every float32 input (NaN-free; a NaN x goes
right, as in the plain ``<=`` rule). A leaf's threshold is NaN, so ``x <= threshold`` is false and the
walk stays on the leaf (its right link is 0): with this, a tree of depth D is walked in at most D steps
with a select, not a jump, whatever leaf a row ends in.

Small trees as leaf masks
-------------------------
A tree with at most :data:`MASK_LEAVES` leaves is not walked: its leaves are numbered from left to right
(their order in the pre-order table) and each inner node gets the bits of the leaves *outside* its left
subtree (:func:`leaf_mask_kernel`, records of :data:`MASK_DTYPE`). A row starts with every bit set and, for
every inner node whose test fails (``x[feature] <= threshold`` false: the row would go right there), keeps
only that node's bits. The leaf the walk reaches is then the lowest bit still set (the exit leaf of
QuickScorer, Lucchese et al., SIGIR 2015, doi:10.1145/2766462.2767733). Every leaf left of the walk's
leaf lies in the left subtree of their lowest common ancestor, a node on the walk's path where the walk went
right (its test failed), so its bit is cleared; the walk's leaf keeps its bit, since only the left subtrees
of its ancestors hold it and the walk went left (the test held) at each of those. Every inner node is one
test over all rows of a block (contiguous, so the processor does several rows at once) instead of one
dependent step per level and row.

Order of work
-------------
Rows are taken in blocks of :data:`BLOCK`; a block is copied feature-major (``xt[feature, row]``,
rounded to float32 if X is float64) and
walked tree by tree, one level of the tree at a time over all rows of the block, so the walks of
different rows are independent and overlap in the processor (small trees: one inner node at a time over
all rows). Each row's tree predictions are then summed in tree order, as scikit-learn accumulates them,
so the means are bitwise equal to ``predict`` (the rows of a block are summed side by side, each in tree
order). Threads (``prange``) take chunks of :data:`CHUNK` rows; every row is computed the same
way whatever the chunk or thread, so results do not depend on the number of threads.
"""

from __future__ import annotations

import numba
import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

#: One node of the node table (8 bytes): see the module docstring.
NODE_DTYPE = np.dtype([("threshold", np.float32), ("link", np.uint32)])

#: One inner node of a small tree (16 bytes): the leaves a failed test keeps, and the test.
MASK_DTYPE = np.dtype([("bits", np.uint64), ("threshold", np.float32), ("feature", np.uint32)])

#: Trees with at most this many leaves are evaluated with leaf masks (one bit per leaf in a uint64).
MASK_LEAVES = 64

#: Bits of ``link`` holding the distance to the right child; the feature takes the 8 bits above them.
OFFSET_BITS = 24
#: Most features a node table can address, and one more than the largest distance to a right child.
MAX_FEATURES = 1 << (32 - OFFSET_BITS)
MAX_OFFSET = 1 << OFFSET_BITS

#: Rows walked together through a tree (their feature-major copy is 64 x 156 float32 = 39 KB, of which a tree
#: touches the features it splits on). On the shipped forests and the benchmark's 2-14-1 chunk (one thread),
#: 64 rows with checks from 5/8 of the depth walk the Tc forest about 10 % faster than 32 rows from 6/8, K1 and Js
#: about 3 %; 8, 16, 128 and 256 rows are slower.
BLOCK = 64

#: Rows per parallel task; the task's scratch arrays are allocated once per chunk.
CHUNK = 2048

#: The walk of a block checks for "all rows at leaves" after each level from 5/8 of the tree's depth on
#: (checking every level costs more than it saves on the benchmark's forests).
CHECK_FROM_EIGHTHS = 5


@numba.njit(cache=True)
def _load_block(X, tail, lo, m, xt):
    """Copy rows ``lo .. lo+m-1`` of X (float32 or float64 (n, d)) feature-major into ``xt[:d, :m]``, and the
    ``tail`` values (float64 (e,), the same for every row) into ``xt[d:d + e, :m]`` (xt: float32 (d + e, BLOCK)),
    rounding float64 to float32 as ``astype(np.float32)`` does."""
    d = X.shape[1]
    for i in range(m):
        for f in range(d):
            xt[f, i] = np.float32(X[lo + i, f])
    for e in range(tail.shape[0]):
        value = np.float32(tail[e])
        for i in range(m):
            xt[d + e, i] = value


@numba.njit(cache=True)
def _walk_block(xt, m, root, depth, nodes, cur):
    """Leaf ids reached by the m rows of ``xt`` in the tree with root ``root`` and depth ``depth``.

    ``nodes`` is the node table (:data:`NODE_DTYPE`); the leaf ids are written to ``cur[:m]`` (uint32).
    Each level moves every row one step: to the next node (the left child) if ``xt[feature, row] <=
    threshold``, else by the right link; rows already at a leaf stay there. From level
    ``CHECK_FROM_EIGHTHS / 8 * depth`` on, the walk stops as soon as every row is at a leaf (the remaining
    levels would change nothing); there is no check where it could save one level at most (the last two
    levels: a check costs about as much as a level).
    """
    for i in range(m):
        cur[i] = root
    check_from = (depth * CHECK_FROM_EIGHTHS) // 8
    for level in range(depth):
        for i in range(m):
            c = cur[i]
            nd = nodes[c]
            link = nd.link
            feature = link >> np.uint32(OFFSET_BITS)
            cur[i] = c + np.uint32(1) if xt[feature, i] <= nd.threshold else c + (link & np.uint32(MAX_OFFSET - 1))
        if level >= check_from and level + 2 < depth:
            at_leaves = True
            for i in range(m):
                at_leaves &= np.isnan(nodes[cur[i]].threshold)
            if at_leaves:
                return


@numba.njit(cache=True)
def _mask_block(xt, m, masks, k0, k1, leaf_nodes, l0, bits, cur):
    """Leaf ids reached by the m rows of ``xt`` in a small tree (see "Small trees as leaf masks"): the tree's
    inner nodes are ``masks[k0:k1]`` and its leaves, from left to right, ``leaf_nodes[l0:]``; ``bits``
    (uint64, BLOCK) is scratch; the leaf ids are written to ``cur[:m]``."""
    everything = np.uint64(0xFFFFFFFFFFFFFFFF)
    for i in range(m):
        bits[i] = everything
    for k in range(k0, k1):
        rec = masks[k]
        row = xt[rec.feature]
        threshold = rec.threshold
        keep = rec.bits
        for i in range(m):
            bits[i] &= everything if row[i] <= threshold else keep
    for i in range(m):
        cur[i] = leaf_nodes[l0 + trailing_zeros(bits[i])]  # type: ignore[call-arg]  # a numba intrinsic


@numba.njit(cache=True)
def _tree_block(xt, m, t, roots, depths, nodes, mask_start, masks, leaf_start, leaf_nodes, bits, cur):
    """Leaf ids of the m rows of ``xt`` in tree t: by leaf masks if the tree has any leaf listed in
    ``leaf_nodes`` (a small tree), else by the walk."""
    if leaf_start[t + 1] > leaf_start[t]:
        _mask_block(xt, m, masks, mask_start[t], mask_start[t + 1], leaf_nodes, leaf_start[t], bits, cur)
    else:
        _walk_block(xt, m, roots[t], depths[t], nodes, cur)


@numba.njit(cache=True)
def leaf_mask_kernel(roots, nodes):
    """The leaf-mask tables of the trees with at most :data:`MASK_LEAVES` leaves.

    Parameters
    ----------
    roots : uint32 (T,), the first node of each tree (the trees lie one after another in ``nodes``)
    nodes : NODE_DTYPE (N,), the pre-order node table

    Returns
    -------
    mask_start : int64 (T + 1,)
        The inner nodes of tree t are ``masks[mask_start[t]:mask_start[t + 1]]`` (none for a large tree).
    masks : MASK_DTYPE (K,)
        Per inner node, in pre-order: ``bits``, every bit set except those of the leaves of its left subtree
        (leaf j of the tree is bit j, leaves numbered from left to right); ``threshold`` and ``feature``, its test.
    leaf_start : int64 (T + 1,)
        The leaves of tree t are ``leaf_nodes[leaf_start[t]:leaf_start[t + 1]]``, from left to right (none
        for a large tree).
    leaf_nodes : uint32 (L,), node ids
    """
    n_trees = roots.shape[0]
    n_nodes = nodes.shape[0]
    before = np.zeros(n_nodes + 1, dtype=np.int64)  # leaves before each node in the table
    for c in range(n_nodes):
        before[c + 1] = before[c] + (1 if np.isnan(nodes[c].threshold) else 0)
    mask_start = np.zeros(n_trees + 1, dtype=np.int64)
    leaf_start = np.zeros(n_trees + 1, dtype=np.int64)
    masks = np.zeros(n_nodes, dtype=MASK_DTYPE)
    leaf_nodes = np.zeros(n_nodes, dtype=np.uint32)
    k = 0
    j = 0
    everything = np.uint64(0xFFFFFFFFFFFFFFFF)
    for t in range(n_trees):
        lo = np.int64(roots[t])
        hi = np.int64(roots[t + 1]) if t + 1 < n_trees else n_nodes
        if before[hi] - before[lo] <= MASK_LEAVES:
            for c in range(lo, hi):
                if np.isnan(nodes[c].threshold):
                    leaf_nodes[j] = c
                    j += 1
                else:
                    right = c + np.int64(nodes[c].link & np.uint32(MAX_OFFSET - 1))
                    first = before[c + 1] - before[lo]  # the left subtree is nodes c + 1 .. right - 1
                    count = before[right] - before[c + 1]  # fewer than the tree's leaves, so at most 63
                    left = ((np.uint64(1) << np.uint64(count)) - np.uint64(1)) << np.uint64(first)
                    masks[k].bits = everything ^ left
                    masks[k].threshold = nodes[c].threshold
                    masks[k].feature = nodes[c].link >> np.uint32(OFFSET_BITS)
                    k += 1
        mask_start[t + 1] = k
        leaf_start[t + 1] = j
    return mask_start, masks[:k].copy(), leaf_start, leaf_nodes[:j].copy()


@numba.njit(cache=True, parallel=True)
def forest_predict_kernel(X, tail, roots, depths, nodes, value, mask_start, masks, leaf_start, leaf_nodes):
    """Mean and standard deviation over the trees of an averaging ensemble (random forest, extra trees).

    Parameters
    ----------
    X : float32 or float64 (n, d), C-contiguous
        Rounded to float32 on the fly (as scikit-learn's cast), so a float64 matrix needs no copy.
    tail : float64 (e,)
        Values of the features d .. d + e - 1, the same for every row (constant context columns need no
        copy of X); empty when X holds every feature.
    roots : uint32 (T,)
        Global id of each tree's root.
    depths : int64 (T,)
        Depth of each tree (edges on its longest root-to-leaf path).
    nodes : NODE_DTYPE (N,)
        Node table, see the module docstring.
    value : float64 (N,)
        Leaf values (any value at inner nodes).
    mask_start, masks, leaf_start, leaf_nodes
        The leaf-mask tables of the small trees (:func:`leaf_mask_kernel`).

    Returns
    -------
    mean : float64 (n,)
        (sum over trees in order, starting from 0.0) / T, as scikit-learn's ``predict``.
    std : float64 (n,)
        Population standard deviation of the T tree predictions (two-pass: mean, then squared
        deviations from it, each summed in tree order).
    """
    n = X.shape[0]
    d = X.shape[1] + tail.shape[0]
    n_trees = roots.shape[0]
    mean = np.empty(n, dtype=np.float64)
    std = np.empty(n, dtype=np.float64)
    n_chunks = (n + CHUNK - 1) // CHUNK
    for c in numba.prange(n_chunks):
        xt = np.empty((d, BLOCK), dtype=np.float32)
        cur = np.empty(BLOCK, dtype=np.uint32)
        bits = np.empty(BLOCK, dtype=np.uint64)
        preds = np.empty((n_trees, BLOCK), dtype=np.float64)
        total = np.empty(BLOCK, dtype=np.float64)
        acc = np.empty(BLOCK, dtype=np.float64)
        for lo in range(c * CHUNK, min(n, (c + 1) * CHUNK), BLOCK):
            m = min(n, lo + BLOCK) - lo
            _load_block(X, tail, lo, m, xt)
            for t in range(n_trees):
                _tree_block(xt, m, t, roots, depths, nodes, mask_start, masks, leaf_start, leaf_nodes, bits, cur)
                for i in range(m):
                    preds[t, i] = value[cur[i]]
            for i in range(m):
                total[i] = 0.0
                acc[i] = 0.0
            for t in range(n_trees):  # the rows side by side, each summed in tree order
                for i in range(m):
                    total[i] += preds[t, i]
            for i in range(m):
                total[i] = total[i] / n_trees
            for t in range(n_trees):
                for i in range(m):
                    dev = preds[t, i] - total[i]
                    acc[i] += dev * dev
            for i in range(m):
                mean[lo + i] = total[i]
                std[lo + i] = np.sqrt(acc[i] / n_trees)
    return mean, std


@numba.njit(cache=True, parallel=True)
def boosting_predict_kernel(X, tail, roots, depths, nodes, value, mask_start, masks, leaf_start, leaf_nodes, init,
                            learning_rate):
    """Prediction of a gradient-boosting ensemble: init + sum over stages of learning_rate * tree(x),
    accumulated stage by stage as scikit-learn's ``predict_stages``.

    Parameters are those of :func:`forest_predict_kernel`, plus ``init`` (float, the initial constant)
    and ``learning_rate`` (float).

    Returns
    -------
    float64 (n,)
    """
    n = X.shape[0]
    d = X.shape[1] + tail.shape[0]
    n_trees = roots.shape[0]
    out = np.empty(n, dtype=np.float64)
    n_chunks = (n + CHUNK - 1) // CHUNK
    for c in numba.prange(n_chunks):
        xt = np.empty((d, BLOCK), dtype=np.float32)
        cur = np.empty(BLOCK, dtype=np.uint32)
        bits = np.empty(BLOCK, dtype=np.uint64)
        for lo in range(c * CHUNK, min(n, (c + 1) * CHUNK), BLOCK):
            m = min(n, lo + BLOCK) - lo
            _load_block(X, tail, lo, m, xt)
            for i in range(m):
                out[lo + i] = init
            for t in range(n_trees):
                _tree_block(xt, m, t, roots, depths, nodes, mask_start, masks, leaf_start, leaf_nodes, bits, cur)
                for i in range(m):
                    out[lo + i] += learning_rate * value[cur[i]]
    return out


@numba.njit(cache=True)
def preorder_kernel(offset, left, right):
    """Node ids in depth-first pre-order, left subtree first, tree by tree.

    Parameters
    ----------
    offset : int64 (T + 1,); left, right : int64 (N,)
        scikit-learn layout: child ids relative to the tree's first node, -1 at leaves (checked trees, see
        :func:`tree_depths_kernel`).

    Returns
    -------
    int64 (N,)
        ``order[k]`` is the global id of the node that comes k-th; each tree keeps its range
        ``offset[t] .. offset[t + 1] - 1`` and starts with its root, and an inner node is followed by its left
        child.
    """
    n = left.shape[0]
    order = np.empty(n, dtype=np.int64)
    stack = np.empty(n + 1, dtype=np.int64)
    pos = 0
    for t in range(offset.shape[0] - 1):
        o = offset[t]
        stack[0] = 0
        top = 1
        while top > 0:
            top -= 1
            node = stack[top]
            order[pos] = o + node
            pos += 1
            if left[o + node] != -1:
                stack[top] = right[o + node]
                stack[top + 1] = left[o + node]
                top += 2
    return order


@numba.njit(cache=True)
def tree_depths_kernel(offset, left, right):
    """Depth of every tree (edges on the longest root-to-leaf path), or -1 for a tree that is not a tree.

    Parameters
    ----------
    offset : int64 (T + 1,); left, right : int64 (N,)
        scikit-learn layout: child ids relative to the tree's first node, -1 at leaves, each child in
        its tree (as checked when a file is loaded).

    Returns
    -------
    int64 (T,)
        -1 where a walk from the root meets a node twice (a cycle or shared child) or a node has
        exactly one child.
    """
    n_trees = offset.shape[0] - 1
    out = np.zeros(n_trees, dtype=np.int64)
    level = np.full(left.shape[0], -1, dtype=np.int64)
    stack = np.empty(left.shape[0] + 1, dtype=np.int64)
    for t in range(n_trees):
        o = offset[t]
        stack[0] = 0
        level[o] = 0
        top = 1
        deepest = 0
        while top > 0:
            top -= 1
            node = stack[top]
            lv = level[o + node]
            if lv > deepest:
                deepest = lv
            a = left[o + node]
            b = right[o + node]
            if (a == -1) != (b == -1):
                deepest = -1
                break
            if a == -1:
                continue
            if level[o + a] != -1 or level[o + b] != -1 or a == b:
                deepest = -1
                break
            level[o + a] = lv + 1
            level[o + b] = lv + 1
            stack[top] = a
            stack[top + 1] = b
            top += 2
        out[t] = deepest
    return out
