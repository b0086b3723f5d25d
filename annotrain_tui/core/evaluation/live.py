"""Online evaluation: a benchmark project and its training projects, kept up to date.

``LiveEvaluation.load()`` fetches the Complete label rows of the benchmark and of every training
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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from annotrain_tui.core.errors import Cancelled, NotFound, Unusable
from annotrain_tui.core.evaluation.engine import EvaluationResult, Evaluator, PassMark
from annotrain_tui.core.lookup import find_project
from annotrain_tui.core.markers import parse_training_marker
from annotrain_tui.core.models import LabelRowInfo, Project

FETCH_CHUNK = 500
ANNOTATOR_COLUMNS = ("annotator", "projects", "complete", "total", "objects", "benchmark_objects", "matched",
                     "mean_iou", "class_accuracy", "precision", "recall", "f1", "missed", "extra", "low_overlap",
                     "status", "last_activity")


@dataclass
class TrainingSource:
    project: Project
    annotator: str  # the marker's email, else the project title
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


class LiveEvaluation:
    def __init__(self, backend: Any, benchmark_ref: str, training_refs: list[str] | None = None, *,
                 matching: str = "optimal", iou_threshold: float = 0.5, low_overlap: float = 0.8,
                 shape: str | None = None, pass_mark: PassMark | None = None, block_size: int = 32,
                 keep_objects: bool = True) -> None:
        self.backend = backend
        self.benchmark = find_project(backend, benchmark_ref)
        self.training_refs = training_refs
        self.options = dict(matching=matching, iou_threshold=iou_threshold, low_overlap=low_overlap, shape=shape,
                            pass_mark=pass_mark or PassMark(), keep_objects=keep_objects)
        self.block_size = max(1, block_size)
        self._init_state()

    def _init_state(self) -> None:
        """What a session holds before load() (shared with OfflineEvaluation)."""
        self.sources: dict[str, TrainingSource] = {}
        self.evaluator: Evaluator | None = None
        self.bench_watermark: datetime | None = None
        self.bench_done: dict[str, datetime | None] = {}  # data hash → last_edited_at of its Complete row
        self.bench_rows: dict[str, dict[str, Any]] = {}
        self.result: EvaluationResult | None = None
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        #: Training projects whose label rows were refused (project id → message): left out, said.
        self.refused: dict[str, str] = {}

    def _result(self) -> EvaluationResult:
        assert self.evaluator is not None
        result = self.evaluator.result()
        result.warnings.extend(f"a training project was left out: {m}" for m in self.refused.values())
        return result

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
        else:
            chosen = [p for p in self.backend.list_projects()
                      if (parse_training_marker(p.description) or ("",))[0] == self.benchmark.id]
        out = []
        for p in chosen:
            if p.id == self.benchmark.id:
                continue
            marker = parse_training_marker(p.description)
            out.append((p, marker[1] if marker else p.title))
        return out

    def _new_evaluator(self, cancel: threading.Event | None) -> None:
        infos = self.backend.list_label_rows(self.benchmark.id, done_only=True)
        rows = self._fetch(self.benchmark.id, infos, cancel)
        self.bench_watermark = _newest(infos)
        self.bench_done = {i.data_hash: i.last_edited_at for i in infos}
        self.bench_rows = {r["data_hash"]: r for r in rows}
        self.evaluator = Evaluator(rows, benchmark_source=self.benchmark.title, **self.options)

    def _load_source(self, project: Project, annotator: str, cancel: threading.Event | None) -> TrainingSource:
        infos = self.backend.list_label_rows(project.id)
        marker = parse_training_marker(project.description)
        src = TrainingSource(project=project, annotator=annotator,
                             blocks=max(1, math.ceil(len(infos) / self.block_size)), total=len(infos),
                             marked=bool(marker and marker[1] == annotator))
        src.watermark = _newest(infos)
        src.last_activity = _newest([i for i in infos if i.started])
        for row in self._fetch(project.id, infos, cancel):
            src.put(row)
        return src

    # -- public -------------------------------------------------------------------------
    def load(self, *, on_progress: Callable[[int, int, str], None] | None = None,
             cancel: threading.Event | None = None) -> EvaluationResult:
        with self._lock:
            self._new_evaluator(cancel)
            trainings = self.training_projects()
            if not trainings:
                raise NotFound(f"benchmark {self.benchmark.title!r} has no training projects to evaluate",
                               hint="provision annotators first, or name projects with --training")
            self.sources = {}
            for n, (project, annotator) in enumerate(trainings):
                if on_progress is not None:
                    on_progress(n, len(trainings), project.title)
                try:
                    src = self._load_source(project, annotator, cancel)
                except Unusable as err:  # one trainee's project refused: the others still count
                    self.refused[project.id] = str(err)
                    continue
                self.sources[project.id] = src
                self._add_all_blocks(src)
            if on_progress is not None:
                on_progress(len(trainings), len(trainings), "")
            self.result = self._result()
            return self.result

    def _add_all_blocks(self, src: TrainingSource) -> None:
        assert self.evaluator is not None
        for block in range(src.blocks):
            self.evaluator.add(src.block_name(block), src.block_rows(block), annotator=src.annotator,
                                   credit_owner=src.marked)

    def refresh(self, *, include_new_projects: bool = True, check_benchmark: bool = True) -> RefreshReport:
        """Fetch only what changed since the last poll and re-evaluate only those blocks.

        Every question goes out at once, one call each: per training project the rows edited since
        its last poll with the Complete ones' labels (``get_edited_label_rows``) and the rows now in
        a final stage (metadata only: stage moves without an edit), and, when asked,
        whether the benchmark changed (``check_benchmark``) and whether new training projects
        appeared (``include_new_projects``). A refresh therefore waits for one round trip, however
        many projects there are; a live view asks the last two every few polls and on demand.
        """
        with self._lock:
            assert self.evaluator is not None, "load() first"
            polled = list(self.sources.values())
            jobs: list[Callable[[], Any]] = [
                partial(self.backend.poll_label_rows, src.project.id, edited_after=src.watermark) for src in polled]
            ask_benchmark = bool(check_benchmark and self.evaluator is not None)
            if ask_benchmark:
                jobs.append(partial(self.backend.list_done, self.benchmark.id))
            if include_new_projects:
                jobs.append(self.training_projects)
            answers = self._all_at_once(jobs)
            polls = answers[:len(polled)]
            bench_changed = False
            if ask_benchmark:
                bench_changed = answers[len(polled)] != self.bench_done
            if bench_changed:  # the gold changed: everything is re-scored against it
                self._new_evaluator(None)
                for src in self.sources.values():
                    self._add_all_blocks(src)
            changed_rows, changed_projects, new_projects = 0, [], []
            if include_new_projects:
                for project, annotator in answers[-1]:
                    if project.id not in self.sources and project.id not in self.refused:
                        try:
                            src = self._load_source(project, annotator, None)
                        except Unusable as err:
                            self.refused[project.id] = str(err)
                            continue
                        self.sources[project.id] = src
                        self._add_all_blocks(src)
                        new_projects.append(project.id)
            for src, (infos, rows, done) in zip(polled, polls):
                blocks: set[int] = set()
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
                    changed_rows += len(infos)
                # Stage moves that did not touch the row (see the module docstring).
                fetched = {r.get("data_hash") for r in rows}
                for h in [h for h in src.rows if h not in done and h not in fetched]:
                    if (gone := src.drop(h)) is not None:
                        blocks.add(gone)
                        changed_rows += 1
                moved = [h for h in done if h not in src.rows and h not in fetched]
                if moved:
                    for row in self._fetch_hashes(src.project.id, moved):
                        blocks.add(src.put(row))
                    changed_rows += len(moved)
                    stamps = [done[h] for h in moved if done[h] is not None]
                    if stamps and (src.last_activity is None or max(stamps) > src.last_activity):
                        src.last_activity = max(stamps)
                for block in blocks:
                    self.evaluator.add(src.block_name(block), src.block_rows(block), annotator=src.annotator,
                                   credit_owner=src.marked)
                if blocks:
                    changed_projects.append(src.project.id)
            if changed_projects or new_projects or bench_changed or self.result is None:
                self.result = self._result()
            return RefreshReport(changed_rows=changed_rows, changed_projects=changed_projects,
                                 new_projects=new_projects, result=self.result, benchmark_changed=bench_changed)

    def _all_at_once(self, jobs: list[Callable[[], Any]]) -> list[Any]:
        """Run independent backend calls concurrently (each mostly waits on the network).

        The pool lives as long as the session: its threads keep their backend connections (the
        sandbox opens one SQLite connection per thread), so a poll pays no thread or connection setup.
        """
        if len(jobs) <= 1:
            return [job() for job in jobs]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="poll")
            weakref.finalize(self, self._pool.shutdown, wait=False)
        return list(self._pool.map(_run, jobs))

    def rescore(self, **options: Any) -> EvaluationResult:
        """Evaluate again with other options (e.g. the IoU threshold), from the rows already fetched."""
        with self._lock:
            self.options.update(options)
            self.evaluator = Evaluator(list(self.bench_rows.values()), benchmark_source=self.benchmark.title,
                                       **self.options)
            for src in self.sources.values():
                self._add_all_blocks(src)
            self.result = self._result()
            return self.result

    def item_rows(self, data_hash: str, annotator: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The benchmark's and the annotator's label rows of one data unit (for the item view)."""
        mine = None
        for src in self.sources.values():
            row = src.rows.get(data_hash)
            if row is not None and (src.annotator == annotator or mine is None):
                mine = row
                if src.annotator == annotator:
                    break
        return self.bench_rows.get(data_hash), mine

    @property
    def live(self) -> bool:
        return True

    @property
    def title(self) -> str:
        return self.benchmark.title

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
        found = [scores.get(n) for n in names]

        def ints(get: Callable[[Any], int]) -> np.ndarray:
            return np.array([get(s) if s else 0 for s in found], dtype=np.int64)

        def rates(get: Callable[[Any], float | None]) -> np.ndarray:
            return np.array([np.nan if s is None or (v := get(s)) is None else v for s in found], dtype=float)

        columns: dict[str, Any] = {
            "annotator": np.array(names, dtype=object),
            "projects": np.array([p["projects"] for p in progress], dtype=np.int64),
            "complete": np.array([p["complete"] for p in progress], dtype=np.int64),
            "total": np.array([p["total"] for p in progress], dtype=np.int64),
            "objects": ints(lambda s: s.objects), "benchmark_objects": ints(lambda s: s.benchmark_objects),
            "matched": ints(lambda s: s.matched),
            "mean_iou": rates(lambda s: s.mean_iou), "class_accuracy": rates(lambda s: s.class_accuracy),
            "precision": rates(lambda s: s.precision), "recall": rates(lambda s: s.recall),
            "f1": rates(lambda s: s.f1),
            "missed": ints(lambda s: s.missed), "extra": ints(lambda s: s.extra),
            "low_overlap": ints(lambda s: s.low_overlap),
            "status": np.array([s.status if s else "no work yet" for s in found], dtype=object),
            "last_activity": pd.Series([p["last_activity"] for p in progress], dtype=None if names else object),
        }
        return pd.DataFrame(columns, columns=list(ANNOTATOR_COLUMNS))


class OfflineEvaluation(LiveEvaluation):
    """The same session over label-row JSON exports (no workspace): refresh re-reads changed files."""

    def __init__(self, benchmark_path: str, training_paths: list[str], **options: Any) -> None:
        from annotrain_tui.core.files import same_file, unique_files

        self.benchmark_path = benchmark_path
        # each file once, whatever its spelling (as the CLI counts them); the benchmark is not a trainee
        unique = [str(p) for p in unique_files(training_paths)]
        self.dropped_duplicates = len(list(training_paths)) - len(unique)
        self.training_paths = [p for p in unique if not same_file(p, benchmark_path)]
        self.dropped_benchmark = len(unique) - len(self.training_paths)
        self.backend = None
        self.benchmark = Project(id=benchmark_path, title=benchmark_path)
        self.training_refs = None
        block_size = options.pop("block_size", 32)
        self.options = dict(matching="optimal", iou_threshold=0.5, low_overlap=0.8, shape=None,
                            pass_mark=PassMark(), keep_objects=True)
        self.options.update(options)
        self.block_size = block_size
        self._init_state()
        self._mtimes: dict[str, float] = {}

    @property
    def live(self) -> bool:
        return False

    def _read(self, path: str) -> list[dict[str, Any]]:
        from pathlib import Path

        from annotrain_tui.core.evaluation.parse import load_label_rows

        self._mtimes[path] = Path(path).stat().st_mtime
        return [r for r in load_label_rows(path) if isinstance(r, dict)]

    @staticmethod
    def _main_creator(rows: list[dict[str, Any]]) -> str | None:
        """The createdBy most objects of an export carry (who the file belongs to)."""
        from collections import Counter

        from annotrain_tui.core.evaluation.labels import frame_objects

        counts: Counter[str] = Counter()
        for row in rows:
            for _unit, _frame, obj in frame_objects(row):
                if isinstance(obj.get("createdBy"), str) and obj["createdBy"]:
                    counts[obj["createdBy"]] += 1
        return counts.most_common(1)[0][0] if counts else None

    def _source(self, path: str) -> TrainingSource:
        rows = self._read(path)
        owner = self._main_creator(rows) or path
        src = TrainingSource(project=Project(id=path, title=path), annotator=owner,
                             blocks=max(1, math.ceil(len(rows) / self.block_size)), total=len(rows))
        for row in rows:
            if isinstance(row.get("data_hash"), str):
                src.put(row)
        return src

    def load(self, *, on_progress=None, cancel=None) -> EvaluationResult:
        with self._lock:
            rows = self._read(self.benchmark_path)
            self.bench_rows = {r["data_hash"]: r for r in rows if isinstance(r.get("data_hash"), str)}
            self.evaluator = Evaluator(rows, benchmark_source=self.benchmark_path, **self.options)
            self.sources = {}
            for n, path in enumerate(self.training_paths):
                if on_progress is not None:
                    on_progress(n, len(self.training_paths), path)
                if cancel is not None and cancel.is_set():
                    raise Cancelled("evaluation cancelled")
                src = self._source(path)
                self.sources[path] = src
                self._add_all_blocks(src)
            self.result = self.evaluator.result()
            return self.result

    def refresh(self, *, include_new_projects: bool = True, check_benchmark: bool = True) -> RefreshReport:
        from pathlib import Path

        changed = [p for p in [self.benchmark_path, *self.training_paths]
                   if Path(p).exists() and Path(p).stat().st_mtime != self._mtimes.get(p)]
        if changed:
            self.load()
        assert self.result is not None
        return RefreshReport(changed_rows=0, changed_projects=changed, new_projects=[], result=self.result,
                             benchmark_changed=self.benchmark_path in changed)
