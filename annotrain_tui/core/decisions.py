"""Decisions on a programme's trainees: the computed status with its reason, the decision it
suggests, and the one decision a person makes or confirms (kept in the programme's record).

    result = score_programme(backend, prog, settings)          # the current rounds, exclusions applied
    rows = decision_rows(prog, result)                          # what every view shows per trainee
    decide(prog, "a@x.com", "graduate", result=result, note="clean boxes")
    confirm_all(prog, result)                                   # record each suggestion not yet decided
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from annotrain_tui.core.errors import Conflict, InvalidInput
from annotrain_tui.core.programme import DECISIONS, Decision, DecisionKind, Programme
from annotrain_tui.core.roster import identity
from annotrain_tui.core.text import shown

if TYPE_CHECKING:
    from annotrain_tui.core.backends.base import Backend
    from annotrain_tui.core.evaluation.results import AnnotatorScore, EvaluationResult, EvaluationSettings
    from annotrain_tui.core.evaluation.session import EvaluationSession

__all__ = ["SUGGESTIONS", "DecisionRow", "suggest", "settings_of", "session_of", "score_programme",
           "decision_rows", "decide", "confirm_all"]

#: computed status → the decision it suggests (a person confirms or overrides it)
SUGGESTIONS: dict[str, DecisionKind] = {
    "passed": "graduate",
    "close": "retake",
    "needs feedback": "retake",
    "uncertain": "hold",
    "not enough work yet": "hold",
}


def suggest(status: str | None) -> DecisionKind:
    """The decision a computed status suggests: passed → graduate; close or needs feedback → retake;
    uncertain, not enough work, or no score yet → hold (wait for more evidence)."""
    return SUGGESTIONS.get(status or "", "hold")


def settings_of(prog: Programme, settings: EvaluationSettings | None = None) -> EvaluationSettings:
    """The evaluation settings of a programme: ``settings`` (else the config's) with the gold audit's
    exclusions of the programme's record applied."""
    if settings is None:
        from annotrain_tui.core.config import load_settings
        from annotrain_tui.core.evaluation.results import EvaluationSettings

        settings = EvaluationSettings.from_config(load_settings())
    excluded = frozenset(prog.record.exclusions())
    if excluded:
        settings = dataclasses.replace(settings, excluded_items=excluded)
    return settings


def session_of(backend: Backend, prog: Programme, settings: EvaluationSettings | None = None, *,
               keep_objects: bool = False) -> EvaluationSession:
    """An evaluation session of the programme's current rounds (each trainee's latest)."""
    from annotrain_tui.core.evaluation.session import EvaluationSession

    return EvaluationSession.of_workspace(backend, prog.id, None, settings_of(prog, settings),
                                          keep_objects=keep_objects, block_size=10**9)


def score_programme(backend: Backend, prog: Programme, settings: EvaluationSettings | None = None, *,
                    keep_objects: bool = False) -> EvaluationResult:
    """The programme's scores now: its current rounds against the benchmark, exclusions applied."""
    return session_of(backend, prog, settings, keep_objects=keep_objects).load()


@dataclass(frozen=True)
class DecisionRow:
    """One trainee as every view shows them: round, progress, computed status and its reason, the
    suggested decision, and the decision made (if any, on this round)."""

    email: str
    round: int
    complete: int
    total: int
    status: str
    reason: str
    f1: float | None
    suggested: DecisionKind | None  # None: not scored yet (nothing to suggest from)
    decision: Decision | None
    graduated: bool

    @property
    def decided(self) -> bool:
        return self.decision is not None and self.decision.round == self.round

    def to_json(self) -> dict[str, Any]:
        return {"email": self.email, "round": self.round, "complete": self.complete, "total": self.total,
                "status": self.status, "reason": self.reason, "f1": self.f1, "suggested": self.suggested,
                "decision": self.decision.to_json() if self.decided and self.decision else None,
                "graduated": self.graduated}


def _scores(result: EvaluationResult | None) -> dict[str, AnnotatorScore]:
    """The result's scores by the annotator's identity (emails compared as everywhere)."""
    return {identity(name): a for name, a in result.annotators.items()} if result is not None else {}


def _score(result: EvaluationResult | None, email: str) -> AnnotatorScore | None:
    return _scores(result).get(identity(email))


def decision_rows(prog: Programme, result: EvaluationResult | None = None) -> list[DecisionRow]:
    """Every trainee of the programme with their computed status (from ``result``, else "not
    evaluated") and their decision."""
    rows = []
    scores = _scores(result)
    for t in prog.trainees.values():
        score = scores.get(t.email)
        status = score.status if score is not None else ("not started" if t.current.complete == 0 else "not evaluated")
        reason = score.reason if score is not None else ""
        rows.append(DecisionRow(email=t.email, round=t.round, complete=t.current.complete, total=t.current.total,
                                status=status, reason=reason, f1=score.f1 if score is not None else None,
                                suggested=suggest(score.status) if score is not None else None,
                                decision=t.decision, graduated=t.email in prog.graduated))
    return rows


def decide(prog: Programme, email: str, decision: str, *, result: EvaluationResult | None = None,
           note: str = "") -> Decision:
    """Record a person's decision on a trainee's current round, with the status it was made on."""
    if decision not in DECISIONS:
        raise InvalidInput(f"unknown decision {shown(decision, limit=40)!r}: use graduate, retake or hold")
    trainee = prog.trainee(email)
    if trainee.email in prog.graduated and decision != "graduate":
        raise Conflict(f"{shown(trainee.email, limit=120)} has graduated already (added to production)",
                       hint="annotrain never removes anyone from a project: do that in Encord if needed")
    score = _score(result, trainee.email)
    made = prog.record.decide(trainee.email, decision, round=trainee.round,
                              status=score.status if score is not None else "",
                              reason=score.reason if score is not None else "", note=note)
    trainee.decision = made
    return made


def to_confirm(rows: list[DecisionRow]) -> list[DecisionRow]:
    """Of ``decision_rows``, those a confirmation records: finished their round, scored (so there is
    a suggestion), no decision on this round yet."""
    return [r for r in rows if not r.decided and r.total > 0 and r.complete >= r.total and r.suggested is not None]


def confirm_all(prog: Programme, result: EvaluationResult) -> list[Decision]:
    """Record the suggested decision of every trainee who finished their round and has none yet."""
    return [decide(prog, row.email, row.suggested, result=result, note="confirmed the suggestion")
            for row in to_confirm(decision_rows(prog, result)) if row.suggested is not None]
