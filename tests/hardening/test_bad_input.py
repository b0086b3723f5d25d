"""Issue 11 §8: bad input is refused, not absorbed — rosters, manifests and label files.

Every case goes through the real CLI (``annotrain roster check``, ``annotrain manifest validate``,
``annotrain evaluate``) and asserts the exit code, the located line(s) and wording that names the
real problem. The numpy-warning cases run the CLI in a subprocess with ``-W default``, so any
RuntimeWarning would reach stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from annotrain_tui.cli import main
from annotrain_tui.core.roster import expand_title, identity, parse_roster
from tests.hardening.helpers import run
from tests.labelgen import DEFAULT_CLASSES, box, make_label_row, make_object, polygon, rotated_box

CAR, SIGN, ROAD = (DEFAULT_CLASSES[i] for i in (0, 3, 5))
URL = "https://bucket.s3.eu-west-2.amazonaws.com/a.jpg"


def write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


# --- rosters -----------------------------------------------------------------------------------

def roster_lines(capsys, tmp_path, body: str) -> tuple[int, list[str]]:
    f = write(tmp_path / "r.csv", "name,email\n" + body)
    code, out, err = run(capsys, "roster", "check", f)
    assert "Traceback" not in err
    return code, [ln.removeprefix(f"{f}:") for ln in out.splitlines()[:-1]]


# where: line:column of the invisible character itself in the file
@pytest.mark.parametrize("cell, where, char", [
    ("Bob\u200b,bob@example.com", "2:4", "U+200B ZERO WIDTH SPACE"),
    ("Bob,bob\u00ad@example.com", "2:8", "U+00AD SOFT HYPHEN"),
    ("Bob \u202eevil,bob@example.com", "2:5", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("Bob\u2066x\u2069,bob@example.com", "2:4", "U+2066 LEFT-TO-RIGHT ISOLATE"),
    ("Bob,\ufeffbob@example.com", "2:5", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
    ("Bob,b\u200dob@example.com", "2:6", "U+200D ZERO WIDTH JOINER"),
])
def test_invisible_characters_are_a_line_error_naming_the_code_point(capsys, tmp_path, cell, where, char):
    code, lines = roster_lines(capsys, tmp_path, cell + "\n")
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith(f"{where}: ")
    assert f"invisible character {char}" in lines[0]
    assert all(ch.isprintable() for ch in lines[0])


def test_a_control_character_in_an_email_is_an_error(capsys, tmp_path):
    code, lines = roster_lines(capsys, tmp_path, "Dee,dee\x07@example.com\nEve,eve\x1b[2J@example.com\n")
    assert code == 1
    assert [ln.split(": ")[0] for ln in lines] == ["2:8", "3:8"]  # line:column of the character itself
    assert "control character U+0007" in lines[0] and "control character U+001B" in lines[1]
    assert "\x1b" not in "".join(lines)


def test_names_are_compared_after_nfkc_and_case_folding(capsys, tmp_path):
    # Fullwidth "Ａｎｎ Ｌｅｅ" is "Ann Lee" after NFKC: the two would get one project title.
    code, lines = roster_lines(capsys, tmp_path, "Ann Lee,ann@example.com\n\uff21\uff4e\uff4e \uff2c\uff45\uff45,al@example.com\n")
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("3: ") and "same project title" in lines[0] and "line 2" in lines[0]


def test_an_email_that_nfkc_changes_is_refused_with_its_plain_form(capsys, tmp_path):
    code, lines = roster_lines(capsys, tmp_path, "Gus,\uff47us@example.com\n")
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("2:2: ") and "write it as 'gus@example.com'" in lines[0]


def test_emails_are_duplicates_ignoring_case(capsys, tmp_path):
    code, lines = roster_lines(capsys, tmp_path, "A,ann@example.com\nB,ANN@Example.COM\n")
    assert code == 1 and len(lines) == 1 and lines[0].startswith("3: duplicate email")


def test_email_in_a_name_is_not_a_template(capsys, tmp_path):
    # Before: "{email}" in the first name expanded to a@x.io, clashing with the second title.
    f = write(tmp_path / "r.csv", "name,email\n{email},a@x.io\na@x.io,b@x.io\n")
    code, out, err = run(capsys, "roster", "check", f, "--title", "Training {name}")
    assert code == 0, out
    assert out.strip() == "2 annotator(s), 0 problem(s)"
    entry = parse_roster("name,email\nX {email} {name},x@y.io\n").entries[0]
    assert entry.project_title("{name} <{email}>") == "X {email} {name} <x@y.io>"
    assert expand_title("{email}/{name}", "{email}", "{name}") == "{name}/{email}"


def test_identity_is_the_one_comparison():
    assert identity("\uff21nn") == identity("ANN") == identity(" ann ")
    assert identity("\ufb01sh") == identity("FISH")  # the ﬁ ligature


# --- manifests ---------------------------------------------------------------------------------

def validate(capsys, path: Path) -> tuple[int, list[str], str]:
    code, out, err = run(capsys, "manifest", "validate", path)
    assert "Traceback" not in err and "Traceback" not in out
    lines = out.splitlines()
    return code, [ln.removeprefix(f"{path}:") for ln in lines[:-1]], lines[-1]


def test_an_overflowing_number_is_a_located_error_not_infinity(capsys, tmp_path):
    f = write(tmp_path / "m.json", '{"images": [{"objectUrl": "%s",\n "clientMetadata": {"n": 1e400}}]}' % URL)
    code, lines, summary = validate(capsys, f)
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("2:26: error[json-number]: the number 1e400 is too large")
    assert "infinity" in lines[0] and "invalid" in summary


def test_infinite_metadata_is_refused_by_the_schema_too():
    from annotrain_tui.core.manifest.collector import Collector
    from annotrain_tui.core.manifest.rules import check_data

    col = Collector(20)
    meta = {"fps": float("inf"), "duration": 1.0, "width": 1, "height": 1, "file_size": 1, "mime_type": "video/mp4"}
    check_data({"videos": [{"objectUrl": URL.replace(".jpg", ".mp4"), "videoMetadata": meta}]}, col)
    assert [(p.code, p.message) for p in col.pending] == [
        ("metadata-value", '"fps" in "videoMetadata" must be a finite number, not inf')]


def test_an_integer_over_4300_digits_is_a_located_error(capsys, tmp_path):
    f = write(tmp_path / "m.json", '{"images": [{"objectUrl": "%s", "clientMetadata": {"n": %s}}]}' % (URL, "7" * 5000))
    code, lines, _ = validate(capsys, f)
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith(f"1:{f.read_text().index('777') + 1}: error[json-number]: a number of 5,000 digits")
    assert "4,300" in lines[0]


def test_deep_nesting_is_a_located_error(capsys, tmp_path):
    f = write(tmp_path / "m.json", '{"images": ' + "[" * 50_000 + "]" * 50_000 + "}")
    code, lines, _ = validate(capsys, f)
    assert code == 1 and len(lines) == 1
    # located at the bracket that reaches depth 500 (the object is level 1), not at 1:1
    assert lines[0].startswith("1:510: error[json-depth]: the JSON is nested 500 levels deep here")


def test_three_nul_bytes_are_not_utf16(capsys, tmp_path):
    f = write(tmp_path / "m.json", b'\x00\x00\x00{"images": []}')
    code, lines, _ = validate(capsys, f)
    assert code == 1 and len(lines) == 1
    assert "UTF-16" not in lines[0] and "UTF-32" not in lines[0]
    assert lines[0].startswith("1:1: error[json-syntax]: a NUL character (U+0000)")


def test_real_utf16_is_still_named(capsys, tmp_path):
    f = write(tmp_path / "m.json", ('{"images": [{"objectUrl": "%s"}]}' % URL).encode("utf-16-le"))
    code, lines, _ = validate(capsys, f)
    assert code == 1 and lines == ["1:1: error[encoding]: the file is UTF-16 encoded: save it as UTF-8 "
                                   "(Encord reads UTF-8 only)"]


def test_a_nul_in_a_json_string_is_not_a_line_break(capsys, tmp_path):
    f = write(tmp_path / "m.json", b'{"images": [{"objectUrl": "https://b.example/a\x00.jpg"}]}')
    code, lines, _ = validate(capsys, f)
    assert code == 1 and len(lines) == 1
    assert "line break" not in lines[0] and "NUL character (U+0000) inside a string" in lines[0]
    assert lines[0].startswith("1:47: ")


def test_a_nul_in_a_csv_cell_is_its_own_error_with_line_and_column(capsys, tmp_path):
    f = write(tmp_path / "m.csv", b"ObjectUrl,Image title\r\nhttps://b.example/a.jpg,ok\r\nhttps://b.example/b.jpg,b\x00ad\r\n")
    code, lines, _ = validate(capsys, f)
    assert code == 1
    assert lines == ["3:26: error[csv-nul]: a NUL character (U+0000) in this cell: the file holds binary data or "
                     "is damaged (or is not a CSV text file); remove it"]


@pytest.mark.parametrize("content", [b"", b"\n\n", b"\xef\xbb\xbf"])
def test_an_empty_csv_says_empty_not_header(capsys, tmp_path, content):
    f = write(tmp_path / "m.csv", content)
    code, lines, _ = validate(capsys, f)
    assert code == 1 and len(lines) == 1
    assert "the file is empty" in lines[0] and "has a header" not in lines[0]


def test_a_csv_with_a_header_and_no_rows_still_says_so(capsys, tmp_path):
    f = write(tmp_path / "m.csv", "ObjectUrl,Image title\n")
    code, lines, _ = validate(capsys, f)
    assert code == 1 and "has a header but no rows" in lines[0]


# --- label files -------------------------------------------------------------------------------

def obj(cls, geometry, h, by="a@x.io"):
    return make_object(cls, geometry, object_hash=h, created_by=by)


def cli(*argv: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess, with every Python warning shown."""
    return subprocess.run([sys.executable, "-W", "default", "-m", "annotrain_tui", *map(str, argv)], cwd=cwd,
                          env=dict(os.environ), capture_output=True, text=True, timeout=120)


@pytest.fixture
def benchmark(tmp_path) -> Path:
    rows = [make_label_row(data_hash="d1", data_title="a.jpg", label_hash="B1",
                           objects=[obj(CAR, box(0.1, 0.1, 0.2, 0.2), "b1", None)])]
    return write(tmp_path / "bm.json", json.dumps(rows))


def test_an_unknown_data_type_is_a_located_error(tmp_path, benchmark):
    row = make_label_row(data_hash="d1", data_title="a.jpg", label_hash="T1", objects=[obj(CAR, box(0.1, 0.1, 0.2, 0.2), "t1")])
    row["data_type"] = "hologram"
    tr = write(tmp_path / "tr.json", json.dumps([row]))
    p = cli("evaluate", "--benchmark-labels", benchmark, "--training-labels", tr, cwd=tmp_path)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.count("\n") == 1
    assert p.stderr.startswith(f"annotrain: error: {tr}: row 0 (label_hash T1): unknown data_type 'hologram'")
    assert "image" in p.stderr and "video" in p.stderr


@pytest.mark.parametrize("layout", ["video keys on an image", "image layout on a video"])
def test_labels_in_the_wrong_frame_layout_are_a_counted_warning(tmp_path, benchmark, layout):
    if layout == "video keys on an image":
        row = make_label_row(data_hash="d1", data_title="a.jpg", label_hash="T1", data_type="video",
                             objects={0: [obj(CAR, box(0.1, 0.1, 0.2, 0.2), "t1")],
                                      3: [obj(CAR, box(0.1, 0.1, 0.2, 0.2), "t2")]})
        row["data_type"] = "image"
        why = "data_type 'image' has one frame, but its labels are keyed by frame number like a video's (2 frame(s))"
        n = 2
    else:
        row = make_label_row(data_hash="d1", data_title="a.mp4", label_hash="T1",
                             objects=[obj(CAR, box(0.1, 0.1, 0.2, 0.2), "t1")])
        row["data_type"] = "video"
        why = "data_type 'video' has numbered frames, but its labels have an image's layout"
        n = 1
    tr = write(tmp_path / "tr.json", json.dumps([row]))
    p = cli("evaluate", "--benchmark-labels", benchmark, "--training-labels", tr, "--json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stderr.count("\n") == 1
    assert p.stderr.startswith(f"annotrain: warning: {tr}: row 0 (label_hash T1): {why}")
    assert f"so its {n} object annotation(s) were not read" in p.stderr
    doc = json.loads(p.stdout)
    assert doc["not_compared"]["training"] == {"frame-layout": n}


def test_coordinates_far_outside_the_image_are_a_warning_and_numpy_stays_quiet(tmp_path):
    huge = 1e308
    bm_rows = [make_label_row(data_hash="d1", data_title="a.jpg", label_hash="B1", objects=[
        obj(CAR, box(0.1, 0.1, 0.2, 0.2), "b1", None),
        obj(CAR, box(huge, huge, huge, huge), "b2", None),
        obj(SIGN, rotated_box(1e300, 1e300, 1e300, 1e300, 30), "b3", None),
        obj(ROAD, polygon([(1e300, 0), (0, 1e300), (1e300, 1e300)]), "b4", None)])]
    tr_rows = [make_label_row(data_hash="d1", data_title="a.jpg", label_hash="T1", objects=[
        obj(CAR, box(0.1, 0.1, 0.2, 0.2), "t1"),
        obj(CAR, box(huge, huge, huge, huge), "t2"),
        obj(CAR, box(-huge, -huge, huge, huge), "t3"),
        obj(SIGN, rotated_box(1e300, 1e300, 1e300, 1e300, 30), "t4"),
        obj(ROAD, polygon([(1e300, 0), (0, 1e300), (1e300, 1e300)]), "t5")])]
    bm = write(tmp_path / "bm.json", json.dumps(bm_rows))
    tr = write(tmp_path / "tr.json", json.dumps(tr_rows))
    for matching in ("optimal", "seed"):
        p = cli("evaluate", "--benchmark-labels", bm, "--training-labels", tr, "--matching", matching, cwd=tmp_path)
        assert p.returncode == 0, p.stderr
        lines = p.stderr.splitlines()
        assert "RuntimeWarning" not in p.stderr
        assert lines == [
            f"annotrain: warning: {bm}: 3 object annotation(s) lie far outside the image (a coordinate beyond ±10, "
            "where the image spans 0..1: pixel values where fractions belong?): row 0 (label_hash B1) frame 0 "
            "object b2; row 0 (label_hash B1) frame 0 object b3; row 0 (label_hash B1) frame 0 object b4",
            f"annotrain: warning: {tr}: 4 object annotation(s) lie far outside the image (a coordinate beyond ±10, "
            "where the image spans 0..1: pixel values where fractions belong?): row 0 (label_hash T1) frame 0 "
            "object t2; row 0 (label_hash T1) frame 0 object t3; row 0 (label_hash T1) frame 0 object t4; "
            "and 1 more",
        ]


def test_coordinates_within_ten_are_not_warned(tmp_path, benchmark):
    rows = [make_label_row(data_hash="d1", data_title="a.jpg", label_hash="T1",
                           objects=[obj(CAR, box(-2.0, 3.0, 5.0, 6.5), "t1")])]
    tr = write(tmp_path / "tr.json", json.dumps(rows))
    p = cli("evaluate", "--benchmark-labels", benchmark, "--training-labels", tr, cwd=tmp_path)
    assert p.returncode == 0 and p.stderr == ""


@pytest.mark.parametrize("content, wording", [
    ('[{"data_hash": "d1", "width": %s}]' % ("9" * 5000), "a number of 5,000 digits here is longer than the 4,300"),
    ("[" * 50_000 + "]" * 50_000, "nested"),
    ('[{"data_hash": "d\x00"}]', "NUL character (U+0000) inside a string"),
])
def test_label_file_json_problems_are_one_located_line(capsys, tmp_path, benchmark, content, wording):
    bad = write(tmp_path / "bad.json", content)
    code, out, err = run(capsys, "evaluate", "--benchmark-labels", benchmark, "--training-labels", bad)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"annotrain: error: {bad}: invalid JSON at line 1 column ")
    assert wording in err


def test_an_overflowing_coordinate_in_a_label_file_names_the_object(capsys, tmp_path, benchmark):
    row = make_label_row(data_hash="d1", data_title="a.jpg", label_hash="T1", objects=[obj(CAR, box(0.1, 0.1, 0.2, 0.2), "t1")])
    text = json.dumps([row]).replace('"x": 0.1', '"x": 1e400')
    bad = write(tmp_path / "bad.json", text)
    code, out, err = run(capsys, "evaluate", "--benchmark-labels", benchmark, "--training-labels", bad)
    assert code == 2 and err.count("\n") == 1
    assert "row 0 (label_hash T1) frame 0 object 0 (t1): bounding box has infinite coordinate 'x'" in err


def test_json_deep_enough_for_json_loads_but_not_for_the_walkers_is_one_located_error(capsys, tmp_path):
    """499 levels of repeated keys: json.loads follows them, the validator's walkers (duplicate keys,
    positions) must not end in RecursionError: one json-depth error with its position."""
    depth = 499
    path = tmp_path / "dup.json"
    path.write_text('{"images": [{"objectUrl": "https://x/a.jpg", "clientMetadata": '
                    + '{"k":1,"k":' * depth + "1" + "}" * depth + "}]}")
    code = main(["manifest", "validate", str(path)])
    out, err = capsys.readouterr()
    assert code == 1 and err == ""
    first = out.splitlines()[0]
    assert first.startswith(f"{path}:1:") and "error[json-depth]: the JSON is nested" in first


@pytest.mark.parametrize("title,errors", [
    ("\\ud800z", 1),            # a lone high half
    ("z\\udc80", 1),            # a lone low half
    ("\\udc80\\ud800", 2),      # two halves in the wrong order
    ("\\ud83d\\ude00 ok", 0),   # a proper pair: one character
    ("\\\\ud800", 0),           # an escaped backslash, then text: no escape at all
])
def test_a_lone_surrogate_escape_is_named_where_it_is(capsys, tmp_path, title, errors):
    """Found by a trial: '"title" must be a string, not a string' (and valid without clientMetadata)."""
    path = tmp_path / "m.json"
    for meta in ("", ', "clientMetadata": {"k": "v"}'):
        path.write_text('{"images": [{"objectUrl": "https://b.s3.eu-west-1.amazonaws.com/p/1.jpg", "title": "'
                        + title + '"' + meta + "}]}")
        code = main(["manifest", "validate", str(path)])
        out, _ = capsys.readouterr()
        lines = [line for line in out.splitlines() if "error[" in line]
        assert len(lines) == errors and all("error[json-surrogate]" in line for line in lines), out
        assert "not a string" not in out and code == (1 if errors else 0)


def test_a_huge_number_in_a_url_key_is_a_located_error(capsys, tmp_path):
    """Found by a trial: objectUrl_<5,000 digits> ended in the generic 4,300-digit line, unlocated."""
    path = tmp_path / "m.json"
    path.write_text('{"dicom_series": [{"title": "t", "objectUrl_0": "https://b.s3.eu-west-1.amazonaws.com/a.dcm", '
                    '"objectUrl_' + "9" * 5000 + '": "https://b.s3.eu-west-1.amazonaws.com/b.dcm"}]}')
    code = main(["manifest", "validate", str(path)])
    out, err = capsys.readouterr()
    assert code == 1 and err == ""
    assert out.startswith(f"{path}:1:") and "error[url-index]" in out and "5,000-digit" in out


def _rows_with(mutate):
    from tests.synth import make_programme

    programme = make_programme(seed=1, n_items=4, video_every=3, annotators=("a@example.com",))
    rows = json.loads(json.dumps(next(iter(programme.training.values()))))
    mutate(rows)
    return programme.benchmark, rows


def _evaluate(tmp_path, bench, rows, text=None):
    (tmp_path / "bm.json").write_text(json.dumps(bench))
    (tmp_path / "tr.json").write_text(text if text is not None else json.dumps(rows))
    return subprocess.run([sys.executable, "-m", "annotrain_tui", "evaluate", "--benchmark-labels",
                           str(tmp_path / "bm.json"), "--training-labels", str(tmp_path / "tr.json")],
                          capture_output=True, text=True, timeout=120)


def _unit(rows, i):
    return next(iter(rows[i]["data_units"].values()))


def test_a_self_crossing_polygon_is_bounded_not_a_hang(tmp_path):
    """Found by a trial: one 300-vertex star (40,000 self-crossings) kept shapely.make_valid busy for
    over a minute, deaf to Ctrl+C. Past the crossing bound the polygon is not repaired, and said so."""
    import math

    def star(rows):
        obj = dict(_unit(rows, 0)["labels"]["objects"][0])
        obj.pop("boundingBox", None)
        obj.update(shape="polygon", objectHash="STAR0001")
        obj["polygon"] = {str(i): {"x": .5 + .4 * math.cos(i * 137 / 300 * 2 * math.pi),
                                   "y": .5 + .4 * math.sin(i * 137 / 300 * 2 * math.pi)} for i in range(300)}
        _unit(rows, 0)["labels"]["objects"].append(obj)

    proc = _evaluate(tmp_path, *_rows_with(star))
    assert proc.returncode in (0, 1), proc.stderr
    assert "cross themselves more than 64 times" in proc.stderr and "Traceback" not in proc.stderr


def test_crossing_counts_of_known_rings():
    import math

    import numpy as np

    from annotrain_tui.core.evaluation.parse import _crossings

    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float)
    bowtie = np.array([[0, 0], [1, 1], [1, 0], [0, 1]], float)
    pentagram = np.array([[math.cos(i * 4 * math.pi / 5), math.sin(i * 4 * math.pi / 5)] for i in range(5)])
    assert [_crossings(r, 99) for r in (square, bowtie, pentagram)] == [0, 1, 5]
    assert _crossings(np.vstack([bowtie, bowtie[:1]]), 99) == 1  # closed or open, the same ring


@pytest.mark.parametrize("key", ["\u00b2", "\u0661", "\uff11", "00", "01", "9" * 5000])
def test_frame_keys_are_ascii_frame_numbers(tmp_path, key):
    """'²' passed str.isdigit() and crashed int(); '00' merged silently into frame 0."""
    def rekey(rows):
        labels = _unit(rows, 2)["labels"]
        first = next(k for k in labels if k.isdigit())
        labels[key] = labels.pop(first)

    proc = _evaluate(tmp_path, *_rows_with(rekey))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert ("is not a frame number" in proc.stderr or "too large to be a frame number" in proc.stderr)
    assert "tr.json: row 2" in proc.stderr


@pytest.mark.parametrize("where", ["box", "polygons", "width"])
def test_integers_too_big_for_a_float_are_located_not_internal_errors(tmp_path, where):
    bench, rows = _rows_with(lambda rows: None)
    text = json.dumps(rows)
    huge = "9" * 4299
    if where == "box":
        text = text.replace('"boundingBox": {"h": ', '"boundingBox": {"h": ' + huge + ', "_": ', 1)
    elif where == "polygons":
        text = json.dumps([{**r, "data_units": {k: {**u, "labels": {"objects": [
            {"objectHash": "P1", "featureHash": "f", "name": "x", "shape": "polygon", "createdBy": "a@example.com",
             "polygons": [[[1, 2, 3, 4, 5, 6]]]}]}} for k, u in r["data_units"].items()}} for r in rows[:1]])
        text = text.replace("[[[1, ", "[[[" + huge + ", ", 1)
    else:
        text = text.replace('"width": ', '"width": ' + huge + ', "_w": ', 1)
    proc = _evaluate(tmp_path, bench, rows, text=text)
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 1, 2)
    if where != "width":
        assert proc.returncode == 2 and "infinite coordinate" in proc.stderr, proc.stderr


@pytest.mark.parametrize("text,message", [
    ('{"a": 1e400}', "too large to be a number"),
    ('{"b": 123456789012345678901234567890}', "64 bits"),
    ('{"c": NaN}', "not valid JSON"),
    ('{"d": ' + "[" * 3000 + "]" * 3000 + "}", "nested"),
])
def test_folder_metadata_is_read_by_the_strict_reader(text, message):
    """A round-3 trial: the new-folder dialog stored 1e400 as null and a 30-digit integer as is."""
    from annotrain_tui.core.errors import InvalidInput
    from annotrain_tui.core.metadata import parse_metadata

    with pytest.raises(InvalidInput, match=message):
        parse_metadata(text)
