"""Issue 16, gates: the pass decision shows its uncertainty. A Wilson interval on precision and
recall per annotator (F1's from both), "uncertain" when the F1's interval straddles the mark, the
confidence a setting (pass_confidence, 0: off)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from annotrain_tui.core.config import Settings
from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.evaluation import EvaluationSettings, PassMark, evaluate
from annotrain_tui.core.evaluation.results import (
    _RANK,
    STATUS_CLOSE,
    STATUS_NEEDS_FEEDBACK,
    STATUS_PASSED,
    STATUS_UNCERTAIN,
    SUMMARY_FIELDS,
    AnnotatorScore,
    wilson_interval,
)
from tests.labelgen import DEFAULT_CLASSES, box, make_label_row, make_object


def score(objects: int, benchmark: int, matched: int, *, correct: int | None = None, **kw) -> AnnotatorScore:
    """Totals of one annotator: ``matched`` of ``objects`` match, covering as many of ``benchmark``."""
    return AnnotatorScore(annotator="a@x", objects=objects, benchmark_objects=benchmark, matched=matched,
                          missed=benchmark - matched, extra=objects - matched, low_overlap=0,
                          correct_class=matched if correct is None else correct, iou_sum=0.9 * matched,
                          status="", **kw)


def by_hand(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson interval, written out as in the textbook."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = (z / (1 + z * z / n)) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_wilson_interval_values():
    low, high = wilson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    for k, n in ((1, 3), (45, 50), (120, 200), (7, 7), (0, 9)):
        want = by_hand(k, n)
        got = wilson_interval(k, n)
        assert got == pytest.approx((max(0.0, want[0]), min(1.0, want[1])), abs=1e-12)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0  # exact at the ends
    assert wilson_interval(0, 10)[1] == pytest.approx(0.2775, abs=1e-4)
    assert wilson_interval(5, 0) is None and wilson_interval(5, 10, 0) is None
    # a higher confidence, a wider interval; 90%: z = 1.6449
    l90, h90 = wilson_interval(8, 10, 0.90)
    assert low < l90 < 0.8 < h90 < high
    assert (round(l90, 4), round(h90, 4)) == tuple(round(v, 4) for v in by_hand(8, 10, z=1.6448536269514722))


def test_annotator_intervals_precision_recall_and_f1():
    s = score(objects=10, benchmark=20, matched=8)
    assert s.precision_interval == wilson_interval(8, 10)
    assert s.recall_interval == wilson_interval(8, 20)
    p, r = s.precision_interval, s.recall_interval
    f1 = lambda a, b: 2 * a * b / (a + b)  # noqa: E731
    assert s.f1_interval == pytest.approx((f1(p[0], r[0]), f1(p[1], r[1])))
    assert s.f1_interval[0] < s.f1 < s.f1_interval[1]
    # nothing drawn: precision (and so F1's interval) undefined
    none = score(objects=0, benchmark=5, matched=0)
    assert none.precision_interval is None and none.f1_interval is None and none.recall_interval == (0.0, pytest.approx(0.4345, abs=1e-4))
    # the confidence of the score
    assert replace(s, confidence=0).f1_interval is None
    assert replace(s, confidence=0.99).recall_interval == wilson_interval(8, 20, 0.99)


def test_summary_keeps_every_key_and_adds_the_intervals_at_the_end():
    s = score(objects=10, benchmark=10, matched=8)
    summary = s.summary()
    assert tuple(summary) == SUMMARY_FIELDS
    assert SUMMARY_FIELDS[:18] == (
        "objects", "benchmark_objects", "matched", "missed", "extra", "precision", "recall", "f1", "mean_iou",
        "class_accuracy", "by_shape", "by_class", "classifications", "classification_accuracy", "attributes",
        "attribute_accuracy", "class_mismatches", "items")
    assert SUMMARY_FIELDS[18:] == ("precision_interval", "recall_interval", "f1_interval")
    assert summary["recall_interval"] == pytest.approx([0.4902, 0.9433], abs=1e-4)
    assert list(s.to_json())[:len(SUMMARY_FIELDS)] == list(SUMMARY_FIELDS)
    assert score(objects=0, benchmark=0, matched=0).summary()["f1_interval"] is None


def test_uncertain_when_the_interval_straddles_the_mark():
    pm = PassMark()  # F1 0.8, 95%
    # 8 of 10 both ways: F1 0.8 passes by the point, but 0.49–0.94 straddles the mark
    status, reason = pm.verdict(score(objects=10, benchmark=10, matched=8))
    assert status == STATUS_UNCERTAIN
    assert reason == "F1 0.800, 95% interval 0.49–0.94 straddles the mark 0.8: more items would tell"
    # the point below the mark (0.75), its high end above: uncertain too (not close)
    status, reason = pm.verdict(score(objects=12, benchmark=12, matched=9))
    assert status == STATUS_UNCERTAIN and reason.startswith("F1 0.750, 95% interval ")
    # on many objects the interval is narrow: right at the mark is still uncertain, near it decided
    assert pm.verdict(score(objects=1000, benchmark=1000, matched=800))[0] == STATUS_UNCERTAIN
    assert pm.verdict(score(objects=1000, benchmark=1000, matched=850)) == (STATUS_PASSED, "")
    assert pm.verdict(score(objects=1000, benchmark=1000, matched=750))[0] == STATUS_CLOSE
    assert pm.verdict(score(objects=1000, benchmark=1000, matched=500))[0] == STATUS_NEEDS_FEEDBACK
    # the whole interval above the mark: passed; below it: needs feedback
    assert pm.verdict(score(objects=60, benchmark=60, matched=59)) == (STATUS_PASSED, "")
    assert pm.verdict(score(objects=60, benchmark=60, matched=20))[0] == STATUS_NEEDS_FEEDBACK


def test_another_mark_missed_by_more_than_the_margin_still_decides():
    pm = PassMark()
    # F1 uncertain, class accuracy 0.5 (mark 0.9, beyond the margin): needs feedback, both reasons
    status, reason = pm.verdict(score(objects=10, benchmark=10, matched=8, correct=4))
    assert status == STATUS_NEEDS_FEEDBACK
    assert "straddles the mark 0.8" in reason and "class accuracy 0.500 (mark 0.9)" in reason
    # class accuracy close (0.875): uncertain ranks above close, the reason says both
    status, reason = pm.verdict(score(objects=10, benchmark=10, matched=8, correct=7))
    assert status == STATUS_UNCERTAIN and "class accuracy 0.875 (mark 0.9)" in reason
    assert _RANK[STATUS_PASSED] < _RANK[STATUS_CLOSE] < _RANK[STATUS_UNCERTAIN] < _RANK[STATUS_NEEDS_FEEDBACK]


def test_coverage_comes_first():
    pm = PassMark()
    s = score(objects=10, benchmark=10, matched=8, items_done=2, items_required=5)
    assert pm.verdict(s)[0] == "not enough work yet"


def test_confidence_zero_turns_uncertainty_off_and_the_confidence_is_checked():
    s = score(objects=10, benchmark=10, matched=8)
    assert PassMark(confidence=0).verdict(s) == (STATUS_PASSED, "")
    status, reason = PassMark(confidence=0.5).verdict(s)  # a narrower interval, still straddling
    assert status == STATUS_UNCERTAIN and "50% interval" in reason
    for bad in (1, 1.5, -0.1, float("nan")):
        with pytest.raises(InvalidInput, match="pass confidence"):
            PassMark(confidence=bad)
    assert PassMark().to_json()["confidence"] == 0.95


def test_pass_confidence_setting_reaches_the_pass_mark_and_the_scores():
    assert Settings().pass_confidence == 0.95
    assert EvaluationSettings.from_config(Settings()).pass_mark.confidence == 0.95
    settings = EvaluationSettings.from_config(Settings(pass_confidence=0.0))
    assert settings.pass_mark.confidence == 0.0
    assert EvaluationSettings.from_config(Settings(), pass_confidence=0.9).pass_mark.confidence == 0.9
    with pytest.raises(ValueError):
        Settings(pass_confidence=1.0)
    # an evaluation: 4 perfect boxes are uncertain at 95%, passed with the uncertainty off
    car = DEFAULT_CLASSES[0]
    bench, train = [], []
    for i in range(2):
        objs = [make_object(car, box(0.1, 0.1, 0.2, 0.2), object_hash=f"c{i}", created_by="gold@x"),
                make_object(car, box(0.5, 0.5, 0.2, 0.2), object_hash=f"d{i}", created_by="gold@x")]
        bench.append(make_label_row(data_hash=f"h{i}", data_title=f"img{i}.jpg", objects=objs, label_hash=f"B{i}"))
        train.append(make_label_row(data_hash=f"h{i}", data_title=f"img{i}.jpg", label_hash=f"T{i}", objects=[
            make_object(car, box(0.1, 0.1, 0.2, 0.2), object_hash=f"t{i}", created_by="a@x"),
            make_object(car, box(0.5, 0.5, 0.2, 0.2), object_hash=f"u{i}", created_by="a@x")]))
    on = evaluate([*bench], [("p", train)], EvaluationSettings.from_config(Settings()))
    a = on.annotators["a@x"]
    assert (a.status, a.f1) == (STATUS_UNCERTAIN, 1.0) and a.confidence == 0.95
    assert on.to_json()["annotators"]["a@x"]["f1_interval"] == pytest.approx([wilson_interval(4, 4)[0], 1.0])
    off = evaluate([*bench], [("p", train)], settings)
    assert off.annotators["a@x"].status == STATUS_PASSED
    # the scores carry the confidence they were judged at: no interval at 0
    assert off.annotators["a@x"].f1_interval is None
    assert off.to_json()["annotators"]["a@x"]["f1_interval"] is None
    ninety = evaluate([*bench], [("p", train)], EvaluationSettings.from_config(Settings(), pass_confidence=0.9))
    assert ninety.annotators["a@x"].recall_interval == wilson_interval(4, 4, 0.9)
