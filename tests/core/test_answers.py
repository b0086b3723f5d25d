"""Classification answers and object attributes (core/evaluation/answers.py), on label rows the real
Encord SDK writes (``LabelRowV2.to_encord_dict()``): single images, image groups and videos, every
question kind (radio, checklist, text, a nested radio, a global classification) and object
attributes; scores against the plain reference of tests/reference_answers.py."""

from __future__ import annotations

import copy
import json
import random
import types
from collections.abc import Sequence
from typing import Any

import pytest

from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.evaluation.answers import (
    GLOBAL,
    Answer,
    RowAnswers,
    answer_score,
    names_and_kinds,
    read_answers,
    score_attributes,
    score_classifications,
)
from tests.reference_answers import ref_answer_score, ref_mean

encord = pytest.importorskip("encord")
from encord.objects.attributes import ChecklistAttribute, RadioAttribute, TextAttribute  # noqa: E402
from encord.objects.classification import OntologyClassificationLevel  # noqa: E402
from encord.objects.classification_expansion import expand_classification_answers_into_frame_labels  # noqa: E402
from encord.objects.common import Shape  # noqa: E402
from encord.objects.coordinates import BoundingBoxCoordinates  # noqa: E402
from encord.objects.ontology_labels_impl import LabelRowV2  # noqa: E402
from encord.objects.ontology_structure import OntologyStructure  # noqa: E402
from encord.orm.storage import CustomerProvidedImageMetadata, CustomerProvidedVideoMetadata  # noqa: E402


def _ontology() -> types.SimpleNamespace:
    s = OntologyStructure()
    car = s.add_object("Car", Shape.BOUNDING_BOX, feature_node_hash="carFH")
    colour = car.add_attribute(RadioAttribute, "Colour", feature_node_hash="colourQ")
    parts = car.add_attribute(ChecklistAttribute, "Parts", feature_node_hash="partsQ")
    note = car.add_attribute(TextAttribute, "Note", feature_node_hash="noteQ")
    opt: dict[str, Any] = {}
    for name in ("red", "blue", "green"):
        opt[name] = colour.add_option(name, feature_node_hash=f"{name}FH")
    for name in ("wheel", "door", "roof"):
        opt[name] = parts.add_option(name, feature_node_hash=f"{name}FH")
    weather_c = s.add_classification(feature_node_hash="weatherC")
    weather = weather_c.add_attribute(RadioAttribute, "Weather", feature_node_hash="weatherQ")
    opt["sunny"] = weather.add_option("sunny", feature_node_hash="sunnyFH")
    opt["rainy"] = weather.add_option("rainy", feature_node_hash="rainyFH")
    hard = opt["rainy"].add_nested_attribute(RadioAttribute, "How hard", feature_node_hash="hardQ")
    opt["light"] = hard.add_option("light", feature_node_hash="lightFH")
    opt["heavy"] = hard.add_option("heavy", feature_node_hash="heavyFH")
    tags_c = s.add_classification(feature_node_hash="tagsC")
    tags = tags_c.add_attribute(ChecklistAttribute, "Tags", feature_node_hash="tagsQ")
    for name in ("people", "animals", "vehicles"):
        opt[name] = tags.add_option(name, feature_node_hash=f"{name}FH")
    caption_c = s.add_classification(feature_node_hash="captionC")
    caption = caption_c.add_attribute(TextAttribute, "Caption", feature_node_hash="captionQ")
    quality_c = s.add_classification(feature_node_hash="qualityC", level=OntologyClassificationLevel.GLOBAL)
    quality = quality_c.add_attribute(RadioAttribute, "Quality", feature_node_hash="qualityQ")
    opt["good"] = quality.add_option("good", feature_node_hash="goodFH")
    opt["bad"] = quality.add_option("bad", feature_node_hash="badFH")
    return types.SimpleNamespace(
        structure=s, car=car, colour=colour, parts=parts, note=note, opt=opt,
        cls={"weather": (weather_c, weather), "tags": (tags_c, tags), "caption": (caption_c, caption),
             "quality": (quality_c, quality)}, hard=hard)


ONT = _ontology()


def _metadata(kind: str, n: int) -> Any:
    if kind == "video":
        return CustomerProvidedVideoMetadata(fps=25, duration=n / 25, width=1280, height=720, fileSize=1,
                                             mimeType="video/mp4")
    if kind == "group":
        return [CustomerProvidedImageMetadata(mimeType="image/jpeg", fileSize=1, height=720, width=1280)
                for _ in range(n)]
    return CustomerProvidedImageMetadata(mimeType="image/jpeg", fileSize=1, height=720, width=1280)


def _set(instance: Any, question: str, value: Any) -> None:
    """Answer ``question`` ("weather", "hard", "tags", "caption", "quality", "colour", "parts",
    "note") with an option name, a list of option names or a text."""
    attribute = {"weather": ONT.cls["weather"][1], "hard": ONT.hard, "tags": ONT.cls["tags"][1],
                 "caption": ONT.cls["caption"][1], "quality": ONT.cls["quality"][1], "colour": ONT.colour,
                 "parts": ONT.parts, "note": ONT.note}[question]
    if isinstance(attribute, TextAttribute):
        instance.set_answer(value, attribute=attribute)
    elif isinstance(value, list):
        instance.set_answer([ONT.opt[v] for v in value], attribute=attribute)
    else:
        instance.set_answer(ONT.opt[value], attribute=attribute)


Placed = tuple[str, "list[int] | None", dict[str, Any], "str | None"]


def sdk_row(kind: str, n: int = 1, *, classifications: Sequence[Placed] = (),
            objects: Sequence[tuple[list[int], dict[str, Any], str | None]] = ()) -> dict:
    """A label row written by the SDK. ``classifications``: (classification, frames (None: global),
    {question: answer}, created_by); ``objects``: (frames, {attribute: answer}, object hash)."""
    lr = LabelRowV2.from_media_metadata(ONT, _metadata(kind, n))  # type: ignore[arg-type]  # .structure is all it reads
    for name, frames, answers, created_by in classifications:
        instance = ONT.cls[name][0].create_instance()
        if frames is not None:
            instance.set_for_frames(frames=frames, created_by=created_by)
        for question, value in answers.items():
            _set(instance, question, value)
        lr.add_classification_instance(instance)
    for frames, answers, object_hash in objects:
        obj = ONT.car.create_instance() if object_hash is None else \
            type(ONT.car.create_instance())(ONT.car, object_hash=object_hash)
        obj.set_for_frames(BoundingBoxCoordinates(height=0.1, width=0.1, top_left_x=0.1, top_left_y=0.1),
                           frames=frames)
        for question, value in answers.items():
            _set(obj, question, value)
        lr.add_object_instance(obj)
    return json.loads(json.dumps(lr.to_encord_dict()))


def opts(*hashes: str) -> Answer:
    return Answer("options", frozenset(hashes))


# --- reading ----------------------------------------------------------------------------------------

def test_a_single_image_reads_every_question_kind_and_object_attribute():
    row = sdk_row("image", classifications=[
        ("weather", [0], {"weather": "rainy", "hard": "heavy"}, "ann@x.com"),
        ("tags", [0], {"tags": ["people", "vehicles"]}, None),
        ("caption", [0], {"caption": "  A Red Car "}, "cap@x.com"),
        ("quality", None, {"quality": "good"}, None),
    ], objects=[([0], {"colour": "red", "parts": ["wheel", "door"], "note": "dent"}, "obj1"),
                ([0], {"colour": "blue"}, "obj2")])
    got = read_answers(row, "bench.json: row 0", strict=True)
    assert got.classifications == {
        (0, "weatherQ"): opts("rainyFH"), (0, "hardQ"): opts("heavyFH"),
        (0, "tagsQ"): opts("peopleFH", "vehiclesFH"), (0, "captionQ"): Answer("text", "  A Red Car "),
        (GLOBAL, "qualityQ"): opts("goodFH"),
    }
    assert got.created_by == {(0, "weatherQ"): "ann@x.com", (0, "hardQ"): "ann@x.com", (0, "tagsQ"): None,
                              (0, "captionQ"): "cap@x.com", (GLOBAL, "qualityQ"): None}
    assert got.objects == {"obj1": {"colourQ": opts("redFH"), "partsQ": opts("wheelFH", "doorFH"),
                                    "noteQ": Answer("text", "dent")},
                           "obj2": {"colourQ": opts("blueFH")}}
    assert got.names == {"weatherQ": "Weather", "hardQ": "How hard", "tagsQ": "Tags", "captionQ": "Caption",
                         "qualityQ": "Quality", "colourQ": "Colour", "partsQ": "Parts", "noteQ": "Note"}
    assert got.kinds == {"weatherQ": "radio", "hardQ": "radio", "tagsQ": "checklist", "captionQ": "text",
                         "qualityQ": "radio", "colourQ": "radio", "partsQ": "checklist", "noteQ": "text"}
    assert got.not_compared == {}


def test_an_image_group_places_answers_on_each_images_data_sequence():
    row = sdk_row("group", 3, classifications=[
        ("weather", [1, 2], {"weather": "sunny"}, "a@x.com"),
        ("weather", [0], {"weather": "rainy", "hard": "light"}, "b@x.com"),
        ("quality", None, {"quality": "bad"}, None),
    ], objects=[([2], {"note": "far"}, "o1")])
    assert {u["data_sequence"] for u in row["data_units"].values()} == {"0", "1", "2"}  # as the SDK writes them
    got = read_answers(row, "row", strict=True)
    assert got.classifications == {
        (1, "weatherQ"): opts("sunnyFH"), (2, "weatherQ"): opts("sunnyFH"),
        (0, "weatherQ"): opts("rainyFH"), (0, "hardQ"): opts("lightFH"), (GLOBAL, "qualityQ"): opts("badFH"),
    }
    assert got.created_by == {(1, "weatherQ"): "a@x.com", (2, "weatherQ"): "a@x.com", (0, "weatherQ"): "b@x.com",
                              (0, "hardQ"): "b@x.com", (GLOBAL, "qualityQ"): None}
    assert got.objects == {"o1": {"noteQ": Answer("text", "far")}}
    # one instance's answer is read once and shared by all its frames (nothing copied per frame)
    assert got.classifications[(1, "weatherQ")] is got.classifications[(2, "weatherQ")]


def test_a_video_classification_on_frames_0_to_4_is_an_answer_on_each_frame():
    row = sdk_row("video", 250, classifications=[
        ("caption", [0, 1, 2, 3, 4], {"caption": "busy"}, "v@x.com"),
        ("tags", [7], {"tags": []}, None),
        ("quality", None, {"quality": "good"}, None),
    ], objects=[([0, 1, 2], {"colour": "green", "parts": ["roof"]}, "car1")])
    assert row["classification_answers"] and all(
        fl["classifications"] == [] for u in row["data_units"].values() for fl in u["labels"].values())
    got = read_answers(row, "row", strict=True)
    assert got.classifications == {**{(f, "captionQ"): Answer("text", "busy") for f in range(5)},
                                   (7, "tagsQ"): opts(), (GLOBAL, "qualityQ"): opts("goodFH")}
    assert got.created_by == {**{(f, "captionQ"): "v@x.com" for f in range(5)}, (7, "tagsQ"): None,
                              (GLOBAL, "qualityQ"): None}
    assert got.objects == {"car1": {"colourQ": opts("greenFH"), "partsQ": opts("roofFH")}}
    assert got.kinds["tagsQ"] == "checklist"  # no option chosen: not one option, so a checklist


@pytest.mark.parametrize("kind,n", [("image", 1), ("group", 3), ("video", 30)])
def test_frame_references_as_the_backend_serves_them_read_the_same(kind, n):
    frames = [0] if kind == "image" else [0, 2]
    row = sdk_row(kind, n, classifications=[("weather", frames, {"weather": "rainy", "hard": "light"}, "w@x.com"),
                                            ("quality", None, {"quality": "bad"}, None)],
                  objects=[([0], {"colour": "red"}, "o1")])
    expanded = expand_classification_answers_into_frame_labels(copy.deepcopy(row))
    refs = [c for u in expanded["data_units"].values()
            for fl in ([u["labels"]] if kind != "video" else u["labels"].values()) for c in fl["classifications"]]
    assert len(refs) == len(frames)  # the SDK's own expansion put one reference on each frame
    want = read_answers(row, "row", strict=True)
    assert read_answers(expanded, "row", strict=True) == want
    for entry in expanded["classification_answers"].values():  # references alone (no range) still place it
        entry.pop("range")
    assert read_answers(expanded, "row", strict=True) == want


def test_a_frame_references_created_by_is_who_answered_on_that_frame():
    row = sdk_row("video", 30, classifications=[("caption", [0, 1], {"caption": "x"}, "first@x.com")])
    expanded = expand_classification_answers_into_frame_labels(copy.deepcopy(row))
    expanded["data_units"][next(iter(expanded["data_units"]))]["labels"]["1"]["classifications"][0]["createdBy"] = \
        "reviewer@x.com"
    got = read_answers(expanded, "row", strict=True)
    assert got.created_by == {(0, "captionQ"): "first@x.com", (1, "captionQ"): "reviewer@x.com"}


def test_rows_without_answers_have_none():
    rows: list[dict[str, Any]] = [{"data_units": {}},
                                  {"classification_answers": {}, "object_answers": {}, "data_units": {}},
                                  {"classification_answers": None, "object_answers": None}]
    for row in rows:
        for strict in (True, False):
            assert read_answers(row, "row", strict=strict) == RowAnswers()
    with pytest.raises(InvalidInput, match="^row: label row: expected a label row"):
        read_answers([], "row", strict=True)  # type: ignore[arg-type]
    assert read_answers([], "row", strict=False).not_compared == {"not a label row": 1}  # type: ignore[arg-type]
    # an instance with no answer yet (what tests/synth.py and fresh rows hold) answers nothing
    empty = {"classification_answers": {"c1": {"classificationHash": "c1", "featureHash": "f", "classifications": []}},
             "data_units": {}}
    assert read_answers(empty, "row", strict=True) == RowAnswers()


def test_numeric_answers_and_space_held_classifications_are_counted_not_compared():
    row = sdk_row("image", classifications=[("tags", [0], {"tags": ["people"]}, None)])
    entry = next(iter(row["classification_answers"].values()))
    entry["classifications"].append({"name": "Count", "featureHash": "countQ", "answers": 3, "manualAnnotation": True})
    row["classification_answers"]["sp"] = {"classificationHash": "sp", "featureHash": "tagsC", "range": [],
                                           "spaces": {"layer-1": {"type": "frame", "range": [[0, 0]]}},
                                           "classifications": [entry["classifications"][0]]}
    got = read_answers(row, "row", strict=True)
    assert got.classifications == {(0, "tagsQ"): opts("peopleFH")}
    assert got.not_compared == {"numeric answer": 1, "classification on a space": 1}


# --- strict errors, tolerant skips -------------------------------------------------------------------

def _base() -> dict:
    return sdk_row("video", 30, classifications=[("weather", [0, 1], {"weather": "sunny"}, None),
                                                 ("caption", [3], {"caption": "ok"}, None)],
                   objects=[([0], {"colour": "red", "note": "n"}, "obj1")])


def _weather(row: dict) -> dict:
    return next(e for e in row["classification_answers"].values() if e["featureHash"] == "weatherC")


def _break_answers_type(row: dict) -> None:
    _weather(row)["classifications"][0]["answers"] = {"featureHash": "sunnyFH"}


def _break_option(row):
    del _weather(row)["classifications"][0]["answers"][0]["featureHash"]


def _break_question(row):
    del _weather(row)["classifications"][0]["featureHash"]


def _break_list(row):
    _weather(row)["classifications"] = "sunny"


def _break_range(row):
    _weather(row)["range"] = [[3, 1]]


def _break_reference(row):
    unit = next(iter(row["data_units"].values()))
    unit["labels"]["0"]["classifications"].append({"classificationHash": "gone", "featureHash": "weatherC"})


def _break_conflict(row):
    entry = copy.deepcopy(_weather(row))
    entry["classificationHash"] = "twin"
    entry["classifications"][0]["answers"] = [{"name": "rainy", "value": "rainy", "featureHash": "rainyFH"}]
    entry["range"] = [[1, 1]]
    row["classification_answers"]["twin"] = entry


def _break_object(row):
    row["object_answers"]["obj1"]["classifications"][0]["answers"] = {"an": "object"}


def _break_kind(row):
    _weather(row)["classifications"].append({"name": "Weather", "featureHash": "weatherQ", "answers": "sunny"})


BREAKS = [
    (_break_answers_type, ["classification", "'answers' must be a list of options or a text, got object"]),
    (_break_option, ["classification", "option 0 has no 'featureHash'"]),
    (_break_question, ["classification", "answer 0 has no 'featureHash'"]),
    (_break_list, ["classification", "'classifications' must be a list of answers, got string"]),
    (_break_range, ["classification", "'range' entry [3, 1] is not a [start, end] pair"]),
    (_break_reference, ["frame 0 classification gone", "does not hold"]),
    (_break_conflict, ["classification twin", "weatherQ has two different answers on frame 1"]),
    (_break_object, ["object obj1", "got object"]),
    (_break_kind, ["weatherQ is answered with a text in one place and with options in another"]),
]


@pytest.mark.parametrize("breaker,words", BREAKS, ids=[b.__name__ for b, _ in BREAKS])
def test_strict_names_the_row_the_item_and_what_is_wrong(breaker, words):
    row = _base()
    breaker(row)
    with pytest.raises(InvalidInput) as err:
        read_answers(row, "training.json: row 4 (label_hash L)", strict=True)
    text = str(err.value)
    assert text.startswith("training.json: row 4 (label_hash L): ")
    for w in words:
        assert w in text
    assert "export again" in text  # how to fix
    assert "\n" not in text


@pytest.mark.parametrize("breaker,words", BREAKS, ids=[b.__name__ for b, _ in BREAKS])
def test_tolerant_skips_the_broken_item_and_keeps_the_rest(breaker, words):
    good = read_answers(_base(), "row", strict=True)
    row = _base()
    breaker(row)
    got = read_answers(row, "row", strict=False)
    assert sum(got.not_compared.values()) >= 1
    # everything the break did not touch is read as before
    untouched = {k: v for k, v in good.classifications.items() if k[1] != "weatherQ"}
    assert {k: v for k, v in got.classifications.items() if k[1] != "weatherQ"} == untouched
    if breaker is not _break_object:
        assert got.objects == good.objects
    else:
        assert got.objects == {"obj1": {"colourQ": opts("redFH")}}
    if breaker in (_break_reference, _break_conflict, _break_kind):  # the well-formed weather answers stay
        assert {k: v for k, v in got.classifications.items() if k[1] == "weatherQ"} == \
            {k: v for k, v in good.classifications.items() if k[1] == "weatherQ"}


def test_strict_refuses_a_range_too_long_to_expand():
    row = _base()
    _weather(row)["range"] = [[0, 2**31 - 1]]
    with pytest.raises(InvalidInput, match="spans 2,147,483,648 frames"):
        read_answers(row, "row", strict=True)
    assert read_answers(row, "row", strict=False).not_compared == {"range too long": 1}


def test_an_untrusted_name_is_kept_as_written_and_an_odd_hash_is_escaped_in_messages():
    row = _base()
    _weather(row)["classifications"][0]["name"] = "[bold]x[/bold]\x1b[31m"
    assert read_answers(row, "row", strict=True).names["weatherQ"] == "[bold]x[/bold]\x1b[31m"
    row["object_answers"]["evil\x1b[2J"] = {"classifications": 5}
    with pytest.raises(InvalidInput) as err:
        read_answers(row, "row", strict=True)
    assert "\x1b" not in str(err.value)


# --- scoring -----------------------------------------------------------------------------------------

def test_answer_score_follows_the_rules():
    assert answer_score(opts("a"), opts("a")) == 1.0
    assert answer_score(opts("b"), opts("a")) == 0.0
    assert answer_score(opts("a", "b"), opts("b", "c")) == pytest.approx(1 / 3)
    assert answer_score(opts(), opts()) == 1.0
    assert answer_score(opts("a"), opts()) == 0.0
    assert answer_score(Answer("text", "  Hello\t"), Answer("text", "hELLO")) == 1.0
    assert answer_score(Answer("text", "Straße"), Answer("text", "STRASSE")) == 1.0  # case-folding, not lower()
    assert answer_score(Answer("text", "hullo"), Answer("text", "hello")) == 0.0
    assert answer_score(None, opts("a")) == 0.0
    assert answer_score(Answer("text", "a"), opts("a")) == 0.0


# The plain reference: raw rows walked directly, frames expanded from "range" by hand.

def _ref_frames(entry: dict) -> list[int]:
    frames = [f for start, end in entry.get("range") or [] for f in range(start, end + 1)]
    return frames or [GLOBAL]


def _ref_classification_entries(row: dict) -> dict[tuple[int, str], tuple[dict, str | None]]:
    out = {}
    for entry in row["classification_answers"].values():
        for frame in _ref_frames(entry):
            for attr in entry["classifications"]:
                out[(frame, attr["featureHash"])] = (attr, entry["createdBy"])
    return out


def _ref_object_entries(row: dict) -> dict[str, dict[str, dict]]:
    return {oh: {a["featureHash"]: a for a in e["classifications"]} for oh, e in row["object_answers"].items()}


CHOICES: dict[str, list[Any]] = {
    "weather": ["sunny", "rainy"], "hard": ["light", "heavy"], "tags": [[], ["people"], ["people", "animals"],
                                                                     ["animals", "vehicles"], ["vehicles"]],
    "caption": ["A car", " a CAR ", "a van", "Straße", "STRASSE"], "quality": ["good", "bad"],
    "colour": ["red", "blue", "green"], "parts": [[], ["wheel"], ["wheel", "door"], ["roof", "door", "wheel"]],
    "note": ["ok", "OK ", "dent"],
}


def _random_answers(rnd: random.Random, questions: tuple[str, ...], p_skip: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for q in questions:
        if q == "hard" and out.get("weather") != "rainy":
            continue
        if rnd.random() >= p_skip:
            out[q] = rnd.choice(CHOICES[q])
    return out


def _random_row(rnd: random.Random, kind: str, n: int, p_skip: float) -> dict:
    classifications: list[Placed] = []
    frames = list(range(n))
    for name, questions in (("weather", ("weather", "hard")), ("tags", ("tags",)), ("caption", ("caption",))):
        if kind == "image":
            spans = [[0]] if rnd.random() > p_skip else []
        else:  # one to three disjoint spans of frames
            cut = sorted(rnd.sample(frames, min(len(frames), rnd.randint(2, 6))))
            spans = [list(range(a, b)) for a, b in zip(cut[::2], cut[1::2]) if b > a]
        for span in spans:
            answers = _random_answers(rnd, questions, p_skip)
            if answers:
                classifications.append((name, span, answers, None))
    if rnd.random() > p_skip:
        classifications.append(("quality", None, {"quality": rnd.choice(CHOICES["quality"])}, None))
    objects: list[tuple[list[int], dict[str, Any], str | None]] = [
        ([0], _random_answers(rnd, ("colour", "parts", "note"), p_skip), f"obj{i}") for i in range(3)]
    return sdk_row(kind, n, classifications=classifications, objects=objects)


@pytest.fixture(scope="module")
def programme() -> list[tuple[str, dict, dict]]:
    rnd = random.Random(15)
    pairs = []
    for i in range(24):
        kind, n = [("image", 1), ("group", 4), ("video", 12)][i % 3]
        bench = _random_row(rnd, kind, n, p_skip=0.1)
        for annotator in ("alice@x.com", "bob@x.com"):
            pairs.append((annotator, bench, _random_row(rnd, kind, n, p_skip=0.35)))
    return pairs


def test_classification_scores_equal_the_plain_reference(programme):
    read = [(a, read_answers(b, "b", strict=True), read_answers(t, "t", strict=True)) for a, b, t in programme]
    got = score_classifications(read)
    want: dict[tuple[str, str], list[float]] = {}
    for annotator, bench, train in programme:
        theirs = _ref_classification_entries(train)
        for (frame, question), (entry, _who) in _ref_classification_entries(bench).items():
            other = theirs.get((frame, question))
            want.setdefault((annotator, question), []).append(ref_answer_score(other and other[0], entry))
    assert set(got) == set(want) and len(want) == 2 * 5  # every question kind, for both annotators
    for key, scores in want.items():
        n, total = got[key]
        assert n == len(scores)
        assert total / n == pytest.approx(ref_mean(scores), abs=1e-12)
    # no answer at all from the annotator: every comparison counts 0
    nobody = score_classifications((a, b, RowAnswers()) for a, b, _ in read)
    assert {k: (n, s) for k, (n, s) in nobody.items()} == {k: (got[k][0], 0.0) for k in got}
    # and the benchmark against itself scores 1 on every question
    assert all(s == n for n, s in score_classifications((a, b, b) for a, b, _ in read).values())


def test_attribute_scores_equal_the_plain_reference(programme):
    pairs, ref_pairs = [], []
    for annotator, bench, train in programme:
        b, t = read_answers(bench, "b", strict=True), read_answers(train, "t", strict=True)
        rb, rt = _ref_object_entries(bench), _ref_object_entries(train)
        for oh in ("obj0", "obj1", "obj2"):  # matched pairs: the same object hash here
            if b.objects.get(oh):
                other = None if oh == "obj2" else t.objects.get(oh)  # obj2: matched to an object with no answers
                pairs.append((annotator, b.objects[oh], other))
                ref_pairs.append((annotator, rb[oh], {} if oh == "obj2" else rt.get(oh, {})))
    got = score_attributes(pairs)
    want: dict[tuple[str, str], list[float]] = {}
    for annotator, bench_attrs, train_attrs in ref_pairs:
        for question, entry in bench_attrs.items():
            want.setdefault((annotator, question), []).append(ref_answer_score(train_attrs.get(question), entry))
    assert set(got) == set(want) and len(want) == 2 * 3
    for key, scores in want.items():
        assert got[key][0] == len(scores)
        assert got[key][1] / got[key][0] == pytest.approx(ref_mean(scores), abs=1e-12)


def test_sums_are_added_in_input_order_so_results_are_reproducible(programme):
    read = [(a, read_answers(b, "b", strict=True), read_answers(t, "t", strict=True)) for a, b, t in programme]
    assert score_classifications(read) == score_classifications(list(read))
    first = score_classifications(read)
    key = next(iter(first))
    manual = 0.0
    for a, b, t in read:
        for (frame, q), answer in b.classifications.items():
            if (a, q) == key:
                manual += answer_score(t.classifications.get((frame, q)), answer)
    assert first[key][1] == manual  # exactly: the same additions in the same order


def test_names_and_kinds_merge_rows_checklist_over_radio_first_name_kept():
    one = read_answers(sdk_row("image", classifications=[("tags", [0], {"tags": ["people"]}, None)]), "r", strict=True)
    two = read_answers(sdk_row("image", classifications=[("tags", [0], {"tags": ["people", "animals"]}, None)]),
                       "r", strict=True)
    assert one.kinds == {"tagsQ": "radio"} and two.kinds == {"tagsQ": "checklist"}
    two.names["tagsQ"] = "renamed"
    assert names_and_kinds([one, two]) == ({"tagsQ": "Tags"}, {"tagsQ": "checklist"})
    assert names_and_kinds([two, one]) == ({"tagsQ": "renamed"}, {"tagsQ": "checklist"})
    # and a single-option checklist scores as its radio reading would: 1 for the same option, else 0
    assert answer_score(one.classifications[(0, "tagsQ")], opts("peopleFH")) == 1.0
    assert answer_score(one.classifications[(0, "tagsQ")], opts("animalsFH")) == 0.0


def test_a_null_answer_is_no_answer_not_an_error():
    row = _base()
    row["object_answers"]["obj1"]["classifications"][0]["answers"] = None
    got = read_answers(row, "r", strict=True)  # no error: the question was left unanswered
    question = _base()["object_answers"]["obj1"]["classifications"][0]["featureHash"]
    assert question not in got.objects.get("obj1", {})
