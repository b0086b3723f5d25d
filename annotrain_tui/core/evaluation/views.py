"""What the evaluation screens show, asked of one immutable snapshot of a session's result.

A screen never aggregates or filters: it asks :class:`EvaluationSnapshot` (built by
:meth:`EvaluationSession.snapshot`, in a worker thread) for the rows of a table or the view of one
item, under one :class:`Filter`, and draws what it gets. Tables come back as DataFrames (the
columns the screens' tables name, one record per row); one item comes back as an
:class:`ItemView` of frozen records. Filters match text *as shown* (the untrusted-text policy's
escapes, casefolded), so what the user types matches what the user sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from annotrain_tui.core.evaluation.labels import read_objects
from annotrain_tui.core.evaluation.results import UNMATCHED, AnnotatorScore, EvaluationResult, EvaluationSettings
from annotrain_tui.core.evaluation.shapes import DRAWABLE, Geometry
from annotrain_tui.core.text import shown

if TYPE_CHECKING:
    from annotrain_tui.core.evaluation.session import EvaluationSession

__all__ = ["Filter", "EvaluationSnapshot", "ItemView", "ItemShape", "AnnotatorDetail", "ITEM_COLUMNS",
           "OBJECT_COLUMNS", "ITEM_OBJECT_COLUMNS", "sparkline"]

SPARK = "▁▂▃▄▅▆▇█"
MATCHED = ("matched", "low_overlap")
ITEM_COLUMNS = ("data_hash", "data_title", "frames", "objects", "matched", "missed", "extra", "low_overlap",
                "mean_iou", "class_accuracy")
OBJECT_COLUMNS = ("row_id", "annotator", "data_hash", "data_title", "frame", "shape", "class", "benchmark_class",
                  "iou", "class_score", "outcome", "object_hash", "benchmark_object_hash")
#: the item screen's table: ``pair`` is the number drawn on the canvas next to both shapes of a match
ITEM_OBJECT_COLUMNS = ("row_id", "pair", "iou", "outcome", "class", "benchmark_class", "shape", "frame")


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


def _as_shown(values: Any) -> pd.Series:
    """A text column as the user sees it (the policy's escapes), casefolded: filters match what is shown."""
    s = pd.Series(values, dtype=object)
    return s.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else shown(v)).astype(str) \
        .str.casefold()


def _contains(values: Any, needle: str) -> np.ndarray:
    return _as_shown(values).str.contains(needle.casefold(), regex=False).to_numpy(dtype=bool)


def sparkline(values: np.ndarray, bins: int = 8) -> str:
    """IoU distribution of matches, 0..1 in ``bins`` bars."""
    if len(values) == 0:
        return ""
    counts, _ = np.histogram(np.clip(values, 0, 1), bins=bins, range=(0, 1))
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


@dataclass(frozen=True)
class ItemView:
    """One item of one annotator on one frame: both sides' shapes and the table of its objects."""

    data_hash: str
    title: str
    size: tuple[float, float] | None  # pixels, when the data unit says
    frames: tuple[int, ...]  # frames with compared objects (at least (0,))
    frame: int
    shapes: tuple[ItemShape, ...]
    objects: pd.DataFrame = field(repr=False)  # ITEM_OBJECT_COLUMNS, this frame's rows


@dataclass(frozen=True)
class AnnotatorDetail:
    """The line under the annotator table: counts, the top class confusions, the first warning."""

    score: AnnotatorScore | None
    low_overlap_mark: float
    confusions: tuple[tuple[str, str, int], ...]  # (benchmark class, annotator class, count), most first
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class EvaluationSnapshot:
    """The session's latest result, frozen for the screens (a refresh builds a new one)."""

    title: str
    live: bool
    settings: EvaluationSettings
    result: EvaluationResult | None
    frame: pd.DataFrame = field(repr=False)  # the annotator table, unfiltered (+ iou_dist, progress)
    objects: pd.DataFrame | None = field(repr=False)  # per-object rows (OBJECT_COLUMNS of the engine)
    bench_rows: Mapping[str, dict[str, Any]] = field(repr=False)
    training_rows: tuple[tuple[str, Mapping[str, dict[str, Any]]], ...] = field(repr=False)
    nothing_paired: str = ""  # why no row was compared ("" when some were)

    @classmethod
    def of(cls, session: EvaluationSession) -> EvaluationSnapshot:
        """Built under the session's lock (the row maps are copied; rows are replaced, never edited)."""
        result = session.result
        frame = session.annotator_frame()
        objects = result.objects if result is not None else None
        dist: dict[str, str] = {}
        if objects is not None and len(objects):
            ok = objects[objects["outcome"].isin(MATCHED)]
            for name, group in ok.groupby("annotator", sort=False)["iou"]:
                dist[str(name)] = sparkline(group.to_numpy(dtype=float))
        frame["iou_dist"] = [dist.get(a, "") for a in frame["annotator"]]
        frame["progress"] = frame["complete"].astype(str) + "/" + frame["total"].astype(str)
        paired = result.paired_rows if result is not None else 0
        return cls(title=session.title, live=session.live, settings=session.settings, result=result, frame=frame,
                   objects=objects, bench_rows=dict(session.bench_rows),
                   training_rows=tuple((s.annotator, dict(s.rows)) for s in session.sources.values()),
                   nothing_paired="" if paired else session.why_nothing_paired())

    # -- the one place a filter is applied ----------------------------------------------------
    def _object_mask(self, f: Filter, annotator: str | None = None) -> np.ndarray:
        o = self.objects
        if o is None or not len(o):
            return np.zeros(0, dtype=bool)
        keep = np.ones(len(o), dtype=bool)
        if annotator is not None:
            keep &= (o["annotator"] == annotator).to_numpy(dtype=bool)
        if f.class_name:
            keep &= _contains(o["class"], f.class_name) | _contains(o["benchmark_class"], f.class_name)
        return keep

    def annotators(self, f: Filter = Filter()) -> pd.DataFrame:
        """The annotator table under ``f``: names containing ``f.annotator``; with a class filter,
        the annotators with an object (theirs or a benchmark one charged to them) of that class."""
        frame = self.frame
        if f.annotator:
            frame = frame[_contains(frame["annotator"], f.annotator)]
        if f.class_name and self.objects is not None:
            mask = self._object_mask(f)
            frame = frame[frame["annotator"].isin(set(self.objects["annotator"][mask]))]
        return frame

    def empty_text(self, f: Filter = Filter()) -> str:
        """What an empty annotator table says: the real cause."""
        if len(self.frame) and f.active:
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
        """One row per item of the annotator under ``f`` (ITEM_COLUMNS)."""
        o = self.objects_of(annotator, f)
        if not len(o):
            return pd.DataFrame({c: pd.Series(dtype=object) for c in ITEM_COLUMNS})
        outcome = o["outcome"]
        matched = outcome.isin(MATCHED)
        g = o.assign(is_obj=(outcome != "missed").astype(int), is_match=matched.astype(int),
                     is_miss=(outcome == "missed").astype(int), is_extra=(outcome == "extra").astype(int),
                     is_low=(outcome == "low_overlap").astype(int),
                     m_iou=o["iou"].where(matched), m_cls=o["class_score"].where(matched))
        items = g.groupby(["data_hash", "data_title"], sort=False).agg(
            frames=("frame", "nunique"), objects=("is_obj", "sum"), matched=("is_match", "sum"),
            missed=("is_miss", "sum"), extra=("is_extra", "sum"), low_overlap=("is_low", "sum"),
            mean_iou=("m_iou", "mean"), class_accuracy=("m_cls", "mean")).reset_index()
        return items[list(ITEM_COLUMNS)]

    def detail(self, annotator: str | None) -> AnnotatorDetail:
        r = self.result
        if r is None:
            return AnnotatorDetail(None, self.settings.low_overlap, (), ())
        score = r.annotators.get(annotator) if annotator else None
        confusions: list[tuple[str, str, int]] = []
        if score is not None:
            conf = r.confusion(annotator)
            confusions = sorted(((str(b), str(a), int(conf.at[b, a])) for b in conf.index for a in conf.columns
                                 if b != a and UNMATCHED not in (b, a) and conf.at[b, a]), key=lambda t: -t[2])
        return AnnotatorDetail(score, r.settings.low_overlap, tuple(confusions[:4]), tuple(r.warnings))

    def item_view(self, data_hash: str, annotator: str, frame: int | None = None) -> ItemView:
        """The item's shapes on ``frame`` (default: its first with compared objects), numbered so a
        match's two shapes and its table row carry the same number."""
        o = self.objects
        rows = o[(o["annotator"] == annotator) & (o["data_hash"] == data_hash)] if o is not None and len(o) else None
        frames = tuple(sorted({int(v) for v in rows["frame"].tolist()})) if rows is not None and len(rows) else (0,)
        at = frame if frame is not None and frame in frames else frames[0]
        here = rows[rows["frame"] == at] if rows is not None else None
        bench_row = self.bench_rows.get(data_hash)
        mine = None
        for who, by_hash in self.training_rows:
            row = by_hash.get(data_hash)
            if row is not None and (who == annotator or mine is None):
                mine = row
                if who == annotator:
                    break
        pair_of: dict[str, int] = {}
        iou_of: dict[str, float] = {}
        numbers: list[int | None] = []
        annotator_hashes: set[str] = set()
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
        title, size = "", None
        for side, row in (("benchmark", bench_row), ("annotator", mine)):
            if not row:
                continue
            data_title = row.get("data_title")
            title = title or (data_title if isinstance(data_title, str) else "")
            size = size or _size_of(row)
            for obj in read_objects(row):
                if obj.frame != at or not isinstance(obj.geometry, DRAWABLE):
                    continue
                if side == "annotator" and obj.object_hash not in annotator_hashes:
                    continue
                label = f"{iou_of[obj.object_hash]:.2f}" if side == "annotator" and obj.object_hash in iou_of else None
                shapes.append(ItemShape(side, obj.name, obj.color, obj.geometry, pair_of.get(obj.object_hash), label))
        # Matched pairs first, in pair order: the canvas numbers pairs by first appearance.
        shapes.sort(key=lambda s: (s.pair is None, s.pair or 0, s.side != "benchmark"))
        if here is not None and len(here):
            table = here.assign(pair=pd.Series(numbers, index=here.index, dtype=object),
                                row_id=np.arange(len(here)))[list(ITEM_OBJECT_COLUMNS)]
        else:
            table = pd.DataFrame({c: pd.Series(dtype=object) for c in ITEM_OBJECT_COLUMNS})
        return ItemView(data_hash=data_hash, title=title, size=size, frames=frames, frame=at, shapes=tuple(shapes),
                        objects=table)


def _size_of(row: Mapping[str, Any]) -> tuple[float, float] | None:
    from annotrain_tui.core.evaluation.labels import units_of

    for _key, unit in units_of(row):
        w, h = unit.get("width"), unit.get("height")
        if isinstance(w, (int, float)) and isinstance(h, (int, float)) and w > 0 and h > 0:
            return (float(w), float(h))
    return None
