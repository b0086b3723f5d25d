"""Issue 11, found by an adversarial trial: numbers and label rows that were absorbed, now refused
or named.

Every case drives the real CLI (``annotrain_tui.cli.main`` with capsys) and asserts the exit code,
the located line and its wording:

- manifests: metadata integers above 2**63-1 (every int field of every block), whole numbers written
  as floats, clientMetadata integers past 2**53 / 2**63-1 (warnings), literals that underflow to 0.0,
  the real float maximum in the 1e400 message; ``--iou-threshold 1e-400``;
- ``manifest convert`` to CSV: the report says which cells got a ``'`` and which had a surrogate
  escaped, each for what really happened;
- label files: ``"data_units": {}``, unit sizes that are no pixel count, non-finite ``confidence``,
  boxes of zero width or height.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotrain_tui.core.manifest.models import METADATA_FIELDS, METADATA_KEY
from tests.hardening.helpers import run
from tests.labelgen import DEFAULT_CLASSES, box, make_label_row, make_object, polygon, rotated_box

CAR, SIGN, ROAD = (DEFAULT_CLASSES[i] for i in (0, 3, 5))

INT64 = 2**63 - 1
URLS = {"videos": "v.mp4", "audio": "a.mp3", "pdfs": "d.pdf", "text": "t.txt", "images": "i.jpg"}
HOST = "https://b.s3.us-east-1.amazonaws.com/p/"


def where(text: str, token: str) -> str:
    """'line:column' (1-based) of the first occurrence of ``token`` in ``text``."""
    at = text.index(token)
    return f"{text.count(chr(10), 0, at) + 1}:{at - (text.rfind(chr(10), 0, at) + 1) + 1}"


def valid_block(block: str) -> dict:
    values = {"int": 7, "number": 2.5, "string": "x"}
    out = {name: values[kind] for name, (_, kind, _) in METADATA_FIELDS[block].items()}
    if "mime_type" in out or "mimeType" in out:
        out["mime_type" if "mime_type" in out else "mimeType"] = "application/octet-stream"
    return out


def manifest_with(section: str, block: str, field: str, literal: str) -> str:
    """A one-item manifest whose metadata ``field`` is the raw JSON ``literal``."""
    meta = valid_block(block)
    meta[field] = "@@"
    return json.dumps({section: [{"objectUrl": HOST + URLS[section], block: meta}]}).replace('"@@"', literal)


INT_FIELDS = [(section, block, name) for section, block in METADATA_KEY.items()
              for name, (_, kind, _) in METADATA_FIELDS[block].items() if kind == "int"]


def validate(capsys, tmp_path: Path, text: str) -> tuple[int, str, list[str], str]:
    path = tmp_path / "m.json"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "manifest", "validate", path)
    assert "Traceback" not in err
    return code, str(path), out.splitlines(), err


# --- manifests: integers above int64 -------------------------------------------------------------

@pytest.mark.parametrize("section, block, field", INT_FIELDS)
@pytest.mark.parametrize("value", [2**64, 2**63, 10**30])
def test_metadata_integers_above_int64_are_a_located_error(capsys, tmp_path, section, block, field, value):
    text = manifest_with(section, block, field, str(value))
    code, path, lines, _ = validate(capsys, tmp_path, text)
    assert code == 1
    assert lines[0] == (f'{path}:{where(text, str(value))}: error[metadata-value]: "{field}" in "{block}" is {value}, '
                        f"larger than the largest whole number Encord stores, {INT64}: write the real value")
    assert lines[1].endswith("1 error, 0 warnings")


@pytest.mark.parametrize("section, block, field", INT_FIELDS)
def test_the_largest_int64_is_still_valid(capsys, tmp_path, section, block, field):
    code, path, lines, _ = validate(capsys, tmp_path, manifest_with(section, block, field, str(INT64)))
    assert code == 0 and lines == [f"{path}: valid json manifest — 1 item, 1 URL, 0 errors, 0 warnings"]


def test_a_whole_number_written_as_a_float_says_so(capsys, tmp_path):
    text = manifest_with("videos", "videoMetadata", "width", "1e30")
    code, path, lines, _ = validate(capsys, tmp_path, text)
    assert code == 1
    assert lines[0] == (f'{path}:{where(text, "1e30")}: error[metadata-type]: "width" in "videoMetadata" must be an '
                        "integer, not a number (1e+30); as a whole number it would be larger than the largest whole "
                        f"number Encord stores, {INT64}")
    text = manifest_with("images", "imageMetadata", "height", "480.0")
    code, path, lines, _ = validate(capsys, tmp_path, text)
    assert code == 1 and lines[0].endswith('must be an integer, not a number (480.0, with a decimal point or an '
                                           "exponent): write 480")


def test_a_huge_integer_is_named_by_its_digit_count(capsys, tmp_path):
    text = manifest_with("pdfs", "pdfMetadata", "numPages", "9" * 400)
    code, path, lines, _ = validate(capsys, tmp_path, text)
    assert code == 1
    assert lines[0].startswith(f'{path}:{where(text, "9" * 400)}: error[metadata-value]: "numPages" in "pdfMetadata" '
                               "is a whole number of 400 digits, larger than the largest whole number Encord stores")


# --- manifests: clientMetadata integers other readers cannot hold ------------------------------

def test_client_metadata_integers_past_2_53_and_int64_are_located_warnings(capsys, tmp_path):
    text = json.dumps({"images": [
        {"objectUrl": HOST + "a.jpg", "clientMetadata": {"ok": 2**53, "neg_ok": -(2**53), "id": 2**53 + 1}},
        {"objectUrl": HOST + "b.jpg", "clientMetadata": {"deep": [{"n": -(2**64)}], "small": 12}},
    ]}, indent=1)
    code, path, lines, _ = validate(capsys, tmp_path, text)
    assert code == 0
    assert lines == [
        f"{path}:{where(text, str(2**53 + 1))}: warning[metadata-precision]: the whole number {2**53 + 1} in "
        f"clientMetadata is beyond ±{2**53} (2**53): a JSON reader that holds numbers as 64-bit floats (JavaScript, "
        f"Encord's web app) reads it as {2**53}: write it as a string (\"…\") to keep every digit",
        f"{path}:{where(text, str(-(2**64)))}: warning[metadata-precision]: the whole number {-(2**64)} in "
        f"clientMetadata is beyond ±{INT64} (the largest 64-bit whole number): no 64-bit integer holds it, so a "
        "database or a JSON reader other than Python's may refuse it, wrap it or round it: write it as a string "
        "(\"…\") to keep every digit",
        f"{path}: valid json manifest — 2 items, 2 URLs, 0 errors, 2 warnings",
    ]


def test_client_metadata_in_image_groups_is_checked_too(capsys, tmp_path):
    text = json.dumps({"image_groups": [{"title": "g", "createVideo": False, "objectUrl_0": HOST + "a.jpg",
                                         "clientMetadata": {"big": 2**70}}]})
    code, path, lines, _ = validate(capsys, tmp_path, text)
    assert code == 0 and lines[0].startswith(f"{path}:{where(text, str(2**70))}: warning[metadata-precision]: ")


# --- manifests: a non-zero literal that reads as 0.0 ------------------------------------------

@pytest.mark.parametrize("literal", ["0.1e-400", "1e-400", "-2.5E-999", "0.00001e-320"])
def test_an_underflowing_literal_is_a_located_error_naming_it(capsys, tmp_path, literal):
    text = '{"images": [{"objectUrl": "%si.jpg", "clientMetadata": {"x": %s}}]}' % (HOST, literal)
    code, path, lines, _ = validate(capsys, tmp_path, text)
    assert code == 1
    assert lines[0] == (f"{path}:{where(text, literal)}: error[json-number]: the number {literal} is too small to be "
                        "a number: it is not 0, but it would be read as 0.0 (non-zero numbers go down to about "
                        "5e-324): write 0, a larger value, or a string")


def test_underflow_in_fps_says_underflow_not_greater_than_zero(capsys, tmp_path):
    text = manifest_with("videos", "videoMetadata", "fps", "1e-400")
    code, path, lines, _ = validate(capsys, tmp_path, text)
    assert code == 1 and len(lines) == 2
    assert lines[0].startswith(f"{path}:{where(text, '1e-400')}: error[json-number]: the number 1e-400 is too small")
    assert "greater than 0" not in lines[0]


@pytest.mark.parametrize("literal", ["0.0", "0e-400", "-0.0", "0.000e5", "5e-324", "2.2e-308"])
def test_zero_and_the_smallest_numbers_are_still_valid(capsys, tmp_path, literal):
    text = '{"images": [{"objectUrl": "%si.jpg", "clientMetadata": {"x": %s}}]}' % (HOST, literal)
    code, _, lines, _ = validate(capsys, tmp_path, text)
    assert code == 0, lines


def test_split_refuses_an_underflowing_manifest_instead_of_writing_zero(capsys, tmp_path):
    src = tmp_path / "m.json"
    src.write_text('{"images": [{"objectUrl": "%si.jpg", "clientMetadata": {"x": 0.1e-400}}]}' % HOST)
    code, out, err = run(capsys, "manifest", "split", src, "--out-dir", tmp_path / "parts")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "the number 0.1e-400 is too small to be a number" in err
    assert not (tmp_path / "parts").exists()


def test_an_overflowing_literal_names_the_real_maximum(capsys, tmp_path):
    text = '{"images": [{"objectUrl": "%si.jpg", "clientMetadata": {"x": 1.8e308}}]}' % HOST
    code, path, lines, _ = validate(capsys, tmp_path, text)
    assert code == 1
    assert lines[0] == (f"{path}:{where(text, '1.8e308')}: error[json-number]: the number 1.8e308 is too large to be "
                        "a number (it would be read as infinity): write a finite value (at most "
                        "1.7976931348623157e308), or a string")


# --- numeric options ----------------------------------------------------------------------------

def _labels(tmp_path: Path) -> Path:
    path = tmp_path / "empty.json"
    path.write_text("[]")
    return path


@pytest.mark.parametrize("value, wording", [
    ("1e-400", "1e-400 is too small to be a number: it is not 0, but it would be read as 0.0"),
    ("-3E-500", "-3E-500 is too small to be a number"),
    ("1e400", "1e400 is too large to be a number (at most 1.7976931348623157e308): give a finite number"),
])
def test_numeric_options_refuse_what_would_not_read_as_written(capsys, tmp_path, value, wording):
    f = _labels(tmp_path)
    code, out, err = run(capsys, "evaluate", "--benchmark-labels", f, "--training-labels", f, f"--iou-threshold={value}")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"annotrain: usage error: argument --iou-threshold: {wording}")
    assert "got 0.0" not in err


def test_a_real_zero_option_is_still_judged_by_its_range(capsys, tmp_path):
    f = _labels(tmp_path)
    code, _, err = run(capsys, "evaluate", "--benchmark-labels", f, "--training-labels", f, "--iou-threshold=0e-400")
    assert code == 2 and "--iou-threshold must be in (0, 1], got 0.0" in err


# --- manifest convert: the report says what really changed --------------------------------------

def _convert(capsys, tmp_path: Path, titles: list[str]) -> tuple[int, str, list[str]]:
    src = tmp_path / "m.json"
    items = ",".join('{"objectUrl": "%s%d.jpg", "title": "%s"}' % (HOST, i, t) for i, t in enumerate(titles))
    src.write_text('{"images": [%s]}' % items)
    code, _, err = run(capsys, "manifest", "convert", src, tmp_path / "m.csv")
    return code, (tmp_path / "m.csv").read_text(encoding="utf-8"), err.splitlines()


def test_a_surrogate_escape_is_reported_as_such_not_as_a_formula(capsys, tmp_path):
    code, csv, lines = _convert(capsys, tmp_path, ["a\\udc80"])
    assert code == 0
    assert csv.splitlines()[1].endswith(",a\\udc80") and "'" not in csv
    assert not any("formula" in ln for ln in lines), lines
    assert ("annotrain: warning: 1 cell holds half of a UTF-16 surrogate pair (no character; undecodable text?), "
            "written as its escape (\\udXXX as six characters, which Encord would store as they are): write the whole "
            "character in the manifest, or remove it") in lines


def test_formula_and_surrogate_cells_are_counted_apart(capsys, tmp_path):
    code, csv, lines = _convert(capsys, tmp_path, ["=1+2", "@x", "b\\udc81", "plain"])
    assert code == 0
    assert ",'=1+2" in csv and ",'@x" in csv and ",b\\udc81" in csv
    assert any(ln.startswith("annotrain: warning: 2 cells that a spreadsheet would run as a formula") for ln in lines)
    assert any(ln.startswith("annotrain: warning: 1 cell holds half of a UTF-16 surrogate pair") for ln in lines)


def test_cell_changes_agrees_with_the_writer():
    from annotrain_tui.core.exports import cell_changes, neutralise

    for cell in ["plain", "=1", "a\udc80", "=a\udc80", "x\n-1", "a,=b", "\ud800", 5, None, "-", "a\tb"]:
        formula, escaped = cell_changes(cell)
        assert (formula or escaped) == (neutralise(cell) != cell), cell
    assert cell_changes("=a\udc80") == (True, True)
    assert cell_changes("a\udc80") == (False, True)
    assert cell_changes("x\n-1") == (True, False)


# --- label files ----------------------------------------------------------------------------------

def _programme():
    from tests.synth import make_programme

    programme = make_programme(seed=1, n_items=4, video_every=3, annotators=("a@example.com",))
    return programme.benchmark, json.loads(json.dumps(next(iter(programme.training.values()))))


def _unit_key(rows, i):
    return next(iter(rows[i]["data_units"]))


def _evaluate(capsys, tmp_path: Path, bench, rows, text: str | None = None):
    bm, tr = tmp_path / "bm.json", tmp_path / "tr.json"
    bm.write_text(json.dumps(bench))
    tr.write_text(text if text is not None else json.dumps(rows))
    code, out, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", tr)
    assert "Traceback" not in err and "internal error" not in err
    return code, out, err.splitlines(), tr


def test_empty_data_units_is_a_warning_naming_the_row(capsys, tmp_path):
    bench, rows = _programme()
    rows[1]["data_units"] = {}
    code, _, lines, tr = _evaluate(capsys, tmp_path, bench, rows)
    assert code == 0
    assert lines == [f"annotrain: warning: {tr}: row 1 (label_hash {rows[1]['label_hash']}): no data units "
                     '("data_units": {}), so nothing in it is read: it counts as a row with no objects (in a training '
                     "file, every benchmark object of that data counts as missed) (export the rows again)"]


@pytest.mark.parametrize("value, got", [
    (0, "got 0"), (-1, "got -1"), ("1280", 'got "1280" (string)'), (True, "got true (boolean)"),
    (1e-300, "got 1e-300"), (0.5, "got 0.5"), (2**40, f"got {2**40}"), ([1280], "got a list"),
])
@pytest.mark.parametrize("dim", ["width", "height"])
def test_a_unit_size_that_is_no_pixel_count_is_a_warning_naming_the_row(capsys, tmp_path, dim, value, got):
    bench, rows = _programme()
    key = _unit_key(rows, 0)
    rows[0]["data_units"][key][dim] = value
    code, _, lines, tr = _evaluate(capsys, tmp_path, bench, rows)
    assert code == 0
    assert lines == [
        f"annotrain: warning: {tr}: row 0 (label_hash {rows[0]['label_hash']}) data unit {key}: {dim} must be a "
        f"positive number of pixels (1 to 2,147,483,647), {got}: the value is ignored: rotated boxes on this data unit "
        "are scaled by the benchmark's value for it (else the training file's), or by 1 when neither file has a valid "
        "one, which distorts their rotation (their IoU is then not the one on the image)"]


@pytest.mark.parametrize("value", [None, 1, 1280, 1280.0, 2**31 - 1])
def test_absent_or_plausible_sizes_are_not_warned(capsys, tmp_path, value):
    bench, rows = _programme()
    rows[0]["data_units"][_unit_key(rows, 0)]["width"] = value
    code, _, lines, _ = _evaluate(capsys, tmp_path, bench, rows)
    assert code == 0 and lines == []


def test_an_ignored_size_really_falls_back_as_the_warning_says(tmp_path):
    """The warning's consequence, checked on the engine: a rotated box pair on a 1000x100 image has
    the same IoU whether the training unit's width is valid or "1000" (the benchmark's is used), and
    when neither file has a valid width it is scaled by 1 (another IoU)."""
    from annotrain_tui.core.evaluation.engine import Evaluator
    from annotrain_tui.core.evaluation.parse import parse_label_rows
    from tests.labelgen import DEFAULT_CLASSES, make_label_row, make_object, rotated_box

    sign = DEFAULT_CLASSES[3]
    assert sign.shape == "rotatable_bounding_box"

    def rows(label, hash_, x, width):
        row = make_label_row(data_hash="d1", data_title="a.jpg", label_hash=label, objects=[
            make_object(sign, rotated_box(x, 0.3, 0.2, 0.4, 30.0), object_hash=hash_,
                        created_by=None if label == "B" else "a@x.io")])
        for unit in row["data_units"].values():
            unit["width"], unit["height"] = width, 100
        return [row]

    def iou(bm_width, tr_width):
        bm = parse_label_rows(rows("B", "b1", 0.40, bm_width), source="bm")
        tr = parse_label_rows(rows("T", "t1", 0.42, tr_width), source="tr")
        objects = Evaluator(bm, iou_threshold=0.01).add("a@x.io", tr).objects
        return float(objects["iou"].dropna().iloc[0])

    on_image = iou(1000, 1000)
    assert iou(1000, "1000") == pytest.approx(on_image)
    assert iou(True, 1000) == pytest.approx(on_image)
    assert iou("x", "y") == pytest.approx(iou(1, 1))
    assert iou("x", "y") != pytest.approx(on_image, abs=0.01)


@pytest.mark.parametrize("literal, wording", [
    ("1e400", "'confidence' is infinite, not a confidence (a number from 0 to 1)"),
    ("-1e400", "'confidence' is infinite"),
    ("NaN", "'confidence' is NaN"),
    ("Infinity", "'confidence' is infinite"),
    ('"high"', "'confidence' must be a number from 0 to 1, got 'high' (string)"),
    ("true", "'confidence' must be a number from 0 to 1, got True (boolean)"),
])
def test_a_non_finite_confidence_is_refused_like_a_coordinate(capsys, tmp_path, literal, wording):
    bench, rows = _programme()
    text = json.dumps(rows).replace('"confidence": 1.0', '"confidence": ' + literal, 1)
    code, out, lines, tr = _evaluate(capsys, tmp_path, bench, rows, text=text)
    assert code == 2 and out == "" and len(lines) == 1
    first = rows[0]["data_units"][_unit_key(rows, 0)]["labels"]["objects"][0]["objectHash"]
    assert lines[0].startswith(f"annotrain: error: {tr}: row 0 (label_hash {rows[0]['label_hash']}) frame 0 "
                               f"object 0 ({first}): {wording}")


@pytest.mark.parametrize("value", [None, 0, 1, 0.25])
def test_finite_or_null_confidence_is_fine(capsys, tmp_path, value):
    bench, rows = _programme()
    rows[0]["data_units"][_unit_key(rows, 0)]["labels"]["objects"][0]["confidence"] = value
    code, _, lines, _ = _evaluate(capsys, tmp_path, bench, rows)
    assert code == 0 and lines == []


@pytest.mark.parametrize("geometry", [box(0.1, 0.1, 0.0, 0.2), box(0.1, 0.1, 0.2, 0.0),
                                      rotated_box(0.1, 0.1, 0.0, 0.2, 10.0), rotated_box(0.1, 0.1, 0.2, 0.0, 10.0)])
def test_a_box_of_zero_size_gets_the_no_area_warning(capsys, tmp_path, geometry):
    bench = [make_label_row(data_hash="d1", data_title="a.jpg", label_hash="B1",
                            objects=[make_object(CAR, box(0.1, 0.1, 0.2, 0.2), object_hash="b1", created_by=None)])]
    cls = CAR if "boundingBox" in geometry else SIGN
    rows = [make_label_row(data_hash="d1", data_title="a.jpg", label_hash="T1", objects=[
        make_object(CAR, box(0.1, 0.1, 0.2, 0.2), object_hash="t1", created_by="a@x.io"),
        make_object(cls, geometry, object_hash="t2", created_by="a@x.io")])]
    code, _, lines, tr = _evaluate(capsys, tmp_path, bench, rows)
    assert code == 0
    assert lines == [f"annotrain: warning: {tr}: 1 box(es) of zero width or height, no area (they overlap nothing): "
                     "row 0 (label_hash T1) frame 0 object t2"]


def test_zero_area_polygons_keep_their_warning(capsys, tmp_path):
    bench = [make_label_row(data_hash="d1", data_title="a.jpg", label_hash="B1",
                            objects=[make_object(CAR, box(0.1, 0.1, 0.2, 0.2), object_hash="b1", created_by=None)])]
    rows = [make_label_row(data_hash="d1", data_title="a.jpg", label_hash="T1", objects=[
        make_object(ROAD, polygon([(0.1, 0.1), (0.2, 0.2), (0.3, 0.3)]), object_hash="t1", created_by="a@x.io")])]
    code, _, lines, tr = _evaluate(capsys, tmp_path, bench, rows)
    assert code == 0
    assert lines == [f"annotrain: warning: {tr}: 1 polygon(s) with fewer than 3 distinct vertices or no area "
                     "(they overlap nothing)"]


def test_a_unit_with_no_shapes_may_have_no_size(capsys, tmp_path):
    """Issue 12: the SDK builds PDF (and audio, text) label rows with width/height 0; a size matters only
    where there are shapes to scale, so a unit without objects is not warned about."""
    bench, rows = _programme()
    key = _unit_key(rows, 0)
    unit = rows[0]["data_units"][key]
    unit["width"] = unit["height"] = 0
    labels = unit.get("labels", {})
    if isinstance(labels.get("objects"), list):
        labels["objects"] = []
    else:
        for frame in labels.values():
            frame["objects"] = []
    code, _, lines, _ = _evaluate(capsys, tmp_path, bench, rows)
    assert code == 0 and not [line for line in lines if "pixels" in line]
