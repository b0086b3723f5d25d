"""What an evaluation produces: the settings it ran with and its scores (no numpy work here
beyond building tables of the results). See :mod:`.engine` for the rules behind every number."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from annotrain_tui.core.errors import AnnotrainError, InvalidInput
from annotrain_tui.core.evaluation.labels import BOX, COMPARED_SHAPES, safe_text
from annotrain_tui.core.lazy import lazy_module

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # only what builds a frame pays its import

__all__ = [
    "Matching", "PassMark", "EvaluationSettings", "AnnotatorScore", "ProjectResult", "EvaluationResult", "Stats",
    "OUTCOMES", "UNMATCHED", "SEED_COLUMNS", "OBJECT_COLUMNS", "STATUS_PASSED", "STATUS_CLOSE",
    "STATUS_NEEDS_FEEDBACK", "STATUS_NOT_ENOUGH", "ObjectRows", "object_columns", "object_frame", "STATUS_UNCERTAIN", "DEFAULT_CONFIDENCE", "wilson_interval", "MAX_WARNINGS", "SUMMARY_FIELDS", "SeedColumns", "class_label", "Breakdown", "QuestionTotal", "DEFAULT_SIGMA",
]

Matching = Literal["optimal", "seed"]
#: a training object's outcome (and "missed" for a benchmark object nobody matched); "class_mismatch":
#: class_matching "same" left it unmatched, but it overlaps a benchmark object of another class
#: (the cross-class pass; in the counts it is an extra, and that benchmark object a miss)
OUTCOMES = ("matched", "low_overlap", "missed", "extra", "class_mismatch")
UNMATCHED = "unmatched"
STATUS_PASSED = "passed"
STATUS_CLOSE = "close"
STATUS_NEEDS_FEEDBACK = "needs feedback"
STATUS_NOT_ENOUGH = "not enough work yet"
#: the F1's interval straddles the mark: the items scored cannot tell a pass from a miss
STATUS_UNCERTAIN = "uncertain"
#: the confidence of the intervals on precision, recall and F1 (the config's pass_confidence)
DEFAULT_CONFIDENCE = 0.95
#: the keypoint similarity's sigma (points and skeletons), as a fraction of the image's (or the
#: benchmark skeleton's) size: COCO's per-keypoint constants are of this order
DEFAULT_SIGMA = 0.05
SEED_COLUMNS = ("training_email", "data_unit_name", "label_id", "iou_score", "class_score")
OBJECT_COLUMNS = (
    "annotator", "source", "data_hash", "data_title", "frame", "label_hash", "benchmark_label_hash",
    "shape", "object_hash", "benchmark_object_hash", "class", "benchmark_class", "feature_hash",
    "benchmark_feature_hash", "created_by", "iou", "class_score", "outcome",
)

#: an annotator's summary, in order: the ten counts and ratios (as before the breakdowns), then the
#: breakdowns, the answers and the coverage
SUMMARY_FIELDS = ("objects", "benchmark_objects", "matched", "missed", "extra", "precision", "recall", "f1",
                  "mean_iou", "class_accuracy", "by_shape", "by_class", "classifications",
                  "classification_accuracy", "attributes", "attribute_accuracy", "class_mismatches", "items",
                  "precision_interval", "recall_interval", "f1_interval")
_EPS = 1e-9
MAX_WARNINGS = 50
#: the bins of the annotator table's IoU distribution (equal, over 0..1)
IOU_BINS = 8
#: held while a result's per-object rows are built (once, whichever thread asks first)
_BUILDING = threading.Lock()
_LOADING = threading.Lock()


def iou_histogram(values: np.ndarray) -> np.ndarray:
    """How many of ``values`` (similarities, clipped to 0..1) fall in each of the ``IOU_BINS``
    equal bins: counts of parts add up to the counts of the whole."""
    counts, _ = np.histogram(np.clip(values, 0, 1), bins=IOU_BINS, range=(0, 1))
    return counts


def _unit_number(what: str, value: Any, *, open_low: bool = False) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) \
            or value > 1 or value < 0 or (open_low and value == 0):
        raise InvalidInput(f"{what} must be a number in {'(0' if open_low else '[0'}, 1], got {safe_text(repr(value), 40)}")
    return float(value)


def _per_class(what: str, values: Mapping[str, Any], *, open_low: bool = False) -> dict[str, float]:
    if not isinstance(values, Mapping):
        raise InvalidInput(f"{what} must map class names to numbers")
    out = {}
    for name, v in values.items():
        if not isinstance(name, str) or not name:
            raise InvalidInput(f"{what}: a class name must be non-empty text, got {safe_text(repr(name), 40)}")
        out[name] = _unit_number(f"{what} for class {safe_text(name, 60)}", v, open_low=open_low)
    return out


@lru_cache(maxsize=16)
def _z(confidence: float) -> float:
    """The two-sided normal quantile of a confidence (0.95 → 1.96)."""
    from statistics import NormalDist  # (only what scores a pass pays this import)

    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: int, trials: int, confidence: float = DEFAULT_CONFIDENCE) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion ``successes / trials`` at ``confidence`` (two-sided;
    8 of 10 at 0.95: 0.4902–0.9433). None without trials, or at confidence 0 (intervals off). Unlike
    the normal approximation it stays within [0, 1] and is not of width 0 at 0 or n successes."""
    if trials <= 0 or confidence <= 0:
        return None
    n = trials
    p = min(max(successes, 0), n) / n
    z = _z(confidence)
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = 0.0 if successes <= 0 else max(0.0, centre - half)  # exact at the ends (no 1e-17 for 0)
    return low, 1.0 if successes >= n else min(1.0, centre + half)


@dataclass(frozen=True)
class PassMark:
    """Passed when F1 ≥ ``f1`` and class accuracy ≥ ``class_accuracy`` (close: within ``margin`` of
    both), the answers compared reach ``classification_accuracy`` and ``attribute_accuracy``, every
    class in ``class_f1`` has its own F1 ≥ its mark (the per-class F1 of
    :class:`Breakdown`: a match counts for a class when both objects carry it; a class with no
    benchmark object is not judged), and there is evidence: the annotator finished at least
    ``min_items`` paired items (None: every benchmark item), else :data:`STATUS_NOT_ENOUGH`.

    With ``confidence`` > 0 the F1 is judged with its uncertainty: when the F1's interval at that
    confidence (from the Wilson intervals of precision and recall) straddles the F1 mark -- its
    low end below the mark, its high end at or above it -- the F1 alone cannot decide, and the
    status is :data:`STATUS_UNCERTAIN` (unless another mark is missed by more than the margin).
    0 turns this off."""

    f1: float = 0.8
    class_accuracy: float = 0.9
    margin: float = 0.1
    min_items: int | None = None
    class_f1: Mapping[str, float] = field(default_factory=dict)
    #: the mean score of the classification answers and of the object attributes compared (judged
    #: only where there were some to compare)
    classification_accuracy: float = 0.8
    attribute_accuracy: float = 0.8
    #: of the F1's interval (0: no uncertainty, the point decides alone)
    confidence: float = DEFAULT_CONFIDENCE

    def __post_init__(self) -> None:
        for what, v in (("the pass F1", self.f1), ("the pass class accuracy", self.class_accuracy),
                        ("the pass margin", self.margin),
                        ("the pass classification accuracy", self.classification_accuracy),
                        ("the pass attribute accuracy", self.attribute_accuracy)):
            _unit_number(what, v)
        if _unit_number("the pass confidence", self.confidence) >= 1:
            raise InvalidInput(f"the pass confidence must be below 1 (0 turns uncertainty off), got {self.confidence:g}")
        if self.min_items is not None and (type(self.min_items) is not int or self.min_items < 1):
            raise InvalidInput(f"the minimum of finished items must be a whole number ≥ 1, got "
                               f"{safe_text(repr(self.min_items), 40)}")
        object.__setattr__(self, "class_f1", _per_class("the pass F1", self.class_f1))

    def items_required(self, benchmark_items: int) -> int:
        """Finished paired items an annotator needs before a status is given (never more than exist)."""
        return benchmark_items if self.min_items is None else min(self.min_items, benchmark_items)

    def verdict(self, score: AnnotatorScore) -> tuple[str, str]:
        """(status, reason) of one annotator's totals: coverage first, then the marks."""
        if score.items_required is not None and (score.items_done or 0) < score.items_required:
            return STATUS_NOT_ENOUGH, (f"{score.items_done or 0} of {score.items_required} item(s) finished; "
                                       "the pass mark needs them all" if self.min_items is None else
                                       f"{score.items_done or 0} item(s) finished; the pass mark needs "
                                       f"{score.items_required}")
        straddled = self.straddles(score)
        reasons = []
        if straddled is not None:  # the F1 cannot decide: the class accuracy still can
            low, high = straddled
            reasons.append(f"F1 {score.f1:.3f}, {self.confidence * 100:g}% interval {low:.2f}–{high:.2f} straddles "
                           f"the mark {self.f1:g}: more items would tell")
            status = self.status(1.0, score.class_accuracy)
            if status != STATUS_PASSED:
                reasons.append(f"class accuracy {score.class_accuracy:.3f} (mark {self.class_accuracy:g})")
            status = STATUS_UNCERTAIN if _RANK[STATUS_UNCERTAIN] >= _RANK[status] else status
        else:
            status = self.status(score.f1, score.class_accuracy)
            if status != STATUS_PASSED:
                reasons.append(f"F1 {score.f1:.3f} (mark {self.f1:g})" if score.f1 < self.f1 - _EPS else
                               f"class accuracy {score.class_accuracy:.3f} (mark {self.class_accuracy:g})")
        marks: list[tuple[str, float | None, float]] = [
            (f"class {safe_text(name, 60)} F1", (b.f1 if (b := score.by_class.get(name)) is not None
                                                 and b.benchmark_objects else None), mark)
            for name, mark in sorted(self.class_f1.items())]
        marks += [("classification answers", score.classification_accuracy, self.classification_accuracy),
                  ("attributes", score.attribute_accuracy, self.attribute_accuracy)]
        for what, value, mark in marks:
            if value is None or value >= mark - _EPS:  # nothing to judge, or at the mark
                continue
            reasons.append(f"{what} {value:.3f} (mark {mark:g})")
            worse = STATUS_CLOSE if value >= mark - self.margin - _EPS else STATUS_NEEDS_FEEDBACK
            status = worse if _RANK[worse] > _RANK[status] else status
        return status, "; ".join(reasons)

    def straddles(self, score: AnnotatorScore) -> tuple[float, float] | None:
        """The F1's interval at this mark's confidence when it straddles the F1 mark (low < mark ≤
        high), else None (no interval: confidence 0, or no objects on one side)."""
        interval = score.f1_interval_at(self.confidence)
        if interval is None:
            return None
        low, high = interval
        return interval if low < self.f1 - _EPS and high >= self.f1 - _EPS else None

    def to_json(self) -> dict[str, Any]:
        return {"f1": self.f1, "class_accuracy": self.class_accuracy, "margin": self.margin,
                "min_items": self.min_items, "class_f1": dict(sorted(self.class_f1.items())),
                "classification_accuracy": self.classification_accuracy,
                "attribute_accuracy": self.attribute_accuracy, "confidence": self.confidence}

    def status(self, f1: float, class_accuracy: float | None) -> str:
        ca = 1.0 if class_accuracy is None else class_accuracy  # no matches: F1 decides alone
        if f1 >= self.f1 - _EPS and ca >= self.class_accuracy - _EPS:
            return STATUS_PASSED
        if f1 >= self.f1 - self.margin - _EPS and ca >= self.class_accuracy - self.margin - _EPS:
            return STATUS_CLOSE
        return STATUS_NEEDS_FEEDBACK


#: how bad a status is, for the worst of several marks. Uncertain ranks above close and below needs
#: feedback: a mark missed by more than the margin decides whatever more items would show (needs
#: feedback), but a near miss (close) does not outweigh an F1 that cannot be told from the mark --
#: more items would tell both, so the annotator waits (uncertain) rather than retakes.
_RANK = {STATUS_PASSED: 0, STATUS_CLOSE: 1, STATUS_UNCERTAIN: 2, STATUS_NEEDS_FEEDBACK: 3}


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
    #: per benchmark class name: the similarity a match needs (instead of ``iou_threshold``)
    class_thresholds: Mapping[str, float] = field(default_factory=dict)
    #: keypoint sigma (points, skeletons): ``sigma`` for every class, ``class_sigmas`` per class name
    sigma: float = DEFAULT_SIGMA
    class_sigmas: Mapping[str, float] = field(default_factory=dict)
    #: "any": objects match whatever their classes (class accuracy scores the classes); "same": only
    #: objects of one class match (as CVAT), then a cross-class pass reports the pairs of other classes
    class_matching: Literal["any", "same"] = "any"
    #: data hashes the gold audit excluded from scoring: their benchmark and training rows are left
    #: out for everyone (neither compared nor reported as unpaired)
    excluded_items: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.matching not in ("optimal", "seed"):
            raise InvalidInput(f"unknown matching {safe_text(self.matching)!s}: use 'optimal' or 'seed'")
        _unit_number("the IoU threshold", self.iou_threshold, open_low=True)
        _unit_number("the low-overlap mark", self.low_overlap)
        if self.shape is not None and self.shape not in COMPARED_SHAPES:
            raise InvalidInput(f"cannot compare shape {safe_text(self.shape)}: use one of {', '.join(COMPARED_SHAPES)}")
        if self.matching == "seed" and self.shape not in (None, BOX):
            raise InvalidInput(f"seed matching is the published script, which compares bounding boxes on frame 0 only: "
                               f"use optimal matching to compare {safe_text(self.shape)}")
        if self.class_matching not in ("any", "same"):
            raise InvalidInput(f"unknown class matching {safe_text(self.class_matching)}: use 'any' or 'same'")
        if self.matching == "seed" and self.class_matching != "any":
            raise InvalidInput("seed matching is the published script, which matches whatever the classes: "
                               "use optimal matching to match within a class")
        object.__setattr__(self, "iou_threshold", float(self.iou_threshold))
        object.__setattr__(self, "low_overlap", float(self.low_overlap))
        object.__setattr__(self, "class_thresholds", _per_class("the match threshold", self.class_thresholds,
                                                                open_low=True))
        object.__setattr__(self, "sigma", _unit_number("the keypoint sigma", self.sigma, open_low=True))
        object.__setattr__(self, "class_sigmas", _per_class("the keypoint sigma", self.class_sigmas, open_low=True))
        if isinstance(self.excluded_items, str) or not all(isinstance(h, str) and h for h in self.excluded_items):
            raise InvalidInput("the excluded items must be a set of data hashes")
        object.__setattr__(self, "excluded_items", frozenset(self.excluded_items))

    @classmethod
    def from_config(cls, config: Any, **overrides: Any) -> EvaluationSettings:
        """The user's settings (:class:`~annotrain_tui.core.config.Settings`: thresholds, sigmas and
        pass marks, per class too) as evaluation settings; ``overrides`` (a command's flags, the
        screen's choices) win. The one place the CLI and the TUI turn the config into a scoring rule."""
        pass_fields = {"f1": config.pass_f1, "class_accuracy": config.pass_class_accuracy,
                       "min_items": config.pass_min_items, "class_f1": dict(config.class_pass_f1),
                       "classification_accuracy": config.pass_classification_accuracy,
                       "attribute_accuracy": config.pass_attribute_accuracy,
                       "confidence": getattr(config, "pass_confidence", DEFAULT_CONFIDENCE)}
        for key in ("f1", "class_accuracy", "min_items", "class_f1", "classification_accuracy", "attribute_accuracy",
                    "confidence"):
            if f"pass_{key}" in overrides:
                value = overrides.pop(f"pass_{key}")
                if value is not None:
                    pass_fields[key] = value
        fields: dict[str, Any] = {"iou_threshold": config.iou_threshold, "low_overlap": config.low_overlap,
                                  "class_thresholds": dict(config.class_thresholds), "sigma": config.keypoint_sigma,
                                  "class_sigmas": dict(config.class_sigmas), "class_matching": config.class_matching,
                                  "pass_mark": PassMark(**pass_fields)}
        if overrides.get("matching") == "seed":
            fields["class_matching"] = "any"  # the published script matches whatever the classes
        fields.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**fields)

    def threshold_of(self, class_name: str) -> float:
        return self.class_thresholds.get(class_name, self.iou_threshold)

    def sigma_of(self, class_name: str) -> float:
        return self.class_sigmas.get(class_name, self.sigma)

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
                "class_thresholds": dict(sorted(self.class_thresholds.items())), "sigma": self.sigma,
                "class_sigmas": dict(sorted(self.class_sigmas.items())), "class_matching": self.class_matching,
                "pass_mark": self.pass_mark.to_json(), "excluded_items": sorted(self.excluded_items)}


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def _f1(p: float | None, r: float | None) -> float:
    if p is None and r is None:
        return 1.0
    if p is None or r is None or p + r == 0:
        return 0.0
    return 2 * p * r / (p + r)


@dataclass(frozen=True)
class Breakdown:
    """One annotator's counts for one shape or one class.

    For a shape: ``matched`` are the annotator's matched objects of that shape, ``covered`` the
    benchmark objects of that shape a match covers. For a class: both sides count the objects of
    that class, and a match counts (in ``matched`` and ``covered``) only when both objects carry the
    class (a car matched to a truck is neither's true positive). ``similarity_sum`` is over those
    matches (IoU for area shapes, OKS or point similarity for keypoints, buffered IoU for lines).
    """

    objects: int
    benchmark_objects: int
    matched: int
    covered: int
    similarity_sum: float

    @property
    def precision(self) -> float | None:
        return _ratio(self.matched, self.objects)

    @property
    def recall(self) -> float | None:
        return _ratio(self.covered, self.benchmark_objects)

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)

    @property
    def mean_similarity(self) -> float | None:
        return _ratio(self.similarity_sum, self.matched)

    def to_json(self) -> dict[str, Any]:
        return {"objects": self.objects, "benchmark_objects": self.benchmark_objects, "matched": self.matched,
                "missed": self.benchmark_objects - self.covered, "extra": self.objects - self.matched,
                "precision": self.precision, "recall": self.recall, "f1": self.f1,
                "mean_similarity": self.mean_similarity}


@dataclass(frozen=True)
class QuestionTotal:
    """One annotator's answers to one question (a classification, or an object attribute): how many
    were compared and their mean score (see :mod:`.answers`)."""

    name: str
    kind: str
    compared: int
    score_sum: float
    object_class: str = ""  # an attribute's class (two classes may each have a "colour")

    @property
    def accuracy(self) -> float | None:
        return _ratio(self.score_sum, self.compared)

    @property
    def label(self) -> str:
        """The question as a person names it: an attribute with its class (``Car colour``)."""
        return f"{self.object_class} {self.name}" if self.object_class else self.name

    def to_json(self) -> dict[str, Any]:
        out = {"name": self.name, "kind": self.kind, "compared": self.compared, "accuracy": self.accuracy}
        return {**out, "class": self.object_class} if self.object_class else out


def class_label(name: str | None, feature_hash: str, taken: Collection[str]) -> str:
    """How a class (a feature hash) is labelled in by-class scores and confusions: its name (the
    hash without one), or ``name (hash8)`` when another class already took that name, so that two
    classes never count as one. The engine and the filtered views label with this one rule."""
    label = name or feature_hash
    return f"{label} ({feature_hash[:8]})" if label in taken else label


def _mean_of(totals: Mapping[str, QuestionTotal]) -> float | None:
    return _ratio(math.fsum(q.score_sum for q in totals.values()), sum(q.compared for q in totals.values()))


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
    by_shape: Mapping[str, Breakdown] = field(default_factory=dict)
    by_class: Mapping[str, Breakdown] = field(default_factory=dict)
    classifications: Mapping[str, QuestionTotal] = field(default_factory=dict)  # by question feature hash
    attributes: Mapping[str, QuestionTotal] = field(default_factory=dict)  # by attribute feature hash
    #: objects that overlap a benchmark object of another class: class_matching "any", matches whose
    #: classes differ; "same", the pairs of the cross-class pass
    class_mismatches: int = 0
    items_done: int | None = None  # paired items this annotator finished (the main annotator of the row)
    items_required: int | None = None  # what the pass mark needs
    reason: str = ""  # why the status is not "passed", in a line
    #: of the intervals below (the pass mark's; 0: none)
    confidence: float = DEFAULT_CONFIDENCE

    @property
    def classification_accuracy(self) -> float | None:
        """Mean score over every classification answer compared (None: none compared)."""
        return _mean_of(self.classifications)

    @property
    def attribute_accuracy(self) -> float | None:
        """Mean score over every attribute compared on matched pairs (None: none compared)."""
        return _mean_of(self.attributes)

    @property
    def precision(self) -> float | None:
        return _ratio(self.matched, self.objects)

    @property
    def recall(self) -> float | None:
        return _ratio(self.benchmark_objects - self.missed, self.benchmark_objects)

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)

    @property
    def mean_iou(self) -> float | None:
        return _ratio(self.iou_sum, self.matched)

    @property
    def class_accuracy(self) -> float | None:
        return _ratio(self.correct_class, self.matched)

    def precision_interval_at(self, confidence: float) -> tuple[float, float] | None:
        return wilson_interval(self.matched, self.objects, confidence)

    def recall_interval_at(self, confidence: float) -> tuple[float, float] | None:
        return wilson_interval(self.benchmark_objects - self.missed, self.benchmark_objects, confidence)

    def f1_interval_at(self, confidence: float) -> tuple[float, float] | None:
        """F1's bounds from the bounds of precision and recall (F1 rises with each): (F1 of both
        lows, F1 of both highs); None when either is undefined (no objects, no benchmark objects)."""
        p, r = self.precision_interval_at(confidence), self.recall_interval_at(confidence)
        if p is None or r is None:
            return None
        return _f1(p[0], r[0]), _f1(p[1], r[1])

    @property
    def precision_interval(self) -> tuple[float, float] | None:
        """Wilson interval of the precision (matched / objects) at :attr:`confidence`."""
        return self.precision_interval_at(self.confidence)

    @property
    def recall_interval(self) -> tuple[float, float] | None:
        """Wilson interval of the recall (benchmark objects covered / benchmark objects)."""
        return self.recall_interval_at(self.confidence)

    @property
    def f1_interval(self) -> tuple[float, float] | None:
        return self.f1_interval_at(self.confidence)

    def summary(self) -> dict[str, Any]:
        """The ten counts and ratios, then the breakdowns (by shape, by class), the answers
        (classifications, attributes), the coverage and the intervals of precision, recall and F1
        ([low, high] at :attr:`confidence`, or None), in the documented order."""
        return {"objects": self.objects, "benchmark_objects": self.benchmark_objects, "matched": self.matched,
                "missed": self.missed, "extra": self.extra, "precision": self.precision, "recall": self.recall,
                "f1": self.f1, "mean_iou": self.mean_iou, "class_accuracy": self.class_accuracy,
                "by_shape": {k: v.to_json() for k, v in self.by_shape.items()},
                "by_class": {k: v.to_json() for k, v in self.by_class.items()},
                "classifications": {k: v.to_json() for k, v in self.classifications.items()},
                "classification_accuracy": self.classification_accuracy,
                "attributes": {k: v.to_json() for k, v in self.attributes.items()},
                "attribute_accuracy": self.attribute_accuracy,
                "class_mismatches": self.class_mismatches,
                "items": {"done": self.items_done, "required": self.items_required},
                "precision_interval": _pair(self.precision_interval), "recall_interval": _pair(self.recall_interval),
                "f1_interval": _pair(self.f1_interval)}

    def to_json(self) -> dict[str, Any]:
        return {**self.summary(), "low_overlap": self.low_overlap, "status": self.status, "reason": self.reason,
                "sources": list(self.sources)}


def _pair(interval: tuple[float, float] | None) -> list[float] | None:
    return None if interval is None else [interval[0], interval[1]]


@dataclass(frozen=True)
class Stats:
    """Per-annotator counts of one training set: columns objects, matched, low_overlap,
    correct_class, benchmark_objects, missed, class_mismatches; plus the sum of matched IoUs."""

    names: list[str]
    counts: np.ndarray
    iou_sum: np.ndarray


@dataclass(frozen=True)
class SeedColumns:
    """One training set's seed-file columns (:data:`SEED_COLUMNS`), each text column as
    (vocabulary, codes): its values are ``vocabulary[codes]`` (a writer formats each vocabulary
    entry once); ``iou`` and ``class_score`` per training object."""

    created_by: tuple[np.ndarray, np.ndarray]
    data_title: tuple[np.ndarray, np.ndarray]
    label_hash: tuple[np.ndarray, np.ndarray]
    iou: np.ndarray
    class_score: np.ndarray


#: the per-object rows' numeric columns and their types (every other column is text: objects)
_NUMERIC = {"frame": np.int64, "iou": np.float64, "class_score": np.float64}


class ObjectRows:
    """One set's per-object rows (:data:`OBJECT_COLUMNS`), made on demand: ``len()`` says how many,
    ``fill(columns, at)`` writes them into columns made by :func:`object_columns` from row ``at``,
    and calling it gives them as a frame. Sets are joined by filling one set of columns, with no
    frame per set (a session scores hundreds of blocks)."""

    __slots__ = ("_n", "_fill")

    def __init__(self, n: int, fill: Callable[[dict[str, np.ndarray], int], None]) -> None:
        self._n, self._fill = n, fill

    def __len__(self) -> int:
        return self._n

    def fill(self, columns: dict[str, np.ndarray], at: int) -> None:
        self._fill(columns, at)

    def __call__(self) -> pd.DataFrame:
        columns = object_columns(self._n)
        self._fill(columns, 0)
        return object_frame(columns)


def object_columns(n: int) -> dict[str, np.ndarray]:
    """Empty columns for ``n`` per-object rows (text columns hold None until filled)."""
    return {c: np.empty(n, dtype=_NUMERIC.get(c, object)) for c in OBJECT_COLUMNS}


def object_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """The frame of filled :func:`object_columns` (sharing their arrays; text stays object dtype)."""
    return pd.DataFrame({c: (pd.Series(v, dtype=object, copy=False) if v.dtype == object else v)
                         for c, v in columns.items()}, columns=list(OBJECT_COLUMNS), copy=False)


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
    #: (kind, annotator, key) -> [objects, matched, benchmark_objects, covered, similarity_sum]; see
    #: ``Evaluator._breakdown``
    breakdown: dict[tuple[str, str, str], np.ndarray] = field(default_factory=dict)
    #: (annotator, question feature hash) -> (compared, score sum): classifications and attributes
    questions: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)
    attributes: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)
    #: annotator -> the histogram of its matches' similarities (``IOU_BINS`` equal bins over 0..1,
    #: clipped): the annotator table's IoU column without the per-object rows
    iou_counts: dict[str, np.ndarray] = field(default_factory=dict)
    _build_objects: Callable[[], pd.DataFrame] | None = field(default=None, repr=False)
    _build_seed: Callable[[], SeedColumns] | None = field(default=None, repr=False)
    _objects: pd.DataFrame | None = field(default=None, repr=False)

    def objects_frame(self) -> pd.DataFrame | None:
        """The per-object rows, as :attr:`objects` gives them, without keeping them here (a
        result's combined frame is the one copy a session keeps)."""
        if self._objects is not None or self._build_objects is None:
            return self._objects
        return self._build_objects()

    def seed_columns(self) -> SeedColumns | None:
        """The seed file's columns without a frame (seed matching with objects kept), else None."""
        return self._build_seed() if self._build_seed is not None else None

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
    #: where the per-object rows come from when the sets kept none (a file session: its files
    #: evaluated again, with the rows, the first time a view asks; see ``session.FileSource``)
    objects_from: Callable[[], pd.DataFrame] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        # every score's intervals at the confidence its status was judged with (the pass mark's)
        confidence = getattr(getattr(self.settings, "pass_mark", None), "confidence", None)
        if confidence is not None:
            self.annotators = {name: score if score.confidence == confidence else replace(score, confidence=confidence)
                               for name, score in self.annotators.items()}

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
        if self._objects is None and self.objects_from is not None:
            with _LOADING:  # once, whoever asks (its own evaluation builds its rows under _BUILDING)
                if self._objects is None:
                    self._objects = self.objects_from()
        if self._objects is None:
            with _BUILDING:  # two threads asking at once build it once
                fills = [b for p in self.projects if p._objects is None and isinstance(b := p._build_objects, ObjectRows)]
                if self._objects is None and fills and len(fills) == len(self.projects):  # the engine's sets, none built
                    columns = object_columns(sum(len(b) for b in fills))
                    at = 0
                    for b in fills:  # one set of columns, filled set by set
                        b.fill(columns, at)
                        at += len(b)
                    self._objects = object_frame(columns)
                if self._objects is None:
                    parts = [f for p in self.projects if (f := p.objects_frame()) is not None]
                    self._objects = (pd.concat(parts, ignore_index=True) if parts
                                     else pd.DataFrame(columns=list(OBJECT_COLUMNS)))
                    del parts
        return self._objects

    @property
    def objects_built(self) -> bool:
        """Whether :attr:`objects` is built already (asking for it builds it)."""
        return self._objects is not None

    def iou_counts(self) -> dict[str, np.ndarray]:
        """Per annotator with a match: the histogram of its matches' similarities over every set
        (``IOU_BINS`` bins over 0..1, values clipped), what the annotator table's IoU column draws."""
        out: dict[str, np.ndarray] = {}
        for p in self.projects:
            for who, counts in p.iou_counts.items():
                out[who] = out[who] + counts if who in out else counts.copy()
        return out

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
