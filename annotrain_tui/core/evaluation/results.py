"""What an evaluation produces: the settings it ran with and its scores (no numpy work here
beyond building tables of the results). See :mod:`.engine` for the rules behind every number."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from annotrain_tui.core.errors import AnnotrainError, InvalidInput
from annotrain_tui.core.evaluation.labels import BOX, COMPARED_SHAPES, safe_text

__all__ = [
    "Matching", "PassMark", "EvaluationSettings", "AnnotatorScore", "ProjectResult", "EvaluationResult", "Stats",
    "OUTCOMES", "UNMATCHED", "SEED_COLUMNS", "OBJECT_COLUMNS", "STATUS_PASSED", "STATUS_CLOSE",
    "STATUS_NEEDS_FEEDBACK", "MAX_WARNINGS",
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
MAX_WARNINGS = 50


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
class EvaluationSettings:
    """How to score: the one value every entry point takes (``evaluate``, ``Evaluator``, a session).

    ``matching`` "optimal" or "seed"; ``iou_threshold`` in (0, 1]; ``low_overlap`` in [0, 1];
    ``shape`` one compared shape, or None for the mode's default (seed: boxes; optimal: all three);
    ``pass_mark`` the status rule. Checked when made: a bad value raises :class:`InvalidInput`.
    """

    matching: Matching = "optimal"
    iou_threshold: float = 0.5
    low_overlap: float = 0.8
    shape: str | None = None
    pass_mark: PassMark = field(default_factory=PassMark)

    def __post_init__(self) -> None:
        if self.matching not in ("optimal", "seed"):
            raise InvalidInput(f"unknown matching {safe_text(self.matching)!s}: use 'optimal' or 'seed'")
        for name, value, lo_open in (("IoU threshold", self.iou_threshold, True),
                                     ("low-overlap mark", self.low_overlap, False)):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) \
                    or value > 1 or value < 0 or (lo_open and value == 0):
                raise InvalidInput(f"the {name} must be a number in {'(0' if lo_open else '[0'}, 1], got {value!r}")
        if self.shape is not None and self.shape not in COMPARED_SHAPES:
            raise InvalidInput(f"cannot compare shape {safe_text(self.shape)}: use one of {', '.join(COMPARED_SHAPES)}")
        object.__setattr__(self, "iou_threshold", float(self.iou_threshold))
        object.__setattr__(self, "low_overlap", float(self.low_overlap))

    @property
    def shapes(self) -> tuple[str, ...]:
        if self.shape is not None:
            return (self.shape,)
        return (BOX,) if self.matching == "seed" else COMPARED_SHAPES

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
class Stats:
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
    stats: Stats  # per annotator counts
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

    settings: EvaluationSettings
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
