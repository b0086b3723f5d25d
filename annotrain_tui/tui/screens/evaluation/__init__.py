"""Evaluation: live per-annotator tables, drill-down to items and objects, the item canvas,
filters, IoU distributions, export and copy. Refreshes in place, keeping sort, cursor and scroll.

The screens show and ask: every number and row comes from an immutable
:class:`~annotrain_tui.core.evaluation.views.EvaluationSnapshot` of the session, which workers post
to the screen in messages. Level 1 is :mod:`.annotators`, levels 2 and 3 :mod:`.drilldown`, what
they share :mod:`.common`.
"""

from annotrain_tui.tui.screens.evaluation.annotators import EvaluationScreen
from annotrain_tui.tui.screens.evaluation.common import iou_threshold
from annotrain_tui.tui.screens.evaluation.drilldown import AnnotatorScreen, ItemScreen

__all__ = ["EvaluationScreen", "AnnotatorScreen", "ItemScreen", "iou_threshold"]
