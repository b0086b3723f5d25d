"""The live evaluation session under its first name (see :mod:`.session`)."""

from __future__ import annotations

from typing import Any

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
                   settings: EvaluationSettings | None = None, **kw: Any) -> EvaluationSession:
    """:meth:`EvaluationSession.live` (``kw``: ``block_size``, ``keep_objects``)."""
    return EvaluationSession.of_workspace(backend, benchmark_ref, training_refs, settings, **kw)
