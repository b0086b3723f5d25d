"""A plain reference for the classification and attribute answer scores of issue 15, written from
the issue's text with no annotrain_tui code: the tests (and the end-to-end reference) compare the
engine with it.

An *entry* is one answer as a label row holds it (``LabelRowV2.to_encord_dict()``, SDK 0.1.211,
``encord/objects/answers.py`` ``_to_encord_dict_impl``): one dict of a ``classifications`` list,
``{"name", "value", "featureHash", "answers", "manualAnnotation"}`` where ``answers`` is a list of
chosen options ``{"name", "value", "featureHash"}`` (radio: one; checklist: zero or more) or a str
(text). ``None`` stands for "no answer".

The rules (issue 15, "Classifications"): radio 1 if the same option else 0; checklist the Jaccard
index of the chosen options (1 when both are empty); text 1 when equal after trimming and
case-folding. No answer from the annotator counts 0; an answer of another kind (text against
options) counts 0. A radio answer is a one-option set, so Jaccard gives its score as well.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ref_answer_score", "ref_mean"]


def _options(entry: dict[str, Any]) -> set[str]:
    return {option["featureHash"] for option in entry["answers"]}


def ref_answer_score(train_entry: dict[str, Any] | None, bench_entry: dict[str, Any] | None) -> float:
    """The score of the annotator's answer ``train_entry`` against the benchmark's ``bench_entry``."""
    if bench_entry is None:
        raise ValueError("the benchmark gave no answer: nothing to score")
    if train_entry is None:
        return 0.0
    bench = bench_entry["answers"]
    train = train_entry["answers"]
    if isinstance(bench, str):
        if not isinstance(train, str):
            return 0.0
        return 1.0 if train.strip().casefold() == bench.strip().casefold() else 0.0
    if isinstance(train, str):
        return 0.0
    b = _options(bench_entry)
    t = _options(train_entry)
    union = b | t
    if not union:
        return 1.0
    return len(b & t) / len(union)


def ref_mean(scores: list[float]) -> float | None:
    """The mean of a list of scores, None for none (the accuracy of a question nobody was asked)."""
    if not scores:
        return None
    total = 0.0
    for s in scores:
        total += s
    return total / len(scores)
