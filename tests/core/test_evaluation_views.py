"""The evaluation's view model (core.evaluation.views): the queries the screens ask, headless."""

from __future__ import annotations

import numpy as np
import pytest

from annotrain_tui.core.backends.sandbox import SandboxBackend
from annotrain_tui.core.backends.sandbox.demo import seed_demo
from annotrain_tui.core.evaluation import EvaluationSettings
from annotrain_tui.core.evaluation.session import EvaluationSession
from annotrain_tui.core.evaluation.views import Filter


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    sb = SandboxBackend(tmp_path_factory.mktemp("views") / "ws.db")
    ids = seed_demo(sb, deterministic_ids=True)
    session = EvaluationSession.of_workspace(sb, ids["benchmark"])
    session.load()
    yield session, session.snapshot()
    sb.close()


def test_the_snapshot_is_the_result_it_was_made_from(snapshot):
    session, snap = snapshot
    assert snap.result is session.result and snap.title == session.title and snap.live
    assert list(snap.annotators()["annotator"]) == sorted(session.result.annotators)


def test_one_filter_narrows_annotators_items_and_objects_alike(snapshot):
    _session, snap = snapshot
    everyone = snap.annotators()
    assert list(snap.annotators(Filter(annotator="BEA"))["annotator"]) == ["bea.santos@example.com"]
    assert len(snap.annotators(Filter(annotator="zzz"))) == 0
    who = "bea.santos@example.com"
    all_objects = snap.objects_of(who)
    signs = snap.objects_of(who, Filter(class_name="road SIGN"))
    assert 0 < len(signs) < len(all_objects)
    hit = signs["class"].fillna("").str.casefold().str.contains("road sign") | \
        signs["benchmark_class"].fillna("").str.casefold().str.contains("road sign")
    assert hit.all()
    assert list(signs["row_id"]) == list(range(len(signs)))
    items = snap.items_of(who, Filter(class_name="road sign"))
    assert set(items["data_hash"]) == set(signs["data_hash"])
    assert len(snap.annotators(Filter(class_name="road sign"))) <= len(everyone)


def test_items_add_up_to_the_annotators_score(snapshot):
    session, snap = snapshot
    for who, score in session.result.annotators.items():
        items = snap.items_of(who)
        assert int(items["matched"].sum()) == score.matched
        assert int(items["missed"].sum()) == score.missed
        assert int(items["objects"].sum()) == score.objects


def test_an_item_view_numbers_each_match_once_for_its_two_shapes_and_its_row(snapshot):
    _session, snap = snapshot
    who = "alex.kim@example.com"
    items = snap.items_of(who)
    data_hash = items.sort_values("matched", ascending=False)["data_hash"].iat[0]
    view = snap.item_view(data_hash, who)
    numbers = [p for p in view.objects["pair"] if p is not None]
    assert numbers == list(range(1, len(numbers) + 1))
    for n in numbers:
        sides = sorted(s.side for s in view.shapes if s.pair == n)
        assert sides == ["annotator", "benchmark"]
    row = view.objects[view.objects["pair"] == numbers[0]].iloc[0]
    labelled = next(s for s in view.shapes if s.pair == numbers[0] and s.side == "annotator")
    assert labelled.label == f"{row['iou']:.2f}"
    assert view.size == (1280.0, 720.0) and view.frame in view.frames


def test_detail_and_rescoring_through_the_settings_value(snapshot):
    session, snap = snapshot
    d = snap.detail("bea.santos@example.com")
    assert d.score is session.result.annotators["bea.santos@example.com"]
    strict = EvaluationSession(session.source, EvaluationSettings(iou_threshold=0.95))
    strict.sources, strict.bench_rows = session.sources, session.bench_rows
    result = strict.rescore(strict.with_iou(0.95))
    assert result.settings.iou_threshold == 0.95
    assert result.annotators["bea.santos@example.com"].matched < d.score.matched
    assert np.isfinite(snap.settings.iou_threshold) and snap.settings.iou_threshold == 0.5
