"""Online evaluation on the sandbox: load, then refresh only what changed."""

from __future__ import annotations

from datetime import UTC

import pytest

from annotrain_tui.core.backends.sandbox.demo import annotate_like
from annotrain_tui.core.backends.sandbox.labels import objects_of
from annotrain_tui.core.errors import NotFound
from annotrain_tui.core.evaluation import evaluate
from annotrain_tui.core.evaluation.live import LiveEvaluation


class CountingBackend:
    """Counts the label rows fetched, to show a refresh fetches only what changed."""

    name = "sandbox"

    def __init__(self, inner):
        self.inner = inner
        self.fetched = 0

    def __getattr__(self, attr):
        return getattr(self.inner, attr)

    def get_label_rows(self, project_id, hashes):
        self.fetched += len(hashes)
        return self.inner.get_label_rows(project_id, hashes)

    def get_edited_label_rows(self, project_id, **kwargs):
        infos, rows = self.inner.get_edited_label_rows(project_id, **kwargs)
        self.fetched += len(rows)
        return infos, rows

    def poll_label_rows(self, project_id, **kwargs):
        infos, rows, done = self.inner.poll_label_rows(project_id, **kwargs)
        self.fetched += len(rows)
        return infos, rows, done


def _flat(doc: dict, prefix: str = "") -> dict:
    """A nested summary as one level of dotted keys (pytest.approx compares flat mappings only)."""
    out = {}
    for k, v in doc.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def test_live_load_equals_a_one_shot_evaluation(demo):
    sb, ids = demo
    live = LiveEvaluation(sb, ids["benchmark"])
    result = live.load()
    bench_rows = sb.get_label_rows(ids["benchmark"], [r.data_hash for r in sb.list_label_rows(ids["benchmark"])])
    sets = []
    for src in live.sources.values():
        done = [r.data_hash for r in sb.list_label_rows(src.project.id, stage="Complete")]
        sets.append((src.project.id, sb.get_label_rows(src.project.id, done)))
    reference = evaluate(bench_rows, sets)
    got, want = result.summary_json()["annotators"], reference.summary_json()["annotators"]
    assert got.keys() == want.keys()
    for name in want:  # blocks sum IoUs in another order: equal up to rounding
        assert _flat(got[name]) == pytest.approx(_flat(want[name]), rel=1e-12), name
    frame = live.annotator_frame()
    alex = frame.set_index("annotator").loc["alex.kim@example.com"]
    assert (alex["complete"], alex["total"], alex["projects"]) == (60, 60, 1)


def test_refresh_fetches_only_changed_rows_and_updates_scores(demo):
    sb, ids = demo
    counting = CountingBackend(sb)
    live = LiveEvaluation(counting, ids["benchmark"])
    first = live.load()
    loaded = counting.fetched
    assert loaded == 60 + 60 + 38 + 14
    nothing = live.refresh()
    assert nothing.changed_rows == 0 and counting.fetched == loaded
    # Chidi completes one more task, perfectly
    chidi = next(s for s in live.sources.values() if s.annotator == "chidi.okafor@example.com")
    todo = next(r for r in sb.list_label_rows(chidi.project.id) if r.stage != "Complete")
    gold = objects_of(sb.get_label_rows(ids["benchmark"], [todo.data_hash])[0])
    classes = sb.ontology_structure(chidi.project.ontology_id)["objects"]
    import random
    from datetime import datetime

    labels = annotate_like(random.Random(1), gold, classes, skill=1.0, email="chidi.okafor@example.com",
                           when=datetime.now(UTC))
    sb.save_labels(chidi.project.id, todo.data_hash, labels, stage="Complete")
    report = live.refresh()
    assert report.changed_rows == 1 and report.changed_projects == [chidi.project.id]
    assert counting.fetched == loaded + 1
    before = first.annotators["chidi.okafor@example.com"]
    after = report.result.annotators["chidi.okafor@example.com"]
    assert after.benchmark_objects == before.benchmark_objects + len(gold)
    assert live.annotator_frame().set_index("annotator").loc["chidi.okafor@example.com", "complete"] == 15
    # untouched annotators keep the same scores
    assert report.result.annotators["alex.kim@example.com"] == first.annotators["alex.kim@example.com"]


def test_a_row_sent_back_from_complete_leaves_the_evaluation(demo):
    sb, ids = demo
    live = LiveEvaluation(sb, ids["benchmark"])
    live.load()
    bea = next(s for s in live.sources.values() if s.annotator == "bea.santos@example.com")
    row = next(iter(bea.rows))
    sb.save_labels(bea.project.id, row, [], stage="Annotate")
    live.refresh()
    assert row not in bea.rows
    assert live.annotator_frame().set_index("annotator").loc["bea.santos@example.com", "complete"] == 37


def test_new_training_projects_are_picked_up(demo):
    sb, ids = demo
    live = LiveEvaluation(sb, ids["benchmark"])
    live.load()
    from annotrain_tui.core.markers import training_description

    bench = sb.get_project(ids["benchmark"])
    p = sb.create_project("Annotator Training - New", description=training_description("New", "new@example.com",
                                                                                       bench.id),
                          dataset_ids=bench.dataset_ids, ontology_id=bench.ontology_id)
    report = live.refresh()
    assert report.new_projects == [p.id]
    assert "new@example.com" in set(live.annotator_frame()["annotator"])


def test_a_benchmark_without_training_projects_is_a_clear_error(sandbox):
    onto = sandbox.add_ontology("O", [{"name": "Car", "shape": "bounding_box"}])
    sandbox.create_project("Lonely", description="", dataset_ids=[], ontology_id=onto.id)
    with pytest.raises(NotFound, match="no training projects"):
        LiveEvaluation(sandbox, "Lonely").load()


class Rendezvous:
    """Records protocol calls; once armed, every call waits until all ``parties`` calls are in flight,
    so calls made one after another never get through (a broken barrier, not a slow test)."""

    name = "sandbox"

    def __init__(self, inner):
        self.inner, self.calls, self.barrier = inner, [], None

    def __getattr__(self, attr):
        from annotrain_tui.core.backends.base import PROTOCOL_METHODS

        target = getattr(self.inner, attr)
        if attr not in PROTOCOL_METHODS:
            return target

        def call(*args, **kwargs):
            self.calls.append(attr)
            if self.barrier is not None:
                self.barrier.wait(timeout=30)
            return target(*args, **kwargs)

        return call


def test_a_refresh_asks_everything_at_once_one_call_per_question(demo):
    import threading

    sb, ids = demo
    backend = Rendezvous(sb)
    live = LiveEvaluation(backend, ids["benchmark"])
    live.load()
    n = len(live.sources)
    chidi = next(s for s in live.sources.values() if s.annotator == "chidi.okafor@example.com")
    todo = next(r for r in sb.list_label_rows(chidi.project.id) if r.stage != "Complete")
    sb.save_labels(chidi.project.id, todo.data_hash, [], stage="Complete")
    backend.calls.clear()
    # every project's poll, the benchmark check, the project list
    backend.barrier = threading.Barrier(n + 2)
    report = live.refresh()
    assert sorted(backend.calls) == sorted(["poll_label_rows"] * n + ["list_done"]
                                           + ["list_projects"])
    assert report.changed_rows == 1 and report.changed_projects == [chidi.project.id]
    backend.calls.clear()
    backend.barrier = None
    live.refresh(include_new_projects=False, check_benchmark=False)
    # a plain poll: one call per project (its edits, and which rows are in a final stage now)
    assert backend.calls == ["poll_label_rows"] * n


def test_a_training_project_whose_rows_are_refused_is_left_out_and_said(demo):
    """Issue 12: a caller without access to one trainee's project still evaluates the others."""
    from annotrain_tui.core.errors import PermissionDenied

    sb, ids = demo
    first = LiveEvaluation(sb, ids["benchmark"])
    first.load()
    victim = next(iter(first.sources.values()))

    class Refusing:
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            target = getattr(self.inner, name)
            if name not in ("list_label_rows", "get_label_rows", "get_edited_label_rows"):
                return target

            def call(project_id, *args, **kwargs):
                if project_id == victim.project.id:
                    raise PermissionDenied(f"no access to label rows of project {project_id}")
                return target(project_id, *args, **kwargs)
            return call

    live = LiveEvaluation(Refusing(sb), ids["benchmark"])
    result = live.load()
    assert victim.project.id not in live.sources and len(live.sources) == len(first.sources) - 1
    assert any("was left out" in w and victim.project.id in w for w in result.warnings)
    assert live.refresh().result.warnings == result.warnings  # not retried every poll, still said
