"""The gold audit (issue 16, item 7): suspect gold by the trainees' consensus (missing, misplaced, of
another class), items ranked by inter-trainee agreement, and the exclusion that leaves an item out
of scoring for everyone (``EvaluationSettings.excluded_items``)."""

from __future__ import annotations

import copy
import json

import pytest

from annotrain_tui.core.audit import audit, majority
from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.evaluation import EvaluationSettings, evaluate
from tests.synth import DEFAULT_CLASSES, SynthClass, box, make_label_row, make_object, make_programme

CAR, PERSON, BICYCLE = DEFAULT_CLASSES[0], DEFAULT_CLASSES[1], DEFAULT_CLASSES[2]
TRAINEES = [f"t{i}@example.com" for i in range(5)]
#: three well-apart boxes per item: (class, x, y, w, h)
TRUTH = [(CAR, 0.05, 0.05, 0.2, 0.2), (PERSON, 0.4, 0.05, 0.2, 0.2), (CAR, 0.05, 0.5, 0.2, 0.2)]


def _row(item: int, who: str, objects, *, tag: str | None = None) -> dict:
    objs = [make_object(c, box(x, y, w, h), object_hash=f"{tag or who[:2]}-{item}-{j}", created_by=who)
            for j, (c, x, y, w, h) in enumerate(objects)]
    return make_label_row(data_hash=f"item-{item}", data_title=f"img{item}.jpg", label_hash=f"{who}-{item}",
                          objects=objs)


def _trainee(who: str, k: int, n_items: int = 4, edit=None) -> list[dict]:
    """The truth, each trainee a little off (a few thousandths of the image, never the same way)."""
    rows = []
    for i in range(n_items):
        objs = [(c, x + 0.002 * k, y - 0.0015 * k, w, h) for c, x, y, w, h in TRUTH]
        rows.append(_row(i, who, edit(i, objs) if edit else objs))
    return rows


def _training(n_items: int = 4, edit=None) -> dict[str, list[dict]]:
    return {who: _trainee(who, k, n_items, edit) for k, who in enumerate(TRAINEES)}


def _planted(i: int, objs: list) -> list:
    objs = list(objs)
    if i == 0:  # the gold lacks the second car
        del objs[2]
    elif i == 1:  # the gold put the second car far from where it is
        c, _x, _y, w, h = objs[2]
        objs[2] = (c, 0.7, 0.7, w, h)
    elif i == 2:  # the gold calls the first car a person
        _c, x, y, w, h = objs[0]
        objs[0] = (PERSON, x, y, w, h)
    return objs


def _gold(n_items: int = 4, edit=None) -> list[dict]:
    return [_row(i, "gold@example.com", edit(i, list(TRUTH)) if edit else TRUTH, tag="g") for i in range(n_items)]


# -- the exclusion in the engine --------------------------------------------------------------------

def test_an_excluded_item_is_left_out_for_everyone_and_the_scores_change():
    gold = _gold(edit=_planted)
    training = list(_training().items())
    before = evaluate(gold, training)
    settings = EvaluationSettings(excluded_items=frozenset({"item-0", "item-1", "item-2", "not-in-the-benchmark"}))
    after = evaluate(gold, training, settings)
    for who in TRAINEES:
        b, a = before.annotators[who], after.annotators[who]
        assert b.f1 < 1.0 and a.f1 == pytest.approx(1.0)  # only the clean item is scored
        assert (b.items_done, b.items_required) == (4, 4)
        assert (a.items_done, a.items_required) == (1, 1)
        assert a.benchmark_objects == 3 and a.objects == 3
    assert after.paired_rows == len(TRAINEES)
    # the excluded rows are neither compared nor reported as unpaired: one line says why
    assert "3 benchmark item(s) excluded from scoring by the gold audit" in after.warnings
    assert not any("no benchmark row" in w for w in after.warnings)
    assert after.to_json()["settings"]["excluded_items"] == ["item-0", "item-1", "item-2", "not-in-the-benchmark"]
    assert before.to_json()["settings"]["excluded_items"] == []


def test_excluded_items_must_be_data_hashes():
    with pytest.raises(InvalidInput):
        EvaluationSettings(excluded_items="item-0")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        EvaluationSettings(excluded_items=frozenset({""}))
    assert EvaluationSettings(excluded_items={"a"}).excluded_items == frozenset({"a"})  # type: ignore[arg-type]


# -- suspect gold ---------------------------------------------------------------------------------

def test_the_three_planted_gold_errors_are_found_with_their_kinds_and_nothing_else():
    gold = _gold(edit=_planted)
    result = audit(gold, _training())
    found = [(s.kind, s.data_hash, s.benchmark_object_hash, s.benchmark_class, s.trainee_class, s.agree, s.finished)
             for s in result.suspects]
    assert found == [
        ("missing", "item-0", None, None, "Car", 5, 5),
        ("misplaced", "item-1", "g-1-2", "Car", "Car", 5, 5),
        ("class", "item-2", "g-2-0", "Person", "Car", 5, 5),
    ]
    missing, misplaced, wrong = result.suspects
    assert missing.explanation == "5 of 5 trainees drew a Car here that the gold lacks"
    assert "elsewhere" in misplaced.explanation and "0 of 5 matched the gold's" in misplaced.explanation
    assert wrong.explanation == "5 of 5 trainees matched this object as Car; the gold says Person"
    # the trainees' representative is where the truth is; the gold's box where the gold put it
    assert misplaced.geometry["x"] == pytest.approx(0.05) and misplaced.geometry["y"] == pytest.approx(0.5)
    assert misplaced.benchmark_geometry is not None and misplaced.benchmark_geometry["x"] == pytest.approx(0.7)
    assert missing.geometry["annotator"] == TRAINEES[0] and len(missing.members) == 5
    assert {a for a, _h in missing.members} == set(TRAINEES)
    doc = json.loads(json.dumps(result.to_json()))
    assert [(s["kind"], s["data_hash"], s["benchmark_object_hash"]) for s in doc["suspects"]] == [
        ("missing", "item-0", None), ("misplaced", "item-1", "g-1-2"), ("class", "item-2", "g-2-0")]
    assert doc["suspects"][2]["trainees"] == {"class": "Car", "agree": 5, "of": 5,
                                              "objects": doc["suspects"][2]["trainees"]["objects"]}


def test_a_clean_gold_has_no_suspect():
    result = audit(_gold(), _training())
    assert result.suspects == []
    assert result.audited_items == 4 and all(i.agreement == pytest.approx(1.0) for i in result.items)


def test_on_noisy_trainees_a_clean_gold_stays_clean_and_planted_errors_are_found():
    """Trainees as the synthetic programme makes them (jitter, misses, wrong classes and extras, each
    on their own): their mistakes are not shared, so no consensus is against an honest gold."""
    prog = make_programme(seed=3, n_items=30, annotators=TRAINEES, objects_per_item=(3, 6), skill=[1.0] * 5)
    assert audit(prog.benchmark, prog.training).suspects == []
    gold = copy.deepcopy(prog.benchmark)
    objs = [next(iter(r["data_units"].values()))["labels"]["objects"] for r in gold]
    dropped = objs[0].pop(0)
    objs[1][0]["boundingBox"].update(x=0.96, y=0.96, w=0.03, h=0.03)
    moved = objs[1][0]["objectHash"]
    other = next(c for c in DEFAULT_CLASSES if c.shape == "bounding_box" and c.name != objs[2][0]["name"])
    objs[2][0].update(name=other.name, featureHash=other.feature_hash, value=other.value)
    renamed = objs[2][0]["objectHash"]
    result = audit(gold, prog.training)
    found = {(s.kind, s.data_hash, s.benchmark_object_hash) for s in result.suspects}
    assert found == {("missing", gold[0]["data_hash"], None), ("misplaced", gold[1]["data_hash"], moved),
                     ("class", gold[2]["data_hash"], renamed)}
    assert next(s for s in result.suspects if s.kind == "missing").trainee_class == dropped["name"]


def test_a_minority_agreeing_says_nothing_and_a_majority_counts_those_who_finished():
    training = _training()
    for who in TRAINEES[:2]:  # two of five draw a bicycle nobody else sees: not a consensus
        training[who][3]["data_units"]["item-3"]["labels"]["objects"].append(
            make_object(BICYCLE, box(0.7, 0.7, 0.1, 0.1), object_hash=f"{who[:2]}-bike", created_by=who))
    assert audit(_gold(), training).suspects == []
    # item 3 finished by those two only: both drawing the bicycle is a majority of them
    for who in TRAINEES[2:]:
        training[who] = [r for r in training[who] if r["data_hash"] != "item-3"]
    result = audit(_gold(), training)
    assert [(s.kind, s.data_hash, s.agree, s.finished, s.trainee_class) for s in result.suspects] == [
        ("missing", "item-3", 2, 2, "Bicycle")]
    assert (majority(1), majority(2), majority(3), majority(4), majority(5), majority(10)) == (2, 2, 2, 3, 3, 6)


def test_an_item_one_trainee_finished_is_not_audited_and_a_warning_says_so():
    training = _training()
    for who in TRAINEES[1:]:
        training[who] = [r for r in training[who] if r["data_hash"] != "item-0"]
    result = audit(_gold(edit=_planted), training)
    assert "item-0" not in {i.data_hash for i in result.items}
    assert "item-0" not in {s.data_hash for s in result.suspects}
    assert "1 benchmark item(s) were finished by fewer than two trainees: not audited" in result.warnings
    one = audit(_gold(), {TRAINEES[0]: training[TRAINEES[0]]})
    assert one.suspects == [] and one.items == [] and any("at least two trainees" in w for w in one.warnings)


def test_a_video_object_is_one_suspect_over_its_frames():
    def video(who: str, objects: dict[int, list]) -> dict:
        frames = {f: [make_object(c, box(x, y, w, h), object_hash=f"{who[:2]}-v{j}", created_by=who)
                      for j, (c, x, y, w, h) in enumerate(objs)] for f, objs in objects.items()}
        return make_label_row(data_hash="clip", data_title="clip.mp4", label_hash=f"{who}-clip", objects=frames,
                              data_type="video", n_frames=3)

    truth = {f: [(CAR, 0.1 + 0.01 * f, 0.1, 0.2, 0.2), (PERSON, 0.5, 0.5, 0.2, 0.2)] for f in range(3)}
    gold = video("gold@example.com", {f: objs[1:] for f, objs in truth.items()})  # the car on no frame
    training = {who: [video(who, truth)] for who in TRAINEES}
    result = audit([gold], training)
    assert [(s.kind, s.frame, s.frames) for s in result.suspects] == [("missing", 0, (0, 1, 2))]


# -- agreement between trainees ------------------------------------------------------------------

def test_the_item_the_trainees_disagree_on_ranks_lowest():
    training = _training()
    for k, who in enumerate(TRAINEES):  # on item 2 each trainee puts their boxes somewhere of their own
        spots = [(CAR, 0.02 + 0.19 * k, 0.8, 0.05, 0.05), (PERSON, 0.02 + 0.19 * k, 0.9, 0.05, 0.05)]
        training[who][2] = _row(2, who, spots)
    result = audit(_gold(), training)
    assert result.items[0].data_hash == "item-2"
    assert result.items[0].agreement == pytest.approx(0.0) and result.items[0].pairs == 10
    assert [i.agreement for i in result.items[1:]] == pytest.approx([1.0, 1.0, 1.0])
    assert result.least_agreed(2) == result.items[:2]


def test_one_trainee_who_differs_lowers_the_mean_pairwise_f1_by_the_pairs_they_are_in():
    training = _training()
    training[TRAINEES[0]][1] = _row(1, TRAINEES[0], TRUTH[:1])  # one object of three
    result = audit(_gold(), training)
    low = result.items[0]
    # 4 pairs with t0: F1 2·1/(1+3) = 0.5; 6 pairs without: 1.0
    assert low.data_hash == "item-1" and low.agreement == pytest.approx((4 * 0.5 + 6 * 1.0) / 10)


# -- exclusions and hostile names ----------------------------------------------------------------

def test_exclusions_are_marked_on_what_they_cover_not_hidden():
    result = audit(_gold(edit=_planted), _training(), exclusions={"item-1": "gold box off the car"})
    marked = {s.data_hash: s.excluded for s in result.suspects}
    assert marked == {"item-0": None, "item-1": "gold box off the car", "item-2": None}
    assert {i.data_hash: i.excluded for i in result.items}["item-1"] == "gold box off the car"
    doc = result.to_json()
    assert doc["excluded"] == [{"data_hash": "item-1", "reason": "gold box off the car"}]
    assert [s["excluded"] for s in doc["suspects"]] == [False, True, False]
    # from the settings too (offline, no reason recorded)
    by_settings = audit(_gold(edit=_planted), _training(), EvaluationSettings(excluded_items=frozenset({"item-2"})))
    assert [s.excluded for s in by_settings.suspects] == [None, None, ""]


def test_hostile_class_names_are_made_safe_in_the_explanation_and_kept_in_the_data():
    evil = SynthClass("Car\x1b[31m\u202eRED[/]", "evilFh01", "bounding_box")

    def hostile(i: int, objs: list) -> list:
        return [(evil if c is CAR else c, x, y, w, h) for c, x, y, w, h in objs]

    gold = [_row(i, "gold@example.com", objs, tag="g") for i, objs in
            enumerate(_planted(i, hostile(i, list(TRUTH))) for i in range(3))]
    result = audit(gold, _training(3, hostile))
    assert {s.kind for s in result.suspects} == {"missing", "misplaced", "class"}
    for s in result.suspects:
        assert "\x1b" not in s.explanation and "\u202e" not in s.explanation
        assert s.explanation.isprintable()
    assert result.suspects[0].trainee_class == evil.name  # the data keeps the name as it is


def test_a_gold_line_in_the_same_place_drawn_otherwise_is_not_a_suspect_but_one_moved_off_is():
    """Trainees agree on a lane the gold drew with other bends over the same place (its line
    similarity under the threshold, its extent the same): no evidence the gold is misplaced, so no
    suspect. The same lane moved off its place is one."""
    from tests.synth import DEFAULT_CLASSES as CLASSES
    from tests.synth import polyline

    lane = next(c for c in CLASSES if c.shape == "polyline")
    straight = [(0.1, 0.8), (0.5, 0.8), (0.9, 0.8)]

    def row(item: int, who: str, points, tag: str) -> dict:
        obj = make_object(lane, polyline(points), object_hash=f"{tag}-{item}", created_by=who)
        return make_label_row(data_hash=f"item-{item}", data_title=f"img{item}.jpg", label_hash=f"{who}-{item}",
                              objects=[obj])

    training = {who: [row(i, who, [(x + 0.001 * k, y) for x, y in straight], who[:2]) for i in range(2)]
                for k, who in enumerate(TRAINEES)}
    bent = [(0.1, 0.8), (0.5, 0.74), (0.9, 0.8)]  # the same lane, bent up in the middle
    moved = [(x, y - 0.5) for x, y in straight]  # half the image away
    gold = [row(0, "gold@example.com", bent, "g"), row(1, "gold@example.com", moved, "g")]
    scores = evaluate(gold, list(training.items()))
    assert all(a.matched == 0 for a in scores.annotators.values())  # both golds are missed by everyone
    kinds = {(s.kind, s.data_hash) for s in audit(gold, training).suspects}
    assert kinds == {("misplaced", "item-1")}


def test_a_gold_box_too_loose_for_every_trainee_is_a_suspect():
    """Areas are judged by their IoU: trainees agreeing on a tight car that the gold drew 60% larger
    (IoU 0.39, under the threshold for all of them) point at the gold."""
    def loose(i: int, objs: list) -> list:
        objs = list(objs)
        if i == 0:
            c, x, y, w, h = objs[2]
            objs[2] = (c, x - 0.3 * w, y - 0.3 * h, 1.6 * w, 1.6 * h)
        return objs

    kinds = {(s.kind, s.data_hash) for s in audit(_gold(edit=loose), _training()).suspects}
    assert kinds == {("misplaced", "item-0")}
