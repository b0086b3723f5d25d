"""Evaluation engine: Encord label rows → object tables → IoU → matching → per-annotator scores.

Headless (never imports textual or the Encord SDK). Start at :func:`evaluate`.

The names below are loaded when first used (``__getattr__``), so importing a submodule (the label
reader the sandbox uses, ``shapes``) does not load the engine and its numpy/pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from annotrain_tui.core.lazy import lazy_exports

if TYPE_CHECKING:
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

#: each public name -> the submodule that defines it
_WHERE = {
    "Evaluator": "engine",
    "evaluate": "engine",
    "COMPARED_SHAPES": "parse",
    "ObjectTable": "parse",
    "load_label_rows": "parse",
    "parse_label_rows": "parse",
    "read_label_rows": "parse",
    "OBJECT_COLUMNS": "results",
    "OUTCOMES": "results",
    "SEED_COLUMNS": "results",
    "UNMATCHED": "results",
    "AnnotatorScore": "results",
    "EvaluationResult": "results",
    "EvaluationSettings": "results",
    "PassMark": "results",
    "ProjectResult": "results",
}


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)


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
