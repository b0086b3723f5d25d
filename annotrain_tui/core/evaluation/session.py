"""Evaluation sessions: a benchmark and its training sets, evaluated and kept up to date.

One :class:`EvaluationSession`, whatever the rows come from: a :class:`LiveSource` (a workspace's
projects) or a :class:`FileSource` (label-row JSON exports). A live session's ``load()`` fetches the Complete label rows of the benchmark and of every training
project (one project in memory at a time while it is parsed) and evaluates them. ``refresh()``
asks each project only for the label rows edited since the last poll, fetches just those, and
re-evaluates only the part of the project they fall in: a project is evaluated in blocks of
label rows (a row's block is fixed by its data hash), so one changed row costs one block.

"Complete" is a stage *kind* (Encord's DONE-type stage, however it is titled), never the title.
Whether Encord bumps a label row's ``last_edited_at`` when a task only moves stage (a reviewer
approving it) is not documented, so each poll also lists the rows now in a final stage (metadata
only, the same concurrent round trip): a row that reached Complete without an edit is fetched on
that poll, and one that left it is dropped.
"""

from __future__ import annotations

import math
import threading
import weakref
import zlib
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from annotrain_tui.core.backends.base import Backend
from annotrain_tui.core.errors import Cancelled, NotFound, Unusable
from annotrain_tui.core.evaluation.engine import Evaluator
from annotrain_tui.core.evaluation.labels import finished_rows, frame_objects, safe_text
from annotrain_tui.core.evaluation.results import AnnotatorScore, EvaluationResult, EvaluationSettings
from annotrain_tui.core.lookup import find_project
from annotrain_tui.core.markers import current_rounds, parse_training_marker
from annotrain_tui.core.models import LabelRowInfo, Project
from annotrain_tui.core.remedies import see

if TYPE_CHECKING:
    from annotrain_tui.core.evaluation.views import EvaluationSnapshot, Filter

__all__ = ["EvaluationSession", "LiveSource", "FileSource", "TrainingSource", "RefreshReport", "ANNOTATOR_COLUMNS",
           "FETCH_CHUNK"]

FETCH_CHUNK = 500
ANNOTATOR_COLUMNS = ("annotator", "projects", "complete", "total", "objects", "benchmark_objects", "matched",
                     "mean_iou", "class_accuracy", "precision", "recall", "f1", "missed", "extra", "low_overlap",
                     "status", "last_activity")
Progress = Callable[[int, int, str], None]


@dataclass
class TrainingSource:
    """One training project (or file) of a session: its Complete rows, in blocks by data hash."""

    project: Project
    annotator: str  # the marker's email, else the project title (files: their main createdBy)
    marked: bool = False  # the annotator comes from the project's training marker
    blocks: int = 1
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # data_hash → Complete label row
    total: int = 0  # label rows in the project, any stage
    last_activity: datetime | None = None
    watermark: datetime | None = None  # newest last_edited_at seen

    members: dict[int, set[str]] = field(default_factory=dict)  # block → data hashes in it

    def block_of(self, data_hash: str) -> int:
        return zlib.crc32(data_hash.encode()) % self.blocks

    def block_name(self, block: int) -> str:
        return f"{self.project.id}#{block}"

    def put(self, row: dict[str, Any]) -> int:
        h = row["data_hash"]
        self.rows[h] = row
        block = self.block_of(h)
        self.members.setdefault(block, set()).add(h)
        return block

    def drop(self, data_hash: str) -> int | None:
        if self.rows.pop(data_hash, None) is None:
            return None
        block = self.block_of(data_hash)
        self.members.get(block, set()).discard(data_hash)
        return block

    def block_rows(self, block: int) -> list[dict[str, Any]]:
        return [self.rows[h] for h in sorted(self.members.get(block, ()))]


class RawRows(dict[str, Any]):
    """data_hash → label row, kept as the row's JSON bytes, zlib-compressed one row at a time, and
    decoded when asked (a file source's rows: a dict tree costs about five times its JSON, its JSON
    about six times its compressed bytes, and the screen needs one row at a time: the item it
    draws, a block it scores). Every row is compressed against the first row put (a preset
    dictionary: the rows of one export share their keys and most of their layout). Reads like a
    dict of rows; ``copy()`` shares the bytes; ``raw(key)`` is a row's JSON bytes, as put. A row
    put as a dict is kept as its JSON; one that JSON cannot say (a value that is not JSON) is kept
    as it is. (A workspace's rows are not kept so: compressing them as they arrive made a sandbox
    load of 2,000 rows 40% slower, each row written as JSON and read again to be scored.)"""

    #: as fast as level 1 on label rows (some 60 µs a 7 KB row) and 7% smaller: a sixth of the JSON
    #: with the preset dictionary (level 6: 6% smaller again, 15% slower)
    LEVEL = 3

    def __init__(self) -> None:
        super().__init__()
        self._zdict = b""

    def put_raw(self, key: str, raw: bytes) -> None:
        """Keep the row whose JSON bytes are ``raw`` under ``key`` (compressed)."""
        dict.__setitem__(self, key, self.pack(raw))

    def pack(self, raw: bytes) -> bytes:
        """``raw`` compressed as this map keeps it (the first bytes packed give the preset dictionary)."""
        if not self._zdict:
            self._zdict = bytes(raw[:32768])
        z = zlib.compressobj(self.LEVEL, zdict=self._zdict)
        return z.compress(raw) + z.flush()

    def unpack(self, packed: bytes) -> bytes:
        z = zlib.decompressobj(zdict=self._zdict)
        return z.decompress(packed) + z.flush()

    def raw(self, key: str) -> bytes:
        return self.unpack(dict.__getitem__(self, key))

    def __getitem__(self, key: str) -> dict[str, Any]:
        import json

        kept = dict.__getitem__(self, key)
        if type(kept) is not bytes:
            return kept  # a row JSON could not say, kept as it is
        return json.loads(self.unpack(kept))  # rows were read once already: no surprises

    def __setitem__(self, key: str, row: dict[str, Any]) -> None:
        import json

        try:
            raw = json.dumps(row).encode()
        except (TypeError, ValueError):
            dict.__setitem__(self, key, row)
            return
        self.put_raw(key, raw)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if dict.__contains__(self, key) else default

    def values(self) -> Any:
        return [self[k] for k in self]

    def items(self) -> Any:
        return [(k, self[k]) for k in self]

    def copy(self) -> RawRows:
        out = RawRows()
        out._zdict = self._zdict
        dict.update(out, self)
        return out


@dataclass
class RefreshReport:
    changed_rows: int
    changed_projects: list[str]
    new_projects: list[str]
    result: EvaluationResult
    benchmark_changed: bool = False


def _newest(rows: list[LabelRowInfo]) -> datetime | None:
    stamps = [r.last_edited_at for r in rows if r.last_edited_at is not None]
    return max(stamps) if stamps else None


def _run(job: Callable[[], Any]) -> Any:
    return job()


class RowSource(Protocol):
    """Where a session's label rows come from: a workspace (:class:`LiveSource`) or files (:class:`FileSource`)."""

    live: bool
    title: str
    #: what the source says about its rows (e.g. unfinished tasks left out), added to every result
    warnings: list[str]

    def load(self, session: EvaluationSession, on_progress: Progress | None, cancel: threading.Event | None) -> None:
        """Fill ``session`` (benchmark rows, evaluator, sources) from scratch."""

    def refresh(self, session: EvaluationSession, *, include_new_projects: bool, check_benchmark: bool
                ) -> RefreshReport:
        """Bring ``session`` up to date with what changed since the last load or refresh."""


class EvaluationSession:
    """A benchmark and its training sets, evaluated and kept up to date; what the screens and the
    CLI ask. The rows come from a :class:`RowSource` (a workspace or label-row files); the session
    holds them, the :class:`Evaluator` and the latest result, and builds the immutable
    :class:`~annotrain_tui.core.evaluation.views.EvaluationSnapshot` the screens query."""

    def __init__(self, source: RowSource, settings: EvaluationSettings | None = None, *, block_size: int = 32,
                 keep_objects: bool = True) -> None:
        self.source = source
        self.settings = settings or EvaluationSettings()
        self.keep_objects = keep_objects
        self.block_size = max(1, block_size)
        self.sources: dict[str, TrainingSource] = {}
        self.evaluator: Evaluator | None = None
        self.bench_rows: dict[str, dict[str, Any]] = {}
        self.result: EvaluationResult | None = None
        #: Training projects whose label rows were refused (project id → message): left out, said.
        self.refused: dict[str, str] = {}
        self._lock = threading.Lock()

    @classmethod
    def of_workspace(cls, backend: Backend, benchmark_ref: str, training_refs: list[str] | None = None,
                     settings: EvaluationSettings | None = None, *, block_size: int = 32,
                     keep_objects: bool = True) -> EvaluationSession:
        """A session over a workspace's projects (all training projects of the benchmark, or those named)."""
        return cls(LiveSource(backend, benchmark_ref, training_refs), settings, block_size=block_size,
                   keep_objects=keep_objects)

    @classmethod
    def of_files(cls, benchmark_path: str, training_paths: list[str], settings: EvaluationSettings | None = None,
                 *, block_size: int = 32, keep_objects: bool = True,
                 include_incomplete: bool = False) -> EvaluationSession:
        """A session over label-row JSON exports (no workspace): refresh re-reads changed files. Only
        rows of finished tasks count unless ``include_incomplete`` (``labels.finished_rows``)."""
        return cls(FileSource(benchmark_path, training_paths, include_incomplete=include_incomplete), settings,
                   block_size=block_size,
                   keep_objects=keep_objects)

    # -- what the source fills in ----------------------------------------------------------
    def new_evaluator(self, rows: list[dict[str, Any]], benchmark_source: str) -> None:
        self.bench_rows = {r["data_hash"]: r for r in rows if isinstance(r.get("data_hash"), str)}
        self.evaluator = Evaluator(rows, self.settings, benchmark_source=benchmark_source,
                                   keep_objects=self.keep_objects)

    def remove_source(self, project_id: str) -> None:
        """Take one training project out of the session and its scores."""
        src = self.sources.pop(project_id)
        if self.evaluator is not None:
            for block in range(src.blocks):
                self.evaluator.remove(src.block_name(block))

    def add_all_blocks(self, src: TrainingSource) -> None:
        assert self.evaluator is not None
        for block in range(src.blocks):
            self.evaluator.add(src.block_name(block), src.block_rows(block), annotator=src.annotator,
                               credit_owner=src.marked)

    def add_blocks(self, src: TrainingSource, blocks: set[int]) -> None:
        assert self.evaluator is not None
        for block in blocks:
            self.evaluator.add(src.block_name(block), src.block_rows(block), annotator=src.annotator,
                               credit_owner=src.marked)

    def compute_result(self) -> EvaluationResult:
        assert self.evaluator is not None
        result = self.evaluator.result()
        result.warnings.extend(f"a training project was left out: {m}" for m in self.refused.values())
        result.warnings.extend(w for w in self.source.warnings if w not in result.warnings)
        self.result = result
        return result

    # -- public -------------------------------------------------------------------------
    @property
    def live(self) -> bool:
        return self.source.live

    @property
    def title(self) -> str:
        return self.source.title

    def load(self, *, on_progress: Progress | None = None, cancel: threading.Event | None = None
             ) -> EvaluationResult:
        with self._lock:
            self.source.load(self, on_progress, cancel)
            return self.compute_result()

    def refresh(self, *, include_new_projects: bool = True, check_benchmark: bool = True) -> RefreshReport:
        """Fetch only what changed since the last poll and re-evaluate only those blocks."""
        with self._lock:
            assert self.evaluator is not None, "load() first"
            return self.source.refresh(self, include_new_projects=include_new_projects,
                                       check_benchmark=check_benchmark)

    def rescore(self, settings: EvaluationSettings) -> EvaluationResult:
        """Evaluate again with other settings (e.g. the IoU threshold), from the rows already fetched."""
        with self._lock:
            self.settings = settings
            rows = self.bench_rows
            if isinstance(rows, RawRows):  # kept compressed: read one row at a time, and kept so
                self.evaluator = Evaluator((rows[k] for k in rows), settings, benchmark_source=self.title,
                                           keep_objects=self.keep_objects)
            else:
                self.new_evaluator(list(rows.values()), self.title)
            for src in self.sources.values():
                self.add_all_blocks(src)
            return self.compute_result()

    def evaluate_with(self, settings: EvaluationSettings) -> EvaluationResult:
        """The same rows evaluated with other settings, once, leaving the session as it is (the
        TUI's seed CSV runs the seed algorithm whatever matching the screen shows)."""
        with self._lock:
            bench = self.bench_rows  # every row read one at a time (a file source keeps them compressed)
            evaluator = Evaluator((bench[k] for k in bench), settings, benchmark_source=self.title, keep_objects=True)
            # one block per project, as the CLI reads it: the same row order (a file's own order; a
            # workspace's rows by data hash)
            in_file_order = isinstance(self.source, FileSource)
            for src in self.sources.values():
                rows = src.rows
                evaluator.add(src.block_name(0), (rows[h] for h in (list(rows) if in_file_order else sorted(rows))),
                              annotator=src.annotator, credit_owner=src.marked)
        return evaluator.result()

    def seed_rows(self, f: Filter | None = None) -> pd.DataFrame:
        """``iou_results.csv`` as the published script writes it: the seed algorithm over the same
        rows (the screen's optimal matching would give other rows: 404 instead of 274 on the demo).

        Under a filter ``f``: the rows of the training objects it keeps (their annotator containing
        ``f.annotator``, *their own* class containing ``f.class_name``: a seed row is one training
        object; its benchmark candidate is not a match to filter by), in the same order."""
        from annotrain_tui.core.evaluation.views import filter_mask

        # the script matches whatever the classes, boxes only: a session scoring within a class (the
        # config's class_matching, or the screen's choice) still exports the script's rows
        settings = self.with_matching("seed")
        result = self.evaluate_with(settings)
        rows = result.seed_rows()
        if f is None or not f.active:
            return rows
        objects = result.objects
        assert objects is not None  # evaluate_with keeps them
        training = objects[(objects["outcome"] != "missed").to_numpy(dtype=bool)]
        keep = filter_mask(training, f, class_columns=("class",))
        return rows[keep].reset_index(drop=True)

    def with_iou(self, iou_threshold: float) -> EvaluationSettings:
        return replace(self.settings, iou_threshold=iou_threshold)

    def with_matching(self, choice: str) -> EvaluationSettings:
        """The session's settings with one of ``views.MATCHING_CHOICES`` ("optimal", "same": optimal
        within a class, "seed": the published script's); ``rescore`` runs it on the rows fetched."""
        from annotrain_tui.core.evaluation.views import with_matching

        return with_matching(self.settings, choice)

    def item_rows(self, data_hash: str, annotator: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The benchmark's and the annotator's label rows of one data unit (for the item view)."""
        from annotrain_tui.core.evaluation.views import item_rows_of

        return item_rows_of(self.bench_rows, [(s.annotator, s.rows) for s in self.sources.values()], data_hash,
                          annotator)

    def why_nothing_paired(self) -> str:
        """Why no training row could be compared (the real cause, for an empty table or the CLI)."""
        if not self.bench_rows:
            return (f"the benchmark '{safe_text(self.title, 80)}' has no Complete label rows: complete its tasks "
                    "first (a training item is compared only with a Complete benchmark item)")
        if not self.sources:
            return "no training project to compare with the benchmark"
        if not any(s.rows for s in self.sources.values()):
            return "no training project has Complete tasks yet: annotators must move their tasks to Complete first"
        return ("no Complete training label row shares a data unit with the benchmark's Complete rows (the training "
                "projects must use the benchmark's dataset)")

    def snapshot(self) -> EvaluationSnapshot:
        """An immutable view of the latest result, with the queries the screens ask (see :mod:`.views`)."""
        from annotrain_tui.core.evaluation.views import EvaluationSnapshot

        with self._lock:
            return EvaluationSnapshot.of(self)

    # -- views ----------------------------------------------------------------------------
    def annotator_frame(self) -> pd.DataFrame:
        """One row per annotator: progress (from their projects) and scores (from the engine)."""
        result = self.result
        by_annotator: dict[str, dict[str, Any]] = {}
        for src in self.sources.values():
            a = by_annotator.setdefault(src.annotator, {"projects": 0, "complete": 0, "total": 0,
                                                        "last_activity": None})
            a["projects"] += 1
            a["complete"] += len(src.rows)
            a["total"] += src.total
            if src.last_activity and (a["last_activity"] is None or src.last_activity > a["last_activity"]):
                a["last_activity"] = src.last_activity
        scores = result.annotators if result else {}
        names = sorted(set(by_annotator) | set(scores))
        none = {"projects": 0, "complete": 0, "total": 0, "last_activity": None}
        progress = [by_annotator.get(n, none) for n in names]
        columns: dict[str, Any] = {
            "annotator": np.array(names, dtype=object),
            "projects": np.array([p["projects"] for p in progress], dtype=np.int64),
            "complete": np.array([p["complete"] for p in progress], dtype=np.int64),
            "total": np.array([p["total"] for p in progress], dtype=np.int64),
            **score_columns([scores.get(n) for n in names]),
            "last_activity": pd.Series([p["last_activity"] for p in progress], dtype=None if names else object),
        }
        return pd.DataFrame(columns, columns=list(ANNOTATOR_COLUMNS))


#: the annotator table's columns that come from the scores (a filter recomputes them)
SCORE_COLUMNS = ("objects", "benchmark_objects", "matched", "mean_iou", "class_accuracy", "precision", "recall",
                 "f1", "missed", "extra", "low_overlap", "status")


def score_columns(found: list[AnnotatorScore | None]) -> dict[str, np.ndarray]:
    """The :data:`SCORE_COLUMNS` of the annotator table, one entry per score (None: no work yet)."""

    def ints(get: Callable[[AnnotatorScore], int]) -> np.ndarray:
        return np.array([get(s) if s else 0 for s in found], dtype=np.int64)

    def rates(get: Callable[[AnnotatorScore], float | None]) -> np.ndarray:
        return np.array([np.nan if s is None or (v := get(s)) is None else v for s in found], dtype=float)

    return {
        "objects": ints(lambda s: s.objects), "benchmark_objects": ints(lambda s: s.benchmark_objects),
        "matched": ints(lambda s: s.matched),
        "mean_iou": rates(lambda s: s.mean_iou), "class_accuracy": rates(lambda s: s.class_accuracy),
        "precision": rates(lambda s: s.precision), "recall": rates(lambda s: s.recall),
        "f1": rates(lambda s: s.f1),
        "missed": ints(lambda s: s.missed), "extra": ints(lambda s: s.extra),
        "low_overlap": ints(lambda s: s.low_overlap),
        "status": np.array([s.status if s else "no work yet" for s in found], dtype=object),
    }


def _creators(row: dict[str, Any]) -> list[str]:
    """The createdBy of every object of a row (who drew it)."""
    return [by for _unit, _frame, obj in frame_objects(row) if isinstance(by := obj.get("createdBy"), str) and by]


class LiveSource:
    """The Complete label rows of a workspace's benchmark and training projects, polled for changes.

    ``load`` fetches the benchmark's and every training project's Complete rows (one project in
    memory at a time while it is parsed). ``refresh`` asks each project only for the rows edited
    since the last poll and re-evaluates only the blocks they fall in.
    """

    live = True

    def __init__(self, backend: Backend, benchmark_ref: str, training_refs: list[str] | None = None) -> None:
        self.backend = backend
        self.benchmark = find_project(backend, benchmark_ref)
        self.training_refs = training_refs
        self.title = self.benchmark.title
        self.warnings: list[str] = []  # the workspace's rows are Complete by the listing already
        self.bench_watermark: datetime | None = None
        self.bench_done: dict[str, datetime | None] = {}  # data hash → last_edited_at of its Complete row
        self._pool: ThreadPoolExecutor | None = None

    # -- fetching -----------------------------------------------------------------------
    def _fetch(self, project_id: str, infos: list[LabelRowInfo], cancel: threading.Event | None = None
               ) -> list[dict[str, Any]]:
        """The full rows of the listed ones that are Complete."""
        return self._fetch_hashes(project_id, [i.data_hash for i in infos if i.done], cancel)

    def _fetch_hashes(self, project_id: str, hashes: list[str], cancel: threading.Event | None = None
                      ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for start in range(0, len(hashes), FETCH_CHUNK):
            if cancel is not None and cancel.is_set():
                raise Cancelled("evaluation cancelled")
            rows.extend(self.backend.get_label_rows(project_id, hashes[start:start + FETCH_CHUNK]))
        return rows

    def training_projects(self) -> list[tuple[Project, str]]:
        if self.training_refs:
            chosen = [find_project(self.backend, ref) for ref in self.training_refs]
        else:  # each annotator's current round (a retake's round 2 replaces round 1; history keeps both)
            chosen = current_rounds(self.backend.list_projects(), self.benchmark.id)
        out = []
        for p in chosen:
            if p.id == self.benchmark.id:
                continue
            marker = parse_training_marker(p.description)
            out.append((p, marker[1] if marker else p.title))
        return out

    def _load_benchmark(self, session: EvaluationSession, cancel: threading.Event | None) -> None:
        infos = self.backend.list_label_rows(self.benchmark.id, done_only=True)
        rows = self._fetch(self.benchmark.id, infos, cancel)
        self.bench_watermark = _newest(infos)
        self.bench_done = {i.data_hash: i.last_edited_at for i in infos}
        session.new_evaluator(rows, self.benchmark.title)

    def _load_source(self, session: EvaluationSession, project: Project, annotator: str,
                     cancel: threading.Event | None) -> TrainingSource:
        infos = self.backend.list_label_rows(project.id)
        marker = parse_training_marker(project.description)
        src = TrainingSource(project=project, annotator=annotator,
                             blocks=max(1, math.ceil(len(infos) / session.block_size)), total=len(infos),
                             marked=bool(marker and marker[1] == annotator))
        src.watermark = _newest(infos)
        src.last_activity = _newest([i for i in infos if i.started])
        for row in self._fetch(project.id, infos, cancel):
            src.put(row)
        return src

    def load(self, session: EvaluationSession, on_progress: Progress | None, cancel: threading.Event | None) -> None:
        self._load_benchmark(session, cancel)
        trainings = self.training_projects()
        if not trainings:
            raise NotFound(f"benchmark {self.benchmark.title!r} has no training projects to evaluate",
                           hint="provision annotators first: each gets a training project linked to the benchmark",
                           see=see("provision.apply", benchmark=self.benchmark.title))
        session.sources = {}
        for n, (project, annotator) in enumerate(trainings):
            if on_progress is not None:
                on_progress(n, len(trainings), project.title)
            try:
                src = self._load_source(session, project, annotator, cancel)
            except Unusable as err:  # one trainee's project refused: the others still count
                session.refused[project.id] = str(err)
                continue
            session.sources[project.id] = src
            session.add_all_blocks(src)
        if on_progress is not None:
            on_progress(len(trainings), len(trainings), "")

    def refresh(self, session: EvaluationSession, *, include_new_projects: bool = True,
                check_benchmark: bool = True) -> RefreshReport:
        """Every question goes out at once, one call each: per training project the rows edited since
        its last poll with the Complete ones' labels (``poll_label_rows``: rows edited, their labels,
        and the rows now in a final stage, metadata only: stage moves without an edit), and, when
        asked, whether the benchmark changed (``check_benchmark``) and whether new training projects
        appeared (``include_new_projects``). A refresh therefore waits for one round trip, however
        many projects there are; a live view asks the last two every few polls and on demand.
        """
        polled = list(session.sources.values())
        jobs: list[Callable[[], Any]] = [
            partial(self.backend.poll_label_rows, src.project.id, edited_after=src.watermark) for src in polled]
        if check_benchmark:
            jobs.append(partial(self.backend.list_done, self.benchmark.id))
        if include_new_projects:
            jobs.append(self.training_projects)
        answers = self._all_at_once(jobs)
        polls = answers[:len(polled)]
        bench_changed = bool(check_benchmark and answers[len(polled)] != self.bench_done)
        if bench_changed:  # the gold changed: everything is re-scored against it
            self._load_benchmark(session, None)
            for src in session.sources.values():
                session.add_all_blocks(src)
        changed_rows, changed_projects, new_projects = 0, [], []
        if include_new_projects:
            for project, annotator in answers[-1]:
                if project.id not in session.sources and project.id not in session.refused:
                    try:
                        src = self._load_source(session, project, annotator, None)
                    except Unusable as err:
                        session.refused[project.id] = str(err)
                        continue
                    session.sources[project.id] = src
                    session.add_all_blocks(src)
                    new_projects.append(project.id)
        superseded = self._drop_superseded(session) if new_projects and self.training_refs is None else set()
        for src, (infos, rows, done) in zip(polled, polls):
            if src.project.id in superseded:
                continue
            blocks, n = self._apply_poll(src, infos, rows, done)
            changed_rows += n
            session.add_blocks(src, blocks)
            if blocks:
                changed_projects.append(src.project.id)
        if changed_projects or new_projects or superseded or bench_changed or session.result is None:
            session.compute_result()
        assert session.result is not None
        return RefreshReport(changed_rows=changed_rows, changed_projects=changed_projects,
                             new_projects=new_projects, result=session.result, benchmark_changed=bench_changed)

    def _drop_superseded(self, session: EvaluationSession) -> set[str]:
        """Each annotator's latest round only: a retake's new project, found by a refresh, replaces
        the round before it in the scores (every round is scored on its own; the history keeps them).
        Returns the project ids taken out."""
        keep = {p.id for p in current_rounds([s.project for s in session.sources.values()], self.benchmark.id)}
        gone = {pid for pid, src in session.sources.items()
                if pid not in keep and (parse_training_marker(src.project.description) or ("",))[0] == self.benchmark.id}
        for pid in gone:
            session.remove_source(pid)
        return gone

    def _apply_poll(self, src: TrainingSource, infos: list[LabelRowInfo], rows: list[dict[str, Any]],
                    done: dict[str, datetime | None]) -> tuple[set[int], int]:
        """Fold one project's poll answer into its rows: (blocks to evaluate again, rows changed)."""
        blocks: set[int] = set()
        changed = 0
        if infos:
            newest = _newest(infos)
            if newest and (src.watermark is None or newest > src.watermark):
                src.watermark = newest
            worked = _newest([i for i in infos if i.started])
            if worked and (src.last_activity is None or worked > src.last_activity):
                src.last_activity = worked
            for info in infos:
                if not info.done and (gone := src.drop(info.data_hash)) is not None:
                    blocks.add(gone)
            for row in rows:
                blocks.add(src.put(row))
            changed += len(infos)
        # Stage moves that did not touch the row (see the module docstring).
        fetched = {r.get("data_hash") for r in rows}
        for h in [h for h in src.rows if h not in done and h not in fetched]:
            if (gone := src.drop(h)) is not None:
                blocks.add(gone)
                changed += 1
        moved = [h for h in done if h not in src.rows and h not in fetched]
        if moved:
            for row in self._fetch_hashes(src.project.id, moved):
                blocks.add(src.put(row))
            changed += len(moved)
            stamps = [s for h in moved if (s := done[h]) is not None]
            if stamps and (src.last_activity is None or max(stamps) > src.last_activity):
                src.last_activity = max(stamps)
        return blocks, changed

    def _all_at_once(self, jobs: list[Callable[[], Any]]) -> list[Any]:
        """Run independent backend calls concurrently (each mostly waits on the network).

        The pool lives as long as the source: its threads keep their backend connections (the
        sandbox opens one SQLite connection per thread), so a poll pays no thread or connection setup.
        """
        if len(jobs) <= 1:
            return [job() for job in jobs]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="poll")
            weakref.finalize(self, self._pool.shutdown, wait=False)
        return list(self._pool.map(_run, jobs))


class FileSource:
    """Label-row JSON exports (no workspace): a benchmark file and training files; refresh re-reads
    the files whose modification time changed. A file's annotator is the ``createdBy`` most of its
    objects carry (who the file belongs to), else its path."""

    live = False

    def __init__(self, benchmark_path: str, training_paths: list[str], *, include_incomplete: bool = False) -> None:
        from annotrain_tui.core.files import same_file, unique_files

        self.include_incomplete = include_incomplete
        self.warnings: list[str] = []
        self.benchmark_path = benchmark_path
        self.title = benchmark_path
        # each file once, whatever its spelling (as the CLI counts them); the benchmark is not a trainee
        unique = [str(p) for p in unique_files(training_paths)]
        self.dropped_duplicates = len(list(training_paths)) - len(unique)
        self.training_paths = [p for p in unique if not same_file(p, benchmark_path)]
        self.dropped_benchmark = len(unique) - len(self.training_paths)
        self._mtimes: dict[str, float] = {}

    def _read(self, path: str) -> list[dict[str, Any]]:
        from annotrain_tui.core.evaluation.parse import load_label_rows

        self._mtimes[path] = Path(path).stat().st_mtime
        finished = finished_rows([r for r in load_label_rows(path) if isinstance(r, dict)], source=path,
                                 include_incomplete=self.include_incomplete)
        self.warnings.extend(finished.warnings)
        return finished.rows

    def _read_compact(self, path: str) -> tuple[RawRows, list[bytes], str | None]:
        """The finished rows of one file as :class:`RawRows` (their JSON bytes compressed, by data
        hash), the same compressed bytes in file order (repeats kept, for the benchmark's evaluator:
        ``RawRows.unpack`` reads them), and the ``createdBy`` most of its objects carry. The file is
        split into rows without decoding them (msgspec ``Raw``), then each row is decoded, read for
        its status, hash and creators, compressed and dropped, so no dict tree of the whole file,
        nor a second copy of its bytes, is ever held, and the UI thread gets the interpreter between
        rows. A file the split refuses (not UTF-8 JSON, a BOM, ``NaN``…) is read by the dict path,
        which says where it is wrong or reads it as the CLI does."""
        import json

        import msgspec

        from annotrain_tui.core.files import read_user_bytes

        self._mtimes[path] = Path(path).stat().st_mtime
        data = read_user_bytes(path)
        compact = RawRows()
        heads: list[dict[str, Any]] = []  # per row: its status (for finished_rows), hash, creators, bytes
        try:
            for raw in msgspec.json.decode(data, type=list[msgspec.Raw]):
                text = bytes(raw)
                row = json.loads(text)
                if isinstance(row, dict):
                    h = row.get("data_hash")
                    heads.append({"annotation_task_status": row.get("annotation_task_status"),
                                  "_hash": h if isinstance(h, str) else None, "_by": _creators(row),
                                  "_raw": compact.pack(text)})
                del row, text
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError, RecursionError):
            data = b""  # the bytes go before the dict path reads the file again
            heads = []
            rows = self._read(path)  # the reference path: its located error, or its reading
            heads = [{"annotation_task_status": "COMPLETED", "_hash": r.get("data_hash")
                      if isinstance(r.get("data_hash"), str) else None, "_by": _creators(r),
                      "_raw": compact.pack(json.dumps(r).encode())} for r in rows]  # already the finished ones
            del rows
        else:
            finished = finished_rows(heads, source=path, include_incomplete=self.include_incomplete)
            self.warnings.extend(finished.warnings)
            heads = finished.rows
        del data
        counts: Counter[str] = Counter()
        for head in heads:
            counts.update(head["_by"])
            if head["_hash"] is not None:
                dict.__setitem__(compact, head["_hash"], head["_raw"])
        return compact, [head["_raw"] for head in heads], (counts.most_common(1)[0][0] if counts else None)

    def _source(self, path: str, block_size: int) -> TrainingSource:
        rows, _ordered, owner = self._read_compact(path)
        src = TrainingSource(project=Project(id=path, title=path), annotator=owner or path,
                             blocks=max(1, math.ceil(len(rows) / block_size)), total=len(rows))
        src.rows = rows
        for h in rows:
            src.members.setdefault(src.block_of(h), set()).add(h)
        return src

    def load(self, session: EvaluationSession, on_progress: Progress | None, cancel: threading.Event | None) -> None:
        import gc
        import json

        self.warnings = []
        collecting = gc.isenabled()
        gc.disable()  # no cyclic GC while the files load: it rescanned the growing heap 2,400 times
        try:
            compact, ordered, _owner = self._read_compact(self.benchmark_path)
            # the evaluator reads every row in order (repeats said as the CLI says them), one at a time
            session.evaluator = Evaluator((json.loads(compact.unpack(raw)) for raw in ordered), session.settings,
                                          benchmark_source=self.benchmark_path, keep_objects=session.keep_objects)
            session.bench_rows = compact  # the benchmark's rows compressed: the evaluator holds its arrays
            del ordered
            self._load_training(session, on_progress, cancel)
        finally:
            if collecting:
                gc.enable()

    def _load_training(self, session: EvaluationSession, on_progress: Progress | None,
                       cancel: threading.Event | None) -> None:
        session.sources = {}
        for n, path in enumerate(self.training_paths):
            if on_progress is not None:
                on_progress(n, len(self.training_paths), path)
            if cancel is not None and cancel.is_set():
                raise Cancelled("evaluation cancelled")
            src = self._source(path, session.block_size)
            session.sources[path] = src
            session.add_all_blocks(src)

    def refresh(self, session: EvaluationSession, *, include_new_projects: bool = True,
                check_benchmark: bool = True) -> RefreshReport:
        changed = [p for p in [self.benchmark_path, *self.training_paths]
                   if Path(p).exists() and Path(p).stat().st_mtime != self._mtimes.get(p)]
        if changed:
            self.load(session, None, None)
            session.compute_result()
        assert session.result is not None
        return RefreshReport(changed_rows=0, changed_projects=changed, new_projects=[], result=session.result,
                             benchmark_changed=self.benchmark_path in changed)
