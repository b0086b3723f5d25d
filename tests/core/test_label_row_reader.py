"""One reader of Encord label rows: nothing in annotrain_tui walks data_units → labels but
core/evaluation/labels.py; and its strict and tolerant modes read the same rows the same way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import annotrain_tui
from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.evaluation.labels import Skipped, frame_objects, read_objects, units_of
from annotrain_tui.core.evaluation.shapes import Bitmask, Box, Point, Polygon, Skeleton

PACKAGE = Path(annotrain_tui.__file__).parent
READER = PACKAGE / "core" / "evaluation" / "labels.py"
# The keys that open a label row's structure: a row's data units, a unit's labels. Reading either
# (row["data_units"], unit.get("labels")) is walking a label row. Writing them (a dict literal, as
# the sandbox's label-row writer build_label_row and the Encord adapter's row builder do) is not.
STRUCTURE_KEYS = {"data_units", "labels"}


def _reads(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            key = node.slice.value
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("get", "pop", "setdefault") and node.args
              and isinstance(node.args[0], ast.Constant)):
            key = node.args[0].value
        if key in STRUCTURE_KEYS:
            found.append((node.lineno, str(key)))
    return found


def test_the_scan_finds_label_row_walking_where_it_is():
    assert _reads(ast.parse('u = row.get("data_units")\nl = unit["labels"]')) == [(1, "data_units"), (2, "labels")]
    assert _reads(ast.parse('row = {"data_units": {}, "labels": []}')) == []  # a writer
    assert _reads(ast.parse(READER.read_text()))  # the reader itself does


def test_no_module_but_the_reader_walks_label_rows():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == READER:
            continue
        for line, key in _reads(ast.parse(path.read_text(), filename=str(path))):
            offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line} reads {key!r}")
    assert offenders == [], "label rows are read by core/evaluation/labels.py only:\n" + "\n".join(offenders)


def _row(data_type: str, labels: dict, seq: int = 0) -> dict:
    return {"data_hash": "d", "data_type": data_type,
            "data_units": {"d": {"data_sequence": seq, "labels": labels, "width": 10, "height": 5}}}


BOX = {"objectHash": "o1", "featureHash": "f", "shape": "bounding_box", "name": "Car",
       "boundingBox": {"x": 0.1, "y": 0.2, "w": 0.3, "h": 0.4}}


@pytest.mark.parametrize("data_type", ["img_group", "image_group"])
def test_both_spellings_of_an_image_group_take_the_frame_from_data_sequence(data_type):
    (obj,) = read_objects(_row(data_type, {"objects": [BOX]}, seq=3), strict=True)
    assert obj.frame == 3 and obj.geometry == Box(0.1, 0.2, 0.3, 0.4) and obj.name == "Car"


def test_videos_read_numbered_frames_and_every_geometry_has_a_record():
    poly = {"objectHash": "o2", "featureHash": "f", "shape": "polygon",
            "polygons": [[[0, 0, 1, 0, 1, 1], [0.2, 0.2, 0.4, 0.2, 0.3, 0.3]], [[2, 2, 3, 2, 3, 3]]]}
    point = {"objectHash": "o3", "featureHash": "f", "shape": "point", "point": {"0": {"x": 0.5, "y": 0.5}}}
    objs = read_objects(_row("video", {"0": {"objects": [BOX]}, "4": {"objects": [poly, point]}}), strict=True)
    assert [(o.frame, o.object_hash) for o in objs] == [(0, "o1"), (4, "o2"), (4, "o3")]
    assert isinstance(objs[1].geometry, Polygon) and len(objs[1].geometry.rings) == 2  # a hole and a 2nd part
    assert objs[2].geometry == Point(0.5, 0.5)


def test_strict_raises_where_tolerant_skips_and_counts():
    bad = {"objectHash": "o9", "featureHash": "f", "shape": "bounding_box", "boundingBox": {"x": "a"}}
    row = _row("video", {"0": {"objects": [BOX, bad]}, "x": {"objects": [BOX]}})
    with pytest.raises(InvalidInput, match=r"row 0 frame 0 object 1 \(o9\): bounding box coordinate 'x' is not a number"):
        read_objects(row, strict=True, where="row 0")
    with pytest.raises(InvalidInput, match="label row: labels key x is not a frame number"):
        read_objects(_row("video", {"x": {"objects": [BOX]}}), strict=True)
    skipped = Skipped()
    objs = read_objects(row, skipped=skipped)
    assert [o.object_hash for o in objs] == ["o1", "o9"] and objs[1].geometry is None
    assert skipped.total == 2 and any("bounding_box" in k for k in skipped.counts)
    with pytest.raises(InvalidInput, match="missing 'data_units'"):
        units_of({"data_hash": "d"}, "row 0", strict=True)
    assert units_of({"data_hash": "d"}) == []


def test_labels_in_the_wrong_layout_for_the_data_type_are_not_read():
    skipped = Skipped()
    assert list(frame_objects(_row("image", {"0": {"objects": [BOX]}}), skipped=skipped)) == []
    assert skipped.total == 1


def test_skeletons_and_bitmasks_have_records_as_the_sdk_writes_them():
    skeleton = {"objectHash": "s1", "featureHash": "f", "shape": "skeleton", "skeleton": {
        "0": {"x": 0.1, "y": 0.2, "name": "head", "featureHash": "k0"},
        "1": {"x": 0.3, "y": 0.4, "name": "tail", "featureHash": "k1", "visibility": "invisible"}}}
    mask = {"objectHash": "m1", "featureHash": "f", "shape": "bitmask",
            "bitmask": {"top": 0, "left": 0, "height": 5, "width": 10, "rleString": "0"}}
    objs = read_objects(_row("image", {"objects": [skeleton, mask]}), strict=True)
    assert objs[0].geometry == Skeleton(((0.1, 0.2), (0.3, 0.4)), (True, False), ("head", "tail"))
    assert objs[1].geometry == Bitmask(0, 0, 5, 10, "0")
    broken = {**mask, "bitmask": {"top": 0, "left": 0, "height": -1, "width": 10, "rleString": "0"}}
    with pytest.raises(InvalidInput, match="bitmask 'height' must be a whole number of pixels"):
        read_objects(_row("image", {"objects": [broken]}), strict=True)
    skipped = Skipped()
    assert read_objects(_row("image", {"objects": [broken]}), skipped=skipped)[0].geometry is None
    assert skipped.total == 1
