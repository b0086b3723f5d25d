"""What the evaluation screens show, asked of one immutable snapshot of a session's result.

A screen never aggregates or filters: it asks :class:`EvaluationSnapshot` (built by
:meth:`EvaluationSession.snapshot`, in a worker thread) for the rows of a table or the view of one
item, under one :class:`Filter`, and draws what it gets. Tables come back as DataFrames (the
columns the screens' tables name, one record per row); one item comes back as an
:class:`ItemView` of frozen records. Filters match text *as shown* (the untrusted-text policy's
escapes, casefolded), so what the user types matches what the user sees.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from annotrain_tui.core.columns import Columns
from annotrain_tui.core.evaluation.labels import BOX, read_objects
from annotrain_tui.core.evaluation.results import (
    IOU_BINS,
    UNMATCHED,
    AnnotatorScore,
    Breakdown,
    EvaluationResult,
    EvaluationSettings,
    PassMark,
    QuestionTotal,
    class_label,
)
from annotrain_tui.core.evaluation.shapes import DRAWABLE, Geometry
from annotrain_tui.core.lazy import lazy_module
from annotrain_tui.core.text import shown

if TYPE_CHECKING:
    import pandas as pd

    from annotrain_tui.core.evaluation.engine import Evaluator
    from annotrain_tui.core.evaluation.session import EvaluationSession
else:
    pd = lazy_module("pandas")  # the annotator table (a screen's first view) needs no frame

__all__ = ["Filter", "EvaluationSnapshot", "ItemView", "ItemShape", "AnnotatorDetail", "ConfusionView",
           "BreakdownView", "ITEM_COLUMNS", "OBJECT_COLUMNS", "ITEM_OBJECT_COLUMNS", "CONFUSION_COLUMNS",
           "BREAKDOWN_COLUMNS", "QUESTION_COLUMNS", "MATCHING_CHOICES", "sparkline", "annotator_scores",
           "confusion_counts", "confusion_matrix", "filter_mask", "matching_of", "spark_of_counts", "matching_text",
           "with_matching", "breakdown_table", "question_table"]

SPARK = "▁▂▃▄▅▆▇█"
MATCHED = ("matched", "low_overlap")
ITEM_COLUMNS = ("data_hash", "data_title", "frames", "objects", "matched", "missed", "extra", "low_overlap",
                "mean_iou", "class_accuracy")
OBJECT_COLUMNS = ("row_id", "annotator", "data_hash", "data_title", "frame", "shape", "class", "benchmark_class",
                  "iou", "class_score", "outcome", "object_hash", "benchmark_object_hash")
#: the item screen's table: ``pair`` is the number drawn on the canvas next to both shapes of a match
ITEM_OBJECT_COLUMNS = ("row_id", "pair", "iou", "outcome", "class", "benchmark_class", "shape", "frame")
#: the long form of a confusion matrix (``EvaluationResult.confusion_counts``'s columns)
CONFUSION_COLUMNS = ("annotator", "benchmark_class", "annotator_class", "count")
#: a breakdown table (by shape or by class): one row per label, the engine's :class:`Breakdown`
BREAKDOWN_COLUMNS = ("label", "objects", "benchmark_objects", "matched", "missed", "extra", "precision", "recall",
                     "f1", "mean_similarity")
#: a question table (classifications or attributes): one row per question, its :class:`QuestionTotal`
QUESTION_COLUMNS = ("label", "kind", "compared", "accuracy")
#: the matchings the evaluation screen offers: (key, what the choice says). Seed is the published
#: script, which compares bounding boxes on frame 0 only (whatever the classes).
MATCHING_CHOICES = (
    ("optimal", "Optimal, any class: best one-to-one pairs, all shapes"),
    ("same", "Optimal within a class: only same-class objects pair"),
    ("seed", "Seed (the published script): boxes on frame 0 only"),
)
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_TAG_LIMIT = 40


def item_rows_of(bench_rows: Mapping[str, Any], sources: Iterable[tuple[str, Mapping[str, Any]]], data_hash: str,
                 annotator: str) -> tuple[Any, Any]:
    """The benchmark's row of an item and an annotator's own row of it (else the first training row
    of it): what the item view, the session and the feedback packs draw."""
    mine: Mapping[str, Any] | None = None  # whose row: asked by membership first (a file's row is a read)
    for who, rows in sources:
        if data_hash in rows and (who == annotator or mine is None):
            mine = rows
            if who == annotator:
                break
    return bench_rows.get(data_hash), (mine.get(data_hash) if mine is not None else None)


@dataclass(frozen=True)
class Filter:
    """What the user narrowed the evaluation to: annotator and class text (contained, as shown,
    any case), and the IoU threshold a match needs (None: the session's; a change re-scores)."""

    annotator: str = ""
    class_name: str = ""
    iou_threshold: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "annotator", self.annotator.strip())
        object.__setattr__(self, "class_name", self.class_name.strip())

    @property
    def active(self) -> bool:
        return bool(self.annotator or self.class_name)

    def describe(self) -> str:
        """``annotator~'bea', class~'car'`` (raw text: the caller shows it through the policy)."""
        parts = [f"{k}~{v!r}" for k, v in (("annotator", self.annotator), ("class", self.class_name)) if v]
        return ", ".join(parts)

    def to_json(self) -> dict[str, str] | None:
        """What an export says it carries (``{"annotator": ..., "class": ...}``, the set parts), None
        when nothing is filtered."""
        parts = {k: v for k, v in (("annotator", self.annotator), ("class", self.class_name)) if v}
        return parts or None

    def tag(self) -> str:
        """The filter in a file name: ``class-car``, ``annotator-bea.class-road_sign`` ("" when none).
        Only ASCII letters, digits, ``-`` and ``_`` are kept (any other run becomes one ``_``), each
        part at most 40 characters: safe on every file system, never a path separator or a dot file."""
        parts = []
        for key, value in (("annotator", self.annotator), ("class", self.class_name)):
            if value:
                safe = _TAG_UNSAFE.sub("_", value).strip("_")[:_TAG_LIMIT] or "_"
                parts.append(f"{key}-{safe}")
        return ".".join(parts)

    def file_name(self, default: str) -> str:
        """``default`` with the filter's tag before its extension: ``iou_results.class-car.csv``."""
        tag = self.tag()
        if not tag:
            return default
        stem, dot, ext = default.rpartition(".")
        return f"{stem}.{tag}.{ext}" if dot else f"{default}.{tag}"


def _as_shown(value: Any) -> str:
    """A text as the user sees it (the policy's escapes), casefolded: filters match what is shown."""
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else shown(value).casefold()


def _contains(values: Any, needle: str) -> np.ndarray:
    """Per value: whether it contains ``needle`` as shown, any case (a column, an array or a list)."""
    items = values.tolist() if hasattr(values, "tolist") else list(values)
    want = needle.casefold()
    return np.fromiter((want in _as_shown(v) for v in items), dtype=bool, count=len(items))


def filter_mask(objects: pd.DataFrame, f: Filter, annotator: str | None = None, *,
                class_columns: tuple[str, ...] = ("class", "benchmark_class"),
                labels: Mapping[str, str] | None = None) -> np.ndarray:
    """Which per-object rows ``f`` keeps: the annotator (exactly ``annotator`` when given, else
    containing ``f.annotator``) and, with a class filter, a class column containing it (by default
    the annotator's class or the benchmark's: a car drawn as a truck is about cars and trucks; and
    each as :func:`class_labels` names it, so a class renamed in a training export is found under
    the benchmark's name too)."""
    keep = np.ones(len(objects), dtype=bool)
    if not len(objects):
        return keep
    if annotator is not None:
        keep &= (objects["annotator"] == annotator).to_numpy(dtype=bool)
    elif f.annotator:
        keep &= _contains(objects["annotator"], f.annotator)
    if f.class_name:
        hit = np.zeros(len(objects), dtype=bool)
        for column in class_columns:
            hit |= _contains(objects[column], f.class_name)
        if set(class_columns) >= {"class", "benchmark_class"}:  # and the classes as the breakdowns name them
            for side in class_labels(objects, labels):
                hit |= _contains(side, f.class_name)
        keep &= hit
    return keep


def outcome_masks(outcome: Any) -> dict[str, np.ndarray]:
    """The one definition of what per-object rows count as, by their ``outcome``: ``object`` (an
    annotator object: every row but ``missed``), ``matched`` (``matched`` or ``low_overlap``),
    ``missed`` (a ``missed`` row, or a ``class_mismatch`` row: the cross-class pass's benchmark
    object has no row of its own and is a miss), ``extra`` (``extra`` or ``class_mismatch``) and
    ``low_overlap``. The drill-down's header, its item rows and the engine's scores count alike."""
    o = pd.Series(outcome, dtype=object).to_numpy(dtype=object)
    cross = o == "class_mismatch"
    return {"object": o != "missed", "matched": np.isin(o, MATCHED), "missed": (o == "missed") | cross,
            "extra": (o == "extra") | cross, "low_overlap": o == "low_overlap"}


def object_counts(objects: pd.DataFrame) -> dict[str, int]:
    """How many rows of ``objects`` are annotator objects, matched, missed, extra and low-overlap
    (:func:`outcome_masks`): what a header over those rows says, equal to its columns' sums."""
    return {k: int(v.sum()) for k, v in outcome_masks(objects["outcome"] if len(objects) else []).items()}


def _class_keys(objects: pd.DataFrame, hash_column: str, name_column: str) -> np.ndarray:
    """Per row: one side's class key, ``h`` + its feature hash (``n`` + its name when the row has no
    hash, None when the row has no object on that side)."""
    names = pd.Series(objects[name_column].to_numpy(dtype=object), dtype=object)
    hashes = pd.Series(objects[hash_column].to_numpy(dtype=object) if hash_column in objects.columns else None,
                       index=names.index, dtype=object)
    has_hash = hashes.map(lambda h: isinstance(h, str) and h != "").to_numpy(dtype=bool)
    has_name = names.map(lambda n: isinstance(n, str)).to_numpy(dtype=bool)
    return np.where(has_hash, ("h" + hashes.astype(str)).to_numpy(dtype=object),
                    np.where(has_name, ("n" + names.astype(str)).to_numpy(dtype=object), None))


def class_labels(objects: pd.DataFrame, known: Mapping[str, str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per row, (the annotator object's class, the benchmark object's class) as the breakdowns and
    the confusion key them (None where that side has no object). The engine's rule
    (``Evaluator._class_ids``): a class is its feature hash (a class renamed in one export is still
    that class), labelled by the first name seen for it, the benchmark's first; a hash whose name
    another hash already took is labelled ``name (hash8)`` (its first 8 characters), so two
    classes never count as one. ``known`` is the engine's hash → label map (an
    :class:`EvaluationSnapshot` passes its evaluator's): used as it is, so the rows a filter keeps
    count exactly as the engine counts all of them. Without it the order of first sight is the
    rows' (benchmark side first), which gives the engine's labels unless two classes share a
    name. A row without a feature hash is keyed and labelled by its name."""
    if not len(objects):
        empty = np.empty(0, dtype=object)
        return empty, empty
    t_key = _class_keys(objects, "feature_hash", "class")
    b_key = _class_keys(objects, "benchmark_feature_hash", "benchmark_class")
    label: dict[str, str] = {}
    taken: set[str] = set()
    if known:
        for h, lab in known.items():
            label["h" + str(h)] = str(lab)
            taken.add(str(lab))
    for keys, column in ((b_key, "benchmark_class"), (t_key, "class")):  # the benchmark's name first
        names = objects[column].to_numpy(dtype=object)
        pairs = pd.DataFrame({"k": keys, "n": names}).dropna(subset=["k"]).drop_duplicates("k")
        for k, n in zip(pairs["k"].tolist(), pairs["n"].tolist()):
            k = str(k)
            if k in label:
                continue
            if k.startswith("n"):  # no hash: the name is the class
                label[k] = k[1:]
                continue
            label[k] = class_label(n if isinstance(n, str) and n else None, k[1:], taken)
            taken.add(label[k])

    def labelled(keys: np.ndarray) -> np.ndarray:
        codes, uniques = pd.factorize(pd.Series(keys, dtype=object))  # None: code -1, the last entry
        return np.array([label[str(u)] for u in uniques] + [None], dtype=object)[codes]

    return labelled(t_key), labelled(b_key)


def _breakdowns(codes: np.ndarray, k: int, t_key: pd.Series, b_key: pd.Series, training: np.ndarray,
                t_hit: np.ndarray, bench: np.ndarray, b_hit: np.ndarray, sim: np.ndarray
                ) -> list[dict[str, Breakdown]]:
    """Per annotator code: label → :class:`Breakdown` (objects: ``training`` rows by ``t_key``;
    matched and similarity: ``t_hit`` rows by ``t_key``; benchmark objects: ``bench`` rows by
    ``b_key``; covered: ``b_hit`` rows by ``b_key``), labels sorted, only those with objects on a side."""
    labels, inverse = np.unique(np.concatenate([t_key.fillna("").astype(str).to_numpy(),
                                                b_key.fillna("").astype(str).to_numpy()]), return_inverse=True)
    n = len(labels)
    t_lab, b_lab = inverse[:len(t_key)], inverse[len(t_key):]
    size = k * max(n, 1)
    t_code, b_code = codes * n + t_lab, codes * n + b_lab

    def count(code: np.ndarray, mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(code[mask], weights=None if weights is None else weights[mask], minlength=size)

    table = np.stack([count(t_code, training), count(t_code, t_hit), count(b_code, bench), count(b_code, b_hit),
                      count(t_code, t_hit, sim)], axis=1)
    out: list[dict[str, Breakdown]] = [{} for _ in range(k)]
    for c in np.flatnonzero(table[:, 0] + table[:, 2]).tolist():
        row = table[c]
        out[c // n][str(labels[c % n])] = Breakdown(objects=int(row[0]), matched=int(row[1]),
                                                    benchmark_objects=int(row[2]), covered=int(row[3]),
                                                    similarity_sum=float(row[4]))
    return out


def attributes_of_class(attributes: Mapping[str, QuestionTotal], class_name: str) -> dict[str, QuestionTotal]:
    """The attribute totals a class filter keeps: those whose class (``QuestionTotal.object_class``)
    contains ``class_name`` as shown, any case (all of them without a filter). An attribute belongs
    to one object class, so a filter narrows attributes as it narrows objects; classification
    answers belong to no class and stay whole."""
    if not class_name:
        return dict(attributes)
    keys = list(attributes)
    hit = _contains([attributes[k].object_class for k in keys], class_name)
    return {k: attributes[k] for k, keep in zip(keys, hit.tolist()) if keep}


def annotator_scores(objects: pd.DataFrame, pass_mark: PassMark,
                     base: Mapping[str, AnnotatorScore] | None = None,
                     class_name: str = "", labels: Mapping[str, str] | None = None) -> dict[str, AnnotatorScore]:
    """Each annotator's :class:`AnnotatorScore` from per-object rows (``EvaluationResult.objects``'s
    columns), any subset of them: on all of a result's rows it is ``result.annotators``; on the rows
    a filter keeps, the scores under that filter. Status and reason by ``pass_mark.verdict``;
    annotators sorted. What the rows do not carry comes from ``base`` (the engine's scores, when
    given): the classification and attribute answers and the items finished and required; a class
    filter (``class_name``, the text the rows were filtered with) narrows the attributes to those
    of the classes it keeps (:func:`attributes_of_class`), not the classification answers or the
    annotator's progress.

    Counted as the engine counts (see :mod:`.engine`): ``objects`` the training rows (not
    ``missed``), ``matched`` those ``matched`` or ``low_overlap``, ``correct_class`` matches with
    class score 1, ``benchmark_objects`` the benchmark objects charged: each one a match covers
    (seed mode matches many-to-one: a benchmark object counts once, for its first match in row
    order) plus the ``missed`` rows and the ``class_mismatch`` rows (an extra whose benchmark object,
    left without a row of its own, is a miss); ``missed`` those two; ``class_mismatches`` the
    ``class_mismatch`` rows and the matches of another class; ``by_shape`` and ``by_class`` the same per shape and per class (classes by
    :func:`class_labels`: by feature hash, named as the benchmark names them; a match counts for a
    class only when both objects carry it). Vectorised: one factorisation and
    bincounts; Python loops only over annotators and their labels.
    """
    if not len(objects):
        return {}
    codes, names = pd.factorize(objects["annotator"], sort=True)
    k = len(names)
    outcome = objects["outcome"].to_numpy(dtype=object)
    missed = outcome == "missed"
    matched = np.isin(outcome, MATCHED)
    low = outcome == "low_overlap"
    class_score = objects["class_score"].to_numpy(dtype=float)
    iou = objects["iou"].to_numpy(dtype=float)
    correct = matched & (class_score == 1.0)
    cross = outcome == "class_mismatch"  # an extra, and its benchmark object (no row of its own) a miss
    mismatch = cross | (matched & (class_score == 0.0))
    uncovered = missed | cross
    # A benchmark object is one (training row, frame, shape, object) of a source: the first match wins it.
    key = objects.loc[matched, ["source", "label_hash", "data_hash", "frame", "shape", "benchmark_object_hash"]]
    first = ~key.duplicated(keep="first").to_numpy(dtype=bool)
    covered = np.zeros(len(objects), dtype=bool)
    covered[np.flatnonzero(matched)[first]] = True

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes[mask], minlength=k)

    n_objects, n_matched, n_low, n_correct = count(~missed), count(matched), count(low), count(correct)
    n_missed, n_mismatch = count(uncovered), count(mismatch)
    n_bench = count(covered) + n_missed
    iou_sum = np.bincount(codes[matched], weights=iou[matched], minlength=k)
    sim = np.where(matched, iou, 0.0)
    by_shape = _breakdowns(codes, k, objects["shape"], objects["shape"], ~missed, matched, covered | uncovered,
                           covered, sim)
    t_class, b_class = class_labels(objects, labels)  # by feature hash, the benchmark's names
    same = np.array([t is not None and t == b for t, b in zip(t_class.tolist(), b_class.tolist())], dtype=bool)
    by_class = _breakdowns(codes, k, pd.Series(t_class, dtype=object), pd.Series(b_class, dtype=object), ~missed,
                           matched & same, covered | uncovered, covered & same, sim)
    pairs = pd.DataFrame({"a": codes, "s": objects["source"].to_numpy(dtype=object)}).drop_duplicates()
    sources = pairs.groupby("a", sort=True)["s"].agg(tuple)
    scores: dict[str, AnnotatorScore] = {}
    for i, name in enumerate(names.tolist()):
        engine = base.get(str(name)) if base is not None else None
        score = AnnotatorScore(
            annotator=str(name), objects=int(n_objects[i]), benchmark_objects=int(n_bench[i]),
            matched=int(n_matched[i]), missed=int(n_missed[i]), extra=int(n_objects[i] - n_matched[i]),
            low_overlap=int(n_low[i]), correct_class=int(n_correct[i]), iou_sum=float(iou_sum[i]), status="",
            sources=tuple(str(v) for v in sources.get(i, ())), by_shape=by_shape[i], by_class=by_class[i],
            class_mismatches=int(n_mismatch[i]),
            classifications=engine.classifications if engine is not None else {},
            attributes=attributes_of_class(engine.attributes, class_name) if engine is not None else {},
            items_done=engine.items_done if engine is not None else None,
            items_required=engine.items_required if engine is not None else None, confidence=pass_mark.confidence)
        status, reason = pass_mark.verdict(score)
        scores[str(name)] = replace(score, status=status, reason=reason)
    return scores


def confusion_counts(objects: pd.DataFrame, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The long form of the confusion (:data:`CONFUSION_COLUMNS`, sorted, nonzero counts) from
    per-object rows, as ``EvaluationResult.confusion_counts`` counts it: a training object under
    the class of the benchmark object it matched (``unmatched`` without a match) and its own; a
    missed benchmark object under its class and ``unmatched``; a ``class_mismatch`` row (the
    cross-class pass: its benchmark object has no ``missed`` row) is one cell, the benchmark
    object's class and its own. Classes are keyed and named by :func:`class_labels`."""
    if not len(objects):
        return pd.DataFrame({c: pd.Series(dtype=np.int64 if c == "count" else object) for c in CONFUSION_COLUMNS})
    outcome = objects["outcome"]
    matched = outcome.isin(MATCHED).to_numpy(dtype=bool)
    missed = (outcome == "missed").to_numpy(dtype=bool)
    cross = (outcome == "class_mismatch").to_numpy(dtype=bool)
    t_class, b_class = class_labels(objects, labels)  # by feature hash, the benchmark's names
    bench = np.where(matched | missed | cross, b_class, UNMATCHED)
    mine_class = np.where(missed, UNMATCHED, t_class)
    long = pd.DataFrame({"annotator": objects["annotator"].to_numpy(dtype=object), "benchmark_class": bench,
                         "annotator_class": mine_class})
    counts = long.groupby(list(CONFUSION_COLUMNS[:3]), sort=True, dropna=False).size()
    out = counts.reset_index(name="count")
    return pd.DataFrame({**{c: pd.Series(out[c].to_numpy(dtype=object), dtype=object) for c in CONFUSION_COLUMNS[:3]},
                         "count": out["count"].to_numpy(dtype=np.int64)})


def confusion_matrix(counts: pd.DataFrame, annotator: str | None = None) -> pd.DataFrame:
    """Benchmark class (rows) × annotator class (columns) from the long form, ``unmatched`` last on
    both (as ``EvaluationResult.confusion``); one annotator's, or everyone's summed."""
    cc = counts if annotator is None else counts[counts["annotator"] == annotator]
    if not len(cc):
        return pd.DataFrame([[0]], index=[UNMATCHED], columns=[UNMATCHED], dtype=int)
    table = cc.pivot_table(index="benchmark_class", columns="annotator_class", values="count", aggfunc="sum",
                           fill_value=0)
    labels = sorted((set(table.index) | set(table.columns)) - {UNMATCHED}, key=str)
    return table.reindex(index=labels + [UNMATCHED], columns=labels + [UNMATCHED], fill_value=0).astype(int)


def sparkline(values: np.ndarray, bins: int = IOU_BINS) -> str:
    """IoU distribution of matches, 0..1 in ``bins`` bars."""
    if len(values) == 0:
        return ""
    counts, _ = np.histogram(np.clip(values, 0, 1), bins=bins, range=(0, 1))
    return spark_of_counts(counts)


def spark_of_counts(counts: np.ndarray) -> str:
    """The bars of a histogram (:func:`sparkline`'s)."""
    top = counts.max() or 1
    return "".join(SPARK[min(len(SPARK) - 1, int(round((len(SPARK) - 1) * c / top)))] if c else " " for c in counts)


@dataclass(frozen=True)
class ItemShape:
    """One shape of the item view: which side, its class (untrusted), colour, geometry, and the
    pair number it shares with its match (the table's ``pair`` column), and its label (an IoU)."""

    side: str  # "benchmark" or "annotator"
    class_name: str
    color: str | None
    geometry: Geometry
    pair: int | None = None
    label: str | None = None
    dimmed: bool = False  # outside the class filter: drawn for context, greyed


@dataclass(frozen=True)
class ItemView:
    """One item of one annotator on one frame: both sides' shapes and the table of its objects."""

    data_hash: str
    title: str
    size: tuple[float, float] | None  # pixels, when the data unit says
    frames: tuple[int, ...]  # frames with compared objects (at least (0,))
    frame: int
    shapes: tuple[ItemShape, ...]
    objects: pd.DataFrame = field(repr=False)  # ITEM_OBJECT_COLUMNS, this frame's rows the filter keeps
    filter: Filter = Filter()  # the class filter the view was made under (its shapes outside it dimmed)

    @property
    def dim_note(self) -> str:
        """What the canvas says of the filter: ``class~'car': other classes grey`` ("" without one)."""
        if not self.filter.class_name or not any(s.dimmed for s in self.shapes):
            return ""
        return f"filter class~{self.filter.class_name!r}: other classes grey"


@dataclass(frozen=True)
class AnnotatorDetail:
    """The line under the annotator table: counts, the top class confusions, the first warning."""

    score: AnnotatorScore | None
    low_overlap_mark: float
    confusions: tuple[tuple[str, str, int], ...]  # (benchmark class, annotator class, count), most first
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class ConfusionView:
    """One confusion matrix as the matrix view shows it: benchmark class rows × annotator class
    columns (``unmatched`` last on both; class names untrusted), and the long form it came from
    (what its CSV export writes)."""

    annotator: str | None  # None: everyone
    filter: Filter
    matrix: pd.DataFrame = field(repr=False)
    counts: pd.DataFrame = field(repr=False)  # CONFUSION_COLUMNS

    @property
    def columns(self) -> tuple[tuple[str, str], ...]:
        """(key in :attr:`table`, annotator class) per matrix column, in order (``unmatched`` last)."""
        return tuple((f"c{i}", str(name)) for i, name in enumerate(self.matrix.columns))

    @property
    def table(self) -> pd.DataFrame:
        """The matrix as table rows: ``benchmark_class``, one ``c<i>`` count column per
        annotator class (:attr:`columns`), and the row's ``total``."""
        m = self.matrix
        values = m.to_numpy(dtype=np.int64)
        out = pd.DataFrame({"benchmark_class": pd.Series([str(v) for v in m.index], dtype=object)})
        for i in range(values.shape[1]):
            out[f"c{i}"] = values[:, i]
        out["total"] = values.sum(axis=1)
        return out

    @property
    def total(self) -> int:
        return int(self.matrix.to_numpy().sum())

    def file_name(self) -> str:
        """The CSV name the view proposes: ``confusion.csv``, ``confusion.annotator-bea_example_com.csv``
        for one annotator, with the filter's tag (see :meth:`Filter.tag`)."""
        f = Filter(annotator=self.annotator or self.filter.annotator, class_name=self.filter.class_name)
        return f.file_name("confusion.csv")


def matching_of(settings: EvaluationSettings) -> str:
    """Which of :data:`MATCHING_CHOICES` ``settings`` are: "seed", "same" (optimal within a class) or "optimal"."""
    if settings.matching == "seed":
        return "seed"
    return "same" if settings.class_matching == "same" else "optimal"


def matching_text(settings: EvaluationSettings) -> str:
    """The matching in force, as the evaluation's header says it."""
    return {"optimal": "optimal matching (any class)", "same": "optimal matching within a class",
            "seed": "seed matching (the script's: boxes, frame 0 only)"}[matching_of(settings)]


def with_matching(settings: EvaluationSettings, choice: str) -> EvaluationSettings:
    """``settings`` with the matching of one of :data:`MATCHING_CHOICES` (the rest kept: thresholds,
    sigmas, pass marks). Seed matches whatever the classes and compares boxes only."""
    if choice == "seed":
        return replace(settings, matching="seed", class_matching="any",
                       shape=settings.shape if settings.shape in (None, BOX) else None)
    if choice in ("optimal", "same"):
        return replace(settings, matching="optimal", class_matching="same" if choice == "same" else "any")
    raise ValueError(f"unknown matching choice {choice!r}")


def breakdown_table(parts: Mapping[str, Breakdown]) -> pd.DataFrame:
    """One row per label (:data:`BREAKDOWN_COLUMNS`, labels sorted): the :class:`Breakdown`'s counts
    and ratios (missed = benchmark objects not covered, extra = objects not matched; a ratio
    without a denominator NaN)."""
    names = sorted(parts)

    def rate(v: float | None) -> float:
        return np.nan if v is None else float(v)

    rows = [parts[n] for n in names]
    return pd.DataFrame({
        "label": pd.Series(names, dtype=object),
        "objects": np.array([b.objects for b in rows], dtype=np.int64),
        "benchmark_objects": np.array([b.benchmark_objects for b in rows], dtype=np.int64),
        "matched": np.array([b.matched for b in rows], dtype=np.int64),
        "missed": np.array([b.benchmark_objects - b.covered for b in rows], dtype=np.int64),
        "extra": np.array([b.objects - b.matched for b in rows], dtype=np.int64),
        "precision": np.array([rate(b.precision) for b in rows], dtype=float),
        "recall": np.array([rate(b.recall) for b in rows], dtype=float),
        "f1": np.array([b.f1 for b in rows], dtype=float),
        "mean_similarity": np.array([rate(b.mean_similarity) for b in rows], dtype=float),
    }, columns=list(BREAKDOWN_COLUMNS))


def question_table(totals: Mapping[str, QuestionTotal]) -> pd.DataFrame:
    """One row per question (:data:`QUESTION_COLUMNS`, by label): its label (an attribute with its
    class: ``Car colour``), kind, answers compared and accuracy (NaN when none was compared)."""
    rows = sorted(totals.values(), key=lambda q: (q.label.casefold(), q.label, q.kind))
    return pd.DataFrame({
        "label": pd.Series([q.label for q in rows], dtype=object),
        "kind": pd.Series([q.kind for q in rows], dtype=object),
        "compared": np.array([q.compared for q in rows], dtype=np.int64),
        "accuracy": np.array([np.nan if (a := q.accuracy) is None else a for q in rows], dtype=float),
    }, columns=list(QUESTION_COLUMNS))


@dataclass(frozen=True)
class BreakdownView:
    """One annotator's breakdown under a filter, as the breakdown view shows it: the tables by
    shape and by class (:data:`BREAKDOWN_COLUMNS`), by classification question and by attribute
    (:data:`QUESTION_COLUMNS`), and the score they come from (class mismatches, items finished and
    required, status and reason). Under a class filter the object numbers and the object
    attributes count that class's objects only; the classification answers and the coverage are
    the annotator's whole work (:attr:`answers_unfiltered`). Labels are untrusted text."""

    annotator: str
    filter: Filter
    matching: str  # :func:`matching_text` of the settings scored with
    score: AnnotatorScore | None  # None: the annotator has no score (nothing of theirs compared)
    by_shape: pd.DataFrame = field(repr=False)
    by_class: pd.DataFrame = field(repr=False)
    classifications: pd.DataFrame = field(repr=False)
    attributes: pd.DataFrame = field(repr=False)

    @property
    def answers_unfiltered(self) -> bool:
        """The filter narrows the objects and their attributes, not the classification answers or
        the coverage shown beside them."""
        return bool(self.filter.class_name)

    @property
    def coverage(self) -> str:
        """``38/60 item(s) finished`` ("" when the score does not say)."""
        s = self.score
        if s is None or s.items_done is None or s.items_required is None:
            return ""
        return f"{s.items_done}/{s.items_required} item(s) finished"


def _frozen_copy(rows: Mapping[str, Any]) -> Mapping[str, Any]:
    """A row map as a snapshot keeps it: a workspace's dict copied (the session replaces its rows),
    a file's :class:`~.session.FileRows` shared (it never changes)."""
    return dict(rows) if isinstance(rows, dict) else rows


@dataclass(frozen=True)
class EvaluationSnapshot:
    """The session's latest result, frozen for the screens (a refresh builds a new one)."""

    title: str
    live: bool
    settings: EvaluationSettings
    result: EvaluationResult | None
    table: Columns = field(repr=False)  # the annotator table, unfiltered (+ iou_dist, progress): no pandas
    bench_rows: Mapping[str, dict[str, Any]] = field(repr=False)
    training_rows: tuple[tuple[str, Mapping[str, dict[str, Any]]], ...] = field(repr=False)
    nothing_paired: str = ""  # why no row was compared ("" when some were)
    #: the engine's class labels, feature hash → label (:func:`class_labels`'s ``known``)
    class_labels: Mapping[str, str] = field(default_factory=dict, repr=False)
    #: the scores under each class filter asked so far (each reads every per-object row: seconds at
    #: 150,000 objects; the screen's worker asks first, the detail line and exports after it)
    _class_scores: dict[Filter, dict[str, AnnotatorScore]] = field(default_factory=dict, repr=False,
                                                                     compare=False)
    _class_scores_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The annotator table as a pandas frame (:attr:`table` is the same without pandas)."""
        return self.table.to_pandas(infer=("last_activity",))

    @property
    def objects(self) -> pd.DataFrame | None:
        """The per-object rows (the engine's OBJECT_COLUMNS; None when not kept), built the first
        time a view asks (the drill-down, a filter, an export), not with the snapshot: the annotator
        table needs none of them."""
        r = self.result
        return r.objects if r is not None else None

    @property
    def has_objects(self) -> bool:
        """Whether the per-object rows were kept (asking this builds nothing)."""
        return self.result is not None and self.result.keep_objects

    @classmethod
    def of(cls, session: EvaluationSession) -> EvaluationSnapshot:
        """Built under the session's lock (the row maps are copied; rows are replaced, never edited)."""
        result = session.result
        table = session.annotator_columns()
        counts = result.iou_counts() if result is not None and result.keep_objects else {}
        dist = {name: spark_of_counts(c) for name, c in counts.items()}
        table = table.assign(iou_dist=[dist.get(a, "") for a in table["annotator"].tolist()],
                             progress=progress_column(table, result.annotators if result is not None else {}))
        paired = result.paired_rows if result is not None else 0
        return cls(title=session.title, live=session.live, settings=session.settings, result=result, table=table,
                   bench_rows=_frozen_copy(session.bench_rows),
                   training_rows=tuple((s.annotator, _frozen_copy(s.rows)) for s in session.sources.values()),
                   nothing_paired="" if paired else session.why_nothing_paired(),
                   class_labels=engine_class_labels(session.evaluator))

    # -- the one place a filter is applied ----------------------------------------------------
    def _object_mask(self, f: Filter, annotator: str | None = None) -> np.ndarray:
        o = self.objects
        if o is None or not len(o):
            return np.zeros(0, dtype=bool)
        return filter_mask(o, Filter(class_name=f.class_name), annotator, labels=self.class_labels)

    def filtered_objects(self, f: Filter = Filter()) -> pd.DataFrame:
        """Every per-object row ``f`` keeps (annotator and class), in the engine's order and columns:
        the full CSV export under ``f``."""
        o = self.objects
        if o is None:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in OBJECT_COLUMNS})
        return o[filter_mask(o, f, labels=self.class_labels)] if f.active else o

    def scores(self, f: Filter = Filter()) -> dict[str, AnnotatorScore]:
        """The annotators' scores under ``f``: the engine's without a class filter (names containing
        ``f.annotator``), else :func:`annotator_scores` of the rows the class filter keeps."""
        r = self.result
        if r is None:
            return {}
        if not f.class_name or not self.has_objects:
            return {a: s for a, s in r.annotators.items() if not f.annotator or _contains([a], f.annotator)[0]}
        with self._class_scores_lock:  # one scoring per filter, whichever thread asks first
            found = self._class_scores.get(f)
            if found is None:
                found = self._class_scores[f] = annotator_scores(self.filtered_objects(f), self.settings.pass_mark,
                                                                 r.annotators, f.class_name, self.class_labels)
        return dict(found)

    def annotator_table(self, f: Filter = Filter()) -> Columns:
        """:meth:`annotators` as plain columns; without a class filter, no pandas is imported."""
        if f.class_name and self.has_objects:
            return Columns.of(self.annotators(f))
        table = self.table
        return table.where(_contains(table["annotator"], f.annotator)) if f.annotator else table

    def annotators(self, f: Filter = Filter()) -> pd.DataFrame:
        """The annotator table under ``f``: names containing ``f.annotator``; with a class filter,
        the annotators with an object (theirs or a benchmark one charged to them) of that class,
        scored on those objects only (progress columns stay the annotator's)."""
        frame = self.frame
        if f.annotator:
            frame = frame[_contains(frame["annotator"], f.annotator)]
        if not f.class_name or not self.has_objects:
            return frame
        scores = self.scores(f)
        frame = frame[frame["annotator"].isin(set(scores))].reset_index(drop=True)
        names = frame["annotator"].tolist()
        from annotrain_tui.core.evaluation.session import score_columns

        frame = frame.assign(**score_columns([scores[n] for n in names]))
        o = self.filtered_objects(f)
        ok = o[o["outcome"].isin(MATCHED)]
        dist = {str(a): sparkline(g.to_numpy(dtype=float)) for a, g in ok.groupby("annotator", sort=False)["iou"]}
        return frame.assign(iou_dist=[dist.get(a, "") for a in names])

    def confusion_counts(self, f: Filter = Filter()) -> pd.DataFrame:
        """The confusion's long form (:data:`CONFUSION_COLUMNS`) under ``f``: the engine's without
        a filter, else counted from the rows the filter keeps."""
        r = self.result
        if r is None:
            return confusion_counts(pd.DataFrame(columns=list(OBJECT_COLUMNS)))
        if not f.active or not self.has_objects:
            return r.confusion_counts
        return confusion_counts(self.filtered_objects(f), self.class_labels)

    def confusion(self, annotator: str | None = None, f: Filter = Filter()) -> ConfusionView:
        """The confusion matrix of one annotator (None: everyone) under ``f``, for the matrix view."""
        counts = self.confusion_counts(f)
        if annotator is not None:
            counts = counts[counts["annotator"] == annotator].reset_index(drop=True)
        return ConfusionView(annotator=annotator, filter=f, matrix=confusion_matrix(counts), counts=counts)

    def summary_json(self, f: Filter = Filter()) -> dict[str, Any]:
        """The JSON export under ``f``: ``EvaluationResult.to_json()`` with the annotators and the
        confusion the filter keeps, and ``"filter"`` (None without one: the document says so)."""
        r = self.result
        assert r is not None
        doc = r.to_json()
        if f.active:
            doc["annotators"] = {name: score.to_json() for name, score in self.scores(f).items()}
            doc["confusion"] = [{k: (int(v) if k == "count" else v) for k, v in row.items()}
                                for row in self.confusion_counts(f).to_dict(orient="records")]
        return {"filter": f.to_json(), **doc}

    def empty_text(self, f: Filter = Filter()) -> str:
        """What an empty annotator table says: the real cause."""
        if len(self.table) and f.active:
            return f"No annotator matches the filter {shown(f.describe())} (f changes it)."
        if self.nothing_paired:
            return f"No annotators: {self.nothing_paired}."
        return "No annotators: no training project has Complete tasks paired with the benchmark."

    def objects_of(self, annotator: str, f: Filter = Filter()) -> pd.DataFrame:
        """The annotator's object rows under ``f`` (OBJECT_COLUMNS, ``row_id`` 0..n-1)."""
        o = self.objects
        if o is None or not len(o):
            return pd.DataFrame({c: pd.Series(dtype=object) for c in OBJECT_COLUMNS})
        o = o[self._object_mask(f, annotator)]
        return o.assign(row_id=np.arange(len(o)))

    def items_of(self, annotator: str, f: Filter = Filter()) -> pd.DataFrame:
        """One row per item of the annotator under ``f`` (ITEM_COLUMNS), worst first: the most
        missed, extra and loose objects (ties in the order the rows came)."""
        o = self.objects_of(annotator, f)
        if not len(o):
            return pd.DataFrame({c: pd.Series(dtype=object) for c in ITEM_COLUMNS})
        m = outcome_masks(o["outcome"])  # the one definition (a class_mismatch row is an extra and a miss)
        matched = pd.Series(m["matched"], index=o.index)
        g = o.assign(is_obj=m["object"].astype(int), is_match=m["matched"].astype(int),
                     is_miss=m["missed"].astype(int), is_extra=m["extra"].astype(int),
                     is_low=m["low_overlap"].astype(int),
                     m_iou=o["iou"].where(matched), m_cls=o["class_score"].where(matched))
        items = g.groupby(["data_hash", "data_title"], sort=False).agg(
            frames=("frame", "nunique"), objects=("is_obj", "sum"), matched=("is_match", "sum"),
            missed=("is_miss", "sum"), extra=("is_extra", "sum"), low_overlap=("is_low", "sum"),
            mean_iou=("m_iou", "mean"), class_accuracy=("m_cls", "mean")).reset_index()
        errors = items["missed"] + items["extra"] + items["low_overlap"]
        items = items.iloc[np.argsort(-errors.to_numpy(), kind="stable")].reset_index(drop=True)
        return items[list(ITEM_COLUMNS)]

    def detail(self, annotator: str | None, f: Filter = Filter()) -> AnnotatorDetail:
        """The line under the annotator table for ``annotator`` under ``f`` (its score and class
        confusions counted on the rows the filter keeps)."""
        r = self.result
        if r is None:
            return AnnotatorDetail(None, self.settings.low_overlap, (), ())
        score = self.scores(f).get(annotator) if annotator else None
        confusions: list[tuple[str, str, int]] = []
        if score is not None and not f.active:  # the engine's totals, no frame: the first view's line
            confusions = sorted(((b, a, n) for (who, b, a), n in r.confusion_totals.items()
                                 if who == annotator and b != a and UNMATCHED not in (b, a) and n),
                                key=lambda t: (-t[2], t[0], t[1]))
        elif score is not None:
            conf = self.confusion(annotator, f).matrix
            confusions = sorted(((str(b), str(a), int(conf.at[b, a])) for b in conf.index for a in conf.columns
                                 if b != a and UNMATCHED not in (b, a) and conf.at[b, a]), key=lambda t: -t[2])
        return AnnotatorDetail(score, r.settings.low_overlap, tuple(confusions[:4]), tuple(r.warnings))

    def breakdown(self, annotator: str, f: Filter = Filter()) -> BreakdownView:
        """The breakdown view of ``annotator`` under ``f``'s class (the annotator is chosen): the
        score :meth:`scores` gives (the engine's without a class filter) as tables."""
        scoped = Filter(class_name=f.class_name)
        score = self.scores(scoped).get(annotator)
        empty_q = question_table({})
        return BreakdownView(
            annotator=annotator, filter=scoped, matching=matching_text(self.settings), score=score,
            by_shape=breakdown_table(score.by_shape) if score is not None else breakdown_table({}),
            by_class=breakdown_table(score.by_class) if score is not None else breakdown_table({}),
            classifications=question_table(score.classifications) if score is not None else empty_q,
            attributes=question_table(score.attributes) if score is not None else empty_q)

    def item_view(self, data_hash: str, annotator: str, frame: int | None = None, f: Filter = Filter()) -> ItemView:
        """The item's shapes on ``frame`` (default: its first with compared objects), numbered so a
        match's two shapes and its table row carry the same number. Under ``f``'s class filter the
        table holds the rows the filter keeps (as the drill-down's), and the canvas draws every
        shape, those of no kept row dimmed (context, greyed: :attr:`ItemShape.dimmed`). The title
        is :func:`item_title`'s."""
        o = self.objects
        rows = o[(o["annotator"] == annotator) & (o["data_hash"] == data_hash)] if o is not None and len(o) else None
        frames = tuple(sorted({int(v) for v in rows["frame"].tolist()})) if rows is not None and len(rows) else (0,)
        at = frame if frame is not None and frame in frames else frames[0]
        here = rows[rows["frame"] == at] if rows is not None else None
        bench_row, mine = item_rows_of(self.bench_rows, self.training_rows, data_hash, annotator)
        pair_of: dict[str, int] = {}
        iou_of: dict[str, float] = {}
        numbers: list[int | None] = []
        annotator_hashes: set[str] = set()
        keep = np.ones(len(here) if here is not None else 0, dtype=bool)
        if here is not None and f.class_name and len(here):
            keep = filter_mask(here, Filter(class_name=f.class_name), labels=self.class_labels)
        kept_hashes = set() if here is None else \
            {h for h in (*here["object_hash"][keep], *here["benchmark_object_hash"][keep]) if isinstance(h, str)}
        if here is not None:
            for oh, bh, iou, outcome in zip(here["object_hash"], here["benchmark_object_hash"], here["iou"],
                                            here["outcome"]):
                if isinstance(oh, str):
                    annotator_hashes.add(oh)
                if outcome in MATCHED and isinstance(oh, str) and isinstance(bh, str):
                    n = len(iou_of) + 1
                    pair_of[oh] = pair_of[bh] = n
                    iou_of[oh] = float(iou)
                    numbers.append(n)
                else:
                    numbers.append(None)
        shapes: list[ItemShape] = []
        size = None
        title = item_title(bench_row, mine)
        for side, row in (("benchmark", bench_row), ("annotator", mine)):
            if not row:
                continue
            size = size or _size_of(row)
            for obj in read_objects(row):
                if obj.frame != at or not isinstance(obj.geometry, DRAWABLE):
                    continue
                if side == "annotator" and obj.object_hash not in annotator_hashes:
                    continue
                label = f"{iou_of[obj.object_hash]:.2f}" if side == "annotator" and obj.object_hash in iou_of else None
                dimmed = bool(f.class_name) and obj.object_hash not in kept_hashes
                shapes.append(ItemShape(side, obj.name, obj.color, obj.geometry, pair_of.get(obj.object_hash), label,
                                        dimmed))
        # Matched pairs first, in pair order: the canvas numbers pairs by first appearance.
        shapes.sort(key=lambda s: (s.pair is None, s.pair or 0, s.side != "benchmark"))
        if here is not None and len(here):
            table = here.assign(pair=pd.Series(numbers, index=here.index, dtype=object),
                                row_id=np.arange(len(here)))[list(ITEM_OBJECT_COLUMNS)][keep]
        else:
            table = pd.DataFrame({c: pd.Series(dtype=object) for c in ITEM_OBJECT_COLUMNS})
        return ItemView(data_hash=data_hash, title=title, size=size, frames=frames, frame=at, shapes=tuple(shapes),
                        objects=table, filter=Filter(class_name=f.class_name))


def item_title(bench_row: Mapping[str, Any] | None, training_row: Mapping[str, Any] | None) -> str:
    """An item's title, the one rule of every evaluation screen: the annotator's label row's
    ``data_title`` (what the per-object rows carry, so the drill-down's Item column, the full CSV
    and the CLI's ``--out`` say it too), the benchmark row's when the annotator's has none."""
    for row in (training_row, bench_row):
        value = row.get("data_title") if row else None
        if isinstance(value, str) and value:
            return value
    return ""


def engine_class_labels(evaluator: Evaluator | None) -> dict[str, str]:
    """The evaluator's class labels, feature hash → label (the ones its ``by_class`` and confusion
    use; see :func:`class_labels`); {} without an evaluator."""
    return dict(evaluator.class_labels) if evaluator is not None else {}
    offered = getattr(evaluator, "class_labels", None)
    if isinstance(offered, Mapping):
        return {str(k): str(v) for k, v in offered.items()}
    ids, names = getattr(evaluator, "_classes", None), getattr(evaluator, "_class_labels", None)
    if isinstance(ids, Mapping) and isinstance(names, list):
        return {str(h): str(names[i]) for h, i in ids.items() if 0 <= i < len(names)}
    return {}


def progress_column(frame: pd.DataFrame | Columns, scores: Mapping[str, AnnotatorScore]) -> list[str]:
    """The annotator table's Done column: the score's ``items_done/items_required`` (the numbers
    the status and its reason use) where the score has them, else the annotator's projects' rows
    ``complete/total``."""
    out = []
    for name, complete, total in zip(frame["annotator"].tolist(), frame["complete"].tolist(), frame["total"].tolist()):
        s = scores.get(str(name))
        if s is not None and s.items_done is not None and s.items_required is not None:
            out.append(f"{s.items_done}/{s.items_required}")
        else:
            out.append(f"{complete}/{total}")
    return out


def _size_of(row: Mapping[str, Any]) -> tuple[float, float] | None:
    from annotrain_tui.core.evaluation.labels import units_of

    for _key, unit in units_of(row):
        w, h = unit.get("width"), unit.get("height")
        if isinstance(w, (int, float)) and isinstance(h, (int, float)) and w > 0 and h > 0:
            return (float(w), float(h))
    return None
