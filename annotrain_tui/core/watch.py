"""On-call: what changed in a programme since the last look, as events (``annotrain watch``).

A :class:`Watcher` keeps one live :class:`~annotrain_tui.core.evaluation.session.EvaluationSession`
of the programme: the first :meth:`Watcher.poll` loads it, each later one refreshes it (only the
label rows edited since the poll before are fetched, only their blocks scored again: never a full
reload). ``poll`` never sleeps; the caller decides how often to ask. Events:

- ``crossed``: an annotator's status crossed the pass mark, either way (passed ↔ not passed);
- ``stalled``: a trainee whose round is not finished has done nothing (no task submitted; none: since
  the project was made) for ``stalled_hours``; once per stall: a stall said is said again only after
  the trainee worked (a task finished that was not, or one submitted past annotation). A time that
  moves without that (a finished task edited again, as the sandbox's simulator revises them, or a
  reviewer's edit of one) is no new work, so no new stall. How long is said in minutes under an
  hour, hours under two days, then days (:func:`how_long`);
- ``benchmark-edited``: a Complete benchmark row was edited after training began (later than the
  earliest training project was made), or the benchmark's Complete rows changed between polls;
  once per change;
- ``round-finished``: a trainee's current round reached every task Complete.

The first poll takes the programme as it is: crossings and finished rounds are changes, so none is
said then; a stall and a benchmark edited after training began already are (they want action).
A retake's new round replaces the round before it in the session (its totals are its own), and its
status starts afresh: a round's first status is no crossing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from annotrain_tui.core.evaluation.results import STATUS_PASSED
from annotrain_tui.core.markers import parse_training_marker, training_round
from annotrain_tui.core.roster import identity
from annotrain_tui.core.text import shown

if TYPE_CHECKING:
    from annotrain_tui.core.backends.base import Backend
    from annotrain_tui.core.evaluation.results import EvaluationResult, EvaluationSettings
    from annotrain_tui.core.evaluation.session import EvaluationSession, TrainingSource
    from annotrain_tui.core.programme import Programme

__all__ = ["KINDS", "CROSSED", "STALLED", "BENCHMARK_EDITED", "ROUND_FINISHED", "Event", "Watcher", "how_long"]

CROSSED = "crossed"
STALLED = "stalled"
BENCHMARK_EDITED = "benchmark-edited"
ROUND_FINISHED = "round-finished"
KINDS = (CROSSED, STALLED, BENCHMARK_EDITED, ROUND_FINISHED)


def _iso(when: datetime | None) -> str | None:
    return when.astimezone(UTC).isoformat(timespec="seconds") if when is not None else None


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def how_long(elapsed: timedelta) -> str:
    """A stall's length for a person: "less than a minute", "35 minute(s)" under an hour, "5 hour(s)"
    under two days, then "3 day(s)" (whole units, rounded down: it has been at least that long)."""
    seconds = max(0.0, elapsed.total_seconds())
    if seconds < 60:
        return "less than a minute"
    if seconds < 3600:
        return f"{int(seconds // 60)} minute(s)"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)} hour(s)"
    return f"{int(seconds // 86400)} day(s)"


def _done_times(rows: dict[str, dict[str, Any]]) -> set[str]:
    """The last edits of these (Complete) label rows, to the second."""
    return {t for row in rows.values() if (t := _row_time(row)) is not None}


def _row_time(row: dict[str, Any]) -> str | None:
    """A label row's last edit, to the second, as :func:`_iso` writes it (Encord's long format or ISO)."""
    value = row.get("last_edited_at")
    if not isinstance(value, str):
        return None
    for parse in (lambda v: datetime.strptime(v, "%a, %d %b %Y %H:%M:%S UTC").replace(tzinfo=UTC),
                  datetime.fromisoformat):
        try:
            return _iso(_aware(parse(value)))
        except ValueError:
            continue
    return None


@dataclass(frozen=True)
class Event:
    """One thing that happened in the programme. ``annotator`` and ``round`` are None for the
    benchmark's events; ``details`` holds what the kind says more (statuses, hours, counts)."""

    kind: str
    annotator: str | None
    round: int | None
    message: str
    at: datetime
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "annotator": self.annotator, "round": self.round, "message": self.message,
                "at": _iso(self.at), **self.details}

    def line(self) -> str:
        """The event for a person, one line (every server string through ``shown``)."""
        return f"{_iso(self.at)} {self.kind}: {shown(self.message)}"


@dataclass
class _Round:
    """What the watcher knows of one trainee's current round."""

    email: str
    round: int
    project_id: str
    finished: bool
    last: datetime | None  # last activity, else the project's creation
    done: frozenset[str] = frozenset()  # the tasks Complete (data hashes)
    total: int = 0
    done_times: Callable[[], set[str]] = set  # the Complete tasks' own last edits (read when asked)


class Watcher:
    """Polls one programme for :data:`KINDS` of events (see the module doc).

    ``clock`` gives the time now (aware, UTC): stalls are measured against it, and events carry it.
    The items scored are those the programme's record does not exclude, read at every look: an
    exclusion made while it watches re-scores the rows already held (``settings.excluded_items``
    is replaced by the record's).
    """

    def __init__(self, backend: Backend, prog: Programme, settings: EvaluationSettings, *,
                 stalled_hours: float = 24, clock: Callable[[], datetime] | None = None) -> None:
        self.backend = backend
        self.prog = prog
        self.settings = replace(settings, excluded_items=self._exclusions())
        self.stalled_after = timedelta(hours=stalled_hours)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.session: EvaluationSession | None = None
        self.polls = 0
        self._status: dict[tuple[str, int], str] = {}  # (email, round) → status at the last poll
        self._finished: dict[str, bool] = {}  # project id → its round was finished at the last poll
        self._said: set[str] = set()  # project ids whose stall was said, until the trainee works again
        self._work: dict[str, tuple[frozenset[str], datetime | None]] = {}  # project id → (done, last) last poll
        self._bench: frozenset[tuple[str, datetime | None]] | None = None  # the Complete rows last seen

    # -- the session ------------------------------------------------------------------------
    def _exclusions(self) -> frozenset[str]:
        """The items the programme's record excludes now (the gold audit's), read at each look."""
        return frozenset(self.prog.record.exclusions())

    def _session(self) -> EvaluationSession | None:
        """The live session, loaded on the first call (None while the programme has no trainee)."""
        from annotrain_tui.core.evaluation.session import EvaluationSession, LiveSource

        session = EvaluationSession.of_workspace(self.backend, self.prog.id, None, self.settings,
                                                 keep_objects=False)
        assert isinstance(session.source, LiveSource)
        if not session.source.training_projects():
            return None
        session.load()
        return session

    def _email(self, src: TrainingSource) -> str | None:
        marker = parse_training_marker(src.project.description)
        return identity(marker[1]) if marker and marker[0] == self.prog.id else None

    def poll(self) -> list[Event]:
        """Look once: the events since the last poll (the first poll loads the session)."""
        first = self.session is None
        if self.session is None:
            self.session = self._session()
            if self.session is None:
                return []
        else:
            self.session.refresh(include_new_projects=True, check_benchmark=True)
            excluded = self._exclusions()
            if excluded != self.settings.excluded_items:  # the gold audit excluded or included an item
                self.settings = replace(self.settings, excluded_items=excluded)
                self.session.rescore(self.settings)  # from the rows held: nothing fetched again
        session = self.session
        if session.result is None:
            session.compute_result()
        assert session.result is not None
        self.polls += 1
        now = _aware(self.clock())
        rounds = self._rounds(session)
        events = self._benchmark_events(session, rounds, now, first)
        events += self._crossings(session.result, rounds, now)
        events += self._finished_rounds(rounds, now, first)
        events += self._stalled(rounds, now)
        return events

    # -- what each poll reads -----------------------------------------------------------------
    def _rounds(self, session: EvaluationSession) -> dict[str, _Round]:
        out: dict[str, _Round] = {}
        for pid, src in session.sources.items():
            email = self._email(src)
            if email is None:
                continue
            finished = src.total > 0 and len(src.rows) >= src.total
            last = src.last_activity or src.project.created_at
            out[email] = _Round(email=email, round=training_round(src.project.description), project_id=pid,
                                finished=finished, last=_aware(last) if last else None, done=frozenset(src.rows),
                                total=src.total, done_times=partial(_done_times, src.rows))
        return out

    def _worked(self, r: _Round) -> bool:
        """Whether the trainee worked since the last poll: a task finished that was not, or the last
        activity moved to a time no finished task was edited at (a task submitted to a later stage).
        A finished task edited again moves the time too, but is no new work."""
        before = self._work.get(r.project_id)
        self._work[r.project_id] = (r.done, r.last)
        if before is None:
            return False
        done, last = before
        if r.done - done:
            return True
        if r.last is None or (last is not None and r.last <= last):
            return False
        return _iso(r.last) not in r.done_times()

    def _training_began(self, session: EvaluationSession) -> datetime | None:
        made = [r.project.created_at for t in self.prog.trainees.values() for r in t.rounds if r.project.created_at]
        made += [src.project.created_at for src in session.sources.values()
                 if src.project.created_at and self._email(src) is not None]
        return min(_aware(m) for m in made) if made else None

    # -- the events ---------------------------------------------------------------------------
    def _benchmark_events(self, session: EvaluationSession, rounds: dict[str, _Round], now: datetime,
                          first: bool) -> list[Event]:
        from annotrain_tui.core.evaluation.session import LiveSource

        source = session.source
        assert isinstance(source, LiveSource)
        done = dict(source.bench_done)
        seen = frozenset(done.items())
        before, self._bench = self._bench, seen
        began = self._training_began(session)
        title = shown(self.prog.title, limit=80)
        if first or before is None:
            late = sorted(_aware(t) for t in done.values() if t is not None and began and _aware(t) > began)
            if not late:
                return []
            return [Event(BENCHMARK_EDITED, None, None,
                          f"the benchmark '{title}' has {len(late)} Complete item(s) edited after training began "
                          f"(the newest at {_iso(late[-1])}): scores before and after are against different golds",
                          now, {"benchmark_id": self.prog.id, "edited": len(late), "left_complete": 0,
                                "newest": _iso(late[-1]), "training_began": _iso(began),
                                "version": _version(done)})]
        if seen == before:
            return []
        old = dict(before)
        edited = [h for h, t in done.items() if h not in old or old[h] != t]
        left = [h for h in old if h not in done]
        parts = []
        if edited:
            parts.append(f"{len(edited)} item(s) edited or made Complete")
        if left:
            parts.append(f"{len(left)} item(s) no longer Complete")
        return [Event(BENCHMARK_EDITED, None, None,
                      f"the benchmark '{title}' changed since the last look: {', '.join(parts)}; every trainee "
                      "is scored against the new gold from now on",
                      now, {"benchmark_id": self.prog.id, "edited": len(edited), "left_complete": len(left),
                            "items": sorted(edited + left)[:50], "training_began": _iso(began),
                            "version": _version(done)})]

    def _crossings(self, result: EvaluationResult, rounds: dict[str, _Round], now: datetime) -> list[Event]:
        events = []
        statuses: dict[tuple[str, int], str] = {}
        for name, score in result.annotators.items():
            email = identity(name)
            r = rounds.get(email)
            if r is None:
                continue
            key = (email, r.round)
            statuses[key] = score.status
            was = self._status.get(key)
            if was is None or (was == STATUS_PASSED) == (score.status == STATUS_PASSED):
                continue
            up = score.status == STATUS_PASSED
            why = "" if up or not score.reason else f" ({score.reason})"
            events.append(Event(CROSSED, email, r.round,
                                f"{shown(email, limit=120)} (round {r.round}) {'passed' if up else 'fell below'} "
                                f"the mark: {shown(was)} → {shown(score.status)}, F1 {score.f1:.3f}{shown(why)}",
                                now, {"before": was, "after": score.status, "direction": "up" if up else "down",
                                      "f1": score.f1, "reason": score.reason}))
        self._status = statuses
        return events

    def _finished_rounds(self, rounds: dict[str, _Round], now: datetime, first: bool) -> list[Event]:
        events = []
        for email, r in sorted(rounds.items()):
            was = self._finished.get(r.project_id)
            self._finished[r.project_id] = r.finished
            if first or not r.finished or was is True:  # a round first seen finished (None) is news too
                continue
            events.append(Event(ROUND_FINISHED, email, r.round,
                                f"{shown(email, limit=120)} finished round {r.round}: every task is Complete "
                                "(evaluate and decide)", now, {"project_id": r.project_id}))
        return events

    def _stalled(self, rounds: dict[str, _Round], now: datetime) -> list[Event]:
        events = []
        for email, r in sorted(rounds.items()):
            if self._worked(r):
                self._said.discard(r.project_id)  # a new stall from now on is news again
            if r.finished or r.last is None or now - r.last < self.stalled_after:
                continue
            if r.project_id in self._said:
                continue
            self._said.add(r.project_id)
            elapsed = now - r.last
            hours = elapsed.total_seconds() / 3600
            done = f"{len(r.done)} of {r.total} task(s) done, " if r.total else ""
            events.append(Event(STALLED, email, r.round,
                                f"{shown(email, limit=120)} (round {r.round}) has done nothing for {how_long(elapsed)} "
                                f"({done}last activity {_iso(r.last)})", now,
                                {"project_id": r.project_id, "last_activity": _iso(r.last), "hours": round(hours, 1),
                                 "seconds": int(elapsed.total_seconds()), "done": len(r.done), "total": r.total}))
        return events


def _version(done: dict[str, datetime | None]) -> str:
    """A short digest of the benchmark's Complete rows (data hash and last edit)."""
    h = hashlib.sha256()
    for dh, t in sorted(done.items()):
        h.update(f"{dh}\0{_iso(t) or ''}\n".encode("utf-8", "backslashreplace"))
    return h.hexdigest()[:12]
