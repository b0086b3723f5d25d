"""The live evaluation session under its first name (see :mod:`.session`)."""

from __future__ import annotations

from annotrain_tui.core.backends.base import Backend
from annotrain_tui.core.evaluation.results import EvaluationSettings
from annotrain_tui.core.evaluation.session import (
    ANNOTATOR_COLUMNS,
    FETCH_CHUNK,
    EvaluationSession,
    FileSource,
    LiveSource,
    RefreshReport,
    TrainingSource,
)

__all__ = ["LiveEvaluation", "EvaluationSession", "LiveSource", "FileSource", "TrainingSource", "RefreshReport",
           "ANNOTATOR_COLUMNS", "FETCH_CHUNK"]


def LiveEvaluation(backend: Backend, benchmark_ref: str, training_refs: list[str] | None = None,  # noqa: N802
                   settings: EvaluationSettings | None = None, *, block_size: int = 32,
                   keep_objects: bool = True) -> EvaluationSession:
    """:meth:`EvaluationSession.of_workspace` under the name the first version had."""
    return EvaluationSession.of_workspace(backend, benchmark_ref, training_refs, settings, block_size=block_size,
                                          keep_objects=keep_objects)
