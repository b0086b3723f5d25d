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

import codecs
import math
import threading
import weakref
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

import msgspec
import numpy as np

from annotrain_tui.core.backends.base import Backend
from annotrain_tui.core.columns import Columns
from annotrain_tui.core.errors import Cancelled, NotFound, Unusable
from annotrain_tui.core.evaluation.engine import Evaluator
from annotrain_tui.core.evaluation.labels import finished_rows, safe_text
from annotrain_tui.core.evaluation.results import AnnotatorScore, EvaluationResult, EvaluationSettings
from annotrain_tui.core.files import disk_identity
from annotrain_tui.core.lazy import lazy_module
from annotrain_tui.core.lookup import find_project
from annotrain_tui.core.markers import current_rounds, parse_training_marker
from annotrain_tui.core.models import LabelRowInfo, Project
from annotrain_tui.core.remedies import see
from annotrain_tui.core.startup import no_cyclic_gc
from annotrain_tui.core.text import shown

if TYPE_CHECKING:
    import pandas as pd

    from annotrain_tui.core.evaluation.fastread import LoadedTable
    from annotrain_tui.core.evaluation.parse import ObjectTable
    from annotrain_tui.core.evaluation.views import EvaluationSnapshot, Filter
else:
    pd = lazy_module("pandas")  # the annotator table (a screen's first view) needs no frame

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

    members: dict[int, set[str]] = field(default_factory=dict)  # block → data hashes in it (a workspace's)
    #: a file: scored whole, as one set named the file (its ``rows`` a :class:`FileRows`)
    whole: bool = False

    def block_of(self, data_hash: str) -> int:
        return zlib.crc32(data_hash.encode()) % self.blocks

    def block_name(self, block: int) -> str:
        return self.project.id if self.whole else f"{self.project.id}#{block}"

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


class FileRows(Mapping[str, Any]):
    """A file source's finished label rows by data hash, read from the file when asked, not kept.

    Scoring needs none of them (a file is scored from its :class:`~.parse.ObjectTable`, as the
    CLI scores it); the item view draws one item at a time, so a row is read again from the file
    when asked: the file is split into rows without decoding them (msgspec ``Raw``), only each
    row's hash and status are decoded, and the one row asked for is decoded whole. The rule is the
    load's: the last finished row of a data hash (:func:`~.labels.finished_rows`). A file the split
    refuses (a ``NaN``, not UTF-8…) is read by the dict path, as the load read it. A file changed
    since it was scored is :class:`Unusable` (what is drawn would not be what was scored)."""

    def __init__(self, path: str, hashes: Iterable[Any], stamp: tuple[int, ...], *,
                 include_incomplete: bool = False) -> None:
        self.path = path
        self.stamp = stamp
        self.include_incomplete = include_incomplete
        self._keys: dict[str, None] = dict.fromkeys(h for h in hashes if isinstance(h, str))

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __getitem__(self, key: str) -> dict[str, Any]:
        if key not in self._keys:
            raise KeyError(key)
        return self._read({key})[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self._keys else default

    def values(self) -> Any:
        found = self._read(None)
        return [found[k] for k in self._keys if k in found]

    def items(self) -> Any:
        found = self._read(None)
        return [(k, found[k]) for k in self._keys if k in found]

    def _read(self, wanted: set[str] | None) -> dict[str, dict[str, Any]]:
        """The finished rows of the file by data hash (only those ``wanted``, or all)."""
        import json

        import msgspec

        from annotrain_tui.core.files import read_user_bytes

        if disk_identity(self.path) != self.stamp:
            raise Unusable(f"{shown(self.path)} changed since it was scored (or is gone): its rows are not the ones "
                           "scored", hint="press r on the evaluation screen to read the files again")
        data = read_user_bytes(self.path)
        try:
            raws = _ROWS.decode(memoryview(data)[3:] if data[:3] == codecs.BOM_UTF8 else data)
            heads = [_HEAD.decode(r) for r in raws]
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError, RecursionError):
            from annotrain_tui.core.evaluation.parse import load_label_rows

            del data
            rows = [r for r in load_label_rows(self.path) if isinstance(r, dict)]
            kept = finished_rows(rows, source=self.path, include_incomplete=self.include_incomplete).rows
            return {h: r for r in kept if isinstance(h := r.get("data_hash"), str) and (wanted is None or h in wanted)}
        stubs = [{"annotation_task_status": head.annotation_task_status, "_i": i} for i, head in enumerate(heads)]
        kept = finished_rows(stubs, source=self.path, include_incomplete=self.include_incomplete).rows
        last: dict[str, int] = {}
        for stub in kept:
            h = heads[stub["_i"]].data_hash
            if isinstance(h, str) and (wanted is None or h in wanted):
                last[h] = stub["_i"]
        return {h: json.loads(bytes(raws[i])) for h, i in last.items()}


class _Head(msgspec.Struct, gc=False):
    """What a row is looked up by: the rest of it is skipped by the decoder."""

    data_hash: Any = None
    annotation_task_status: Any = None


_ROWS = msgspec.json.Decoder(list[msgspec.Raw])
_HEAD = msgspec.json.Decoder(_Head)


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
        self.bench_rows: Mapping[str, dict[str, Any]] = {}
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
        if isinstance(self.source, FileSource) and self.keep_objects:  # the rows, when a view asks
            result.keep_objects = True
            result.objects_from = partial(self._file_objects, result.settings, self.source.scored(self))
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
            before, self.settings = self.settings, settings
            if isinstance(self.source, FileSource):  # files: read again (they keep no rows)
                try:
                    self.source.load(self, None, None)
                except BaseException:
                    self.settings = before  # nothing was changed: the scores shown are still the session's
                    raise
                return self.compute_result()
            self.new_evaluator(list(self.bench_rows.values()), self.title)
            for src in self.sources.values():
                self.add_all_blocks(src)
            return self.compute_result()

    def evaluate_with(self, settings: EvaluationSettings) -> EvaluationResult:
        """The same rows evaluated with other settings, once, leaving the session as it is (the
        TUI's seed CSV runs the seed algorithm whatever matching the screen shows)."""
        if isinstance(self.source, FileSource):  # the files as they were scored, read again
            return self._file_result(settings)
        with self._lock:
            evaluator = Evaluator(list(self.bench_rows.values()), settings, benchmark_source=self.title,
                                  keep_objects=True)
            # one block per project, as the CLI reads it: a workspace's rows by data hash
            for src in self.sources.values():
                rows = src.rows
                evaluator.add(src.block_name(0), [rows[h] for h in sorted(rows)], annotator=src.annotator,
                              credit_owner=src.marked)
        return evaluator.result()

    def _file_result(self, settings: EvaluationSettings) -> EvaluationResult:
        """A file session's files evaluated again with ``settings``, with their per-object rows, as
        the load read them (each file's table, one set named the file, the same annotators);
        :class:`Unusable` if a file changed since it was scored."""
        assert isinstance(self.source, FileSource)
        with self._lock:
            scored = self.source.scored(self)
        return self.source.evaluate(settings, scored)

    def _file_objects(self, settings: EvaluationSettings, scored: ScoredFiles) -> pd.DataFrame:
        """The per-object rows of the result scored with ``settings`` on the files as ``scored``."""
        assert isinstance(self.source, FileSource)
        objects = self.source.evaluate(settings, scored).objects
        assert objects is not None  # kept: the evaluation was asked for them
        return objects

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
        return self.annotator_columns().to_pandas(infer=("last_activity",))

    def annotator_columns(self) -> Columns:
        """:meth:`annotator_frame` as plain columns (``last_activity`` a datetime or None): no pandas."""
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
            "last_activity": [p["last_activity"] for p in progress],
        }
        return Columns({c: columns[c] for c in ANNOTATOR_COLUMNS})


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


def _owner(table: ObjectTable) -> str | None:
    """The ``createdBy`` most of a file's compared objects carry (the first of a tie, in file order)."""
    vocab = table.created_by_vocab
    if not len(table) or not len(vocab):
        return None
    counts = np.bincount(table.created_by_code, minlength=len(vocab))
    counts[[not (isinstance(v, str) and v) for v in vocab.tolist()]] = 0
    best = int(np.argmax(counts))
    return str(vocab[best]) if counts[best] else None


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


@dataclass(frozen=True)
class ScoredFiles:
    """What a file session scored: each file's disk_identity then, and each training file's
    (path, annotator, credit_owner) set."""

    stamps: dict[str, tuple[int, ...]]
    sets: list[tuple[str, str, bool]]


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
        self._stamps: dict[str, tuple[int, ...]] = {}  # per file: its disk_identity when last scored

    def _table(self, path: str, stamp: tuple[int, ...] | None = None) -> tuple[LoadedTable, tuple[int, ...]]:
        """The file's table by the CLI's reader (the typed decode; the dict path for a file it cannot
        take as it is), and the file's size and modification time when it was read; with ``stamp``,
        :class:`Unusable` unless the file still has them (it is read again as it was scored)."""
        from annotrain_tui.core.evaluation.fastread import load_table
        from annotrain_tui.core.files import read_user_bytes

        now = disk_identity(path)
        if stamp is not None and now != stamp:
            raise Unusable(f"{shown(path)} changed since it was scored (or is gone): what it holds now is not what "
                           "is shown", hint="press r on the evaluation screen to read the files again")
        data = read_user_bytes(path)  # a file gone or unreadable: its one line (UnreadableInput)
        loaded = load_table(data, source=path, include_incomplete=self.include_incomplete)
        return loaded, now or ()  # (stat'ed, then gone before the read: it never matches again)

    def _rows(self, path: str, loaded: LoadedTable, stamp: tuple[int, ...]) -> FileRows:
        return FileRows(path, loaded.table.rows["data_hash"].tolist(), stamp, include_incomplete=self.include_incomplete)

    def load(self, session: EvaluationSession, on_progress: Progress | None, cancel: threading.Event | None) -> None:
        """Each file read by the CLI's reader into its table and scored whole, one set named the file;
        the evaluator keeps each set's totals only (what the annotator table shows), as the CLI's
        summary does: the per-object rows are the files evaluated again when a view first asks
        (:meth:`evaluate`), and the rows drawn are read from the file (:class:`FileRows`)."""
        warnings: list[str] = []
        with no_cyclic_gc():  # no cyclic GC while the files load: it rescanned the growing heap 2,400 times
            loaded, stamp = self._table(self.benchmark_path)
            stamps = {self.benchmark_path: stamp}
            warnings.extend(loaded.warnings)
            evaluator = Evaluator(loaded.table, session.settings, benchmark_source=self.benchmark_path,
                                  keep_objects=False)
            bench_rows = self._rows(self.benchmark_path, loaded, stamp)
            del loaded
            sources: dict[str, TrainingSource] = {}
            for n, path in enumerate(self.training_paths):
                if on_progress is not None:
                    on_progress(n, len(self.training_paths), path)
                if cancel is not None and cancel.is_set():
                    raise Cancelled("evaluation cancelled")
                loaded, stamp = self._table(path)
                stamps[path] = stamp
                warnings.extend(loaded.warnings)
                rows = self._rows(path, loaded, stamp)
                src = sources[path] = TrainingSource(project=Project(id=path, title=path), total=len(rows),
                                                     annotator=_owner(loaded.table) or path, whole=True)
                src.rows = rows  # type: ignore[assignment]  # a Mapping read from the file when asked
                evaluator.add(src.block_name(0), loaded.table, annotator=src.annotator, credit_owner=src.marked)
                del loaded
        # the session changes only once every file is read (a failure leaves it as it was)
        session.evaluator, session.bench_rows, session.sources = evaluator, bench_rows, sources
        self.warnings, self._stamps = warnings, stamps

    def scored(self, session: EvaluationSession) -> ScoredFiles:
        """What the load scored, to read the same again: each file's stamp, each training file's set."""
        return ScoredFiles(dict(self._stamps), [(s.project.id, s.annotator, s.marked) for s in session.sources.values()])

    def evaluate(self, settings: EvaluationSettings, scored: ScoredFiles) -> EvaluationResult:
        """The files read again as they were scored (:class:`Unusable` if one changed since) and
        evaluated with ``settings``, keeping the per-object rows, the sets as the load made them."""
        with no_cyclic_gc():
            loaded, _ = self._table(self.benchmark_path, scored.stamps.get(self.benchmark_path))
            evaluator = Evaluator(loaded.table, settings, benchmark_source=self.benchmark_path, keep_objects=True)
            del loaded
            for path, annotator, credit in scored.sets:
                loaded, _ = self._table(path, scored.stamps.get(path))
                evaluator.add(path, loaded.table, annotator=annotator, credit_owner=credit)
                del loaded
        return evaluator.result()

    def refresh(self, session: EvaluationSession, *, include_new_projects: bool = True,
                check_benchmark: bool = True) -> RefreshReport:
        # the stamps the load scored (disk_identity): a file gone counts as changed (the load says so)
        changed = [p for p in [self.benchmark_path, *self.training_paths] if disk_identity(p) != self._stamps.get(p)]
        if changed:
            self.load(session, None, None)
            session.compute_result()
        assert session.result is not None
        return RefreshReport(changed_rows=0, changed_projects=changed, new_projects=[], result=session.result,
                             benchmark_changed=self.benchmark_path in changed)
