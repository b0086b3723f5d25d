"""Feedback packs: what one trainee should read about their training round (issue 16, item 5).

From an :class:`~annotrain_tui.core.evaluation.results.EvaluationResult` computed with
``keep_objects=True`` and the label rows of the items drawn, :func:`build_packs` makes one
:class:`FeedbackPack` per annotator: their scores against the pass mark (with the Wilson intervals
when the score carries them), per class and per shape, the kinds of error they make most (loose
shapes: matches below the low-overlap mark; classes they confuse; misses and extras by class), and
their worst items (most misses + extras + loose, :data:`DEFAULT_TOP` of them), each with the
shapes of both sides on the frame where it went worst, ready to draw
(:mod:`annotrain_tui.core.feedback_html` draws them as SVG, in the item canvas's colours from
:mod:`annotrain_tui.core.palette`). Items whose gold the audit suspects (``suspects``: data hash →
why, :func:`suspect_items`) are left out of that ranking and listed after it, marked "the gold may
be wrong here: under review". A pack may say which round it scores (:class:`PackRound`).

Online, a programme's pack scores each trainee's latest round with finished work, or the round
asked for (:func:`choose_rounds`: a retaken trainee whose new round has no Complete task yet still
gets the pack of the round they were scored on), in one session of those rounds
(:func:`rounds_session`); :func:`round_facts` says per trainee "Round 1 of 2" and how the other
rounds went (the history's last evaluation of each).

:func:`write_packs` writes ``<name>.html`` (one self-contained file) and ``<name>.md`` per
annotator into a directory, atomically, never over an input nor, without ``force``, over an
existing file; :func:`write_session_packs` does it for an evaluation session (the CLI's entry
point) and :func:`write_snapshot_packs` for an evaluation screen's snapshot (the TUI's).

Counting is vectorised over the whole per-object frame (one pass for every annotator); only the
≤ N items drawn per pack are read one by one. Every string in a pack is as the files or the server
wrote it (untrusted): the renderers escape it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from annotrain_tui.core.errors import AnnotrainError, InvalidInput, NotFound
from annotrain_tui.core.evaluation.labels import read_objects, units_of
from annotrain_tui.core.evaluation.results import UNMATCHED, AnnotatorScore, EvaluationResult, EvaluationSettings
from annotrain_tui.core.evaluation.shapes import DRAWABLE, Geometry
from annotrain_tui.core.evaluation.views import item_rows_of
from annotrain_tui.core.palette import resolve_colours
from annotrain_tui.core.text import shown

if TYPE_CHECKING:
    import pandas as pd

    from annotrain_tui.core.audit import AuditResult
    from annotrain_tui.core.backends.base import Backend
    from annotrain_tui.core.evaluation.session import EvaluationSession
    from annotrain_tui.core.evaluation.views import EvaluationSnapshot
    from annotrain_tui.core.programme import Programme, ProgrammeRecord, TrainingRound

__all__ = ["DEFAULT_TOP", "BENCHMARK", "ANNOTATOR", "UNDER_REVIEW", "PackShape", "PackItem", "ErrorKind",
           "ErrorSummary", "PackRound", "FeedbackPack", "RowsOf", "RoundChoice", "build_packs", "build_pack",
           "pack_file_names", "write_packs", "write_session_packs", "write_snapshot_packs", "interval_of",
           "resolve_annotators", "choose_rounds", "rounds_session", "round_facts", "suspect_items"]

DEFAULT_TOP = 6
BENCHMARK = "benchmark"
ANNOTATOR = "annotator"
#: a label-row lookup: (data hash, annotator) → (the benchmark's row, the annotator's row); either None
RowsOf = Callable[[str, str], "tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]"]

_MATCHED = ("matched", "low_overlap")
#: what a pack says on an item whose gold the audit suspects (not excluded, not reviewed yet)
UNDER_REVIEW = "the gold may be wrong here: under review"


@dataclass(frozen=True)
class PackShape:
    """One shape of a worst item: ``side`` benchmark or annotator; ``class_name`` and ``color`` as
    the label row has them (untrusted; ``colour`` is the resolved ``#RRGGBB`` it is drawn in);
    ``pair`` the number both shapes of a match carry (None: unmatched); ``outcome`` matched,
    loose (a match below the low-overlap mark), missed (a benchmark shape) or extra (an annotator
    shape); ``iou`` the match's similarity."""

    side: str
    class_name: str
    color: str | None
    colour: str
    geometry: Geometry
    shape: str
    pair: int | None
    outcome: str
    iou: float | None = None


@dataclass(frozen=True)
class PackItem:
    """One of the annotator's worst items: its counts over every frame, and the shapes of the frame
    it went worst on (``frame``; ``frames`` compared in all). ``size`` the image in pixels when the
    label row says (None: drawn 16:9). ``suspect``: why the audit suspects the item's gold (the
    item is then out of the ranking: ``rank`` 0, listed after the ranked ones); None otherwise."""

    rank: int
    data_hash: str
    title: str
    frame: int
    frames: int
    missed: int
    extra: int
    loose: int
    matched: int
    size: tuple[float, float] | None
    shapes: tuple[PackShape, ...] = ()
    suspect: str | None = None

    @property
    def errors(self) -> int:
        return self.missed + self.extra + self.loose

    def to_json(self) -> dict[str, Any]:
        return {"rank": self.rank, "data_hash": self.data_hash, "data_title": self.title, "frame": self.frame,
                "frames": self.frames, "missed": self.missed, "extra": self.extra, "loose": self.loose,
                "matched": self.matched, "errors": self.errors, "shapes": len(self.shapes),
                "gold_under_review": self.suspect is not None, "suspect": self.suspect}


@dataclass(frozen=True)
class ErrorKind:
    """One kind of error and how often the annotator made it: ``key`` loose, confused, missed or
    extra; ``parts`` the (class or "benchmark class → their class", count) behind it, most first."""

    key: str
    count: int
    parts: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class ErrorSummary:
    """The kinds of error of one annotator, most frequent first (:attr:`kinds`), and their parts:
    ``loose_by_class`` (their class), ``confusions`` (benchmark class, their class, count: matches
    whose classes differ), ``missed_by_class`` (the benchmark's class), ``extra_by_class`` (theirs)."""

    low_overlap: float
    loose: int
    loose_by_class: tuple[tuple[str, int], ...]
    confusions: tuple[tuple[str, str, int], ...]
    missed: int
    missed_by_class: tuple[tuple[str, int], ...]
    extra: int
    extra_by_class: tuple[tuple[str, int], ...]

    @property
    def kinds(self) -> tuple[ErrorKind, ...]:
        confused = sum(c for _b, _a, c in self.confusions)
        kinds = [ErrorKind("missed", self.missed, self.missed_by_class),
                 ErrorKind("loose", self.loose, self.loose_by_class),
                 ErrorKind("confused", confused, tuple((f"{b} → {a}", c) for b, a, c in self.confusions)),
                 ErrorKind("extra", self.extra, self.extra_by_class)]
        order = {k.key: i for i, k in enumerate(kinds)}
        return tuple(sorted((k for k in kinds if k.count), key=lambda k: (-k.count, order[k.key])))

    def to_json(self) -> dict[str, Any]:
        return {"low_overlap_mark": self.low_overlap, "loose": self.loose, "loose_by_class": dict(self.loose_by_class),
                "confusions": [{"benchmark_class": b, "annotator_class": a, "count": c} for b, a, c in self.confusions],
                "missed": self.missed, "missed_by_class": dict(self.missed_by_class), "extra": self.extra,
                "extra_by_class": dict(self.extra_by_class),
                "kinds": [{"kind": k.key, "count": k.count} for k in self.kinds]}


@dataclass(frozen=True)
class PackRound:
    """The round a pack scores: ``round`` of ``rounds`` (the trainee's latest round's number), and
    one line per other round (``others``, oldest first: an earlier one's last evaluation, F1 and
    status; a later one's progress)."""

    round: int
    rounds: int
    others: tuple[str, ...] = ()

    @property
    def heading(self) -> str:
        return f"Round {self.round} of {self.rounds}"

    def to_json(self) -> dict[str, Any]:
        return {"round": self.round, "rounds": self.rounds, "other_rounds": list(self.others)}


@dataclass(frozen=True)
class FeedbackPack:
    """Everything one annotator's feedback says (see the module doc); :mod:`.feedback_html` renders it.
    ``items`` the ranked worst items; ``under_review`` those with something to fix whose gold the
    audit suspects (out of the ranking, listed after it; ``items_with_errors`` does not count them)."""

    annotator: str
    score: AnnotatorScore
    settings: EvaluationSettings
    errors: ErrorSummary
    items: tuple[PackItem, ...]
    items_compared: int
    items_with_errors: int
    title: str = ""  # the programme (its benchmark's title), or the benchmark file
    created: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    under_review: tuple[PackItem, ...] = ()
    items_under_review: int = 0  # items with something to fix whose gold is suspect (≥ len(under_review))
    round: PackRound | None = None  # None: not known (label files, the TUI's snapshot)

    @property
    def intervals(self) -> dict[str, tuple[float, float]]:
        """The score's Wilson 95 % intervals that it carries (recall, precision, F1), by name."""
        out = {}
        for name in ("recall", "precision", "f1"):
            iv = interval_of(getattr(self.score, f"{name}_interval", None))
            if iv is not None:
                out[name] = iv
        return out

    def to_json(self) -> dict[str, Any]:
        s = self.score
        return {"annotator": self.annotator, "title": self.title, "status": s.status, "reason": s.reason,
                "f1": s.f1, "precision": s.precision, "recall": s.recall, "class_accuracy": s.class_accuracy,
                "mean_iou": s.mean_iou, "intervals": {k: list(v) for k, v in self.intervals.items()},
                "pass_mark": self.settings.pass_mark.to_json(), "errors": self.errors.to_json(),
                "items_compared": self.items_compared, "items_with_errors": self.items_with_errors,
                "worst_items": [i.to_json() for i in self.items],
                "items_under_review": self.items_under_review,
                "gold_under_review": [i.to_json() for i in self.under_review],
                "round": self.round.to_json() if self.round is not None else None}


def interval_of(value: Any) -> tuple[float, float] | None:
    """A (low, high) interval from what a score carries: a pair of numbers, or an object with
    ``low``/``high`` (or ``lo``/``hi``, ``lower``/``upper``); None for anything else."""
    if value is None:
        return None
    pair: Any = None
    if isinstance(value, (tuple, list)) and len(value) == 2:
        pair = value
    else:
        for lo, hi in (("low", "high"), ("lo", "hi"), ("lower", "upper")):
            if hasattr(value, lo) and hasattr(value, hi):
                pair = (getattr(value, lo), getattr(value, hi))
                break
    if pair is None:
        return None
    try:
        a, b = float(pair[0]), float(pair[1])
    except (TypeError, ValueError):
        return None
    return (a, b) if math.isfinite(a) and math.isfinite(b) else None


# --- counting (vectorised over every annotator's rows) ------------------------------------------------

def _counted(pairs: Any, limit: int | None = None) -> tuple[tuple[str, int], ...]:
    items = sorted(((str(k), int(v)) for k, v in pairs if int(v)), key=lambda kv: (-kv[1], kv[0]))
    return tuple(items[:limit] if limit else items)


@dataclass
class _Tables:
    """The per-object frame's counts for every annotator, computed once."""

    objects: pd.DataFrame
    missed: dict[str, tuple[tuple[str, int], ...]]
    extra: dict[str, tuple[tuple[str, int], ...]]
    loose: dict[str, tuple[tuple[str, int], ...]]
    items: pd.DataFrame  # per (annotator, data_hash): title, frames, missed, extra, loose, matched, worst frame


def _tables(objects: pd.DataFrame, labels: Mapping[str, str] | None) -> _Tables:
    import pandas as pd

    from annotrain_tui.core.evaluation.views import class_labels, outcome_masks

    m = outcome_masks(objects["outcome"] if len(objects) else [])
    t_class, b_class = class_labels(objects, labels)
    who = objects["annotator"].astype(object).to_numpy() if len(objects) else np.empty(0, dtype=object)

    def by_class(mask: np.ndarray, classes: np.ndarray) -> dict[str, tuple[tuple[str, int], ...]]:
        if not mask.any():
            return {}
        counts = pd.DataFrame({"a": who[mask], "c": classes[mask]}).fillna("?").value_counts()
        out: dict[str, list[tuple[str, int]]] = {}
        for (a, c), n in counts.items():
            out.setdefault(str(a), []).append((str(c), int(n)))
        return {a: _counted(v) for a, v in out.items()}

    frame = objects.assign(_miss=m["missed"].astype(np.int64), _extra=m["extra"].astype(np.int64),
                           _loose=m["low_overlap"].astype(np.int64), _match=m["matched"].astype(np.int64))
    frame = frame.assign(_err=frame["_miss"] + frame["_extra"] + frame["_loose"])
    if len(frame):
        per_frame = frame.groupby(["annotator", "data_hash", "frame"], sort=False)["_err"].sum().reset_index()
        # the frame each item went worst on (the first of equals)
        per_frame = per_frame.sort_values(["annotator", "data_hash", "_err", "frame"],
                                          ascending=[True, True, False, True], kind="stable")
        worst = per_frame.drop_duplicates(["annotator", "data_hash"]).rename(columns={"frame": "worst_frame"})
        items = frame.groupby(["annotator", "data_hash"], sort=False).agg(
            title=("data_title", "first"), frames=("frame", "nunique"), missed=("_miss", "sum"),
            extra=("_extra", "sum"), loose=("_loose", "sum"), matched=("_match", "sum"),
            errors=("_err", "sum")).reset_index()
        items = items.merge(worst[["annotator", "data_hash", "worst_frame"]], on=["annotator", "data_hash"])
        items["title"] = items["title"].map(lambda t: t if isinstance(t, str) else "")
        items = items.sort_values(["annotator", "errors", "missed", "title", "data_hash"],
                                  ascending=[True, False, False, True, True], kind="stable")
    else:
        items = pd.DataFrame(columns=["annotator", "data_hash", "title", "frames", "missed", "extra", "loose",
                                      "matched", "errors", "worst_frame"])
    return _Tables(objects=frame, missed=by_class(m["missed"], b_class),
                   extra=by_class(m["extra"], t_class), loose=by_class(m["low_overlap"], t_class), items=items)


def _confusions(result: EvaluationResult, annotator: str) -> tuple[tuple[str, str, int], ...]:
    found = [(b, a, int(n)) for (who, b, a), n in result.confusion_totals.items()
             if who == annotator and b != a and UNMATCHED not in (b, a) and n]
    return tuple(sorted(found, key=lambda t: (-t[2], t[0], t[1])))


# --- drawing one item (≤ N per pack: plain Python is fine) -------------------------------------------

def _size_of(row: Mapping[str, Any] | None) -> tuple[float, float] | None:
    if not row:
        return None
    for _key, unit in units_of(row):
        w, h = unit.get("width"), unit.get("height")
        if isinstance(w, (int, float)) and isinstance(h, (int, float)) and not isinstance(w, bool) \
                and math.isfinite(w) and math.isfinite(h) and w > 0 and h > 0:
            return (float(w), float(h))
    return None


def _item_shapes(here: pd.DataFrame, bench_row: Mapping[str, Any] | None, mine: Mapping[str, Any] | None,
                 frame: int) -> tuple[PackShape, ...]:
    """The compared shapes of both sides on ``frame`` of one item, as the annotator's rows ``here``
    (that frame's) pair them: benchmark shapes first, matched pairs numbered in row order."""
    pair_of: dict[tuple[str, str], int] = {}
    iou_of: dict[tuple[str, str], float] = {}
    outcome_of: dict[tuple[str, str], str] = {}
    for oh, bh, iou, outcome in zip(here["object_hash"].tolist(), here["benchmark_object_hash"].tolist(),
                                    here["iou"].tolist(), here["outcome"].tolist()):
        if outcome in _MATCHED and isinstance(oh, str) and isinstance(bh, str):
            n = len({v for v in pair_of.values()}) + 1
            loose = outcome == "low_overlap"
            for key in ((ANNOTATOR, oh), (BENCHMARK, bh)):
                pair_of[key] = n
                iou_of[key] = float(iou)
                outcome_of[key] = "loose" if loose else "matched"
            continue
        if isinstance(oh, str):
            outcome_of.setdefault((ANNOTATOR, oh), "extra")
        if isinstance(bh, str):
            outcome_of.setdefault((BENCHMARK, bh), "missed")
    raw: list[tuple[str, Any]] = []
    for side, row in ((BENCHMARK, bench_row), (ANNOTATOR, mine)):
        if not row:
            continue
        for obj in read_objects(row):
            if obj.frame == frame and isinstance(obj.geometry, DRAWABLE) and (side, obj.object_hash) in outcome_of:
                raw.append((side, obj))
    colours = resolve_colours([_Named(o.name, o.color) for _side, o in raw])
    shapes = [PackShape(side=side, class_name=o.name, color=o.color, colour=colour, geometry=o.geometry,
                        shape=o.shape, pair=pair_of.get((side, o.object_hash)),
                        outcome=outcome_of[(side, o.object_hash)], iou=iou_of.get((side, o.object_hash)))
              for (side, o), colour in zip(raw, colours)]
    shapes.sort(key=lambda s: (s.pair is None, s.pair or 0, s.side != BENCHMARK))
    return tuple(shapes)


@dataclass(frozen=True)
class _Named:
    class_name: str
    color: str | None


# --- packs -----------------------------------------------------------------------------------------

def resolve_annotators(result: EvaluationResult, wanted: Iterable[str] | None) -> list[str]:
    """The annotators a pack is written for, as the result names them: all it scored (None), else
    each of ``wanted`` (the exact email, else the one email of another case), repeats once, in the
    order given; :class:`NotFound` (with the emails scored) for one without scores."""
    known = list(result.annotators)
    if wanted is None:
        return known
    out = []
    folded = {a.casefold(): a for a in known}
    for w in wanted:
        hit = w if w in result.annotators else folded.get(w.strip().casefold())
        if hit is None:
            some = ", ".join(shown(a, limit=60) for a in known[:5]) + (" …" if len(known) > 5 else "")
            raise NotFound(f"no scores for annotator '{shown(w, limit=80)}' in this evaluation",
                           hint=f"annotators scored: {some}" if known else
                           "nobody was scored: no training project has Complete tasks paired with the benchmark")
        if hit not in out:
            out.append(hit)
    return out


def _pack_item(rec: Any, name: str, theirs: pd.DataFrame, rows_of: RowsOf, *, rank: int,
               suspect: str | None = None) -> PackItem:
    """One item of a pack, drawn on its worst frame: ``rec`` its counts (a row of the items table),
    ``theirs`` the annotator's per-object rows."""
    data_hash, frame = str(rec.data_hash), int(rec.worst_frame)
    bench_row, training_row = rows_of(data_hash, name)
    here = theirs[(theirs["data_hash"] == data_hash).to_numpy() & (theirs["frame"] == frame).to_numpy()]
    return PackItem(rank=rank, data_hash=data_hash, title=str(rec.title), frame=frame, frames=int(rec.frames),
                    missed=int(rec.missed), extra=int(rec.extra), loose=int(rec.loose), matched=int(rec.matched),
                    size=_size_of(bench_row) or _size_of(training_row),
                    shapes=_item_shapes(here, bench_row, training_row, frame), suspect=suspect)


def build_packs(result: EvaluationResult, rows_of: RowsOf, annotators: Iterable[str] | None = None, *,
                top: int = DEFAULT_TOP, title: str = "", labels: Mapping[str, str] | None = None,
                suspects: Mapping[str, str] | None = None, rounds: Mapping[str, PackRound] | None = None
                ) -> list[FeedbackPack]:
    """One :class:`FeedbackPack` per annotator (all the result scored, or ``annotators``, each an
    email the result has: :class:`NotFound` otherwise), in the result's order. ``rows_of`` gives the
    label rows of an item drawn; ``top`` how many worst items (those with at least one miss, extra
    or loose shape) are drawn; ``labels`` the engine's class labels (feature hash → label), so the
    counts name classes as the scores do. ``suspects`` (data hash → why the audit suspects its
    gold): those items leave the ranking and are drawn after it (``top`` of them at most), marked;
    ``rounds`` (by email, any case): the round each pack scores."""
    from annotrain_tui.core.roster import identity

    if result.objects is None:
        raise AnnotrainError("the evaluation kept no per-object rows (keep_objects=False): a feedback pack needs them")
    if top < 0:
        raise InvalidInput(f"the number of worst items must be 0 or more, got {top}")
    chosen = resolve_annotators(result, annotators)
    tables = _tables(result.objects, labels)
    items_of = {str(a): g for a, g in tables.items.groupby("annotator", sort=False)} if len(tables.items) else {}
    rows_by = {str(a): g for a, g in tables.objects.groupby("annotator", sort=False)} if len(tables.objects) else {}
    suspect_of = dict(suspects or {})
    round_of = {identity(k): v for k, v in (rounds or {}).items()}
    packs = []
    for name in chosen:
        score = result.annotators[name]
        mine = items_of.get(name)
        errors = ErrorSummary(
            low_overlap=result.settings.low_overlap, loose=sum(n for _c, n in tables.loose.get(name, ())),
            loose_by_class=tables.loose.get(name, ()), confusions=_confusions(result, name),
            missed=sum(n for _c, n in tables.missed.get(name, ())), missed_by_class=tables.missed.get(name, ()),
            extra=sum(n for _c, n in tables.extra.get(name, ())), extra_by_class=tables.extra.get(name, ()))
        drawn: list[PackItem] = []
        review: list[PackItem] = []
        with_errors = under_review = 0
        if mine is not None:
            bad = mine[mine["errors"].to_numpy() > 0]
            doubted = bad["data_hash"].map(lambda h: h in suspect_of).to_numpy(dtype=bool) if suspect_of \
                else np.zeros(len(bad), dtype=bool)
            ranked, held = bad[~doubted], bad[doubted]
            with_errors, under_review = len(ranked), len(held)
            theirs = rows_by[name]
            drawn = [_pack_item(rec, name, theirs, rows_of, rank=rank)
                     for rank, rec in enumerate(ranked.head(top).itertuples(index=False), start=1)]
            review = [_pack_item(rec, name, theirs, rows_of, rank=0, suspect=suspect_of[str(rec.data_hash)])
                      for rec in held.head(top).itertuples(index=False)]
        packs.append(FeedbackPack(annotator=name, score=score, settings=result.settings, errors=errors,
                                  items=tuple(drawn), items_compared=0 if mine is None else len(mine),
                                  items_with_errors=with_errors, title=title, under_review=tuple(review),
                                  items_under_review=under_review, round=round_of.get(identity(name))))
    return packs


def build_pack(result: EvaluationResult, rows_of: RowsOf, annotator: str, **options: Any) -> FeedbackPack:
    """The pack of one annotator (see :func:`build_packs`)."""
    return build_packs(result, rows_of, [annotator], **options)[0]


# --- files -----------------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9@+._-]+")
_NAME_LIMIT = 80


def _safe_stem(email: str) -> str:
    """A file name from an email: ASCII letters, digits, ``@ + . _ -`` kept (any other run becomes
    ``_``), no leading dot or dash, at most 80 characters; ``annotator`` when nothing is left."""
    stem = _UNSAFE.sub("_", email).strip("._-")[:_NAME_LIMIT].rstrip(".")
    return stem or "annotator"


def pack_file_names(annotators: Sequence[str]) -> dict[str, str]:
    """annotator → the stem of their pack's files, unique whatever the file system's case rule
    (``bea@x.org``, ``bea@x.org-2`` …): no path separator, no leading dot, never empty."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for a in annotators:
        stem = base = _safe_stem(a)
        n = 2
        while stem.casefold() in taken:
            stem = f"{base}-{n}"
            n += 1
        taken.add(stem.casefold())
        out[a] = stem
    return out


def write_packs(result: EvaluationResult, rows_of: RowsOf, out_dir: str | Path,
                annotators: Iterable[str] | None = None, *, force: bool = False, top: int = DEFAULT_TOP,
                title: str = "", labels: Mapping[str, str] | None = None,
                inputs: Iterable[str | Path] = (), suspects: Mapping[str, str] | None = None,
                rounds: Mapping[str, PackRound] | None = None) -> list[Path]:
    """Write ``<name>.html`` and ``<name>.md`` per annotator (:func:`pack_file_names`) into
    ``out_dir`` (made when missing) and return their paths, HTML then Markdown per annotator.

    Every target is checked before anything is written (``files.check_output``: never one of
    ``inputs`` or annotrain's own files, never a device; an existing file only with ``force``), then
    each is written atomically (readers see the old file or the new one). ``suspects`` and
    ``rounds`` as :func:`build_packs`."""
    from annotrain_tui.core.feedback_html import render_html, render_markdown
    from annotrain_tui.core.files import atomic_write_text, check_output, display_path, write_error

    packs = build_packs(result, rows_of, annotators, top=top, title=title, labels=labels, suspects=suspects,
                        rounds=rounds)
    directory = Path(out_dir)
    if directory.exists() and not directory.is_dir():
        raise InvalidInput(f"{display_path(directory)}: is not a directory (--out names the directory the packs go in)")
    if not directory.exists():
        try:
            directory.mkdir(parents=True)
        except OSError as exc:
            raise write_error(directory, exc) from None
    stems = pack_file_names([p.annotator for p in packs])
    planned: list[tuple[Path, Path, str]] = []
    for pack in packs:
        html_name = f"{stems[pack.annotator]}.html"
        for name, render in ((html_name, lambda p=pack: render_html(p)),
                             (f"{stems[pack.annotator]}.md", lambda p=pack, h=html_name: render_markdown(p, html_name=h))):
            target = directory / name
            planned.append((target, check_output(target, inputs=list(inputs), force=force), render()))
    written = []
    for target, real, text in planned:
        atomic_write_text(real, text)
        written.append(target)
    return written


def write_session_packs(session: EvaluationSession, out_dir: str | Path, annotators: Iterable[str] | None = None,
                        *, force: bool = False, top: int = DEFAULT_TOP, inputs: Iterable[str | Path] = (),
                        suspects: Mapping[str, str] | None = None, rounds: Mapping[str, PackRound] | None = None
                        ) -> list[Path]:
    """:func:`write_packs` of an evaluation session that has loaded (its result kept its per-object
    rows: ``keep_objects=True``): the label rows from ``session.item_rows``, the classes named as
    its evaluator names them, the session's title (the benchmark) on every pack; ``suspects`` and
    ``rounds`` as :func:`build_packs`."""
    from annotrain_tui.core.evaluation.views import engine_class_labels

    result = session.result
    if result is None:
        raise AnnotrainError("the evaluation has not loaded yet: load it before writing feedback packs")
    return write_packs(result, session.item_rows, out_dir, annotators, force=force, top=top, title=session.title,
                       labels=engine_class_labels(session.evaluator), inputs=inputs, suspects=suspects,
                       rounds=rounds)


def write_snapshot_packs(snapshot: EvaluationSnapshot, out_dir: str | Path, annotators: Iterable[str] | None = None,
                         *, force: bool = False, top: int = DEFAULT_TOP, inputs: Iterable[str | Path] = ()
                         ) -> list[Path]:
    """:func:`write_packs` of an evaluation screen's frozen snapshot (what a screen holds; call it
    from a worker): its result, its label rows (an annotator's own row of an item, as the item view
    picks it), its class labels and its title (the benchmark)."""
    result = snapshot.result
    if result is None:
        raise AnnotrainError("the evaluation has not loaded yet: load it before writing feedback packs")
    sources = list(snapshot.training_rows)

    def rows_of(data_hash: str, annotator: str) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
        return item_rows_of(snapshot.bench_rows, sources, data_hash, annotator)  # as the item view picks them

    return write_packs(result, rows_of, out_dir, annotators, force=force, top=top, title=snapshot.title,
                       labels=dict(snapshot.class_labels), inputs=inputs)


# --- a programme: the round each pack scores, and its suspect gold ------------------------------------

@dataclass(frozen=True)
class RoundChoice:
    """The rounds a programme's packs score: trainee email → its round (``rounds``), and the
    trainees left out with why, one line each (``left_out``, untrusted text already made safe)."""

    rounds: dict[str, TrainingRound]
    left_out: dict[str, str]

    @property
    def project_ids(self) -> list[str]:
        return [r.project.id for r in self.rounds.values()]


def _progress(r: TrainingRound) -> str:
    return f"{r.complete}/{r.total} Complete"


def choose_rounds(prog: Programme, *, round: int | None = None, annotators: Iterable[str] | None = None
                  ) -> RoundChoice:
    """The round each trainee's pack scores: their latest round with finished work (a Complete
    task), or round ``round`` when given; of every trainee, or of ``annotators`` (any case; one
    who is not a trainee is :class:`NotFound`, naming the trainees). A trainee with no such round
    is left out, with why."""
    from annotrain_tui.core.roster import identity

    if annotators is None:
        trainees = list(prog.trainees.values())
    else:
        trainees = []
        for email in annotators:
            t = prog.trainees.get(identity(email))
            if t is None:
                known = list(prog.trainees)
                some = ", ".join(shown(a, limit=60) for a in known[:5]) + (" …" if len(known) > 5 else "")
                raise NotFound(f"'{shown(email, limit=80)}' is not a trainee of the programme "
                               f"'{shown(prog.title, limit=80)}'",
                               hint=f"its trainees: {some}" if known else "the programme has no trainees yet")
            if t not in trainees:
                trainees.append(t)
    rounds: dict[str, TrainingRound] = {}
    left_out: dict[str, str] = {}
    for t in trainees:
        who = shown(t.email, limit=120)
        if round is not None:
            r = next((x for x in t.rounds if x.round == round), None)
            if r is None:
                have = ", ".join(str(x.round) for x in t.rounds)
                left_out[t.email] = f"{who}: has no round {round} (their round(s): {have})"
            elif r.complete == 0:
                why = f"cannot be read: {shown(r.error, limit=200)}" if r.error else \
                    f"has no finished work yet ({_progress(r)})"
                left_out[t.email] = f"{who}: round {round} {why}"
            else:
                rounds[t.email] = r
            continue
        done = [x for x in t.rounds if x.complete > 0]
        if done:
            rounds[t.email] = done[-1]
        else:
            now = t.current
            why = f"round {now.round} cannot be read: {shown(now.error, limit=200)}" if now.error else \
                f"round {now.round}: {_progress(now)}"
            left_out[t.email] = f"{who}: no finished work in any round ({why})"
    return RoundChoice(rounds=rounds, left_out=left_out)


def rounds_session(backend: Backend, prog: Programme, choice: RoundChoice,
                   settings: EvaluationSettings | None = None) -> EvaluationSession:
    """An evaluation session of the rounds chosen (their projects named: a retaken trainee's earlier
    round is scored, not their current one), the programme's gold exclusions applied, the per-object
    rows kept for the packs. :class:`AnnotrainError` when no round was chosen."""
    from annotrain_tui.core.decisions import settings_of
    from annotrain_tui.core.evaluation.session import EvaluationSession

    if not choice.rounds:
        raise AnnotrainError("no trainee has a round to write a pack of: " + "; ".join(choice.left_out.values())
                             if choice.left_out else "the programme has no trainees yet",
                             hint="a pack needs Complete tasks in a training round")
    return EvaluationSession.of_workspace(backend, prog.id, choice.project_ids, settings_of(prog, settings),
                                          keep_objects=True, block_size=10**9)


def _earlier(points: Sequence[Any]) -> str:
    last = points[-1]
    f1 = "–" if last.f1 is None else f"{last.f1:.3f}"
    when = f" (evaluated {last.ts[:16].replace('T', ' ')})" if last.ts else ""
    return f"F1 {f1}, {shown(last.status, limit=60) or 'no status'}{when}"


def round_facts(prog: Programme, rounds: Mapping[str, TrainingRound],
                snapshots: Iterable[Mapping[str, Any]] = ()) -> dict[str, PackRound]:
    """email → what a pack says of its round: "Round 1 of 2", and a line per other round of the
    trainee (an earlier one: its last evaluation in ``snapshots``, the programme's history; a later
    one: how far it is)."""
    from annotrain_tui.core.history import trend
    from annotrain_tui.core.roster import identity

    trends = {identity(email): by_round for email, by_round in trend([dict(s) for s in snapshots]).items()}
    out: dict[str, PackRound] = {}
    for email, scored in rounds.items():
        trainee = prog.trainees[identity(email)]
        history = trends.get(identity(email), {})
        others = []
        for r in trainee.rounds:
            if r.round < scored.round:
                points = history.get(r.round)
                others.append(f"Round {r.round}: " + (_earlier(points) if points else
                                                       f"not evaluated in the history ({_progress(r)})"))
            elif r.round > scored.round:
                others.append(f"Round {r.round}: not scored in this pack ({_progress(r)})")
        out[email] = PackRound(round=scored.round, rounds=max(trainee.round, scored.round), others=tuple(others))
    return out


def suspect_items(audit: AuditResult, record: ProgrammeRecord | None = None) -> dict[str, str]:
    """data hash → why its gold may be wrong, for the audit's suspects not reviewed yet: not
    excluded now (an excluded item is not scored at all), and never put back by an inclusion in the
    programme's ``record`` (a person looked and kept the gold)."""
    reviewed: set[str] = set()
    if record is not None:
        reviewed = {e["data_hash"] for e in record.events("inclusion") if isinstance(e.get("data_hash"), str)}
    out: dict[str, list[str]] = {}
    for s in audit.suspects:
        if s.excluded is None and s.data_hash not in reviewed:
            out.setdefault(s.data_hash, []).append(s.explanation)
    return {h: "; ".join(dict.fromkeys(whys)) for h, whys in out.items()}
