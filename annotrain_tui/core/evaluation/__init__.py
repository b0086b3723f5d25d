"""Evaluation engine: Encord label rows → object tables → IoU → matching → per-annotator scores.

Headless (never imports textual or the Encord SDK). Start at :func:`evaluate`.
"""

from annotrain_tui.core.evaluation.engine import (
    Evaluator,
    evaluate,
)
from annotrain_tui.core.evaluation.parse import (
    COMPARED_SHAPES,
    ObjectTable,
    load_label_rows,
    parse_label_rows,
    read_label_rows,
)
from annotrain_tui.core.evaluation.results import (
    OBJECT_COLUMNS,
    OUTCOMES,
    SEED_COLUMNS,
    UNMATCHED,
    AnnotatorScore,
    EvaluationResult,
    EvaluationSettings,
    PassMark,
    ProjectResult,
)

__all__ = [
    "AnnotatorScore",
    "COMPARED_SHAPES",
    "EvaluationResult",
    "Evaluator",
    "OBJECT_COLUMNS",
    "OUTCOMES",
    "ObjectTable",
    "PassMark",
    "ProjectResult",
    "SEED_COLUMNS",
    "EvaluationSettings",
    "UNMATCHED",
    "evaluate",
    "load_label_rows",
    "parse_label_rows",
    "read_label_rows",
]
