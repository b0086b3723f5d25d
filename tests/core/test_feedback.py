"""Feedback packs (core/feedback.py, core/feedback_html.py): what a pack says, how it is drawn,
that hostile strings stay text, that the HTML is self-contained, and how the files are written."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import pytest

from annotrain_tui.core.errors import AnnotrainError, InvalidInput, NotFound, OutputExists
from annotrain_tui.core.evaluation import evaluate
from annotrain_tui.core.evaluation.shapes import DRAWABLE, Bitmask, Point, Skeleton
from annotrain_tui.core.feedback import (
    build_pack,
    build_packs,
    interval_of,
    pack_file_names,
    write_packs,
)
from annotrain_tui.core.feedback_html import (
    IMAGE_BACKGROUND,
    annotator_colour,
    render_html,
    render_markdown,
    render_svg,
)
from annotrain_tui.core.palette import PALETTE, faded, palette_colour
from tests.synth import DEFAULT_CLASSES, SynthClass, box, make_label_row, make_mixed_programme, make_object

CAR, PERSON = DEFAULT_CLASSES[0], DEFAULT_CLASSES[1]
TRUCK = SynthClass("Truck", "tRuCkFh1", "bounding_box", "#3CB44B")
WHO = "trainee@example.com"


def _rows_of(bench, training):
    by_bench = {r["data_hash"]: r for r in bench}
    by_who = {who: {r["data_hash"]: r for r in rows} for who, rows in training.items()}

    def rows_of(data_hash, annotator):
        return by_bench.get(data_hash), by_who.get(annotator, {}).get(data_hash)

    return rows_of


def _scene(who: str = WHO, *, person: SynthClass = PERSON, title_a: str = "a.jpg"):
    """Three items. a.jpg: a Car matched well, a Person matched loosely (IoU 0.6), a Car drawn as a
    Truck (a confusion) and an extra Car; b.jpg: three Cars missed; c.jpg: one Car, perfect."""
    bench = [
        make_label_row(data_hash="A", data_title=title_a, label_hash="bA", objects=[
            make_object(CAR, box(0.10, 0.10, 0.20, 0.20), object_hash="bcar", created_by="gold@x.org"),
            make_object(person, box(0.50, 0.10, 0.20, 0.40), object_hash="bper", created_by="gold@x.org"),
            make_object(CAR, box(0.10, 0.60, 0.20, 0.20), object_hash="bcar2", created_by="gold@x.org")]),
        make_label_row(data_hash="B", data_title="b.jpg", label_hash="bB", objects=[
            make_object(CAR, box(0.05 + 0.3 * i, 0.30, 0.10, 0.10), object_hash=f"bm{i}", created_by="gold@x.org")
            for i in range(3)]),
        make_label_row(data_hash="C", data_title="c.jpg", label_hash="bC", objects=[
            make_object(CAR, box(0.40, 0.40, 0.20, 0.20), object_hash="bc", created_by="gold@x.org")]),
    ]
    mine = [
        make_label_row(data_hash="A", data_title=title_a, label_hash="tA", objects=[
            make_object(CAR, box(0.10, 0.10, 0.20, 0.20), object_hash="tcar", created_by=who),
            make_object(person, box(0.50, 0.10, 0.20, 0.24), object_hash="tper", created_by=who),  # IoU 0.6
            make_object(TRUCK, box(0.10, 0.60, 0.20, 0.20), object_hash="ttruck", created_by=who),
            make_object(CAR, box(0.80, 0.80, 0.10, 0.10), object_hash="textra", created_by=who)]),
        make_label_row(data_hash="B", data_title="b.jpg", label_hash="tB", objects=[]),
        make_label_row(data_hash="C", data_title="c.jpg", label_hash="tC", objects=[
            make_object(CAR, box(0.40, 0.40, 0.20, 0.20), object_hash="tc", created_by=who)]),
    ]
    result = evaluate(bench, [("Training", mine)], keep_objects=True)
    return result, _rows_of(bench, {who: mine})


@pytest.fixture(scope="module")
def scene():
    return _scene()


# --- what a pack says --------------------------------------------------------------------------

def test_the_pack_counts_each_kind_of_error_and_names_its_classes(scene):
    result, rows_of = scene
    pack = build_pack(result, rows_of, WHO)
    e = pack.errors
    assert (e.missed, e.loose, e.extra) == (3, 1, 1)
    assert e.missed_by_class == (("Car", 3),)
    assert e.loose_by_class == (("Person", 1),)
    assert e.extra_by_class == (("Car", 1),)
    assert e.confusions == (("Car", "Truck", 1),)
    # most frequent first; equals in the order missed, loose, confused, extra
    assert [(k.key, k.count) for k in e.kinds] == [("missed", 3), ("loose", 1), ("confused", 1), ("extra", 1)]
    # the same numbers as the engine's score
    score = result.annotators[WHO]
    assert (score.missed, score.low_overlap, score.extra) == (e.missed, e.loose, e.extra)
    assert pack.score is score and pack.settings.pass_mark.f1 == 0.8


def test_worst_items_are_ranked_by_misses_extras_and_loose_shapes_and_perfect_ones_left_out(scene):
    result, rows_of = scene
    pack = build_pack(result, rows_of, WHO)
    assert [(i.rank, i.title, i.missed, i.extra, i.loose) for i in pack.items] == [
        (1, "b.jpg", 3, 0, 0), (2, "a.jpg", 0, 1, 1)]
    assert (pack.items_compared, pack.items_with_errors) == (3, 2)
    assert [i.title for i in build_pack(result, rows_of, WHO, top=1).items] == ["b.jpg"]
    assert build_pack(result, rows_of, WHO, top=0).items == ()


def test_an_item_carries_both_sides_shapes_paired_and_marked(scene):
    result, rows_of = scene
    item = build_pack(result, rows_of, WHO).items[1]  # a.jpg
    got = sorted((s.side, s.class_name, s.outcome, s.pair is not None) for s in item.shapes)
    assert got == [("annotator", "Car", "extra", False), ("annotator", "Car", "matched", True),
                   ("annotator", "Person", "loose", True), ("annotator", "Truck", "matched", True),
                   ("benchmark", "Car", "matched", True), ("benchmark", "Car", "matched", True),
                   ("benchmark", "Person", "loose", True)]
    pairs = {s.pair for s in item.shapes if s.pair is not None}
    assert pairs == {1, 2, 3}
    loose = [s for s in item.shapes if s.outcome == "loose"]
    assert {s.side for s in loose} == {"benchmark", "annotator"} and loose[0].pair == loose[1].pair
    assert loose[0].iou == pytest.approx(0.6)
    # the ontology's colours, as the canvas resolves them
    assert {s.colour for s in item.shapes if s.class_name == "Car"} == {CAR.color.upper()}
    missed = build_pack(result, rows_of, WHO).items[0]
    assert [(s.side, s.outcome) for s in missed.shapes] == [("benchmark", "missed")] * 3


def test_the_html_says_the_scores_the_mark_the_classes_and_the_errors(scene):
    result, rows_of = scene
    pack = build_pack(result, rows_of, WHO, title="Street Benchmark")
    page = render_html(pack)
    score = result.annotators[WHO]
    assert f"Feedback for {WHO}" in page and "Street Benchmark" in page
    assert f"Result: {score.status}" in page
    assert f"{score.f1:.3f}" in page and f"{score.precision:.3f}" in page and f"{score.recall:.3f}" in page
    assert "≥ 0.8" in page and "≥ 0.9" in page  # the F1 and class accuracy marks
    for name in ("Car", "Person", "Truck", "bounding_box"):
        assert f"<td>{name}</td>" in page
    assert "Missed objects: 3" in page and "Loose shapes: 1" in page and "Car → Truck 1" in page
    assert page.count("<svg class=\"drawing\"") == 2
    assert page.index("b.jpg") < page.index("a.jpg")  # worst first


def test_the_drawing_uses_the_canvas_colours_solid_for_the_benchmark_dashed_for_the_annotator(scene):
    result, rows_of = scene
    svg = render_svg(build_pack(result, rows_of, WHO).items[1])
    car = CAR.color.upper()
    bench = re.findall(r'<polygon [^>]*stroke="' + car + r'"[^>]*>', svg)
    mine = re.findall(r'<polygon [^>]*stroke="' + annotator_colour(car) + r'"[^>]*>', svg)
    assert len(bench) == 2 and len(mine) == 2  # two benchmark cars; the annotator's car and extra car
    assert all("stroke-dasharray" not in b for b in bench) and all("stroke-dasharray" in m for m in mine)
    assert svg.count("<line ") == 3  # one link per matched pair
    assert "+</text>" in svg  # the extra car marked
    assert f'fill="{IMAGE_BACKGROUND}"' in svg
    assert "✗</text>" in render_svg(build_pack(result, rows_of, WHO).items[0])


def test_every_kind_of_shape_is_drawn():
    p = make_mixed_programme(seed=3, n_items=6)
    result = evaluate(p.benchmark, list(p.training.items()), keep_objects=True)
    owner = {email: rows for email, rows in zip(p.annotators.values(), p.training.values())}
    packs = build_packs(result, _rows_of(p.benchmark, owner))
    shapes = [s for pack in packs for item in pack.items for s in item.shapes]
    assert {type(s.geometry) for s in shapes} == set(DRAWABLE)
    for pack in packs:
        for item in pack.items:
            svg = render_svg(item)
            assert svg.startswith("<svg") and svg.endswith("</svg>")
    masks = [item for pack in packs for item in pack.items if any(isinstance(s.geometry, Bitmask) for s in item.shapes)]
    assert 'fill-opacity="0.28"' in render_svg(masks[0])  # a benchmark mask, filled lightly and outlined
    keypoints = [item for pack in packs for item in pack.items
                 if any(isinstance(s.geometry, (Point, Skeleton)) for s in item.shapes)]
    assert keypoints


def test_the_palette_is_one_source_for_the_canvas_and_the_pack():
    from annotrain_tui.tui.canvas import model

    assert model.PALETTE is PALETTE and model.palette_colour is palette_colour
    from textual.color import Color

    for colour in (*PALETTE, "#D33115", "#000000"):  # the canvas fades with Textual's blend: the same colour
        assert faded(colour, IMAGE_BACKGROUND) == Color.parse(colour).blend(Color.parse(IMAGE_BACKGROUND), 0.3).hex
    assert faded("#FF0000", "#FFFFFF", 0.3) == "#FF4C4C" and faded("#000000", "#FFFFFF", 0.0) == "#000000"


# --- hostile strings ---------------------------------------------------------------------------------

HOSTILE = SynthClass("<script>alert(1)</script>", "h0st1le1", "bounding_box", "red\" onload=\"alert(2)")
BIDI_WHO = "eve\u202egro.live\u202c@example.com"


@pytest.fixture(scope="module")
def hostile():
    return _scene(BIDI_WHO, person=HOSTILE, title_a="https://evil.example/\" onmouseover=\"x.jpg")


def test_hostile_class_names_emails_and_titles_stay_text_in_the_html(hostile):
    result, rows_of = hostile
    page = render_html(build_pack(result, rows_of, BIDI_WHO))
    assert "<script" not in page and "alert(1)" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'onload="' not in page and 'onmouseover="' not in page
    assert "\u202e" not in page and "\u202c" not in page and "eve\\u202egro.live\\u202c@example.com" in page
    assert "https://" not in page and "https&#58;//evil.example/" in page
    # an invalid ontology colour never reaches an attribute: the palette's is used
    colours = set(re.findall(r'stroke="([^"]*)"', page)) | set(re.findall(r'fill="([^"]*)"', page))
    assert all(re.fullmatch(r"#[0-9A-F]{6}|none", c) for c in colours), colours


def test_hostile_strings_stay_text_in_the_markdown(hostile):
    result, rows_of = hostile
    md = render_markdown(build_pack(result, rows_of, BIDI_WHO), html_name="x.html")
    assert "<script" not in md and "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "\u202e" not in md and "eve\\\\u202egro.live\\\\u202c@example.com" in md
    assert "https://" not in md


def test_the_html_is_self_contained(scene, hostile):
    for result, rows_of, who in ((*scene, WHO), (*hostile, BIDI_WHO)):
        page = render_html(build_pack(result, rows_of, who))
        lowered = page.lower()
        for banned in ("<link", "<script", "src=", "href=", "http://", "https://", "url(", "@import", "@font-face",
                       "<iframe", "<object", "<embed", "<img"):
            assert banned not in lowered, banned
        assert "content-security-policy" in lowered and "default-src 'none'" in page
        assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")


def test_the_markdown_has_the_same_content_and_points_to_the_html_for_drawings(scene):
    result, rows_of = scene
    pack = build_pack(result, rows_of, WHO)
    md = render_markdown(pack, html_name="trainee@example.com.html")
    assert md.startswith(f"# Feedback for {WHO}")
    assert f"| F1 | {pack.score.f1:.3f} |" in md
    assert "**Missed objects: 3**" in md and "Car → Truck 1" in md
    assert "### 1. b.jpg" in md and "### 2. a.jpg" in md and md.index("### 1. b.jpg") < md.index("### 2. a.jpg")
    assert "is in trainee@example.com.html, beside this file" in md and "<svg" not in md
    assert "| 2 | loose | Person | Person | bounding\\_box | 0.60 |" in md
    assert "| + | extra |  | Car | bounding\\_box |  |" in md
    link = render_markdown(replace(pack, annotator="[click](javascript:alert(1)) *x* `y` a|b"))
    assert "# Feedback for \\[click\\](javascript:alert(1)) \\*x\\* \\`y\\` a\\|b" in link


# --- intervals ---------------------------------------------------------------------------------------

def test_intervals_are_shown_when_the_score_carries_them(scene):
    result, rows_of = scene
    pack = build_pack(result, rows_of, WHO)

    @dataclass(frozen=True)
    class WithIntervals:
        base: object
        recall_interval: object = (0.25, 0.75)
        precision_interval: object = None
        f1_interval: object = None

        def __getattr__(self, name):
            return getattr(self.base, name)

    shown = replace(pack, score=WithIntervals(pack.score))  # type: ignore[arg-type]
    assert shown.intervals["recall"] == (0.25, 0.75) and "0.250–0.750" in render_html(shown)
    assert interval_of((0.1, 0.2)) == (0.1, 0.2) and interval_of(None) is None and interval_of("x") is None

    class LowHigh:
        low, high = 0.3, 0.4

    assert interval_of(LowHigh()) == (0.3, 0.4) and interval_of((float("nan"), 1)) is None


# --- refusals ----------------------------------------------------------------------------------------

def test_an_annotator_without_scores_is_refused_with_the_ones_scored(scene):
    result, rows_of = scene
    with pytest.raises(NotFound, match="nobody@x.org") as err:
        build_packs(result, rows_of, ["nobody@x.org"])
    assert WHO in (err.value.hint or "")
    assert [p.annotator for p in build_packs(result, rows_of, [WHO.upper()])] == [WHO]  # any case


def test_a_result_without_per_object_rows_is_refused(scene):
    result, rows_of = scene
    with pytest.raises(AnnotrainError, match="keep_objects"):
        build_packs(replace(result, keep_objects=False, _objects=None), rows_of)


# --- files -------------------------------------------------------------------------------------------

def test_file_names_are_safe_and_never_collide():
    names = pack_file_names(["bea@x.org", "Bea@x.org", "../../etc/passwd", ".hidden@x.org", "a/b\\c@x", "",
                             "eve\u202e@x.org", "bea@x.org-2"])
    stems = list(names.values())
    assert stems[0] == "bea@x.org" and stems[1] == "Bea@x.org-2"
    assert len({s.casefold() for s in stems}) == len(stems)  # unique whatever the file system's case rule
    for stem in stems:
        assert "/" not in stem and "\\" not in stem and not stem.startswith(".") and stem and stem.isascii()


def test_write_packs_writes_html_and_markdown_and_refuses_to_overwrite(scene, tmp_path):
    result, rows_of = scene
    out = tmp_path / "packs" / "round1"
    paths = write_packs(result, rows_of, out)
    assert [p.name for p in paths] == [f"{WHO}.html", f"{WHO}.md"]
    assert all(p.is_file() for p in paths) and "<svg" in paths[0].read_text()
    before = paths[0].read_text()
    with pytest.raises(OutputExists):
        write_packs(result, rows_of, out)
    assert paths[0].read_text() == before
    assert write_packs(result, rows_of, out, force=True) == paths
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)  # no temporary file left


def test_write_packs_checks_every_target_before_writing_any(scene, tmp_path):
    result, rows_of = scene
    (tmp_path / f"{WHO}.md").write_text("mine")
    with pytest.raises(OutputExists):
        write_packs(result, rows_of, tmp_path)
    assert not (tmp_path / f"{WHO}.html").exists() and (tmp_path / f"{WHO}.md").read_text() == "mine"


def test_write_packs_never_overwrites_an_input(scene, tmp_path):
    result, rows_of = scene
    given = tmp_path / f"{WHO}.html"
    given.write_text("an input")
    with pytest.raises(InvalidInput, match="inputs"):
        write_packs(result, rows_of, tmp_path, inputs=[given], force=True)
    assert given.read_text() == "an input"


def test_write_packs_refuses_a_file_as_the_directory(scene, tmp_path):
    result, rows_of = scene
    (tmp_path / "f").write_text("x")
    with pytest.raises(InvalidInput, match="not a directory"):
        write_packs(result, rows_of, tmp_path / "f")


def test_a_session_and_its_snapshot_write_the_same_packs(tmp_path):
    import json

    from annotrain_tui.core.evaluation.session import EvaluationSession
    from annotrain_tui.core.feedback import write_session_packs, write_snapshot_packs

    p = make_mixed_programme(seed=5, n_items=5)
    (tmp_path / "bm.json").write_text(json.dumps(p.benchmark))
    paths = []
    for i, rows in enumerate(p.training.values()):
        paths.append(tmp_path / f"t{i}.json")
        paths[-1].write_text(json.dumps(rows))
    session = EvaluationSession.of_files(str(tmp_path / "bm.json"), [str(x) for x in paths], keep_objects=True)
    session.load()
    a = write_session_packs(session, tmp_path / "a")
    b = write_snapshot_packs(session.snapshot(), tmp_path / "b")
    assert [x.name for x in a] == [x.name for x in b] == [f"{e}.{ext}" for e in p.annotators.values()
                                                           for ext in ("html", "md")]

    def steady(path):  # the time written aside
        return re.sub(r"written \d{4}-\d\d-\d\d \d\d:\d\d UTC", "", path.read_text())

    assert all(steady(x) == steady(y) for x, y in zip(a, b))
    assert all("<svg class=\"drawing\"" in steady(x) for x in a if x.suffix == ".html")


# --- suspect gold under review, and the round a pack scores (trial 16, items 6 and 18) ----------------

def test_an_item_under_suspect_gold_leaves_the_ranking_and_is_listed_last_marked(scene):
    from annotrain_tui.core.feedback import UNDER_REVIEW

    result, rows_of = scene
    pack = build_pack(result, rows_of, WHO, suspects={"B": "4 of 4 trainees drew a Car the gold lacks"})
    assert [(i.rank, i.title, i.suspect) for i in pack.items] == [(1, "a.jpg", None)]
    assert [(i.rank, i.title, i.suspect) for i in pack.under_review] == [
        (0, "b.jpg", "4 of 4 trainees drew a Car the gold lacks")]
    assert (pack.items_with_errors, pack.items_under_review) == (1, 1)
    assert pack.errors.missed == 3  # still scored: only the ranking leaves it out
    page = render_html(pack)
    assert page.count(UNDER_REVIEW) == 1 and "4 of 4 trainees drew a Car the gold lacks" in page
    assert page.index("1. a.jpg") < page.index("Where the gold may be wrong") < page.index("b.jpg</b>")
    assert page.count("<svg class=\"drawing\"") == 2  # both still drawn
    assert "1 more where the gold may be wrong (under review)" in page
    md = render_markdown(pack)
    assert md.index("### 1. a.jpg") < md.index("#### b.jpg") and UNDER_REVIEW in md
    doc = pack.to_json()
    assert [i["data_title"] for i in doc["worst_items"]] == ["a.jpg"]
    assert [(i["data_title"], i["gold_under_review"]) for i in doc["gold_under_review"]] == [("b.jpg", True)]
    # without suspects (the TUI's path), nothing changes
    plain = build_pack(result, rows_of, WHO)
    assert [i.title for i in plain.items] == ["b.jpg", "a.jpg"] and plain.under_review == ()
    assert UNDER_REVIEW not in render_html(plain) and UNDER_REVIEW not in render_markdown(plain)
    # top bounds the listed ones too
    assert build_pack(result, rows_of, WHO, top=0, suspects={"B": "x"}).under_review == ()
    # the audit's explanation names classes from the files: text, never markup
    evil = build_pack(result, rows_of, WHO, suspects={"B": "<script>alert(1)</script> [x](https://e.example)"})
    page, md = render_html(evil), render_markdown(evil)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "https://" not in page
    assert "<script>" not in md and "\\[x\\]" in md and "https://" not in md


def test_every_worst_item_under_review_still_draws_and_says_no_other_item(scene):
    result, rows_of = scene
    pack = build_pack(result, rows_of, WHO, suspects={"A": "gold class", "B": "gold missing"})
    assert pack.items == () and [i.title for i in pack.under_review] == ["b.jpg", "a.jpg"]
    page = render_html(pack)
    assert "No other item has a miss" in page and "nothing to draw" not in page
    assert page.count("<svg class=\"drawing\"") == 2 and "How to read a drawing" in page


def test_a_pack_says_the_round_it_scores_and_the_other_rounds(scene):
    from annotrain_tui.core.feedback import PackRound

    result, rows_of = scene
    facts = PackRound(round=2, rounds=2, others=("Round 1: F1 0.490, needs feedback",))
    pack = build_pack(result, rows_of, WHO, rounds={WHO.upper(): facts})  # emails in any case
    assert pack.round == facts and pack.to_json()["round"] == {"round": 2, "rounds": 2,
                                                                "other_rounds": ["Round 1: F1 0.490, needs feedback"]}
    page = render_html(pack)
    assert '<p class="round">Round 2 of 2</p>' in page and f"Result: {pack.score.status} (round 2)" in page
    assert "<li>Round 1: F1 0.490, needs feedback</li>" in page
    md = render_markdown(pack)
    assert "**Round 2 of 2**" in md and "- Round 1: F1 0.490, needs feedback" in md
    plain = render_html(build_pack(result, rows_of, WHO))
    assert "Round 2 of 2" not in plain and 'class="round"' not in plain


def _trainee(email, *rounds):
    from types import SimpleNamespace

    from annotrain_tui.core.programme import Trainee, TrainingRound

    return Trainee(email=email, rounds=[TrainingRound(email=email, round=n, project=SimpleNamespace(id=f"{email}-{n}"),
                                                      complete=c, total=t) for n, c, t in rounds])


def _prog(*trainees):
    from types import SimpleNamespace

    return SimpleNamespace(title="Bench", trainees={t.email: t for t in trainees})


def test_choose_rounds_takes_the_latest_round_with_finished_work_or_the_one_asked_for():
    from annotrain_tui.core.feedback import choose_rounds

    prog = _prog(_trainee("a@x.org", (1, 10, 10)), _trainee("b@x.org", (1, 10, 10), (2, 0, 10)),
                 _trainee("c@x.org", (1, 10, 10), (2, 4, 10)), _trainee("d@x.org", (1, 0, 10)))
    got = choose_rounds(prog)
    assert {e: r.round for e, r in got.rounds.items()} == {"a@x.org": 1, "b@x.org": 1, "c@x.org": 2}
    assert got.left_out == {"d@x.org": "d@x.org: no finished work in any round (round 1: 0/10 Complete)"}
    assert got.project_ids == ["a@x.org-1", "b@x.org-1", "c@x.org-2"]
    two = choose_rounds(prog, round=2)
    assert {e: r.round for e, r in two.rounds.items()} == {"c@x.org": 2}
    assert two.left_out == {"a@x.org": "a@x.org: has no round 2 (their round(s): 1)",
                            "b@x.org": "b@x.org: round 2 has no finished work yet (0/10 Complete)",
                            "d@x.org": "d@x.org: has no round 2 (their round(s): 1)"}
    some = choose_rounds(prog, annotators=["B@X.org", "b@x.org"])
    assert list(some.rounds) == ["b@x.org"] and some.left_out == {}
    with pytest.raises(NotFound, match="not a trainee") as err:
        choose_rounds(prog, annotators=["nobody@x.org"])
    assert "a@x.org" in (err.value.hint or "")


def test_round_facts_name_the_round_of_how_many_and_the_other_rounds_from_the_history():
    from annotrain_tui.core.feedback import choose_rounds, round_facts

    prog = _prog(_trainee("b@x.org", (1, 10, 10), (2, 10, 10), (3, 2, 10)))
    snaps = [{"ts": "2026-12-01T10:00:00", "annotators": {"b@x.org": {"round": 1, "f1": 0.3, "status": "close"}}},
             {"ts": "2026-12-01T11:00:00", "annotators": {"b@x.org": {"round": 1, "f1": 0.49,
                                                                        "status": "needs feedback"}}}]
    facts = round_facts(prog, choose_rounds(prog, round=2).rounds, snaps)["b@x.org"]
    assert facts.heading == "Round 2 of 3"
    assert facts.others == ("Round 1: F1 0.490, needs feedback (evaluated 2026-12-01 11:00)",
                            "Round 3: not scored in this pack (2/10 Complete)")
    bare = round_facts(prog, choose_rounds(prog, round=2).rounds)["b@x.org"]
    assert bare.others[0] == "Round 1: not evaluated in the history (10/10 Complete)"


def test_suspect_items_are_the_audits_not_excluded_and_not_put_back_by_a_review():
    from types import SimpleNamespace

    from annotrain_tui.core.feedback import suspect_items

    def suspect(dh, why, excluded=None):
        return SimpleNamespace(data_hash=dh, explanation=why, excluded=excluded)

    audit = SimpleNamespace(suspects=[suspect("A", "gold lacks a Car"), suspect("A", "gold box misplaced"),
                                      suspect("B", "class", excluded="wrong gold"), suspect("C", "kept")])
    record = SimpleNamespace(events=lambda kind=None: [{"event": "inclusion", "data_hash": "C"}]
                             if kind == "inclusion" else [])
    assert suspect_items(audit, record) == {"A": "gold lacks a Car; gold box misplaced"}
    assert suspect_items(audit) == {"A": "gold lacks a Car; gold box misplaced", "C": "kept"}
