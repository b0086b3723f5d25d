"""Evaluate annotator training projects against a benchmark project.

Public API: :func:`evaluate` (one call) and :class:`Evaluator` (one training set at a time, for
streaming and incremental refresh), both taking one :class:`EvaluationSettings` and returning an
:class:`EvaluationResult` (the result types live in :mod:`.results`; label rows are read by
:mod:`.parse` through the one reader, :mod:`.labels`).

What is compared
    Label rows are paired by ``data_hash`` (training row → the benchmark row with that hash; with
    several benchmark rows for one hash the last wins, as in the published script). Only paired
    rows count. A benchmark item in ``excluded_items`` (the gold audit's exclusions) is left out for
    everyone: rows on it are neither compared nor unpaired, and one warning says how many.
    Inside a pair, objects are compared per frame (videos: every frame; image groups: every image,
    by ``data_sequence``) and per shape, only with objects of the same shape. Every
    shape Encord draws on an image is compared, each by its own similarity (:mod:`.geometry`,
    :mod:`.similarity`): ``bounding_box``, ``rotatable_bounding_box``, ``polygon`` (holes and
    several parts), ``bitmask`` by IoU in pixels; ``polyline`` by the IoU of both lines buffered by
    1% of the image's larger side; ``point`` by ``exp(−d²/(2σ²A))`` and ``skeleton`` by COCO's OKS
    (σ per class, :attr:`EvaluationSettings.sigma`). "IoU" in the results (``mean_iou``, the
    object rows' ``iou``) is that similarity. ``shape`` narrows to one shape.
    Classification answers (global and per frame) are compared per question on the paired rows,
    and object attributes on matched pairs (:mod:`.answers`).

What is not compared
    Shapes without a place on an image (audio, text, time ranges, cuboids, ellipses, circles, …),
    shapes the SDK does not know, numeric answers and dynamic attributes are counted per side in
    :attr:`EvaluationResult.not_compared` and otherwise ignored (unknown shapes also add a
    warning). So are shapes left out by ``shape`` and, in seed mode, annotations on frames other
    than 0.

Matching
    ``"optimal"``: one-to-one per (paired row, frame, shape), maximum total similarity over pairs
    reaching the threshold (``iou_threshold``, or the benchmark object's class's in
    ``class_thresholds``; see :mod:`.matching`). With ``class_matching="any"`` (default) objects
    match whatever their classes and class accuracy scores the classes; with ``"same"`` (as CVAT)
    groups are per class too, then a second, cross-class pass over what is left pairs objects of
    other classes that reach the threshold: they stay an extra and a miss in the counts, and are
    reported as ``class_mismatch`` rows, ``class_mismatches`` and one confusion cell.
    ``"seed"``: the published script, exactly — per training object the best-IoU benchmark object
    on frame 0 (strict ``>``, first wins, nothing when all IoUs are 0), class score 1.0 when the
    feature hashes agree; bounding boxes only (any other shape is refused). The script raises for
    an object that is absent from frame 0 (``get_annotation(0)`` is truthy, ``.coordinates`` then
    fails); here such objects are simply not on frame 0 and not compared, which agrees with the
    script wherever it runs. In seed mode a training object *counts as matched* when its best IoU ≥
    its threshold; several may match one benchmark object (the script is many-to-one).

Per annotator
    Keyed by the annotation's ``createdBy`` (the project's name when absent). ``objects`` are the
    annotator's compared annotations (an object on 5 video frames is 5), ``matched`` those matched,
    ``extra`` the rest. Every benchmark annotation of a paired row is attributed to one
    annotator: to the one whose object matched it, else (``missed``) to the row's main annotator
    (most compared annotations in that row; a row without any: the project's main annotator).
    ``benchmark_objects`` = attributed; ``precision`` = matched / objects; ``recall`` = covered
    benchmark annotations / benchmark_objects; ``f1`` their harmonic mean (0.0 when one side is
    empty and the other is not, 1.0 when both are); ``precision`` (``recall``) is ``None`` when
    there are no objects (benchmark objects). ``mean_iou`` and ``class_accuracy`` (share of
    matches with the benchmark's class) are over matches, ``None`` without any. A match with a
    similarity below ``low_overlap`` is a low-overlap warning.
    ``by_shape`` gives the same counts per shape; ``by_class`` per class name, where a match
    counts for a class only when both objects carry it (a car matched to a truck is a miss of the
    car and an extra truck there). Classification answers are charged to the row's main
    annotator (a trainee's project is theirs), object attributes to the annotator of the match,
    once per matched annotation (a video object matched on 5 frames compares its attributes 5
    times). ``items_done``: paired rows whose main annotator this is. Status and its reason from
    :meth:`PassMark.verdict`: "not enough work yet" below the required items, else the marks.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from annotrain_tui.core.errors import AnnotrainError, InvalidInput
from annotrain_tui.core.evaluation import geometry
from annotrain_tui.core.evaluation.labels import BITMASK, POINT, POLYLINE, SKELETON
from annotrain_tui.core.evaluation.matching import (
    SHAPE_SLOTS,
    Block,
    group_keys,
    make_blocks,
    optimal_matches,
    seed_best,
)
from annotrain_tui.core.evaluation.parse import (
    BOX,
    COMPARED_SHAPES,
    POLYGON,
    ROTATED,
    SHAPE_CODE,
    ObjectTable,
    parse_label_rows,
    safe_text,
)
from annotrain_tui.core.evaluation.results import (
    MAX_WARNINGS,
    OBJECT_COLUMNS,
    OUTCOMES,
    SEED_COLUMNS,
    STATUS_CLOSE,
    STATUS_NEEDS_FEEDBACK,
    STATUS_PASSED,
    UNMATCHED,
    AnnotatorScore,
    Breakdown,
    EvaluationResult,
    EvaluationSettings,
    Matching,
    ObjectRows,
    PassMark,
    ProjectResult,
    QuestionTotal,
    SeedColumns,
    Stats,
    class_label,
    iou_histogram,
)
from annotrain_tui.core.lazy import lazy_module

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # only what builds a frame pays its import

# Far-off or huge coordinates (1e300) overflow in box areas and shapely's measures; the results are
# checked (non-positive unions give IoU 0; NaN never matches), so numpy's RuntimeWarnings would only
# be noise on the user's terminal. Every public entry point of the engine runs under this.
_quiet = np.errstate(all="ignore")

__all__ = [
    "Matching",
    "PassMark",
    "EvaluationSettings",
    "AnnotatorScore",
    "ProjectResult",
    "EvaluationResult",
    "Evaluator",
    "evaluate",
    "OUTCOMES",
    "UNMATCHED",
    "SEED_COLUMNS",
    "OBJECT_COLUMNS",
    "STATUS_PASSED",
    "STATUS_CLOSE",
    "STATUS_NEEDS_FEEDBACK",
]


# -- what one training set's steps hand each other (see Evaluator._evaluate_table) -------------

@dataclass(frozen=True)
class _Pairs:
    bench_row: np.ndarray  # per training row: its benchmark row, -1 when unpaired
    paired: np.ndarray  # per training row: bool
    rows: np.ndarray  # the paired training rows
    n_unpaired: int


@dataclass(frozen=True)
class _Matches:  # per training annotation compared
    best: np.ndarray  # index (into the gathered benchmark annotations) of its match / best candidate, -1 none
    iou: np.ndarray
    matched: np.ndarray
    same_class: np.ndarray
    class_score: np.ndarray
    low: np.ndarray  # matched below the low-overlap mark
    optimised: int  # frame groups that needed linear_sum_assignment
    # class_matching "same": the benchmark annotation (gathered index) an unmatched one overlaps with
    # another class (the cross-class pass), -1 none; and that similarity (NaN none)
    cross: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    cross_sim: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass(frozen=True)
class _Annotators:
    names: list[str]
    of_annotation: np.ndarray  # per training annotation compared: index into names
    main_of_row: np.ndarray  # per training row: index into names


@dataclass(frozen=True)
class _Charged:  # per benchmark annotation gathered
    covered: np.ndarray
    annotator: np.ndarray  # who it is charged to (index into names)
    missed: np.ndarray  # indices of the uncovered ones

def _add_counts(into: dict[Any, int], more: Mapping[Any, int] | Iterable[tuple[Any, int]], sign: int = 1) -> None:
    """Add (or with ``sign`` -1 take out) counts by key; a key whose count reaches 0 is dropped."""
    for k, v in (more.items() if isinstance(more, Mapping) else more):
        left = into.get(k, 0) + sign * int(v)
        if left:
            into[k] = left
        else:
            into.pop(k, None)


def _filtered_counts(table: ObjectTable, candidate: np.ndarray, keep: np.ndarray,
                     shape_codes: np.ndarray) -> dict[str, int]:
    """Counts of compared-shape annotations left out: by the shape filter, or (seed) not on frame 0."""
    codes = table.shape[candidate & ~keep]
    out: dict[str, int] = {}
    late = np.isin(codes, shape_codes)  # a selected shape, so dropped for its frame
    if late.any():
        out["not on frame 0"] = int(late.sum())
    for code, n in zip(*np.unique(codes[~late], return_counts=True)):
        out[COMPARED_SHAPES[int(code)]] = int(n)
    return out


class Evaluator:
    """Evaluate training sets one at a time against one benchmark.

    ``add(name, rows)`` parses, matches and folds one training set (a project or a file) into the
    totals, keeping only its aggregates (plus what its per-object rows need when ``keep_objects``);
    the label rows can be dropped by the caller straight away, so projects stream. Adding a name
    again replaces its previous contribution (incremental refresh). ``result()`` combines.
    """

    @_quiet
    def __init__(
        self,
        benchmark_rows: Iterable[Mapping[str, Any]] | ObjectTable,
        settings: EvaluationSettings | None = None,
        *,
        benchmark_source: str = "benchmark",
        keep_objects: bool = True,
        **options: Any,
    ) -> None:
        """``settings``, or the :class:`EvaluationSettings` fields as keywords (``matching="seed"``)."""
        self.settings = settings if settings is not None else EvaluationSettings(**options)
        self.keep_objects = keep_objects
        bm = benchmark_rows if isinstance(benchmark_rows, ObjectTable) else \
            parse_label_rows(benchmark_rows, source=benchmark_source)
        self._bm = bm
        self._warnings: list[str] = list(bm.warnings)
        # data_hash -> benchmark row (last wins, like the script's dict comprehension)
        hashes = bm.rows["data_hash"].tolist()
        self._bm_index: dict[str, int] = {h: i for i, h in enumerate(hashes)}
        if len(self._bm_index) < len(hashes):
            dup = len(hashes) - len(self._bm_index)
            self._warnings.append(f"{safe_text(bm.source, 200)}: {dup} label row(s) repeat a data_hash; "
                                  "the last row for each data_hash is used (as the published script does)")
        # the gold audit's exclusions: those items are left out for everyone (a training row on one
        # is neither compared nor unpaired)
        excluded = self.settings.excluded_items
        in_scope = np.ones(len(bm), bool)
        if excluded and (gone := [h for h in self._bm_index if h in excluded]):
            for h in gone:
                del self._bm_index[h]
            row_out = np.fromiter((h in excluded for h in hashes), dtype=bool, count=len(hashes))
            in_scope = ~row_out[bm.row]
            self._warnings.append(f"{len(gone)} benchmark item(s) excluded from scoring by the gold audit")
        codes = np.array([SHAPE_CODE[s] for s in self.settings.shapes], dtype=np.int8)
        self._shape_ok = np.isin(np.arange(len(COMPARED_SHAPES)), codes)
        keep = (self._shape_ok[bm.shape] & in_scope) if len(bm) else np.zeros(0, bool)
        if self.settings.frame0_only:
            keep &= bm.frame == 0
        self._bm_not_compared: dict[str, int] = dict(bm.not_compared)
        _add_counts(self._bm_not_compared, _filtered_counts(bm, in_scope, keep, codes))
        sel = np.flatnonzero(keep)
        order = np.lexsort((bm.seq[sel], bm.frame[sel], bm.shape[sel], bm.row[sel]))
        self._b_sorted = sel[order]  # benchmark annotations, by (row, shape, frame, SDK order)
        b_rows = bm.row[self._b_sorted]
        n_rows = bm.n_rows
        self._b_row_start = np.searchsorted(b_rows, np.arange(n_rows), side="left")
        self._b_row_count = np.searchsorted(b_rows, np.arange(n_rows), side="right") - self._b_row_start
        self._shape_codes = codes
        self._feature_index = {v: i for i, v in enumerate(bm.feature_vocab.tolist())}
        # classes by feature hash (what matching compares), each labelled once by its first name
        self._classes: dict[str, int] = {}
        self._class_labels: list[str] = []
        self._bm_class = self._class_ids(bm)
        self._box = _box_columns(bm)
        s = self.settings
        names = bm.name_vocab.tolist()
        # per benchmark class (by name): the similarity a match needs, and the keypoint sigma
        self._thr_of_name = np.array([s.threshold_of(n) for n in names], dtype=np.float64)
        self._sigma_of_name = np.array([s.sigma_of(n) for n in names], dtype=np.float64)
        self._min_threshold = float(min([s.iou_threshold, *s.class_thresholds.values()]))
        self._items_required = s.pass_mark.items_required(len(self._bm_index))
        self._projects: dict[str, ProjectResult] = {}
        # Running totals over self._projects, kept as each set is added or removed (result() then
        # costs the number of annotators, not of sets): integer counts are exact under
        # subtraction; IoU sums are kept per set and added with fsum, so no rounding drifts in.
        self._totals: dict[str, np.ndarray] = {}
        self._iou_parts: dict[str, dict[str, float]] = {}  # annotator -> set name -> IoU sum
        self._conf: dict[tuple[str, str, str], int] = {}
        self._training_nc: dict[str, int] = {}
        self._names_kinds: tuple[dict[str, str], dict[str, str]] | None = None
        self._has_attributes: np.ndarray | None = None
        self._attribute_class: dict[str, str] = {}  # attribute feature hash -> its object class's name

    @property
    def benchmark(self) -> ObjectTable:
        return self._bm

    @property
    def class_labels(self) -> dict[str, str]:
        """Every class seen so far, feature hash → the label its scores and confusion use."""
        return {h: self._class_labels[i] for h, i in self._classes.items()}

    def remove(self, name: str) -> None:
        old = self._projects.pop(name, None)
        if old is not None:
            self._fold(old, -1)

    def _fold(self, p: ProjectResult, sign: int) -> None:
        """Add (sign 1) or take out (sign -1) one set's contribution to the running totals."""
        for i, annot in enumerate(p.stats.names):
            row = p.stats.counts[i] * sign
            if annot in self._totals:
                self._totals[annot] += row
            else:
                self._totals[annot] = row.copy()
            parts = self._iou_parts.setdefault(annot, {})
            if sign > 0:
                parts[p.name] = float(p.stats.iou_sum[i])
            else:
                parts.pop(p.name, None)
                if not parts:  # no set lists this annotator any more
                    del self._iou_parts[annot], self._totals[annot]
        _add_counts(self._conf, (((a, b, t), n) for a, b, t, n in p.confusion), sign)
        _add_counts(self._training_nc, p.not_compared, sign)

    def _class_ids(self, table: ObjectTable) -> np.ndarray:
        """Per entry of ``table.feature_vocab``: its class id. A class is a feature hash (the
        ontology's identity of a class, what matching compares), labelled by the first name seen
        for it (the benchmark's first); a second hash with a label already taken is labelled
        ``name (hash)`` so that two classes never count as one."""
        vocab = table.feature_vocab.tolist()
        out = np.empty(len(vocab), dtype=np.int64)
        names: dict[int, str] = {}
        if len(table):
            codes, first = np.unique(table.feature_code, return_index=True)
            names = dict(zip(codes.tolist(), table.name_vocab[table.name_code[first]].tolist()))
        for i, feature in enumerate(vocab):
            known = self._classes.get(feature)
            if known is None:
                label = class_label(names.get(i), feature, self._class_labels)
                known = self._classes[feature] = len(self._class_labels)
                self._class_labels.append(label)
            out[i] = known
        return out

    # -- one training set ---------------------------------------------------------------------

    @_quiet
    def add(self, name: str, rows: Iterable[Mapping[str, Any]] | ObjectTable, *,
            annotator: str | None = None, credit_owner: bool = False) -> ProjectResult:
        """Evaluate one training set and fold it in (replacing an earlier set of the same name).

        ``annotator`` is who objects without ``createdBy``, and misses on rows nobody annotated, are
        charged to (default: ``name``); live views add a project in several parts under one annotator.
        ``credit_owner``: every object is the annotator's, whoever ``createdBy`` names (a training
        project belongs to the trainee its marker names, even where a reviewer touched an object).
        """
        tr = rows if isinstance(rows, ObjectTable) else parse_label_rows(rows, source=name)
        result = self._evaluate_table(name, tr, annotator or name, credit_owner=credit_owner)
        old = self._projects.get(name)
        if old is not None:
            self._fold(old, -1)
        self._projects[name] = result  # a replaced set keeps its place
        self._fold(result, 1)
        return result

    def _evaluate_table(self, name: str, train: ObjectTable, owner: str | None = None, *,
                        credit_owner: bool = False) -> ProjectResult:
        """One training set against the benchmark, in named steps (see the module doc for the rules)."""
        owner = owner or name
        warnings = list(train.warnings)
        src = safe_text(name, 200)
        pairs = self._pair_rows(train, src, warnings)
        not_compared = dict(train.not_compared)
        t_idx, t_key, n_frames = self._training_annotations(train, pairs, not_compared)
        b_idx, b_pair, b_key = self._gather_benchmark(pairs, n_frames)
        same = self.settings.class_matching == "same"
        if same:  # one group per class too: (row, shape, frame, class)
            t_idx, t_key, b_idx, b_pair, b_key, blocks = self._class_groups(train, t_idx, t_key, b_idx, b_pair, b_key,
                                                                             n_frames)
        else:
            blocks = make_blocks(t_key, b_key, n_frames)
        self._fill_iou(blocks, train, t_idx, b_idx)
        m = self._match(blocks, train, t_idx, b_idx)
        if same:
            m = self._cross_class(m, train, t_idx, b_idx, t_key, b_key, n_frames)
        people = self._annotators(train, t_idx, owner, credit_owner)
        charged = self._attribute_benchmark(m, people.of_annotation, people.main_of_row, b_pair, len(b_idx))

        mismatch = (m.cross >= 0) if same else (m.matched & ~m.same_class)
        stats = self._stats(people.names, people.of_annotation, m.matched, m.low, m.same_class, m.iou,
                            charged.annotator, charged.covered, mismatch)
        # a cross-class pair is one confusion (benchmark class → annotator class), not a miss and an extra
        shown_missed = np.setdiff1d(charged.missed, m.cross[m.cross >= 0]) if same else charged.missed
        confusion = self._confusion(people.names, train, t_idx, b_idx, people.of_annotation, m.matched | (m.cross >= 0),
                                    np.where(m.cross >= 0, m.cross, m.best), charged.annotator, shown_missed)
        breakdown = self._breakdown(people, train, t_idx, b_idx, m, charged, pairs)
        questions, attributes = self._answers(people, train, t_idx, b_idx, m, pairs)
        frames = _count_frames(t_key, b_key, n_frames)
        hit = people.of_annotation[m.matched]  # the annotator table's IoU column, without the object rows
        hit_iou = m.iou[m.matched]
        iou_counts = {people.names[a]: iou_histogram(hit_iou[hit == a]) for a in np.unique(hit).tolist()}
        builder = seed_builder = None
        if self.keep_objects:
            seed_builder = _seed_columns_builder(train, t_idx, m.iou, m.class_score) \
                if self.settings.matching == "seed" else None
            builder = self._object_rows_builder(
                name, train, t_idx, b_idx, b_pair, pairs.bench_row, np.asarray(people.names, dtype=object),
                people.of_annotation, np.where(m.cross >= 0, m.cross, m.best), np.where(m.cross >= 0, m.cross_sim, m.iou),
                np.where(m.cross >= 0, 0.0, m.class_score), m.matched, m.low, charged.annotator, shown_missed,
                m.cross >= 0)
        return ProjectResult(name=name, rows=train.n_rows, paired_rows=int(len(pairs.rows)),
                             unpaired_rows=pairs.n_unpaired, frames=frames, stats=stats, confusion=confusion,
                             not_compared=not_compared, warnings=warnings, optimised_groups=m.optimised,
                             breakdown=breakdown, questions=questions, attributes=attributes,
                             iou_counts=iou_counts, _build_objects=builder, _build_seed=seed_builder)

    def _pair_rows(self, train: ObjectTable, src: str, warnings: list[str]) -> _Pairs:
        """Pair each training row with the benchmark row of its data_hash (warnings for the rest)."""
        hashes = train.rows["data_hash"].tolist()
        get = self._bm_index.get
        bench_row = np.fromiter((get(h, -1) for h in hashes), dtype=np.int64, count=len(hashes))
        paired = bench_row >= 0
        rows = np.flatnonzero(paired)
        excluded = self.settings.excluded_items
        n_excluded = sum(1 for h in hashes if h in excluded) if excluded else 0  # left out, not unpaired
        n_unpaired = int(len(hashes) - len(rows)) - n_excluded
        if n_unpaired and len(rows):
            warnings.append(f"{src}: {n_unpaired} label row(s) have no benchmark row with the same data_hash "
                            "(not compared)")
        elif n_unpaired:
            warnings.append(f"{src}: none of its {n_unpaired} label row(s) shares a data_hash with the benchmark "
                            "(not compared)")
        paired_hashes = [hashes[r] for r in rows.tolist()] if len(rows) < len(hashes) else hashes
        repeats = len(paired_hashes) - len(set(paired_hashes))
        if repeats:
            warnings.append(f"{src}: {repeats} label row(s) repeat a data_hash; each is compared")
        return _Pairs(bench_row=bench_row, paired=paired, rows=rows, n_unpaired=n_unpaired)

    def _training_annotations(self, train: ObjectTable, pairs: _Pairs, not_compared: dict[str, int]
                              ) -> tuple[np.ndarray, np.ndarray, int]:
        """The training annotations to compare (indices, in (row, shape, frame, SDK order)), their group
        keys and the frame count the keys are built on; what the settings leave out is counted."""
        keep = (pairs.paired[train.row] & self._shape_ok[train.shape]) if len(train) else np.zeros(0, bool)
        if self.settings.frame0_only:
            keep &= train.frame == 0
        candidate = pairs.paired[train.row] if len(train) else keep
        if (candidate & ~keep).any():
            _add_counts(not_compared, _filtered_counts(train, candidate, keep, self._shape_codes))
        t_idx = np.flatnonzero(keep)
        n_frames = int(max(train.frame.max(initial=0), self._bm.frame.max(initial=0))) + 1
        t_key = group_keys(train.row[t_idx], train.shape[t_idx], train.frame[t_idx], n_frames)
        t_idx, t_key = _sdk_order(t_idx, t_key, train.seq[t_idx])
        return t_idx, t_key, n_frames

    def _gather_benchmark(self, pairs: _Pairs, n_frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The benchmark annotations of every paired row (a ragged gather, already in (shape, frame, SDK
        order)): their indices, the training row each is compared in, and their group keys."""
        bm = self._bm
        count = self._b_row_count[pairs.bench_row[pairs.rows]]
        first = self._b_row_start[pairs.bench_row[pairs.rows]]
        total = int(count.sum())
        offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
        b_idx = self._b_sorted[np.repeat(first, count) + offsets]
        b_pair = np.repeat(pairs.rows, count)
        b_key = group_keys(b_pair, bm.shape[b_idx], bm.frame[b_idx], n_frames)
        return b_idx, b_pair, b_key

    def _match(self, blocks: list[Block], train: ObjectTable, t_idx: np.ndarray, b_idx: np.ndarray) -> _Matches:
        """Match (optimal or seed), then check each scored match's class against the benchmark's."""
        s = self.settings
        n_t = len(t_idx)
        optimised = 0
        thr_b = self._thr_of_name[self._bm.name_code[b_idx]] if len(b_idx) else np.zeros(0)
        if s.matching == "seed":
            best, iou = seed_best(blocks, n_t)
            need = np.where(best >= 0, thr_b[np.maximum(best, 0)] if len(thr_b) else s.iou_threshold, s.iou_threshold)
            matched = iou >= need
            scored = best >= 0  # the script scores the class of its best candidate, whatever the IoU
        else:
            best, iou, optimised = self._optimal(blocks, b_idx, n_t)
            matched = best >= 0
            scored = matched
        feature_in_bench = np.array([self._feature_index.get(v, -1) for v in train.feature_vocab.tolist()],
                                    dtype=np.int64)
        same_class = np.zeros(n_t, dtype=bool)
        same_class[scored] = (feature_in_bench[train.feature_code[t_idx[scored]]]
                              == self._bm.feature_code[b_idx[best[scored]]])
        if s.matching == "seed":
            class_score = same_class.astype(np.float64)  # 0.0 when nothing was found, as the script
        else:
            class_score = np.where(scored, same_class.astype(np.float64), np.nan)
        low = matched & (iou < s.low_overlap)
        return _Matches(best=best, iou=iou, matched=matched, same_class=same_class, class_score=class_score,
                        low=low, optimised=optimised, cross=np.full(n_t, -1, dtype=np.int64), cross_sim=np.full(n_t, np.nan))

    def _class_codes(self, train: ObjectTable, t_idx: np.ndarray, b_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """Class of each annotation for grouping: the benchmark's feature code (a training feature the
        benchmark does not have gets a code of its own, matching nothing), and how many codes."""
        n_feat = len(self._bm.feature_vocab)
        in_bench = np.array([self._feature_index.get(v, n_feat) for v in train.feature_vocab.tolist()],
                            dtype=np.int64)
        t_cls = in_bench[train.feature_code[t_idx]] if len(t_idx) else np.zeros(0, dtype=np.int64)
        b_cls = self._bm.feature_code[b_idx].astype(np.int64)
        return t_cls, b_cls, n_feat + 1

    def _class_groups(self, train: ObjectTable, t_idx: np.ndarray, t_key: np.ndarray, b_idx: np.ndarray,
                      b_pair: np.ndarray, b_key: np.ndarray, n_frames: int) -> tuple[Any, ...]:
        """class_matching "same": both sides reordered by (group, class), SDK order kept inside, and
        blocks per (row, shape, frame, class)."""
        t_cls, b_cls, n_cls = self._class_codes(train, t_idx, b_idx)
        t_order = np.lexsort((t_cls, t_key))  # stable: the SDK order within a (group, class)
        b_order = np.lexsort((b_cls, b_key))
        t_idx, t_key, t_cls = t_idx[t_order], t_key[t_order], t_cls[t_order]
        b_idx, b_pair, b_key, b_cls = b_idx[b_order], b_pair[b_order], b_key[b_order], b_cls[b_order]
        bm = self._bm
        t_ckey = group_keys(train.row[t_idx], train.shape[t_idx], train.frame[t_idx] * n_cls + t_cls, n_frames * n_cls)
        b_ckey = group_keys(b_pair, bm.shape[b_idx], bm.frame[b_idx] * n_cls + b_cls, n_frames * n_cls)
        return t_idx, t_key, b_idx, b_pair, b_key, make_blocks(t_ckey, b_ckey, n_frames * n_cls)

    def _cross_class(self, m: _Matches, train: ObjectTable, t_idx: np.ndarray, b_idx: np.ndarray, t_key: np.ndarray,
                     b_key: np.ndarray, n_frames: int) -> _Matches:
        """The second, cross-class pass (as CVAT's quality report): among what the same-class matching
        left, one-to-one pairs of any class that reach the threshold. They stay a miss and an extra in
        the counts, and are reported as class mismatches (and in the confusion) instead."""
        covered = np.zeros(len(b_idx), dtype=bool)
        covered[m.best[m.matched]] = True
        t_left = np.flatnonzero(~m.matched)
        b_left = np.flatnonzero(~covered)
        cross = m.cross.copy()
        cross_sim = m.cross_sim.copy()
        blocks = make_blocks(t_key[t_left], b_key[b_left], n_frames)
        if blocks:
            self._fill_iou(blocks, train, t_idx[t_left], b_idx[b_left])
            best, sim, _ = self._optimal(blocks, b_idx[b_left], len(t_left))
            hit = best >= 0
            cross[t_left[hit]] = b_left[best[hit]]
            cross_sim[t_left[hit]] = sim[hit]
        return replace(m, cross=cross, cross_sim=cross_sim)

    def _optimal(self, blocks: list[Block], b_idx: np.ndarray, n_t: int) -> tuple[np.ndarray, np.ndarray, int]:
        """Optimal matching where each pair needs its benchmark class's threshold."""
        if self.settings.class_thresholds:  # a cell below its benchmark class's threshold weighs 0 (never kept)
            thr_b = self._thr_of_name[self._bm.name_code[b_idx]] if len(b_idx) else np.zeros(0)
            pad = np.append(thr_b, np.inf)
            for blk in blocks:
                assert blk.iou is not None
                blk.iou[blk.iou < pad[blk.b][:, None, :]] = 0.0
        return optimal_matches(blocks, n_t, self._min_threshold)

    @staticmethod
    def _annotators(train: ObjectTable, t_idx: np.ndarray, owner: str, credit_owner: bool) -> _Annotators:
        """Who made each annotation (createdBy, else the owner; every one the owner's with
        ``credit_owner``) and each row's main annotator (most annotations; ties: the first seen; a set
        without any compared object: whoever gave most of its classification answers)."""
        creators = [owner if credit_owner or not (isinstance(v, str) and v) else v
                    for v in train.created_by_vocab.tolist()]
        names = list(dict.fromkeys(creators + [owner]))
        of_creator = np.array([names.index(v) for v in creators] or [0], dtype=np.int64)
        n_t = len(t_idx)
        of_annotation = of_creator[train.created_by_code[t_idx]] if n_t else np.zeros(0, dtype=np.int64)
        if not n_t and not credit_owner and train.answers:  # answers only: whoever gave most of them
            who = Counter(v for ra in train.answers for v in ra.created_by.values() if isinstance(v, str) and v)
            if who:
                top = who.most_common(1)[0][0]
                if top not in names:
                    names.append(top)
                owner = top
        k = len(names)
        counts = np.bincount(of_annotation, minlength=k)
        project_main = int(np.argmax(counts)) if n_t else names.index(owner)
        main_of_row = np.full(train.n_rows, project_main, dtype=np.int64)
        if n_t and (counts > 0).sum() > 1:
            row_annot, first, cnt = np.unique(train.row[t_idx] * k + of_annotation, return_index=True,
                                              return_counts=True)
            order = np.lexsort((first, -cnt, row_annot // k))
            rows_sorted = (row_annot // k)[order]
            head = np.r_[True, rows_sorted[1:] != rows_sorted[:-1]]
            main_of_row[rows_sorted[head]] = (row_annot % k)[order][head]
        return _Annotators(names=names, of_annotation=of_annotation, main_of_row=main_of_row)

    def _attribute_benchmark(self, m: _Matches, of_annotation: np.ndarray, main_of_row: np.ndarray,
                             b_pair: np.ndarray, n_b: int) -> _Charged:
        """Charge every benchmark annotation to one annotator: the one whose object matched it (seed:
        the first in SDK order), else (missed) the main annotator of the row it was compared in."""
        covered = np.zeros(n_b, dtype=bool)
        annotator = np.zeros(n_b, dtype=np.int64)
        hits = np.flatnonzero(m.matched)
        if self.settings.matching == "seed":  # many-to-one
            n_t = len(m.best)
            first_t = np.full(n_b, n_t, dtype=np.int64)
            np.minimum.at(first_t, m.best[hits], hits)
            hit = np.flatnonzero(first_t < n_t)
            covered[hit] = True
            annotator[hit] = of_annotation[first_t[hit]]
        else:
            covered[m.best[hits]] = True
            annotator[m.best[hits]] = of_annotation[hits]
        missed = np.flatnonzero(~covered)
        annotator[missed] = main_of_row[b_pair[missed]]
        return _Charged(covered=covered, annotator=annotator, missed=missed)

    def _fill_iou(self, blocks: list[Block], tr: ObjectTable, ti: np.ndarray, bi: np.ndarray) -> None:
        """IoU of every cell of every block (0.0 on padding)."""
        if not blocks:
            return
        bm = self._bm
        n_t, n_b = len(ti), len(bi)
        if any(b.shape == SHAPE_CODE[BOX] for b in blocks):
            tb = [_gather_padded(c, ti, pad) for c, pad in zip(_box_columns(tr), _PAD_T)]
            bb = [_gather_padded(c, bi, pad) for c, pad in zip(self._box, _PAD_B)]
            box_t = tr.shape[ti] == SHAPE_CODE[BOX]
            box_b = bm.shape[bi] == SHAPE_CODE[BOX]
            positive = bool((tb[4][:-1][box_t] > 0).all() and (bb[4][:-1][box_b] > 0).all())
        others: dict[int, list[tuple[Block, tuple[np.ndarray, ...]]]] = {}
        for blk in blocks:
            if blk.shape == SHAPE_CODE[BOX]:
                a = [c[blk.t][:, :, None] for c in tb]
                b = [c[blk.b][:, None, :] for c in bb]
                blk.iou = geometry.box_iou_corners(*a, *b, positive_areas=positive)
            else:
                others.setdefault(blk.shape, []).append((blk, np.nonzero(blk.valid(n_t, n_b))))
        for code, parts in others.items():  # one geometry call per shape, over every block's real cells
            t = ti[np.concatenate([blk.t[g, r] for blk, (g, r, _) in parts])]
            b = bi[np.concatenate([blk.b[g, c] for blk, (g, _, c) in parts])]
            img_w = np.where(np.isnan(bm.img_w[b]), tr.img_w[t], bm.img_w[b])
            img_h = np.where(np.isnan(bm.img_h[b]), tr.img_h[t], bm.img_h[b])
            if code == SHAPE_CODE[ROTATED]:
                values = geometry.rotated_iou_pairs(tr.x[t], tr.y[t], tr.w[t], tr.h[t], tr.theta[t],
                                                    bm.x[b], bm.y[b], bm.w[b], bm.h[b], bm.theta[b], img_w, img_h)
            elif code == SHAPE_CODE[POLYGON]:
                ba = np.column_stack([tr.x[t], tr.y[t], tr.x[t] + tr.w[t], tr.y[t] + tr.h[t]])
                bb_ = np.column_stack([bm.x[b], bm.y[b], bm.x[b] + bm.w[b], bm.y[b] + bm.h[b]])
                values = geometry.polygon_iou_pairs(tr.geom[t], bm.geom[b], ba, bb_)
            else:
                values = self._similarity(code, tr, t, b, img_w, img_h)
            start = 0
            for blk, (g, r, c) in parts:
                blk.iou = np.zeros((blk.t.shape[0], blk.t.shape[1], blk.b.shape[1]))
                blk.iou[g, r, c] = values[start:start + len(g)]
                start += len(g)

    def _similarity(self, code: int, tr: ObjectTable, t: np.ndarray, b: np.ndarray, img_w: np.ndarray,
                    img_h: np.ndarray) -> np.ndarray:
        """Similarity of the pairs (t[i], b[i]) of one of the keypoint, line or mask shapes (the
        definitions are in :mod:`.similarity`); a keypoint sigma is the benchmark object's class's."""
        from annotrain_tui.core.evaluation import similarity  # only where such shapes are compared

        bm = self._bm
        shape = COMPARED_SHAPES[code]
        if shape == POINT:
            return similarity.point_similarity_pairs(tr.x[t], tr.y[t], bm.x[b], bm.y[b], img_w, img_h,
                                                     self._sigma_of_name[bm.name_code[b]])
        if shape == SKELETON:
            assert tr.keypoints is not None and bm.keypoints is not None  # parsed with every skeleton
            vocab = {k: i for i, k in enumerate(dict.fromkeys(bm.keypoints.vocab + tr.keypoints.vocab))}
            tx, ty, _ = tr.keypoints.aligned(t, vocab)
            bx, by, present = bm.keypoints.aligned(b, vocab)
            return similarity.oks_pairs(tx, ty, bx, by, present, img_w, img_h,
                                        self._sigma_of_name[bm.name_code[b]])
        if shape == POLYLINE:  # each line buffered once, however many pairs it is in (one data unit: one size)
            tu, t_of = np.unique(t, return_inverse=True)
            bu, b_of = np.unique(b, return_inverse=True)
            t_at = np.empty(len(tu), dtype=np.int64)
            t_at[t_of] = np.arange(len(t))
            b_at = np.empty(len(bu), dtype=np.int64)
            b_at[b_of] = np.arange(len(b))
            gt = similarity.polyline_buffers(tr.geom[tu], img_w[t_at], img_h[t_at])
            gb = similarity.polyline_buffers(bm.geom[bu], img_w[b_at], img_h[b_at])
            return similarity.buffer_iou_pairs(gt[t_of], gb[b_of])
        assert shape == BITMASK
        # each mask packed once, however many pairs it is in
        tu, ti = np.unique(t, return_inverse=True)
        bu, bi = np.unique(b, return_inverse=True)
        return similarity.mask_iou_indexed(similarity.MaskSet.pack(list(tr.geom[tu])), ti,
                                           similarity.MaskSet.pack(list(bm.geom[bu])), bi)

    def _breakdown(self, people: _Annotators, tr: ObjectTable, ti: np.ndarray, bi: np.ndarray, m: _Matches,
                   charged: _Charged, pairs: _Pairs) -> dict[tuple[str, str, str], np.ndarray]:
        """Counts per (kind, annotator, key): kind "shape" (key a shape) and "class" (key a class
        name: a match counts only when both objects carry the class), each
        [objects, matched, benchmark_objects, covered, similarity_sum]; kind "items" (key ""): the
        benchmark rows of the paired rows whose main annotator this is (the coverage the pass mark
        asks for: counted once each, however often they were sent)."""
        bm = self._bm
        k = len(people.names)
        out: dict[tuple[str, str, str], np.ndarray] = {}
        t_annot, b_annot = people.of_annotation, charged.annotator
        sim = np.where(m.matched, m.iou, 0.0)

        def fold(kind: str, labels: list[str], t_key: np.ndarray, b_key: np.ndarray, t_hit: np.ndarray,
                 b_hit: np.ndarray) -> None:
            n = len(labels)
            size = k * n
            t_code = t_annot * n + t_key
            b_code = b_annot * n + b_key
            table = np.stack([
                np.bincount(t_code, minlength=size).astype(np.float64),
                np.bincount(t_code[t_hit], minlength=size).astype(np.float64),
                np.bincount(b_code, minlength=size).astype(np.float64),
                np.bincount(b_code[b_hit], minlength=size).astype(np.float64),
                np.bincount(t_code[t_hit], weights=sim[t_hit], minlength=size),
            ], axis=1)
            for c in np.flatnonzero(table[:, 0] + table[:, 2]).tolist():
                out[(kind, people.names[c // n], labels[c % n])] = table[c]

        fold("shape", list(COMPARED_SHAPES), tr.shape[ti].astype(np.int64), bm.shape[bi].astype(np.int64),
             m.matched, charged.covered)
        tr_class = self._class_ids(tr)
        labels = list(self._class_labels)
        t_cls = tr_class[tr.feature_code[ti]] if len(ti) else np.zeros(0, dtype=np.int64)
        b_cls = self._bm_class[bm.feature_code[bi]] if len(bi) else np.zeros(0, dtype=np.int64)
        tp = m.matched.copy()
        tp[m.matched] = t_cls[m.matched] == b_cls[m.best[m.matched]]
        b_tp = np.zeros(len(bi), dtype=bool)
        b_tp[m.best[tp]] = True
        fold("class", labels, t_cls, b_cls, tp, b_tp)
        if len(pairs.rows):  # the benchmark items (rows) each annotator finished, repeats kept
            main = people.main_of_row[pairs.rows]
            bench_rows = pairs.bench_row[pairs.rows]
            for a in np.unique(main).tolist():
                out[("items", people.names[a], "")] = bench_rows[main == a]
        return out

    def _answers(self, people: _Annotators, tr: ObjectTable, ti: np.ndarray, bi: np.ndarray, m: _Matches,
                 pairs: _Pairs) -> tuple[dict[tuple[str, str], tuple[int, float]], dict[tuple[str, str], tuple[int, float]]]:
        """Classification answers per paired row (charged to the row's main annotator) and object
        attributes per matched pair (charged to the annotator of the match), scored by :mod:`.answers`."""
        bm = self._bm
        if bm.answers is None or tr.answers is None:
            return {}, {}
        from annotrain_tui.core.evaluation import answers

        names = people.names
        rows = pairs.rows.tolist()
        questions = answers.score_classifications(
            (names[int(people.main_of_row[r])], bm.answers[int(pairs.bench_row[r])], tr.answers[r]) for r in rows
            if bm.answers[int(pairs.bench_row[r])].classifications)
        hit = np.flatnonzero(m.matched)
        if len(hit):
            hit = hit[self._bm_has_attributes()[bi[m.best[hit]]]]  # only pairs with something to compare
        b_obj = bi[m.best[hit]] if len(hit) else np.zeros(0, dtype=np.int64)
        t_obj = ti[hit]
        b_rows, t_rows = bm.row[b_obj].tolist(), tr.row[t_obj].tolist()
        b_hash, t_hash = bm.object_hash[b_obj].tolist(), tr.object_hash[t_obj].tolist()
        who = people.of_annotation[hit].tolist()

        b_answers, t_answers = bm.answers, tr.answers

        def attribute_pairs() -> Any:
            for i in range(len(hit)):
                yield names[who[i]], b_answers[b_rows[i]].objects[b_hash[i]], t_answers[t_rows[i]].objects.get(t_hash[i])

        return questions, answers.score_attributes(attribute_pairs())

    @staticmethod
    def _stats(annot_names: list[str], t_annot: np.ndarray, matched: np.ndarray, low: np.ndarray,
               same_class: np.ndarray, t_iou: np.ndarray, b_annot: np.ndarray, covered: np.ndarray,
               mismatch: np.ndarray) -> Stats:
        k = len(annot_names)
        if k == 1 or (len(t_annot) and (t_annot == t_annot[0]).all() and (b_annot == t_annot[0]).all()):
            one = int(t_annot[0]) if len(t_annot) else (int(b_annot[0]) if len(b_annot) else 0)
            row = np.array([len(t_annot), matched.sum(), low.sum(), (matched & same_class).sum(), len(b_annot),
                            len(b_annot) - covered.sum(), mismatch.sum()], dtype=np.int64)
            if row[0] == 0 and row[4] == 0:
                return Stats([], np.zeros((0, 7), dtype=np.int64), np.zeros(0))
            return Stats([annot_names[one]], row[None, :], np.array([t_iou[matched].sum()]))
        counts = np.stack([
            np.bincount(t_annot, minlength=k),
            np.bincount(t_annot[matched], minlength=k),
            np.bincount(t_annot[low], minlength=k),
            np.bincount(t_annot[matched & same_class], minlength=k),
            np.bincount(b_annot, minlength=k),
            np.bincount(b_annot[~covered], minlength=k),
            np.bincount(t_annot[mismatch], minlength=k),
        ], axis=1)
        iou_sum = np.bincount(t_annot[matched], weights=t_iou[matched], minlength=k)
        present = (counts[:, 0] > 0) | (counts[:, 4] > 0)
        names = [n for n, p in zip(annot_names, present.tolist()) if p]
        return Stats(names, counts[present], iou_sum[present])

    def _confusion(self, annot_names: list[str], tr: ObjectTable, ti: np.ndarray, bi: np.ndarray,
                   t_annot: np.ndarray, matched: np.ndarray, match: np.ndarray, b_annot: np.ndarray,
                   miss: np.ndarray) -> list[tuple[str, str, str, int]]:
        bm = self._bm
        tr_class = self._class_ids(tr)
        c = len(self._classes) + 1  # 0 = unmatched, class i = i + 1
        t_bm = np.zeros(len(ti), dtype=np.int64)
        t_bm[matched] = self._bm_class[bm.feature_code[bi[match[matched]]]] + 1
        t_tr = tr_class[tr.feature_code[ti]] + 1 if len(ti) else np.zeros(0, dtype=np.int64)
        m_bm = self._bm_class[bm.feature_code[bi[miss]]] + 1 if len(miss) else np.zeros(0, dtype=np.int64)
        combo = np.concatenate([(t_annot * c + t_bm) * c + t_tr, (b_annot[miss] * c + m_bm) * c])
        size = len(annot_names) * c * c
        if size <= 4 * len(combo) + 1024:  # small key space: count without sorting
            counts = np.bincount(combo, minlength=size)
            u = np.flatnonzero(counts)
            n = counts[u]
        else:
            u, n = np.unique(combo, return_counts=True)
        labels = [UNMATCHED] + list(self._class_labels)
        return [(annot_names[a], labels[b], labels[t], cnt)
                for a, b, t, cnt in zip((u // (c * c)).tolist(), ((u // c) % c).tolist(), (u % c).tolist(),
                                        n.tolist())]

    def _object_rows_builder(self, name: str, tr: ObjectTable, ti: np.ndarray, bi: np.ndarray, b_pair: np.ndarray,
                             bm_row: np.ndarray, annot_names: np.ndarray, t_annot: np.ndarray, shown: np.ndarray,
                             t_iou: np.ndarray, class_score: np.ndarray, matched: np.ndarray, low: np.ndarray,
                             b_annot: np.ndarray, miss: np.ndarray, cross: np.ndarray) -> ObjectRows:
        """Capture what the per-object rows need (arrays, not the label rows) and build them on demand.

        Kept per row to be: each training annotation's own columns (gathered now, so the table's
        other annotations and the index arrays go), the benchmark annotations it shows and the
        missed ones, the outcome as one small code, and every index and code in the narrowest
        integer type that holds it (a session keeps this for every block it scores)."""
        bm = self._bm
        rows = tr.rows  # one row per label row; its columns are picked only if the rows are built
        has = shown >= 0
        t_rows, t_frame, t_shape, t_hashes = (_narrow(tr.row[ti]), _narrow(tr.frame[ti]), tr.shape[ti],
                                              _Texts.of(tr.object_hash[ti]))
        t_codes = tuple((vocab, _narrow(codes[ti])) for vocab, codes in ((tr.name_vocab, tr.name_code),
                                                                          (tr.feature_vocab, tr.feature_code),
                                                                          (tr.created_by_vocab, tr.created_by_code)))
        sb, mb, m_rows = _narrow(bi[shown[has]]), _narrow(bi[miss]), _narrow(b_pair[miss])
        t_who, m_who = _narrow(t_annot), _narrow(b_annot[miss])
        bm_row = _narrow(bm_row)
        # index into OUTCOMES
        outcome = np.where(matched, np.where(low, 1, 0), np.where(cross, 4, 3)).astype(np.int8)
        class_score = _narrow_float(class_score)
        del ti, bi, b_pair, miss, shown, t_annot, b_annot, matched, low, cross

        n_t, n_m = len(t_rows), len(mb)

        @_quiet
        def fill(out: dict[str, np.ndarray], at: int) -> None:
            (name_vocab, name_code), (feature_vocab, feature_code), (by_vocab, by_code) = t_codes
            t_end, end = at + n_t, at + n_t + n_m
            shape_names = np.asarray(COMPARED_SHAPES, dtype=object)
            label, data_hash, title = rows["label_hash"], rows["data_hash"], rows["data_title"]
            bm_lab = bm.rows["label_hash"]

            def put(column: str, t_part: Any, m_part: Any) -> None:
                values = out[column]
                values[at:t_end] = t_part
                values[t_end:end] = m_part

            def t_bm(column: str, values: np.ndarray, m_part: Any) -> None:
                part = out[column][at:t_end]
                part[:] = None
                part[has] = values
                out[column][t_end:end] = m_part

            put("annotator", annot_names[t_who], annot_names[m_who])
            put("source", name, name)
            put("data_hash", data_hash[t_rows], data_hash[m_rows])
            put("data_title", title[t_rows], title[m_rows])
            put("frame", t_frame, bm.frame[mb])
            put("label_hash", label[t_rows], label[m_rows])
            put("benchmark_label_hash", bm_lab[bm_row[t_rows]], bm_lab[bm_row[m_rows]])
            put("shape", shape_names[t_shape], shape_names[bm.shape[mb]])
            put("object_hash", t_hashes.values(), None)
            t_bm("benchmark_object_hash", bm.object_hash[sb], bm.object_hash[mb])
            put("class", name_vocab[name_code] if n_t else None, None)
            t_bm("benchmark_class", bm.name_vocab[bm.name_code[sb]], bm.name_vocab[bm.name_code[mb]])
            put("feature_hash", feature_vocab[feature_code] if n_t else None, None)
            t_bm("benchmark_feature_hash", bm.feature_vocab[bm.feature_code[sb]], bm.feature_vocab[bm.feature_code[mb]])
            put("created_by", by_vocab[by_code] if n_t else None, None)
            put("iou", t_iou, np.nan)
            put("class_score", class_score, np.nan)
            put("outcome", np.asarray(OUTCOMES, dtype=object)[outcome], "missed")

        return ObjectRows(n_t + n_m, fill)

    # -- totals -------------------------------------------------------------------------------

    @_quiet
    def result(self) -> EvaluationResult:
        """Combine every training set added so far."""
        projects = list(self._projects.values())
        s = self.settings
        position = {name: i for i, name in enumerate(self._projects)}
        annotators: dict[str, AnnotatorScore] = {}
        said: list[str] = []
        breakdowns = _combine_breakdowns(projects, said)
        # everyone with objects, benchmark objects, answers or finished items (a benchmark of
        # classifications only has no objects to count)
        questions = self._question_totals(projects, "questions")  # annotator -> question -> total
        attributes = self._question_totals(projects, "attributes")
        # the sets each annotator appears in, for those with no objects (whose IoU parts name them)
        appears: dict[str, set[str]] = {}
        for p in projects:
            for who in {a for (_k, a, _l) in p.breakdown} | {a for a, _q in p.questions}:
                appears.setdefault(who, set()).add(p.name)
        everyone = set(self._totals) | set(breakdowns) | set(questions)
        no_counts = np.zeros(7, dtype=np.int64)
        for annot in sorted(everyone):
            objects, matched, low, correct, benchmark, missed, mismatches = (
                int(v) for v in self._totals.get(annot, no_counts))
            parts = self._iou_parts.get(annot, {})
            shapes, classes, done = breakdowns.get(annot, ({}, {}, 0))
            sources = parts.keys() if parts else appears.get(annot, set())
            score = AnnotatorScore(
                annotator=annot, objects=objects, benchmark_objects=benchmark, matched=matched, missed=missed,
                extra=objects - matched, low_overlap=low, correct_class=correct, iou_sum=math.fsum(parts.values()),
                status="", sources=tuple(sorted(sources, key=position.__getitem__)), class_mismatches=mismatches,
                by_shape=shapes, by_class=classes,
                classifications=questions.get(annot, {}), attributes=attributes.get(annot, {}),
                items_done=done, items_required=self._items_required)
            status, reason = s.pass_mark.verdict(score)
            annotators[annot] = replace(score, status=status, reason=reason)
        warnings = list(self._warnings) + self._unknown_class_names()
        for p in projects:
            warnings.extend(p.warnings)
        warnings.extend(said)
        if len(warnings) > MAX_WARNINGS:
            more = len(warnings) - MAX_WARNINGS
            warnings = warnings[:MAX_WARNINGS] + [f"… and {more} more warning(s)"]
        return EvaluationResult(
            settings=s, annotators=annotators, projects=projects, confusion_totals=dict(self._conf),
            not_compared={"benchmark": dict(sorted(self._bm_not_compared.items())),
                          "training": dict(sorted(self._training_nc.items()))},
            warnings=warnings, benchmark_rows=self._bm.n_rows, keep_objects=self.keep_objects,
        )


    def _unknown_class_names(self) -> list[str]:
        """What the settings ask that this benchmark cannot give: a class no benchmark object carries
        (a misspelling: its mark would silently judge nothing), more finished items than it has."""
        s = self.settings
        known = set(self._bm.name_vocab.tolist()) | set(self._class_labels)
        out = []
        wanted, items = s.pass_mark.min_items, len(self._bm_index)
        if wanted is not None and wanted > items:
            out.append(f"the pass mark asks for {wanted:,} finished item(s), but the benchmark has {items:,}: every item "
                       "is needed")
        for setting, names in (("class_thresholds", s.class_thresholds), ("class_sigmas", s.class_sigmas),
                               ("class_pass_f1", s.pass_mark.class_f1)):
            unknown = sorted(n for n in names if n not in known)
            if unknown:
                classes = ", ".join(safe_text(n, 40) for n in sorted(known)[:8]) + (" …" if len(known) > 8 else "")
                out.append(f"{setting} names {', '.join(repr(safe_text(n, 40)) for n in unknown)}, which no benchmark "
                           f"object carries, so it applies to nothing (the benchmark's classes: {classes or 'none'}): "
                           "check the spelling")
        return out

    def _bm_has_attributes(self) -> np.ndarray:
        """Per benchmark annotation: whether its object answered any attribute (made once, with the
        class each attribute belongs to, for its name)."""
        if self._has_attributes is None:
            bm = self._bm
            answers = bm.answers or []
            self._attribute_class = {}
            if not any(a.objects for a in answers):
                self._has_attributes = np.zeros(len(bm), dtype=bool)
            else:
                names = [self._class_labels[c] for c in self._bm_class[bm.feature_code].tolist()]
                has = np.zeros(len(bm), dtype=bool)
                for i, (r, h) in enumerate(zip(bm.row.tolist(), bm.object_hash.tolist())):
                    attrs = answers[r].objects.get(h)
                    if attrs:
                        has[i] = True
                        for q in attrs:
                            self._attribute_class.setdefault(q, names[i])
                self._has_attributes = has
        return self._has_attributes

    def _question_totals(self, projects: list[ProjectResult], which: str) -> dict[str, dict[str, QuestionTotal]]:
        """Per annotator, the totals per question over every set, in one pass (names and kinds from
        the benchmark; attributes with their class)."""
        counts: dict[str, dict[str, list[Any]]] = {}
        for p in projects:
            for (a, q), (n, total) in getattr(p, which).items():
                c = counts.setdefault(a, {}).setdefault(q, [0, []])
                c[0] += n
                c[1].append(total)
        names, kinds = self._question_names()
        owner = self._attribute_class if which == "attributes" else {}
        out = {}
        for annot, by_question in counts.items():
            totals = {q: QuestionTotal(name=names.get(q, q), kind=kinds.get(q, ""), compared=n,
                                       score_sum=math.fsum(parts), object_class=owner.get(q, ""))
                      for q, (n, parts) in by_question.items()}
            out[annot] = dict(sorted(totals.items(), key=lambda kv: (kv[1].object_class, kv[1].name, kv[0])))
        return out

    def _question_names(self) -> tuple[dict[str, str], dict[str, str]]:
        if self._names_kinds is None:
            from annotrain_tui.core.evaluation import answers

            self._names_kinds = answers.names_and_kinds(self._bm.answers or [])
        return self._names_kinds


def _combine_breakdowns(projects: list[ProjectResult], warnings: list[str] | None = None
                        ) -> dict[str, tuple[dict[str, Breakdown], dict[str, Breakdown], int]]:
    """Per annotator: its by-shape and by-class :class:`Breakdown` and finished items, over every set
    (counts added; similarity sums with fsum, so the order of sets changes nothing). Finished items
    are distinct benchmark items: the same work sent twice (two copies of one export, a row
    repeated in a file) is one item, and ``warnings`` says so."""
    sums: dict[tuple[str, str, str], list[np.ndarray]] = {}
    sources: dict[tuple[str, str, str], list[str]] = {}
    for p in projects:
        for key, row in p.breakdown.items():
            sums.setdefault(key, []).append(row)
            sources.setdefault(key, []).append(p.name)
    out: dict[str, tuple[dict[str, Breakdown], dict[str, Breakdown], int]] = {}
    for (kind, annot, label), rows in sorted(sums.items()):
        shapes, classes, done = out.get(annot, ({}, {}, 0))
        if kind == "items":
            every = np.concatenate(rows)
            items, counts = np.unique(every, return_counts=True)
            done = len(items)
            repeated = items[counts > 1]
            if len(repeated) and warnings is not None:
                where = [n for n, r in zip(sources[(kind, annot, label)], rows) if np.isin(r, repeated).any()]
                names = ", ".join(safe_text(n, 80) for n in where[:3]) + (f" and {len(where) - 3} more"
                                                                          if len(where) > 3 else "")
                warnings.append(f"{safe_text(annot, 80)}: {len(repeated)} benchmark item(s) were sent more than once "
                                f"({'in ' + names if len(where) > 1 else 'repeated in ' + names}): they count once "
                                "towards the items finished, and every copy counts in the scores (give each item once)")
        else:
            total = np.sum(rows, axis=0)
            b = Breakdown(objects=int(total[0]), matched=int(total[1]), benchmark_objects=int(total[2]),
                          covered=int(total[3]), similarity_sum=math.fsum(r[4] for r in rows))
            (shapes if kind == "shape" else classes)[label] = b
        out[annot] = (shapes, classes, done)
    return out


def _seed_columns_builder(tr: ObjectTable, ti: np.ndarray, iou: np.ndarray, class_score: np.ndarray
                          ) -> Callable[[], SeedColumns]:
    """The seed file's columns for one training set, as codes into small vocabularies (who, by
    ``createdBy`` code; title and label hash, by label row): numpy only, no frame, so the seed
    CSV is written without pandas (issue 14)."""
    by_vocab, by_code, rows, t_rows = tr.created_by_vocab, tr.created_by_code[ti], tr.rows, tr.row[ti]

    def build() -> SeedColumns:
        return SeedColumns(created_by=(by_vocab, by_code), data_title=(rows["data_title"], t_rows),
                           label_hash=(rows["label_hash"], t_rows), iou=iou, class_score=class_score)

    return build


class _Texts:
    """Strings kept as one UTF-8 buffer and where each ends (a ``str`` costs some 50 bytes beside
    its text: the object hashes of every block a session keeps); ``values()`` gives them back,
    equal, as an object array. Anything but strings is kept as it is."""

    __slots__ = ("_blob", "_ends", "_kept")

    def __init__(self, blob: bytes, ends: np.ndarray, kept: np.ndarray | None) -> None:
        self._blob, self._ends, self._kept = blob, ends, kept

    @classmethod
    def of(cls, values: np.ndarray) -> _Texts:
        items = values.tolist()
        if not all(type(v) is str for v in items):
            return cls(b"", np.zeros(0, dtype=np.int64), values)
        encoded = [v.encode("utf-8", "surrogatepass") for v in items]  # JSON may hold lone surrogates
        ends = np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)))
        return cls(b"".join(encoded), _narrow(ends), None)

    def values(self) -> np.ndarray:
        if self._kept is not None:
            return self._kept
        blob, ends = self._blob, self._ends.tolist()
        out = np.empty(len(ends), dtype=object)
        out[:] = [blob[a:b].decode("utf-8", "surrogatepass") for a, b in zip([0, *ends[:-1]], ends)]
        return out


def _narrow(values: np.ndarray) -> np.ndarray:
    """An integer array in the narrowest signed type that holds its values (the same values)."""
    if not len(values) or values.dtype.kind not in "iu":
        return values
    lo, hi = int(values.min()), int(values.max())
    for dtype in (np.int8, np.int16, np.int32):
        info = np.iinfo(dtype)
        if info.min <= lo and hi <= info.max:
            return values.astype(dtype)
    return values


def _narrow_float(values: np.ndarray) -> np.ndarray:
    """A float array as float32 when that keeps every value exactly (class scores: 0, 1, NaN)."""
    small = values.astype(np.float32)
    return small if np.array_equal(small.astype(np.float64), values, equal_nan=True) else values


# Padding boxes, far apart and with unit area: IoU exactly 0 against anything, unions always > 0.
_PAD_T = (1e300, 1e300, 1e300, 1e300, 1.0)
_PAD_B = (-1e300, -1e300, -1e300, -1e300, 1.0)


def _gather_padded(values: np.ndarray, index: np.ndarray, pad: float) -> np.ndarray:
    out = np.empty(len(index) + 1)
    np.take(values, index, out=out[:-1])
    out[-1] = pad
    return out


def _box_columns(t: ObjectTable) -> tuple[np.ndarray, ...]:
    """x1, y1, x2, y2, area per annotation, computed as the script does (x + w, w * h)."""
    return t.x, t.y, t.x + t.w, t.y + t.h, t.w * t.h


def _sdk_order(ti: np.ndarray, key: np.ndarray, seq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort instances by (group key, SDK order); usually already sorted (then free)."""
    if len(ti) < 2:
        return ti, key
    span = int(seq.max()) + 1
    if int(key.max()) < (1 << 62) // span:
        combined = key * span + seq
        if (combined[1:] >= combined[:-1]).all():
            return ti, key
        order = np.argsort(combined, kind="stable")
    else:
        order = np.lexsort((seq, key))
    return ti[order], key[order]


def _count_frames(t_key: np.ndarray, b_key: np.ndarray, n_frames: int) -> int:
    """Distinct (paired row, frame) with any compared annotation (keys are sorted)."""
    def uniq(k: np.ndarray) -> np.ndarray:
        return k[np.r_[True, k[1:] != k[:-1]]] if len(k) else k

    keys = np.concatenate([uniq(t_key), uniq(b_key)])
    f = np.int64(n_frames)
    return int(len(np.unique((keys // f // SHAPE_SLOTS) * f + keys % f)))


@_quiet
def evaluate(
    benchmark_rows: Iterable[Mapping[str, Any]] | ObjectTable,
    training_sets: Iterable[tuple[str, Iterable[Mapping[str, Any]]]],
    settings: EvaluationSettings | None = None,
    *,
    benchmark_source: str = "benchmark",
    keep_objects: bool = True,
    require_pairs: bool = True,
    **options: Any,
) -> EvaluationResult:
    """Evaluate every training set against the benchmark (see the module doc for the rules).

    ``settings``, or the :class:`EvaluationSettings` fields as keywords (``matching="seed"``).
    ``training_sets`` yields ``(name, label rows)``; it is consumed lazily, one set at a time, and
    nothing of a set but its aggregates (and per-object rows when ``keep_objects``) is kept, so a
    generator that loads each project on demand streams. Names must be unique.
    Raises :class:`InvalidInput` for bad settings or label rows, and :class:`AnnotrainError` when
    ``require_pairs`` and no training row shares a ``data_hash`` with the benchmark.
    """
    ev = Evaluator(benchmark_rows, settings, benchmark_source=benchmark_source, keep_objects=keep_objects, **options)
    names: set[str] = set()
    for name, rows in training_sets:
        if name in names:
            raise InvalidInput(f"training set {safe_text(name, 200)} is given twice")
        names.add(name)
        ev.add(name, rows)
        del rows
    result = ev.result()
    if require_pairs and result.paired_rows == 0:
        if not names:
            raise InvalidInput("no training label rows given")
        which = ", ".join(safe_text(n, 80) for n in sorted(names))
        raise AnnotrainError(
            f"nothing to compare: no label row in {which} has a data_hash that is in the benchmark "
            f"({safe_text(benchmark_source, 200)}, {result.benchmark_rows} rows)",
            hint="the benchmark and training projects must use the same training dataset")
    return result
