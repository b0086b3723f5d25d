"""Matching annotator objects to benchmark objects, on padded dense blocks (no per-pair Python loops).

Objects are compared only inside a *group*: the same paired label row, frame and shape. The caller
gives each training and benchmark instance an int64 group key (:func:`group_keys`); both key arrays
must be sorted, and within a key the instances must be in the order the SDK lists them
(``get_object_instances()``: first appearance in the row). That order is what makes ``seed``'s
first-wins tie-break agree with the published loop.

:func:`make_blocks` lays the groups out as dense ``(groups, max_t, max_b)`` blocks: groups of
similar size together, a few tens of thousands of cells per block so the IoU temporaries stay in
cache. A slot past a group's size holds the *sentinel* index (``n_t`` or ``n_b``): give the
sentinel geometry that overlaps nothing (see the engine) and its IoU is 0, which neither mode can
pick (seed needs > 0, optimal ≥ a positive threshold).

* :func:`seed_best`: the published script. Per training object the benchmark object with the highest
  IoU under a strict ``>`` scan from 0.0 (``argmax`` returns the first maximum, as the scan keeps the
  first; nothing when every IoU is 0). Many-to-one.
* :func:`optimal_matches`: one-to-one per group, maximising the total IoU over pairs with
  IoU ≥ threshold (pairs below it weigh 0 and are never kept). Where every qualifying pair of a
  group is isolated (its two objects have no other qualifying pair) the answer needs no search: an
  optimum contains every isolated pair (leaving one out loses its weight and frees nothing). Groups
  with a conflict go to ``scipy.optimize.linear_sum_assignment`` on the group's own (unpadded) IoU
  matrix — the matrix a per-group reference builds, so the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Block", "group_keys", "make_blocks", "seed_best", "optimal_matches", "BLOCK_CELLS", "SHAPE_SLOTS"]

BLOCK_CELLS = 1 << 15  # cells per block: 256 KiB per float64 temporary, cache-sized
#: shape codes a group key has room for (the engine compares seven shapes: codes 0..6)
SHAPE_SLOTS = 8


@dataclass
class Block:
    """Groups of one shape, padded to ``(len(groups), t.shape[1], b.shape[1])``.

    ``t``/``b`` hold instance indices (the sentinel ``n_t``/``n_b`` in padding); ``nt``/``nb`` the
    real sizes; ``iou`` is filled by the caller (0.0 on padding).
    """

    shape: int
    t: np.ndarray
    b: np.ndarray
    nt: np.ndarray
    nb: np.ndarray
    iou: np.ndarray | None = None

    @property
    def cells(self) -> int:
        return self.t.shape[0] * self.t.shape[1] * self.b.shape[1]

    def valid(self, n_t: int, n_b: int) -> np.ndarray:
        """(g, mt, mb) mask of real (non-padding) cells."""
        return (self.t < n_t)[:, :, None] & (self.b < n_b)[:, None, :]


def group_keys(pair: np.ndarray, shape: np.ndarray, frame: np.ndarray, n_frames: int) -> np.ndarray:
    """One int64 per (paired row, shape code 0..SHAPE_SLOTS-1, frame); ``n_frames`` > every frame number."""
    return ((pair.astype(np.int64) * SHAPE_SLOTS + shape.astype(np.int64)) * np.int64(n_frames)
            + frame.astype(np.int64))


def _slots(starts: np.ndarray, counts: np.ndarray, width: int, sentinel: int) -> np.ndarray:
    """(len(starts), width) matrix: row i holds starts[i] .. starts[i]+counts[i]-1, then the sentinel."""
    g = len(starts)
    out = np.full((g, width), sentinel, dtype=np.int64)
    total = int(counts.sum())
    if total:
        rows = np.repeat(np.arange(g), counts)
        cols = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        out[rows, cols] = np.repeat(starts, counts) + cols
    return out


def _runs(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct keys, first index, count) of a sorted array, without sorting again."""
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    counts = np.diff(np.r_[starts, len(sorted_keys)])
    return sorted_keys[starts], starts, counts


def make_blocks(t_key: np.ndarray, b_key: np.ndarray, n_frames: int, max_cells: int = BLOCK_CELLS) -> list[Block]:
    """Dense blocks for every group present on both sides (both key arrays sorted)."""
    n_t, n_b = len(t_key), len(b_key)
    if n_t == 0 or n_b == 0:
        return []
    tk, ts_all, nt_all = _runs(t_key)
    bk, bs_all, nb_all = _runs(b_key)
    pos = np.minimum(np.searchsorted(bk, tk), len(bk) - 1)
    both = bk[pos] == tk
    if not both.any():
        return []
    common = tk[both]
    nt, ts = nt_all[both], ts_all[both]
    nb, bs = nb_all[pos[both]], bs_all[pos[both]]
    shape = (common // np.int64(n_frames)) % SHAPE_SLOTS
    # bucket: shape, then size class (bit length) of each side; pad to the bucket's real maxima
    cls_t = np.ceil(np.log2(nt + 1)).astype(np.int64)
    cls_b = np.ceil(np.log2(nb + 1)).astype(np.int64)
    bucket = (shape * 64 + cls_t) * 64 + cls_b
    for code in np.unique(shape).tolist():  # a shape whose groups all fit one block needs no size classes
        sel = shape == code
        if int(sel.sum()) * int(nt[sel].max()) * int(nb[sel].max()) <= max_cells:
            bucket[sel] = code * 64 * 64
    if (bucket == bucket[0]).all():
        groups = [np.arange(len(bucket))]
    else:
        order = np.argsort(bucket, kind="stable")
        groups = np.split(order, np.flatnonzero(np.diff(bucket[order])) + 1)
    blocks: list[Block] = []
    for sel in groups:
        mt, mb = int(nt[sel].max()), int(nb[sel].max())
        per_block = max(1, max_cells // (mt * mb))
        for s in range(0, len(sel), per_block):
            g = sel[s: s + per_block]
            blocks.append(Block(shape=int(shape[g[0]]), t=_slots(ts[g], nt[g], mt, n_t),
                                b=_slots(bs[g], nb[g], mb, n_b), nt=nt[g], nb=nb[g]))
    return blocks


def seed_best(blocks: list[Block], n_t: int) -> tuple[np.ndarray, np.ndarray]:
    """The published best-match scan: (best benchmark index or -1, best IoU or 0.0) per training instance."""
    best_b = np.full(n_t, -1, dtype=np.int64)
    best_iou = np.zeros(n_t, dtype=np.float64)
    for blk in blocks:
        iou = blk.iou
        assert iou is not None, "the caller fills every block's IoU first"
        arg = iou.argmax(axis=2)  # first maximum, like the strict '>' scan
        best = np.take_along_axis(iou, arg[:, :, None], axis=2)[:, :, 0]
        found = (best > 0.0) & (blk.t < n_t)  # from 0.0 with '>': an all-zero row matches nothing
        g, r = np.nonzero(found)
        t = blk.t[g, r]
        best_b[t] = blk.b[g, arg[g, r]]
        best_iou[t] = best[g, r]
    return best_b, best_iou


def optimal_matches(blocks: list[Block], n_t: int, threshold: float) -> tuple[np.ndarray, np.ndarray, int]:
    """One-to-one matches with IoU ≥ ``threshold`` (> 0), maximum total IoU per group.

    Returns (matched benchmark index or -1 per training instance, its IoU or NaN, number of
    groups that needed ``linear_sum_assignment``).
    """
    if not threshold > 0:
        raise ValueError("the IoU threshold must be > 0")
    match_b = np.full(n_t, -1, dtype=np.int64)
    match_iou = np.full(n_t, np.nan)
    solved = 0
    for blk in blocks:
        iou = blk.iou
        assert iou is not None, "the caller fills every block's IoU first"
        n_g, mt, mb = iou.shape
        q = iou >= threshold
        cell = np.flatnonzero(q)  # qualifying cells, in (group, row, column) order
        if len(cell) == 0:
            continue
        t_slot = cell // mb  # group * mt + row
        g = t_slot // mt
        b_slot = g * mb + (cell - t_slot * mb)  # group * mb + column
        deg_t = np.bincount(t_slot, minlength=n_g * mt)  # qualifying pairs per object
        deg_b = np.bincount(b_slot, minlength=n_g * mb)
        simple = (deg_t[t_slot] == 1) & (deg_b[b_slot] == 1)
        if simple.all():
            take = simple
            conflict = np.zeros(0, dtype=np.int64)
        else:
            bad = np.zeros(n_g, dtype=bool)
            bad[g[~simple]] = True
            take = ~bad[g]
            conflict = _assign_unique_bests(blk, iou, cell[~take], t_slot[~take], b_slot[~take], g[~take],
                                            match_b, match_iou)
        t = blk.t.ravel()[t_slot[take]]
        match_b[t] = blk.b.ravel()[b_slot[take]]
        match_iou[t] = iou.ravel()[cell[take]]
        if len(conflict):
            # scipy only here, where a group needs the assignment solver (seed mode never does): its
            # import is a third of a CLI run's start-up
            linear_sum_assignment = assignment_solver()

            cost = np.where(q[conflict], -iou[conflict], 0.0)  # min cost = max IoU; sub-threshold weighs 0
            nts, nbs = blk.nt[conflict].tolist(), blk.nb[conflict].tolist()
            rs, cs = [], []
            for i in range(len(nts)):  # one call per conflicting group, never a loop over pairs
                rows, cols = linear_sum_assignment(cost[i, : nts[i], : nbs[i]])
                rs.append(rows)
                cs.append(cols)
            gi = np.repeat(np.arange(len(nts)), np.minimum(nts, nbs))
            ri, ci = np.concatenate(rs), np.concatenate(cs)
            w = -cost[gi, ri, ci]
            keep = w > 0
            t = blk.t[conflict[gi[keep]], ri[keep]]
            match_b[t] = blk.b[conflict[gi[keep]], ci[keep]]
            match_iou[t] = w[keep]
        solved += len(conflict)
    return match_b, match_iou, solved


_SOLVER: Any = None


def assignment_solver() -> Any:
    """``scipy.optimize.linear_sum_assignment``, loaded once. The function is the compiled
    ``scipy/optimize/_lsap`` extension; it is loaded by itself (0.05 s) rather than through
    ``scipy.optimize``, whose package import costs 0.3 s, most of an evaluation's start. A scipy
    that lays itself out otherwise gets the public import (``tests/core/test_private_names.py``
    checks the two are one function on the pinned scipy)."""
    global _SOLVER
    if _SOLVER is None:
        try:
            import importlib.machinery
            import importlib.util
            import os

            import scipy

            folder = os.path.join(os.path.dirname(scipy.__file__), "optimize")
            path = next(os.path.join(folder, "_lsap" + suffix) for suffix in importlib.machinery.EXTENSION_SUFFIXES
                        if os.path.exists(os.path.join(folder, "_lsap" + suffix)))
            spec = importlib.util.spec_from_file_location("scipy.optimize._lsap", path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            _SOLVER = module.linear_sum_assignment
        except Exception:  # any layout change: the public way, slower, the same function
            from scipy.optimize import linear_sum_assignment

            _SOLVER = linear_sum_assignment
    return _SOLVER


def _assign_unique_bests(blk: Block, iou: np.ndarray, cell: np.ndarray, t_slot: np.ndarray, b_slot: np.ndarray,
                         g: np.ndarray, match_b: np.ndarray, match_iou: np.ndarray) -> np.ndarray:
    """Solve, without linear_sum_assignment, the groups whose optimum is each object's own best.

    Takes the qualifying cells of the groups in conflict (flat indices into ``iou``, in (group, row,
    column) order, with their row and column slots and group). When every training object's best
    qualifying benchmark object is strictly better than its second best, and no two objects share
    their best, giving each object its best reaches the largest possible total (no object can do
    better) and every other assignment is strictly worse: the optimum is unique, so it is exactly
    what linear_sum_assignment returns. Returns the groups still to solve.
    """
    values = iou.ravel()[cell]
    head = np.r_[True, t_slot[1:] != t_slot[:-1]]
    start = np.flatnonzero(head)  # each object's first qualifying cell
    row = np.cumsum(head) - 1  # the object of each cell
    best = np.maximum.reduceat(values, start)
    at_best = np.flatnonzero(values == best[row])
    first = at_best[np.r_[True, row[at_best[1:]] != row[at_best[:-1]]]]  # argmax: the first best
    rest = values.copy()
    rest[first] = -1.0
    second = np.maximum.reduceat(rest, start)  # -1 when the best is the object's only candidate
    best_b = b_slot[first]
    shared = np.bincount(best_b, minlength=iou.shape[0] * iou.shape[2])[best_b] > 1
    group = g[start]
    hard = np.zeros(iou.shape[0], dtype=bool)
    hard[group[(best <= second) | shared]] = True
    easy = ~hard[group]
    t = blk.t.ravel()[t_slot[start[easy]]]
    match_b[t] = blk.b.ravel()[best_b[easy]]
    match_iou[t] = best[easy]
    return np.flatnonzero(hard)
