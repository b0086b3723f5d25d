"""A programme's history: every evaluation kept as a snapshot, the trend, and what changed since.

A *snapshot* is one evaluation of a programme, compact (no geometry): per annotator (by email) the
round and project scored, the status with its reason, the scores and counts (and their intervals
when the score has them), the F1 per class, and, when the evaluation kept its per-object rows, the
error counts of every item the annotator was scored on (data hash → missed, extra, low overlap),
with the items' titles once per snapshot (``titles``: data hash → title, not repeated per annotator);
plus the settings it ran with, the benchmark's version (``core.programme.benchmark_version``) and
the items the gold audit excluded. Snapshots are events of the programme's record (``snapshot``,
one fsynced JSON line each, ``ProgrammeRecord.snapshots()`` reads them back).

Two snapshots are compared only when they were scored against the same gold: the same benchmark
version, the same exclusions and the same settings. Otherwise a delta says so instead of
subtracting scores of two golds (:data:`OTHER_GOLD`).

    snap = remember(prog, result, backend)          # after an evaluation of the programme
    report_since(prog, snap)                        # lines for `evaluate --since last`
    trend(snapshots(prog.record))                   # email → round → [TrendPoint, ...]
    round_trends(snapshots(prog.record))            # one RoundTrend per annotator and round (the summary)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from annotrain_tui.core.roster import identity
from annotrain_tui.core.text import shown

if TYPE_CHECKING:
    from annotrain_tui.core.backends.base import Backend
    from annotrain_tui.core.evaluation.results import EvaluationResult
    from annotrain_tui.core.programme import Programme, ProgrammeRecord

__all__ = [
    "SCHEMA", "OTHER_GOLD", "OTHER_EXCLUSIONS", "OTHER_SETTINGS", "OTHER_ROUND", "ItemChange", "Delta",
    "TrendPoint", "RoundTrend", "BARS", "CHANGED", "trend_bars", "status_path", "round_trends", "snapshot_of", "record_snapshot", "snapshots", "trend", "history_json", "deltas",
    "since_last", "remember", "report_since", "report_since_json", "delta_lines",
]

SCHEMA = 1
OTHER_GOLD = "scored against another version of the benchmark: not compared"
OTHER_EXCLUSIONS = "scored with other benchmark items excluded (the gold audit): not compared"
OTHER_SETTINGS = "scored with other settings (matching, thresholds or pass mark): not compared"
OTHER_ROUND = "scored on another round: not compared"
#: the interval fields an AnnotatorScore may carry (a Wilson interval: (low, high))
_INTERVALS = ("precision_interval", "recall_interval", "f1_interval")
#: a per-object row's outcome → the item's error count it adds to (matched adds none)
_ERRORS = {"missed": 0, "extra": 1, "class_mismatch": 1, "low_overlap": 2}
#: the names of an item's three error counts, in their order (``loose``: low overlap)
ERROR_KINDS = ("missed", "extra", "loose")
#: the height of one evaluation's F1 in a trend (0 to 1)
BARS = "▁▂▃▄▅▆▇█"
#: marks a point scored against another version of the benchmark than the point before it
CHANGED = "◆"


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if f == f else None  # NaN: no value


def _item_counts(result: EvaluationResult) -> dict[str, dict[str, list[int]]] | None:
    """annotator → data hash → [missed, extra, low overlap], for every item the annotator has a row
    of in the per-object table (None when the evaluation did not keep its objects)."""
    objects = result.objects if result.keep_objects else None
    if objects is None:
        return None
    out: dict[str, dict[str, list[int]]] = {}
    if len(objects) == 0:
        return out
    annotators = objects["annotator"].tolist()
    hashes = objects["data_hash"].tolist()
    outcomes = objects["outcome"].tolist()
    for who, dh, outcome in zip(annotators, hashes, outcomes):
        if not isinstance(who, str) or not isinstance(dh, str):
            continue
        counts = out.setdefault(who, {}).setdefault(dh, [0, 0, 0])
        at = _ERRORS.get(outcome)
        if at is not None:
            counts[at] += 1
    return out


def _item_titles(result: EvaluationResult) -> dict[str, str]:
    """data hash → the item's title, for every item of the per-object table (empty when none kept)."""
    objects = result.objects if result.keep_objects else None
    if objects is None or len(objects) == 0 or "data_title" not in objects:
        return {}
    out: dict[str, str] = {}
    for dh, title in zip(objects["data_hash"].tolist(), objects["data_title"].tolist()):
        if isinstance(dh, str) and isinstance(title, str) and title and dh not in out:
            out[dh] = title
    return out


def _by_email(values: Mapping[str, Any]) -> dict[str, Any]:
    return {identity(k): v for k, v in values.items()}


def snapshot_of(result: EvaluationResult, *, benchmark_version: str, rounds: Mapping[str, int],
                projects: Mapping[str, str], exclusions: Iterable[str], benchmark_id: str | None = None
                ) -> dict[str, Any]:
    """One evaluation as a compact snapshot (see the module doc); ``rounds`` and ``projects``: per
    trainee email, the round scored and its project id; ``exclusions``: the data hashes left out."""
    rounds_of, projects_of = _by_email(rounds), _by_email(projects)
    items = _item_counts(result)
    annotators: dict[str, dict[str, Any]] = {}
    for name, score in sorted(result.annotators.items()):
        key = identity(name) if identity(name) in rounds_of else name
        entry: dict[str, Any] = {
            "round": rounds_of.get(identity(name)), "project_id": projects_of.get(identity(name)),
            "status": score.status, "reason": score.reason,
            "f1": _number(score.f1), "precision": _number(score.precision), "recall": _number(score.recall),
            "class_accuracy": _number(score.class_accuracy),
            "matched": score.matched, "missed": score.missed, "extra": score.extra, "objects": score.objects,
            "benchmark_objects": score.benchmark_objects, "items_done": score.items_done,
            "by_class": {c: _number(b.f1) for c, b in sorted(score.by_class.items())},
        }
        for what in _INTERVALS:
            interval = getattr(score, what, None)
            if interval is not None:
                entry[what] = [_number(v) for v in interval]
        if items is not None:
            entry["items"] = dict(sorted(items.get(name, {}).items()))
        annotators[key] = entry
    settings = {k: v for k, v in result.settings.to_json().items() if k != "excluded_items"}
    snap: dict[str, Any] = {"id": uuid.uuid4().hex[:16], "schema": SCHEMA, "benchmark_id": benchmark_id,
                            "benchmark_version": benchmark_version, "exclusions": sorted(set(exclusions)),
                            "settings": settings, "annotators": annotators}
    if items is not None:  # the titles of the items scored, once for every annotator
        scored = {dh for per in items.values() for dh in per}
        snap["titles"] = {dh: t for dh, t in sorted(_item_titles(result).items()) if dh in scored}
    return snap


def record_snapshot(record: ProgrammeRecord, snapshot: dict[str, Any]) -> None:
    """Keep ``snapshot`` in the programme's record (one fsynced line; the record adds its time)."""
    record.record("snapshot", **{k: v for k, v in snapshot.items() if k not in ("ts", "event")})


def snapshots(record: ProgrammeRecord) -> list[dict[str, Any]]:
    """Every snapshot of the programme, oldest first (lines a kill cut are skipped by the record)."""
    return record.snapshots()


class TrendPoint(NamedTuple):
    ts: str
    f1: float | None
    status: str
    benchmark_version: str


def _entries(snaps: Iterable[dict[str, Any]]) -> Iterable[tuple[dict[str, Any], str, dict[str, Any]]]:
    for snap in snaps:
        annotators = snap.get("annotators")
        if not isinstance(annotators, dict):
            continue
        for email, entry in annotators.items():
            if isinstance(email, str) and isinstance(entry, dict):
                yield snap, email, entry


def _round(entry: Mapping[str, Any]) -> int:
    r = entry.get("round")
    return r if isinstance(r, int) and not isinstance(r, bool) and r > 0 else 1


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def trend(snaps: Iterable[dict[str, Any]]) -> dict[str, dict[int, list[TrendPoint]]]:
    """email → round → its points, oldest first: (time, F1, status, benchmark version)."""
    out: dict[str, dict[int, list[TrendPoint]]] = {}
    for snap, email, entry in _entries(snaps):
        point = TrendPoint(ts=_text(snap.get("ts")), f1=_number(entry.get("f1")), status=_text(entry.get("status")),
                           benchmark_version=_text(snap.get("benchmark_version")))
        out.setdefault(email, {}).setdefault(_round(entry), []).append(point)
    return {e: dict(sorted(rounds.items())) for e, rounds in sorted(out.items())}


def _changed_at(points: list[TrendPoint], n: int) -> bool:
    """Whether point ``n`` was scored against another benchmark version than the point before it."""
    return n > 0 and points[n].benchmark_version != points[n - 1].benchmark_version


def trend_bars(points: list[TrendPoint], *, limit: int | None = None) -> str:
    """The F1 of each point as one bar (an absolute scale, 0 to 1), :data:`CHANGED` before a point
    whose benchmark version changed, ``·`` for a point with no F1. ``limit``: the last so many
    points only, after ``…`` when some were left out."""
    start = 0 if limit is None or len(points) <= limit else len(points) - limit
    out = ["…"] if start else []
    for n in range(start, len(points)):
        p = points[n]
        if _changed_at(points, n):
            out.append(CHANGED)
        out.append("·" if p.f1 is None else BARS[min(len(BARS) - 1, max(0, int(p.f1 * len(BARS))))])
    return "".join(out)


def status_path(points: list[TrendPoint]) -> str:
    """The status over time, each change once: "needs feedback → close → passed"."""
    seen: list[str] = []
    for p in points:
        if p.status and (not seen or seen[-1] != p.status):
            seen.append(p.status)
    return " → ".join(seen)


@dataclass(frozen=True)
class RoundTrend:
    """One annotator's round over the history: its points, oldest first (the summary row of
    ``annotrain history`` and of the TUI's History view)."""

    annotator: str
    round: int
    points: list[TrendPoint]

    @property
    def evaluations(self) -> int:
        return len(self.points)

    @property
    def f1_first(self) -> float | None:
        return self.points[0].f1 if self.points else None

    @property
    def f1_last(self) -> float | None:
        return self.points[-1].f1 if self.points else None

    @property
    def status_now(self) -> str:
        return self.points[-1].status if self.points else ""

    @property
    def version_changes(self) -> int:
        """How many times the benchmark's version changed between two of its points."""
        return sum(_changed_at(self.points, n) for n in range(len(self.points)))

    @property
    def last_ts(self) -> str:
        return self.points[-1].ts if self.points else ""

    def summary_json(self) -> dict[str, Any]:
        return {"evaluations": self.evaluations, "f1_first": self.f1_first, "f1_last": self.f1_last,
                "status_now": self.status_now, "statuses": status_path(self.points),
                "version_changes": self.version_changes, "trend": trend_bars(self.points),
                "first_ts": self.points[0].ts if self.points else None, "last_ts": self.last_ts or None}


def round_trends(snaps: Iterable[dict[str, Any]], *, annotator: str | None = None) -> list[RoundTrend]:
    """One :class:`RoundTrend` per annotator and round (``annotator``: that email's only, any case),
    by email then round."""
    wanted = identity(annotator) if annotator else None
    return [RoundTrend(email, r, points) for email, rounds in trend(snaps).items()
            if wanted is None or identity(email) == wanted for r, points in rounds.items()]


def history_json(snaps: list[dict[str, Any]], *, annotator: str | None = None) -> dict[str, Any]:
    """The trend as ``annotrain history --json`` prints it: per annotator, per round, its points,
    each saying whether the benchmark's version changed since the point before it, and the round's
    ``summary`` (evaluations, first and last F1, status now and its path, version changes, bars)."""
    annotators: list[dict[str, Any]] = []
    for rt in round_trends(snaps, annotator=annotator):
        if not annotators or annotators[-1]["annotator"] != rt.annotator:
            annotators.append({"annotator": rt.annotator, "rounds": []})
        annotators[-1]["rounds"].append({
            "round": rt.round, "summary": rt.summary_json(),
            "points": [{**p._asdict(), "version_changed": _changed_at(rt.points, n)} for n, p in enumerate(rt.points)]})
    return {"snapshots": len(snaps), "annotators": annotators}


# -- deltas ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemChange:
    """One item's error counts (missed, extra, low overlap) before and after; ``title`` the item's
    data title when a snapshot kept it (untrusted text: shown through ``shown``)."""

    data_hash: str
    before: tuple[int, int, int]
    after: tuple[int, int, int]
    title: str = ""

    @property
    def change(self) -> int:
        """More errors (> 0) or fewer (< 0), every kind counted alike."""
        return sum(self.after) - sum(self.before)

    def kinds(self) -> list[tuple[str, int, int]]:
        """The kinds of error whose count moved: (kind of :data:`ERROR_KINDS`, before, after)."""
        return [(k, b, a) for k, b, a in zip(ERROR_KINDS, self.before, self.after) if b != a]

    def explained(self) -> str:
        """What the change is made of: "3 more errors: missed 0 → 2, extra 1 → 2"."""
        n = abs(self.change)
        how = ("as many errors, of other kinds" if n == 0
               else f"{n} {'more' if self.change > 0 else 'fewer'} error{'s' if n != 1 else ''}")
        return f"{how}: " + ", ".join(f"{k} {b} → {a}" for k, b, a in self.kinds())

    def to_json(self) -> dict[str, Any]:
        keys = ("missed", "extra", "low_overlap")
        return {"data_hash": self.data_hash, "data_title": self.title or None, "before": dict(zip(keys, self.before)),
                "after": dict(zip(keys, self.after)), "change": self.change, "explained": self.explained()}


@dataclass(frozen=True)
class Delta:
    """One annotator's change between two snapshots, or why they were not compared."""

    annotator: str
    round: int
    compared: bool
    reason: str = ""  # why not compared
    before_ts: str = ""
    f1: tuple[float | None, float | None] = (None, None)
    precision: tuple[float | None, float | None] = (None, None)
    recall: tuple[float | None, float | None] = (None, None)
    status: tuple[str, str] = ("", "")
    worse: list[ItemChange] = field(default_factory=list)
    better: list[ItemChange] = field(default_factory=list)
    changed: list[ItemChange] = field(default_factory=list)  # as many errors as before, of other kinds
    new_items: int = 0  # items scored now that were not before
    items_known: bool = False  # both snapshots kept their per-item counts

    @property
    def f1_change(self) -> float | None:
        before, after = self.f1
        return None if before is None or after is None else after - before

    @property
    def status_changed(self) -> bool:
        return self.compared and self.status[0] != self.status[1]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"annotator": self.annotator, "round": self.round, "compared": self.compared}
        if not self.compared:
            return {**out, "reason": self.reason, "before_ts": self.before_ts or None}

        def pair(p: tuple[Any, Any]) -> dict[str, Any]:
            return {"before": p[0], "after": p[1]}

        return {**out, "before_ts": self.before_ts or None, "f1": {**pair(self.f1), "change": self.f1_change},
                "precision": pair(self.precision), "recall": pair(self.recall), "status": pair(self.status),
                "items": ({"worse": [c.to_json() for c in self.worse], "better": [c.to_json() for c in self.better],
                           "changed": [c.to_json() for c in self.changed], "new": self.new_items,
                           "more_errors": sum(c.change for c in self.worse),
                           "fewer_errors": -sum(c.change for c in self.better)} if self.items_known else None)}


def _same_gold(previous: Mapping[str, Any], current: Mapping[str, Any]) -> str:
    """Empty when two snapshots were scored against the same gold the same way, else why not."""
    if previous.get("benchmark_version") != current.get("benchmark_version"):
        return OTHER_GOLD
    if sorted(previous.get("exclusions") or []) != sorted(current.get("exclusions") or []):
        return OTHER_EXCLUSIONS
    if previous.get("settings") != current.get("settings"):
        return OTHER_SETTINGS
    return ""


def _titles(snapshot: Mapping[str, Any]) -> dict[str, str]:
    """The snapshot's data hash → title map (a snapshot kept before titles were has none)."""
    titles = snapshot.get("titles")
    if not isinstance(titles, dict):
        return {}
    return {k: v for k, v in titles.items() if isinstance(k, str) and isinstance(v, str)}


def _counts(value: Any) -> tuple[int, int, int] | None:
    if isinstance(value, list) and len(value) == 3 and all(isinstance(v, int) for v in value):
        return (value[0], value[1], value[2])
    return None


def _delta(email: str, previous: Mapping[str, Any], before: Mapping[str, Any], current: Mapping[str, Any],
           after: Mapping[str, Any]) -> Delta:
    rnd = _round(after)
    ts = _text(previous.get("ts"))
    why = _same_gold(previous, current) or (OTHER_ROUND if _round(before) != rnd else "")
    if why:
        return Delta(annotator=email, round=rnd, compared=False, reason=why, before_ts=ts)
    worse: list[ItemChange] = []
    better: list[ItemChange] = []
    changed: list[ItemChange] = []
    new = 0
    old_items, new_items = before.get("items"), after.get("items")
    known = isinstance(old_items, dict) and isinstance(new_items, dict)
    if isinstance(old_items, dict) and isinstance(new_items, dict):
        titles = {**_titles(previous), **_titles(current)}
        for dh, now in sorted(new_items.items()):
            now_counts = _counts(now)
            if now_counts is None:
                continue
            was = _counts(old_items.get(dh))
            if was is None:
                new += 1
                continue
            if was == now_counts:
                continue
            change = ItemChange(data_hash=dh, before=was, after=now_counts, title=titles.get(dh, ""))
            (worse if change.change > 0 else better if change.change < 0 else changed).append(change)
        worse.sort(key=lambda c: (-c.change, c.data_hash))
        better.sort(key=lambda c: (c.change, c.data_hash))
    return Delta(annotator=email, round=rnd, compared=True, before_ts=ts,
                 f1=(_number(before.get("f1")), _number(after.get("f1"))),
                 precision=(_number(before.get("precision")), _number(after.get("precision"))),
                 recall=(_number(before.get("recall")), _number(after.get("recall"))),
                 status=(_text(before.get("status")), _text(after.get("status"))),
                 worse=worse, better=better, changed=changed, new_items=new, items_known=known)


def deltas(previous: Mapping[str, Any], current: Mapping[str, Any]) -> list[Delta]:
    """Per annotator of ``current`` who is in ``previous`` too: what changed (F1, precision, recall,
    status, the items now worse or better), or, when the two were scored against different golds
    (benchmark version, exclusions, settings) or rounds, a delta saying so, with nothing subtracted."""
    before_all = previous.get("annotators") or {}
    out = []
    for email, after in sorted((current.get("annotators") or {}).items()):
        before = before_all.get(email) if isinstance(before_all, dict) else None
        if isinstance(before, dict) and isinstance(after, dict):
            out.append(_delta(email, previous, before, current, after))
    return out


def since_last(record: ProgrammeRecord, current: Mapping[str, Any]) -> list[Delta]:
    """Per annotator of ``current``: the delta against the newest earlier snapshot that scored the
    same round of that annotator (``current`` itself, once recorded, is skipped). An annotator
    without one has no delta."""
    earlier = [s for s in snapshots(record) if s.get("id") != current.get("id")]
    out = []
    for email, after in sorted((current.get("annotators") or {}).items()):
        if not isinstance(after, dict):
            continue
        for snap in reversed(earlier):
            before = (snap.get("annotators") or {}).get(email)
            if isinstance(before, dict) and _round(before) == _round(after):
                out.append(_delta(email, snap, before, current, after))
                break
    return out


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _signed(value: float | None) -> str:
    return "" if value is None else f" ({value:+.3f})"


#: how many items of each kind (worse, better, changed) a delta's lines name
ITEMS_SHOWN = 5


def _item_name(c: ItemChange) -> str:
    """The item as a person finds it: its title, then its data hash (what ``audit`` takes)."""
    h = shown(c.data_hash, limit=40)
    return f"{shown(c.title, limit=60)} ({h})" if c.title else h


def _count(n: int, what: str, errors: int, how: str) -> str:
    """"2 worse (5 more errors)", "0 better"."""
    return f"{n} {what}" + (f" ({errors} {how} error{'s' if errors != 1 else ''})" if n else "")


def _item_lines(d: Delta, limit: int = ITEMS_SHOWN) -> list[str]:
    """The items behind a delta: one count line (worse and better, always both), then up to
    ``limit`` items of each kind, each with what its change is made of."""
    if not (d.worse or d.better or d.changed):
        return []
    more, fewer = sum(c.change for c in d.worse), -sum(c.change for c in d.better)
    counts = f"  items: {_count(len(d.worse), 'worse', more, 'more')}, {_count(len(d.better), 'better', fewer, 'fewer')}"
    if d.changed:
        counts += f", {len(d.changed)} with as many errors of other kinds"
    lines = [counts]
    for sign, kind, changes in (("-", "worse", d.worse), ("+", "better", d.better), ("~", "changed", d.changed)):
        for c in changes[:limit]:
            lines.append(f"    {sign} {_item_name(c)}: {shown(c.explained())}")
        if len(changes) > limit:
            lines.append(f"    {sign} and {len(changes) - limit} more {kind} item(s) (--json lists them all)")
    return lines


def _legend(low_overlap: float | None) -> str:
    mark = "the low-overlap mark" if low_overlap is None else f"{low_overlap:g}"
    return ("errors per item: missed = a gold object not drawn; extra = an object drawn where the gold has none "
            f"(or of another class); loose = matched, but overlapping the gold less than {mark} "
            "(F1 does not count it)")


def delta_lines(found: list[Delta], *, low_overlap: float | None = None) -> list[str]:
    """The deltas as lines for a person (every server string through ``shown``): per annotator the
    scores before → after, then the items behind the change by title and data hash, worse and
    better, and, when any item is named, what missed, extra and loose mean (``low_overlap``: the
    settings' mark for loose)."""
    if not found:
        return ["no earlier evaluation of the same round to compare with"]
    lines = []
    named = False
    for d in found:
        who = f"{shown(d.annotator, limit=120)} (round {d.round})"
        if not d.compared:
            lines.append(f"{who}: {d.reason}")
            continue
        status = (f"status {shown(d.status[0])} → {shown(d.status[1])}" if d.status_changed
                  else f"status {shown(d.status[1])}")
        lines.append(f"{who}: F1 {_fmt(d.f1[0])} → {_fmt(d.f1[1])}{_signed(d.f1_change)}, "
                     f"precision {_fmt(d.precision[0])} → {_fmt(d.precision[1])}, "
                     f"recall {_fmt(d.recall[0])} → {_fmt(d.recall[1])}, {status}")
        items = _item_lines(d)
        named = named or bool(items)
        lines.extend(items)
        if d.new_items:
            lines.append(f"  {d.new_items} item(s) scored for the first time")
        if not d.items_known:
            lines.append("  (the items behind the change are not known: an evaluation kept no per-item counts)")
    if named:
        lines.append(_legend(low_overlap))
    return lines


# -- what an evaluation of a programme calls --------------------------------------------------
def remember(prog: Programme, result: EvaluationResult, backend: Backend, *,
             gold: Iterable[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Build the snapshot of an evaluation of ``prog``'s current rounds and keep it in its record.
    ``gold``: the benchmark rows the evaluation compared against — its version is then their
    content's (``programme.gold_version``), else the listing's (``benchmark_version``)."""
    from annotrain_tui.core.programme import benchmark_version, gold_version

    version = gold_version(gold) if gold is not None else benchmark_version(backend, prog.id)
    snap = snapshot_of(result, benchmark_version=version,
                       rounds={e: t.round for e, t in prog.trainees.items()},
                       projects={e: t.current.project.id for e, t in prog.trainees.items()},
                       exclusions=list(prog.record.exclusions()), benchmark_id=prog.id)
    record_snapshot(prog.record, snap)
    return snap


def report_since(prog: Programme, snapshot: Mapping[str, Any]) -> list[str]:
    """``evaluate --since last``: the lines of the deltas against each annotator's previous snapshot."""
    settings = snapshot.get("settings")
    mark = settings.get("low_overlap") if isinstance(settings, dict) else None
    return delta_lines(since_last(prog.record, snapshot), low_overlap=_number(mark))


def report_since_json(prog: Programme, snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """The same as a JSON value: ``{"since": "last", "deltas": [...]}``."""
    return {"since": "last", "snapshot": snapshot.get("id"),
            "deltas": [d.to_json() for d in since_last(prog.record, snapshot)]}
