"""Evaluate annotator training projects against a benchmark project.

Public API: :func:`evaluate` (one call) and :class:`Evaluator` (one training set at a time, for
streaming and incremental refresh), returning an :class:`EvaluationResult`.

What is compared
    Label rows are paired by ``data_hash`` (training row → the benchmark row with that hash; with
    several benchmark rows for one hash the last wins, as in the published script). Only paired
    rows count. Inside a pair, objects are compared per frame (videos: every frame; image groups:
    every image, by ``data_sequence``) and per shape, only with objects of the same shape.
    Compared shapes: ``bounding_box``, ``rotatable_bounding_box``, ``polygon`` (all three by
    default in ``optimal`` mode, or the one given by ``shape``).

What is not compared
    Other shapes (polyline, point, bitmask, skeleton, cuboid, ellipse, circle, …), shapes the SDK
    does not know, and classifications are counted per side in
    :attr:`EvaluationResult.not_compared` and otherwise ignored (unknown shapes also add a
    warning). So are compared shapes left out by ``shape`` and, in seed mode, annotations on frames
    other than 0.

Matching
    ``"optimal"``: one-to-one per (paired row, frame, shape), maximum total IoU over pairs with
    IoU ≥ ``iou_threshold`` (see :mod:`.matching`). ``"seed"``: the published script, exactly —
    per training object the best-IoU benchmark object on frame 0 (strict ``>``, first wins,
    nothing when all IoUs are 0), class score 1.0 when the feature hashes agree; bounding boxes
    only unless ``shape`` says otherwise. The script raises for an object that is absent from
    frame 0 (``get_annotation(0)`` is truthy, ``.coordinates`` then fails); here such objects are
    simply not on frame 0 and not compared, which agrees with the script wherever it runs.
    In seed mode a training object *counts as matched* when its best IoU ≥ ``iou_threshold``;
    several may match one benchmark object (the script is many-to-one).

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
    matches with the benchmark's class) are over matches, ``None`` without any. A match with IoU
    below ``low_overlap`` is a low-overlap warning. Status from the :class:`PassMark`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from annotrain_tui.core.errors import AnnotrainError, InvalidInput
from annotrain_tui.core.evaluation import geometry
from annotrain_tui.core.evaluation.matching import Block, group_keys, make_blocks, optimal_matches, seed_best
from annotrain_tui.core.evaluation.parse import (
    BOX,
    COMPARED_SHAPES,
    ROTATED,
    SHAPE_CODE,
    ObjectTable,
    parse_label_rows,
    safe_text,
)

# Far-off or huge coordinates (1e300) overflow in box areas and shapely's measures; the results are
# checked (non-positive unions give IoU 0; NaN never matches), so numpy's RuntimeWarnings would only
# be noise on the user's terminal. Every public entry point of the engine runs under this.
_quiet = np.errstate(all="ignore")

__all__ = [
    "Matching",
    "PassMark",
    "Settings",
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

Matching = Literal["optimal", "seed"]
OUTCOMES = ("matched", "low_overlap", "missed", "extra")
UNMATCHED = "unmatched"
STATUS_PASSED = "passed"
STATUS_CLOSE = "close"
STATUS_NEEDS_FEEDBACK = "needs feedback"
SEED_COLUMNS = ("training_email", "data_unit_name", "label_id", "iou_score", "class_score")
OBJECT_COLUMNS = (
    "annotator", "source", "data_hash", "data_title", "frame", "label_hash", "benchmark_label_hash",
    "shape", "object_hash", "benchmark_object_hash", "class", "benchmark_class", "feature_hash",
    "benchmark_feature_hash", "created_by", "iou", "class_score", "outcome",
)
_EPS = 1e-9
_MAX_WARNINGS = 50


@dataclass(frozen=True)
class PassMark:
    """Passed when F1 ≥ ``f1`` and class accuracy ≥ ``class_accuracy``; close within ``margin`` of both."""

    f1: float = 0.8
    class_accuracy: float = 0.9
    margin: float = 0.1

    def status(self, f1: float, class_accuracy: float | None) -> str:
        ca = 1.0 if class_accuracy is None else class_accuracy  # no matches: F1 decides alone
        if f1 >= self.f1 - _EPS and ca >= self.class_accuracy - _EPS:
            return STATUS_PASSED
        if f1 >= self.f1 - self.margin - _EPS and ca >= self.class_accuracy - self.margin - _EPS:
            return STATUS_CLOSE
        return STATUS_NEEDS_FEEDBACK


@dataclass(frozen=True)
class Settings:
    matching: Matching
    iou_threshold: float
    low_overlap: float
    shapes: tuple[str, ...]
    pass_mark: PassMark

    @property
    def frame0_only(self) -> bool:
        return self.matching == "seed"

    def to_json(self) -> dict[str, Any]:
        return {"matching": self.matching, "iou_threshold": self.iou_threshold, "low_overlap": self.low_overlap,
                "shapes": list(self.shapes), "frames": "0" if self.frame0_only else "all",
                "pass_mark": {"f1": self.pass_mark.f1, "class_accuracy": self.pass_mark.class_accuracy,
                              "margin": self.pass_mark.margin}}


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


@dataclass(frozen=True)
class AnnotatorScore:
    """One annotator's totals over every training set evaluated (see the module doc for definitions)."""

    annotator: str
    objects: int
    benchmark_objects: int
    matched: int
    missed: int
    extra: int
    low_overlap: int
    correct_class: int
    iou_sum: float
    status: str
    sources: tuple[str, ...] = ()

    @property
    def precision(self) -> float | None:
        return _ratio(self.matched, self.objects)

    @property
    def recall(self) -> float | None:
        return _ratio(self.benchmark_objects - self.missed, self.benchmark_objects)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        if p is None and r is None:
            return 1.0
        if p is None or r is None or p + r == 0:
            return 0.0
        return 2 * p * r / (p + r)

    @property
    def mean_iou(self) -> float | None:
        return _ratio(self.iou_sum, self.matched)

    @property
    def class_accuracy(self) -> float | None:
        return _ratio(self.correct_class, self.matched)

    def summary(self) -> dict[str, Any]:
        """The ten summary fields, in the documented order."""
        return {"objects": self.objects, "benchmark_objects": self.benchmark_objects, "matched": self.matched,
                "missed": self.missed, "extra": self.extra, "precision": self.precision, "recall": self.recall,
                "f1": self.f1, "mean_iou": self.mean_iou, "class_accuracy": self.class_accuracy}

    def to_json(self) -> dict[str, Any]:
        return {**self.summary(), "low_overlap": self.low_overlap, "status": self.status,
                "sources": list(self.sources)}


@dataclass(frozen=True)
class _Stats:
    """Per-annotator counts of one training set: columns objects, matched, low_overlap,
    correct_class, benchmark_objects, missed; plus the sum of matched IoUs."""

    names: list[str]
    counts: np.ndarray
    iou_sum: np.ndarray


@dataclass
class ProjectResult:
    """What one training set contributed: counts, confusion, and (lazily) its per-object rows."""

    name: str
    rows: int
    paired_rows: int
    unpaired_rows: int
    frames: int
    stats: _Stats  # per annotator counts
    confusion: list[tuple[str, str, str, int]]  # (annotator, benchmark class, annotator class, count)
    not_compared: dict[str, int]
    warnings: list[str]
    optimised_groups: int = 0
    _build_objects: Callable[[], pd.DataFrame] | None = field(default=None, repr=False)
    _objects: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def objects(self) -> pd.DataFrame | None:
        """Per-object rows (:data:`OBJECT_COLUMNS`), built on first access; None when not kept."""
        if self._objects is None and self._build_objects is not None:
            self._objects = self._build_objects()
            self._build_objects = None
        return self._objects


@dataclass
class EvaluationResult:
    """Everything an evaluation produced; ``summary_json()`` is the stable machine-readable part."""

    settings: Settings
    annotators: dict[str, AnnotatorScore]
    projects: list[ProjectResult]
    confusion_totals: dict[tuple[str, str, str], int]  # (annotator, benchmark class, annotator class) -> count
    not_compared: dict[str, dict[str, int]]
    warnings: list[str]
    benchmark_rows: int
    keep_objects: bool = True
    _objects: pd.DataFrame | None = field(default=None, repr=False)
    _confusion_counts: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def confusion_counts(self) -> pd.DataFrame:
        """Columns annotator, benchmark_class, annotator_class, count; sorted (built on first use)."""
        if self._confusion_counts is None:
            keys = sorted(self.confusion_totals)
            self._confusion_counts = pd.DataFrame({
                "annotator": pd.Series([k[0] for k in keys], dtype=object),
                "benchmark_class": pd.Series([k[1] for k in keys], dtype=object),
                "annotator_class": pd.Series([k[2] for k in keys], dtype=object),
                "count": np.array([self.confusion_totals[k] for k in keys], dtype=np.int64),
            })
        return self._confusion_counts

    @property
    def paired_rows(self) -> int:
        return sum(p.paired_rows for p in self.projects)

    @property
    def frames(self) -> int:
        return sum(p.frames for p in self.projects)

    @property
    def objects(self) -> pd.DataFrame | None:
        """Per-object rows of every training set (None with ``keep_objects=False``).

        Columns :data:`OBJECT_COLUMNS`: training objects first (in SDK order per row), then the
        benchmark objects nobody matched (``outcome == "missed"``, annotator = who is charged).
        ``iou`` is the match's IoU (seed mode: the script's best IoU for every training object);
        ``class_score`` 1.0/0.0 for a match (seed: for every training object), NaN otherwise.
        """
        if not self.keep_objects:
            return None
        if self._objects is None:
            parts = [p.objects for p in self.projects if p.objects is not None]
            self._objects = (pd.concat(parts, ignore_index=True) if parts
                             else pd.DataFrame(columns=list(OBJECT_COLUMNS)))
        return self._objects

    def summary_json(self) -> dict[str, Any]:
        """``{"annotators": {email: {objects, benchmark_objects, matched, missed, extra, precision,
        recall, f1, mean_iou, class_accuracy}}}``, annotators sorted."""
        return {"annotators": {name: score.summary() for name, score in self.annotators.items()}}

    def to_json(self) -> dict[str, Any]:
        """The summary plus status, settings, per-source counts, confusion, not-compared and warnings."""
        return {
            "settings": self.settings.to_json(),
            "benchmark_rows": self.benchmark_rows,
            "paired_rows": self.paired_rows,
            "frames": self.frames,
            "sources": [{"name": p.name, "rows": p.rows, "paired_rows": p.paired_rows,
                         "unpaired_rows": p.unpaired_rows, "frames": p.frames} for p in self.projects],
            "annotators": {name: score.to_json() for name, score in self.annotators.items()},
            "confusion": [{k: (int(v) if k == "count" else v) for k, v in r.items()}
                          for r in self.confusion_counts.to_dict(orient="records")],
            "not_compared": self.not_compared,
            "warnings": list(self.warnings),
        }

    def confusion(self, annotator: str | None = None) -> pd.DataFrame:
        """Benchmark class (rows) × annotator class (columns) counts, with ``unmatched`` last on both."""
        cc = self.confusion_counts
        if annotator is not None:
            cc = cc[cc["annotator"] == annotator]
        table = cc.pivot_table(index="benchmark_class", columns="annotator_class", values="count",
                               aggfunc="sum", fill_value=0)
        labels = sorted((set(table.index) | set(table.columns)) - {UNMATCHED})
        return table.reindex(index=labels + [UNMATCHED], columns=labels + [UNMATCHED], fill_value=0).astype(int)

    def _rows(self) -> pd.DataFrame:
        if self.objects is None:
            raise AnnotrainError("per-object rows were not kept (keep_objects=False)")
        return self.objects

    def seed_rows(self) -> pd.DataFrame:
        """The published script's ``iou_results.csv`` rows (one per training object, its columns)."""
        df = self._rows()
        df = df[df["outcome"] != "missed"]

        def text(col: str) -> pd.Series:  # object dtype: a missing email stays None, as in the script's rows
            values = df[col].to_numpy(dtype=object)
            return pd.Series(np.where(pd.isna(values), None, values), dtype=object)

        return pd.DataFrame({
            "training_email": text("created_by"),
            "data_unit_name": text("data_title"),
            "label_id": text("label_hash"),
            "iou_score": df["iou"].to_numpy(dtype=np.float64),
            "class_score": df["class_score"].to_numpy(dtype=np.float64),
        })

    def low_overlap_rows(self) -> pd.DataFrame:
        """Matches with IoU below the low-overlap mark (the warnings)."""
        df = self._rows()
        return df[df["outcome"] == "low_overlap"]


def _check_settings(matching: str, iou_threshold: float, low_overlap: float, shape: str | None,
                    pass_mark: PassMark) -> Settings:
    if matching not in ("optimal", "seed"):
        raise InvalidInput(f"unknown matching {safe_text(matching)!s}: use 'optimal' or 'seed'")
    for name, value, lo_open in (("IoU threshold", iou_threshold, True), ("low-overlap mark", low_overlap, False)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) \
                or value > 1 or value < 0 or (lo_open and value == 0):
            raise InvalidInput(f"the {name} must be a number in {'(0' if lo_open else '[0'}, 1], got {value!r}")
    if shape is not None and shape not in COMPARED_SHAPES:
        raise InvalidInput(f"cannot compare shape {safe_text(shape)}: use one of {', '.join(COMPARED_SHAPES)}")
    if shape is not None:
        shapes: tuple[str, ...] = (shape,)
    else:
        shapes = (BOX,) if matching == "seed" else COMPARED_SHAPES
    return Settings(matching=matching, iou_threshold=float(iou_threshold), low_overlap=float(low_overlap),
                    shapes=shapes, pass_mark=pass_mark)  # type: ignore[arg-type]


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
        *,
        matching: Matching = "optimal",
        iou_threshold: float = 0.5,
        low_overlap: float = 0.8,
        shape: str | None = None,
        pass_mark: PassMark = PassMark(),
        benchmark_source: str = "benchmark",
        keep_objects: bool = True,
    ) -> None:
        self.settings = _check_settings(matching, iou_threshold, low_overlap, shape, pass_mark)
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
        codes = np.array([SHAPE_CODE[s] for s in self.settings.shapes], dtype=np.int8)
        self._shape_ok = np.isin(np.arange(len(COMPARED_SHAPES)), codes)
        keep = self._shape_ok[bm.shape] if len(bm) else np.zeros(0, bool)
        if self.settings.frame0_only:
            keep &= bm.frame == 0
        self._bm_not_compared: dict[str, int] = dict(bm.not_compared)
        _add_counts(self._bm_not_compared, _filtered_counts(bm, np.ones(len(bm), bool), keep, codes))
        sel = np.flatnonzero(keep)
        order = np.lexsort((bm.seq[sel], bm.frame[sel], bm.shape[sel], bm.row[sel]))
        self._b_sorted = sel[order]  # benchmark annotations, by (row, shape, frame, SDK order)
        b_rows = bm.row[self._b_sorted]
        n_rows = bm.n_rows
        self._b_row_start = np.searchsorted(b_rows, np.arange(n_rows), side="left")
        self._b_row_count = np.searchsorted(b_rows, np.arange(n_rows), side="right") - self._b_row_start
        self._shape_codes = codes
        self._feature_index = {v: i for i, v in enumerate(bm.feature_vocab.tolist())}
        self._classes: dict[str, int] = {}
        self._bm_class = self._class_ids(bm.name_vocab)
        self._box = _box_columns(bm)
        self._projects: dict[str, ProjectResult] = {}
        # Running totals over self._projects, kept as each set is added or removed (result() then
        # costs the number of annotators, not of sets): integer counts are exact under
        # subtraction; IoU sums are kept per set and added with fsum, so no rounding drifts in.
        self._totals: dict[str, np.ndarray] = {}
        self._iou_parts: dict[str, dict[str, float]] = {}  # annotator -> set name -> IoU sum
        self._conf: dict[tuple[str, str, str], int] = {}
        self._training_nc: dict[str, int] = {}

    @property
    def benchmark(self) -> ObjectTable:
        return self._bm

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

    def _class_ids(self, vocab: np.ndarray) -> np.ndarray:
        out = np.empty(len(vocab), dtype=np.int64)
        for i, v in enumerate(vocab.tolist()):
            out[i] = self._classes.setdefault(v, len(self._classes))
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

    def _evaluate_table(self, name: str, tr: ObjectTable, owner: str | None = None, *,
                        credit_owner: bool = False) -> ProjectResult:
        owner = owner or name
        bm = self._bm
        s = self.settings
        warnings = list(tr.warnings)
        src = safe_text(name, 200)

        # Pair rows by data_hash.
        tr_hashes = tr.rows["data_hash"].tolist()
        get = self._bm_index.get
        bm_row = np.fromiter((get(h, -1) for h in tr_hashes), dtype=np.int64, count=len(tr_hashes))
        paired = bm_row >= 0
        paired_rows = np.flatnonzero(paired)
        n_unpaired = int(len(tr_hashes) - len(paired_rows))
        if n_unpaired and len(paired_rows):
            warnings.append(f"{src}: {n_unpaired} label row(s) have no benchmark row with the same data_hash "
                            "(not compared)")
        elif n_unpaired:
            warnings.append(f"{src}: none of its {n_unpaired} label row(s) shares a data_hash with the benchmark "
                            "(not compared)")
        paired_hashes = [tr_hashes[r] for r in paired_rows.tolist()] if n_unpaired else tr_hashes
        repeats = len(paired_hashes) - len(set(paired_hashes))
        if repeats:
            warnings.append(f"{src}: {repeats} label row(s) repeat a data_hash; each is compared")

        # Training annotations to compare, in (row, shape, frame, SDK order).
        keep = (paired[tr.row] & self._shape_ok[tr.shape]) if len(tr) else np.zeros(0, bool)
        if s.frame0_only:
            keep &= tr.frame == 0
        not_compared = dict(tr.not_compared)
        candidate = paired[tr.row] if len(tr) else keep
        if (candidate & ~keep).any():
            _add_counts(not_compared, _filtered_counts(tr, candidate, keep, self._shape_codes))
        ti = np.flatnonzero(keep)
        n_frames = int(max(tr.frame.max(initial=0), bm.frame.max(initial=0))) + 1
        t_key = group_keys(tr.row[ti], tr.shape[ti], tr.frame[ti], n_frames)
        ti, t_key = _sdk_order(ti, t_key, tr.seq[ti])

        # Benchmark annotations of each paired row (ragged gather), already in (shape, frame, SDK order).
        b_count = self._b_row_count[bm_row[paired_rows]]
        b_first = self._b_row_start[bm_row[paired_rows]]
        total_b = int(b_count.sum())
        offsets = np.arange(total_b, dtype=np.int64) - np.repeat(np.cumsum(b_count) - b_count, b_count)
        bi = self._b_sorted[np.repeat(b_first, b_count) + offsets]
        b_pair = np.repeat(paired_rows, b_count)  # the training row each benchmark annotation is compared in
        b_key = group_keys(b_pair, bm.shape[bi], bm.frame[bi], n_frames)

        blocks = make_blocks(t_key, b_key, n_frames)
        self._fill_iou(blocks, tr, ti, bi)
        n_t, n_b = len(ti), len(bi)

        # Matching, and the class check against the matched benchmark object.
        optimised = 0
        if s.matching == "seed":
            match, t_iou = seed_best(blocks, n_t)
            matched = t_iou >= s.iou_threshold
            scored = match >= 0  # the script scores the class of its best candidate, whatever the IoU
        else:
            match, t_iou, optimised = optimal_matches(blocks, n_t, s.iou_threshold)
            matched = match >= 0
            scored = matched
        fmap = np.array([self._feature_index.get(v, -1) for v in tr.feature_vocab.tolist()], dtype=np.int64)
        same_class = np.zeros(n_t, dtype=bool)
        same_class[scored] = fmap[tr.feature_code[ti[scored]]] == bm.feature_code[bi[match[scored]]]
        class_score = np.where(scored, same_class.astype(np.float64), np.nan)
        if s.matching == "seed":
            class_score = same_class.astype(np.float64)  # 0.0 when nothing was found, as the script
        low = matched & (t_iou < s.low_overlap)

        # Annotators: createdBy, else the project's name. Misses go to the row's main annotator.
        creators = [owner if credit_owner or not (isinstance(v, str) and v) else v
                    for v in tr.created_by_vocab.tolist()]
        annot_names = list(dict.fromkeys(creators + [owner]))
        annot_of_creator = np.array([annot_names.index(v) for v in creators] or [0], dtype=np.int64)
        t_annot = annot_of_creator[tr.created_by_code[ti]] if n_t else np.zeros(0, dtype=np.int64)
        k = len(annot_names)
        counts = np.bincount(t_annot, minlength=k)
        project_main = int(np.argmax(counts)) if n_t else annot_names.index(owner)
        main_of_row = np.full(tr.n_rows, project_main, dtype=np.int64)
        if n_t and (counts > 0).sum() > 1:
            t_row = tr.row[ti]
            u, first, cnt = np.unique(t_row * k + t_annot, return_index=True, return_counts=True)
            order = np.lexsort((first, -cnt, u // k))
            rows_o = (u // k)[order]
            head = np.r_[True, rows_o[1:] != rows_o[:-1]]
            main_of_row[rows_o[head]] = (u % k)[order][head]

        covered = np.zeros(n_b, dtype=bool)
        b_annot = np.zeros(n_b, dtype=np.int64)
        mt = np.flatnonzero(matched)
        if s.matching == "seed":  # many-to-one: the first training object (SDK order) that matched it
            first_t = np.full(n_b, n_t, dtype=np.int64)
            np.minimum.at(first_t, match[mt], mt)
            hit = np.flatnonzero(first_t < n_t)
            covered[hit] = True
            b_annot[hit] = t_annot[first_t[hit]]
        else:
            covered[match[mt]] = True
            b_annot[match[mt]] = t_annot[mt]
        miss = np.flatnonzero(~covered)
        b_annot[miss] = main_of_row[b_pair[miss]]

        stats = self._stats(annot_names, t_annot, matched, low, same_class, t_iou, b_annot, covered)
        confusion = self._confusion(annot_names, tr, ti, bi, t_annot, matched, match, b_annot, miss)
        frames = _count_frames(t_key, b_key, n_frames)

        builder = None
        if self.keep_objects:
            builder = self._object_rows_builder(
                name, tr, ti, bi, b_pair, bm_row, np.asarray(annot_names, dtype=object), t_annot, match,
                t_iou, class_score, matched, low, b_annot, miss)
        return ProjectResult(name=name, rows=tr.n_rows, paired_rows=int(len(paired_rows)), unpaired_rows=n_unpaired,
                             frames=frames, stats=stats, confusion=confusion, not_compared=not_compared,
                             warnings=warnings, optimised_groups=optimised, _build_objects=builder)

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
            if code == SHAPE_CODE[ROTATED]:
                img_w = np.where(np.isnan(bm.img_w[b]), tr.img_w[t], bm.img_w[b])
                img_h = np.where(np.isnan(bm.img_h[b]), tr.img_h[t], bm.img_h[b])
                values = geometry.rotated_iou_pairs(tr.x[t], tr.y[t], tr.w[t], tr.h[t], tr.theta[t],
                                                    bm.x[b], bm.y[b], bm.w[b], bm.h[b], bm.theta[b], img_w, img_h)
            else:
                ba = np.column_stack([tr.x[t], tr.y[t], tr.x[t] + tr.w[t], tr.y[t] + tr.h[t]])
                bb_ = np.column_stack([bm.x[b], bm.y[b], bm.x[b] + bm.w[b], bm.y[b] + bm.h[b]])
                values = geometry.polygon_iou_pairs(tr.geom[t], bm.geom[b], ba, bb_)
            start = 0
            for blk, (g, r, c) in parts:
                blk.iou = np.zeros((blk.t.shape[0], blk.t.shape[1], blk.b.shape[1]))
                blk.iou[g, r, c] = values[start:start + len(g)]
                start += len(g)

    @staticmethod
    def _stats(annot_names: list[str], t_annot: np.ndarray, matched: np.ndarray, low: np.ndarray,
               same_class: np.ndarray, t_iou: np.ndarray, b_annot: np.ndarray, covered: np.ndarray) -> _Stats:
        k = len(annot_names)
        if k == 1 or (len(t_annot) and (t_annot == t_annot[0]).all() and (b_annot == t_annot[0]).all()):
            one = int(t_annot[0]) if len(t_annot) else (int(b_annot[0]) if len(b_annot) else 0)
            row = np.array([len(t_annot), matched.sum(), low.sum(), (matched & same_class).sum(), len(b_annot),
                            len(b_annot) - covered.sum()], dtype=np.int64)
            if row[0] == 0 and row[4] == 0:
                return _Stats([], np.zeros((0, 6), dtype=np.int64), np.zeros(0))
            return _Stats([annot_names[one]], row[None, :], np.array([t_iou[matched].sum()]))
        counts = np.stack([
            np.bincount(t_annot, minlength=k),
            np.bincount(t_annot[matched], minlength=k),
            np.bincount(t_annot[low], minlength=k),
            np.bincount(t_annot[matched & same_class], minlength=k),
            np.bincount(b_annot, minlength=k),
            np.bincount(b_annot[~covered], minlength=k),
        ], axis=1)
        iou_sum = np.bincount(t_annot[matched], weights=t_iou[matched], minlength=k)
        present = (counts[:, 0] > 0) | (counts[:, 4] > 0)
        names = [n for n, p in zip(annot_names, present.tolist()) if p]
        return _Stats(names, counts[present], iou_sum[present])

    def _confusion(self, annot_names: list[str], tr: ObjectTable, ti: np.ndarray, bi: np.ndarray,
                   t_annot: np.ndarray, matched: np.ndarray, match: np.ndarray, b_annot: np.ndarray,
                   miss: np.ndarray) -> list[tuple[str, str, str, int]]:
        bm = self._bm
        tr_class = self._class_ids(tr.name_vocab)
        c = len(self._classes) + 1  # 0 = unmatched, class i = i + 1
        t_bm = np.zeros(len(ti), dtype=np.int64)
        t_bm[matched] = self._bm_class[bm.name_code[bi[match[matched]]]] + 1
        t_tr = tr_class[tr.name_code[ti]] + 1 if len(ti) else np.zeros(0, dtype=np.int64)
        m_bm = self._bm_class[bm.name_code[bi[miss]]] + 1 if len(miss) else np.zeros(0, dtype=np.int64)
        combo = np.concatenate([(t_annot * c + t_bm) * c + t_tr, (b_annot[miss] * c + m_bm) * c])
        size = len(annot_names) * c * c
        if size <= 4 * len(combo) + 1024:  # small key space: count without sorting
            counts = np.bincount(combo, minlength=size)
            u = np.flatnonzero(counts)
            n = counts[u]
        else:
            u, n = np.unique(combo, return_counts=True)
        labels = [UNMATCHED] + list(self._classes)
        return [(annot_names[a], labels[b], labels[t], cnt)
                for a, b, t, cnt in zip((u // (c * c)).tolist(), ((u // c) % c).tolist(), (u % c).tolist(),
                                        n.tolist())]

    def _object_rows_builder(self, name: str, tr: ObjectTable, ti: np.ndarray, bi: np.ndarray, b_pair: np.ndarray,
                             bm_row: np.ndarray, annot_names: np.ndarray, t_annot: np.ndarray, shown: np.ndarray,
                             t_iou: np.ndarray, class_score: np.ndarray, matched: np.ndarray, low: np.ndarray,
                             b_annot: np.ndarray, miss: np.ndarray) -> Callable[[], pd.DataFrame]:
        """Capture what the per-object rows need (arrays, not the label rows) and build them on demand."""
        bm = self._bm
        rows = tr.rows  # one row per label row; its columns are picked only if the rows are built
        cols = (tr.row, tr.frame, tr.shape, tr.object_hash, tr.name_vocab, tr.name_code, tr.feature_vocab,
                tr.feature_code, tr.created_by_vocab, tr.created_by_code)

        @_quiet
        def build() -> pd.DataFrame:
            row, frame, shape, object_hash, name_vocab, name_code, feature_vocab, feature_code, by_vocab, by_code = cols
            t_rows, t_frame, t_shape, t_hash = row[ti], frame[ti], shape[ti], object_hash[ti]
            t_name = name_vocab[name_code[ti]] if len(ti) else np.empty(0, dtype=object)
            t_feat = feature_vocab[feature_code[ti]] if len(ti) else np.empty(0, dtype=object)
            t_by = by_vocab[by_code[ti]] if len(ti) else np.empty(0, dtype=object)
            has = shown >= 0
            sb = bi[shown[has]]
            mb = bi[miss]
            m_rows = b_pair[miss]
            outcome = np.where(matched, np.where(low, 1, 0), 3)  # index into OUTCOMES
            n_t, n_m = len(t_rows), len(miss)
            shape_names = np.asarray(COMPARED_SHAPES, dtype=object)

            def col(t_part: Any, m_part: Any) -> pd.Series:
                values = np.empty(n_t + n_m, dtype=object)
                values[:n_t] = t_part
                values[n_t:] = m_part
                return pd.Series(values, dtype=object, copy=False)

            def t_bm(values: np.ndarray) -> np.ndarray:
                out = np.full(n_t, None, dtype=object)
                out[has] = values
                return out

            label = rows["label_hash"].to_numpy(dtype=object)
            data_hash = rows["data_hash"].to_numpy(dtype=object)
            title = rows["data_title"].to_numpy(dtype=object)
            bm_lab = bm.rows["label_hash"].to_numpy(dtype=object)
            return pd.DataFrame({
                "annotator": col(annot_names[t_annot], annot_names[b_annot[miss]]),
                "source": col(name, name),
                "data_hash": col(data_hash[t_rows], data_hash[m_rows]),
                "data_title": col(title[t_rows], title[m_rows]),
                "frame": np.concatenate([t_frame, bm.frame[mb]]).astype(np.int64),
                "label_hash": col(label[t_rows], label[m_rows]),
                "benchmark_label_hash": col(bm_lab[bm_row[t_rows]], bm_lab[bm_row[m_rows]]),
                "shape": col(shape_names[t_shape], shape_names[bm.shape[mb]]),
                "object_hash": col(t_hash, None),
                "benchmark_object_hash": col(t_bm(bm.object_hash[sb]), bm.object_hash[mb]),
                "class": col(t_name, None),
                "benchmark_class": col(t_bm(bm.name_vocab[bm.name_code[sb]]), bm.name_vocab[bm.name_code[mb]]),
                "feature_hash": col(t_feat, None),
                "benchmark_feature_hash": col(t_bm(bm.feature_vocab[bm.feature_code[sb]]),
                                              bm.feature_vocab[bm.feature_code[mb]]),
                "created_by": col(t_by, None),
                "iou": np.concatenate([t_iou, np.full(n_m, np.nan)]),
                "class_score": np.concatenate([class_score, np.full(n_m, np.nan)]),
                "outcome": col(np.asarray(OUTCOMES, dtype=object)[outcome], "missed"),
            }, columns=list(OBJECT_COLUMNS))

        return build

    # -- totals -------------------------------------------------------------------------------

    @_quiet
    def result(self) -> EvaluationResult:
        """Combine every training set added so far."""
        projects = list(self._projects.values())
        s = self.settings
        position = {name: i for i, name in enumerate(self._projects)}
        annotators: dict[str, AnnotatorScore] = {}
        for annot in sorted(self._totals):
            objects, matched, low, correct, benchmark, missed = (int(v) for v in self._totals[annot])
            parts = self._iou_parts[annot]
            score = AnnotatorScore(
                annotator=annot, objects=objects, benchmark_objects=benchmark, matched=matched, missed=missed,
                extra=objects - matched, low_overlap=low, correct_class=correct, iou_sum=math.fsum(parts.values()),
                status="", sources=tuple(sorted(parts, key=position.__getitem__)))
            annotators[annot] = replace(score, status=s.pass_mark.status(score.f1, score.class_accuracy))
        warnings = list(self._warnings)
        for p in projects:
            warnings.extend(p.warnings)
        if len(warnings) > _MAX_WARNINGS:
            more = len(warnings) - _MAX_WARNINGS
            warnings = warnings[:_MAX_WARNINGS] + [f"… and {more} more warning(s)"]
        return EvaluationResult(
            settings=s, annotators=annotators, projects=projects, confusion_totals=dict(self._conf),
            not_compared={"benchmark": dict(sorted(self._bm_not_compared.items())),
                          "training": dict(sorted(self._training_nc.items()))},
            warnings=warnings, benchmark_rows=self._bm.n_rows, keep_objects=self.keep_objects,
        )


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
    return int(len(np.unique((keys // f // 3) * f + keys % f)))


@_quiet
def evaluate(
    benchmark_rows: Iterable[Mapping[str, Any]] | ObjectTable,
    training_sets: Iterable[tuple[str, Iterable[Mapping[str, Any]]]],
    matching: Matching = "optimal",
    iou_threshold: float = 0.5,
    low_overlap: float = 0.8,
    shape: str | None = None,
    *,
    pass_mark: PassMark = PassMark(),
    benchmark_source: str = "benchmark",
    keep_objects: bool = True,
    require_pairs: bool = True,
) -> EvaluationResult:
    """Evaluate every training set against the benchmark (see the module doc for the rules).

    ``training_sets`` yields ``(name, label rows)``; it is consumed lazily, one set at a time, and
    nothing of a set but its aggregates (and per-object rows when ``keep_objects``) is kept, so a
    generator that loads each project on demand streams. Names must be unique.
    Raises :class:`InvalidInput` for bad settings or label rows, and :class:`AnnotrainError` when
    ``require_pairs`` and no training row shares a ``data_hash`` with the benchmark.
    """
    ev = Evaluator(benchmark_rows, matching=matching, iou_threshold=iou_threshold, low_overlap=low_overlap,
                   shape=shape, pass_mark=pass_mark, benchmark_source=benchmark_source, keep_objects=keep_objects)
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
