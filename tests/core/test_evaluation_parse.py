"""Label rows → object table: shape of the output, tolerance for real exports, one clear error otherwise."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from annotrain_tui.core.errors import InvalidInput, UnreadableInput
from annotrain_tui.core.evaluation.parse import COMPARED_SHAPES, load_label_rows, parse_label_rows, read_label_rows
from tests.labelgen import DEFAULT_CLASSES, box, make_label_row, make_object, polygon, rotated_box

CAR, PERSON, SIGN, ROAD, LANE = (DEFAULT_CLASSES[i] for i in (0, 1, 3, 5, 7))


def obj(cls=CAR, geometry=None, h="o1", by="a@x"):
    return make_object(cls, geometry or box(0.1, 0.2, 0.3, 0.4), object_hash=h, created_by=by)


def test_image_video_and_image_group_rows():
    image = make_label_row(data_hash="d1", data_title="a.jpg", label_hash="L1",
                           objects=[obj(h="o1"), obj(SIGN, rotated_box(0.1, 0.1, 0.2, 0.1, 30), h="o2"),
                                    obj(ROAD, polygon([(0.1, 0.1), (0.5, 0.1), (0.3, 0.6)]), h="o3")])
    video = make_label_row(data_hash="d2", data_title="v.mp4", label_hash="L2", data_type="video",
                           objects={0: [obj(h="v1")], 4: [obj(h="v2"), obj(h="v1")]})
    group = make_label_row(data_hash="d3", data_title="g", label_hash="L3", data_type="img_group",
                           objects={1: [obj(h="g1")], 2: [obj(h="g1")]}, n_frames=3)
    t = parse_label_rows([image, video, group], source="TR.json")
    assert len(t) == 8 and t.n_rows == 3
    assert t.rows["label_hash"].tolist() == ["L1", "L2", "L3"]
    assert t.row.tolist() == [0, 0, 0, 1, 1, 1, 2, 2]
    assert t.frame.tolist() == [0, 0, 0, 0, 4, 4, 1, 2]
    assert t.seq.tolist() == [0, 1, 2, 0, 1, 0, 0, 0]  # first appearance: v1 before v2
    assert t.object_hash.tolist() == ["o1", "o2", "o3", "v1", "v2", "v1", "g1", "g1"]
    assert t.shape.tolist() == [0, 1, 2, 0, 0, 0, 0, 0]
    assert t.theta[1] == 30.0 and math.isnan(t.theta[0])
    assert (t.x[0], t.y[0], t.w[0], t.h[0]) == (0.1, 0.2, 0.3, 0.4)
    assert t.geom[2].area == pytest.approx(0.5 * 0.4 * 0.5)
    assert (t.x[2], t.w[2]) == pytest.approx((0.1, 0.4))  # polygon bounds
    assert t.img_w[0] == 1280 and t.img_h[0] == 720
    assert t.created_by[0] == "a@x"
    df = t.to_frame()
    assert df.loc[3, "data_title"] == "v.mp4" and df.loc[2, "shape"] == "polygon"


def test_polygon_forms_legacy_dict_list_and_multi_with_holes():
    legacy = obj(ROAD, {"polygon": {"1": {"x": 1, "y": 0}, "0": {"x": 0, "y": 0}, "2": {"x": 1, "y": 1},
                                    "3": {"x": 0, "y": 1}}}, h="p1")
    as_list = obj(ROAD, {"polygon": [{"x": 0, "y": 0}, {"x": 1, "y": 0}, {"x": 1, "y": 1}]}, h="p2")
    holed = obj(ROAD, {"polygons": [[[0, 0, 1, 0, 1, 1, 0, 1], [0.25, 0.25, 0.75, 0.25, 0.75, 0.75, 0.25, 0.75]],
                                    [[2, 2, 3, 2, 3, 3]]]}, h="p3")
    bowtie = obj(ROAD, {"polygon": [{"x": 0, "y": 0}, {"x": 1, "y": 1}, {"x": 1, "y": 0}, {"x": 0, "y": 1}]}, h="p4")
    line = obj(ROAD, {"polygon": [{"x": 0, "y": 0}, {"x": 1, "y": 1}]}, h="p5")
    t = parse_label_rows([make_label_row(data_hash="d", data_title="t", label_hash="L",
                                         objects=[legacy, as_list, holed, bowtie, line])], source="x")
    areas = [g.area for g in t.geom]
    assert areas == pytest.approx([1.0, 0.5, 1 - 0.25 + 0.5, 0.5, 0.0])  # bow-tie made valid: two triangles
    assert any("fewer than 3" in w for w in t.warnings)


def test_every_encord_shape_is_read_and_the_rest_counted_not_compared():
    lane = obj(LANE, {"polyline": {"0": {"x": 0, "y": 0}, "1": {"x": 1, "y": 1}}}, h="l1")
    weird = {**obj(h="w1"), "shape": "hologram"}
    point = {**obj(h="p1"), "shape": "point", "point": {"0": {"x": 0.5, "y": 0.5}}}
    cube = {**obj(h="c1"), "shape": "cuboid", "cuboid": {}}
    row = make_label_row(data_hash="d", data_title="t", label_hash="L", objects=[obj(), lane, weird, point, cube],
                         classifications=2)
    t = parse_label_rows([row], source="TR.json")
    assert [COMPARED_SHAPES[c] for c in t.shape] == ["bounding_box", "polyline", "point"]
    assert t.geom[1].tolist() == [[0.0, 0.0], [1.0, 1.0]] and (t.x[2], t.y[2]) == (0.5, 0.5)
    # the two classification instances answer nothing: nothing to compare, nothing "not compared"
    assert t.not_compared == {"cuboid": 1, "unknown:hologram": 1}
    assert t.warnings == ["TR.json: 1 object annotation(s) of unknown shape 'hologram' skipped"]


def test_tolerates_missing_optional_keys():
    o = obj()
    for key in ("name", "color", "value", "createdAt", "createdBy", "confidence", "manualAnnotation"):
        o.pop(key)
    row = {"data_hash": "d", "data_type": "image",
           "data_units": {"d": {"data_sequence": "0", "labels": {"objects": [o]}}}}
    t = parse_label_rows([row], source="x")
    assert t.name[0] == CAR.feature_hash and t.created_by[0] is None
    assert t.rows["label_hash"][0] is None and t.rows["data_title"][0] == ""
    assert math.isnan(t.img_w[0])
    # no data_type: the structure tells
    row2 = {"data_hash": "e", "data_units": {"e": {"labels": {"3": {"objects": [o]}}}}}
    assert parse_label_rows([row2], source="x").frame.tolist() == [3]


def _row_with(o, index=0):
    objs = [obj(h=f"ok{i}") for i in range(index)] + [o]
    return make_label_row(data_hash="d", data_title="t", label_hash="LH", objects=objs)


@pytest.mark.parametrize("mutate, message", [
    (lambda o: o["boundingBox"].update(x=float("nan")), "bounding box has NaN coordinate 'x'"),
    (lambda o: o["boundingBox"].update(w=float("inf")), "bounding box has infinite coordinate 'w'"),
    (lambda o: o["boundingBox"].update(y="0.5"), "bounding box coordinate 'y' is not a number (got string)"),
    (lambda o: o["boundingBox"].update(h=None), "bounding box coordinate 'h' is null"),
    (lambda o: o["boundingBox"].pop("h"), "bounding box is missing coordinate 'h'"),
    (lambda o: o["boundingBox"].update(w=-0.1), "bounding box has a negative size"),
    (lambda o: o.pop("boundingBox"), "bounding box has no coordinates"),
    (lambda o: o.pop("featureHash"), "missing 'featureHash'"),
    (lambda o: o.pop("shape"), "missing 'shape'"),
    (lambda o: o.update(createdBy=7), "'createdBy' must be an email string or null"),
])
def test_invalid_objects_name_file_row_label_hash_and_object(mutate, message):
    o = obj(h="bad1")
    mutate(o)
    rows = [_row_with(obj(h="x"), 0)] * 3 + [_row_with(o, index=2)]
    with pytest.raises(InvalidInput) as exc:
        parse_label_rows(rows, source="TR.json")
    text = str(exc.value)
    assert text.startswith("TR.json: row 3 (label_hash LH)")
    assert "object 2" in text and message in text
    assert "\n" not in text


def test_invalid_rotated_and_polygon_coordinates():
    rot = obj(SIGN, {"rotatableBoundingBox": {"x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2}})
    with pytest.raises(InvalidInput, match="rotatable bounding box is missing coordinate 'theta'"):
        parse_label_rows([_row_with(rot)], source="x")
    poly = obj(ROAD, {"polygons": [[[0, 0, 1, float("nan"), 1, 1]]]})
    with pytest.raises(InvalidInput, match="polygon has NaN coordinate at vertex 1"):
        parse_label_rows([_row_with(poly)], source="x")
    odd = obj(ROAD, {"polygons": [[[0, 0, 1]]]})
    with pytest.raises(InvalidInput, match="even length"):
        parse_label_rows([_row_with(odd)], source="x")
    legacy = obj(ROAD, {"polygon": {"0": {"x": 0}}})
    with pytest.raises(InvalidInput, match="polygon vertex 0 is missing 'x' or 'y'"):
        parse_label_rows([_row_with(legacy)], source="x")


@pytest.mark.parametrize("row, message", [
    ([1, 2], "row 0: expected a label row (JSON object), got list"),
    ({"data_units": {}}, "row 0 (label_hash None) is missing 'data_hash'"),
    ({"data_hash": "d"}, "is missing 'data_units'"),
    ({"data_hash": "d", "data_units": []}, "'data_units' must be an object, got list"),
    ({"data_hash": "d", "data_type": "video", "data_units": {"d": {"labels": {"x": {"objects": []}}}}},
     "labels key x is not a frame number"),
    ({"data_hash": "d", "data_type": "image", "data_units": {"d": {"data_sequence": "a", "labels": {}}}},
     "data_sequence must be a frame number"),
    ({"data_hash": "d", "data_type": "image", "data_units": {"d": {"labels": {"objects": {}}}}},
     "'objects' must be a list"),
])
def test_invalid_rows(row, message):
    with pytest.raises(InvalidInput) as exc:
        parse_label_rows([row], source="BM.json")
    assert message in str(exc.value) and str(exc.value).startswith("BM.json: row 0")


def test_duplicate_object_on_one_frame_is_invalid():
    row = make_label_row(data_hash="d", data_title="t", label_hash="L", objects=[obj(h="same"), obj(h="same")])
    with pytest.raises(InvalidInput, match="the same objectHash appears twice on frame 0"):
        parse_label_rows([row], source="x")


def test_untrusted_text_in_messages_is_one_printable_line():
    row = make_label_row(data_hash="d", data_title="t", label_hash="evil\x1b[31m\nnext", objects=[])
    row["data_units"] = None
    with pytest.raises(InvalidInput) as exc:
        parse_label_rows([row], source="x")
    assert "\x1b" not in str(exc.value) and "\n" not in str(exc.value)
    assert "evil\\x1b[31m\\x0anext" in str(exc.value)  # shown(): LF escaped as \\x0a


# --- files -------------------------------------------------------------------------------------

def test_load_label_rows_reads_a_list(tmp_path):
    p = tmp_path / "TR.json"
    p.write_text(json.dumps([make_label_row(data_hash="d", data_title="t", label_hash="L", objects=[obj()])]))
    rows = load_label_rows(p)
    assert len(parse_label_rows(rows, source=str(p))) == 1


def test_truncated_json_reports_line_and_column(tmp_path):
    text = json.dumps([make_label_row(data_hash="d", data_title="t", label_hash="L", objects=[obj()])], indent=1)
    p = tmp_path / "TR.json"
    p.write_text(text[: len(text) // 2])
    with pytest.raises(InvalidInput) as exc:
        load_label_rows(p)
    msg = str(exc.value)
    assert msg.startswith(f"{p}: invalid JSON at line ") and " column " in msg and "truncated" in msg
    line = int(msg.split(" line ")[1].split()[0])
    assert line > 10


def test_json_syntax_error_is_not_called_truncated():
    with pytest.raises(InvalidInput) as exc:
        read_label_rows(b'[{"a": 1},\n {"b" 2}]', source="x.json")
    assert str(exc.value) == "x.json: invalid JSON at line 2 column 7: a ':' is missing between the key and its value"


@pytest.mark.parametrize("data, message", [
    (b'{"label_hash": "x", "data_units": {}}', "expected a JSON list of label rows"),
    (b'{"label_hash": "x", "data_units": {}}', "wrap it in [ ]"),
    (b"42", "got number"),
    (b"", "the file is empty"),
    (b"\xff\xfe[]", "not UTF-8"),
])
def test_bad_documents(data, message):
    with pytest.raises(InvalidInput, match=message.replace("[", r"\[").replace("]", r"\]")):
        read_label_rows(data, source="x.json")


def test_unreadable_files(tmp_path):
    with pytest.raises(UnreadableInput, match="no such file"):
        load_label_rows(tmp_path / "missing.json")
    with pytest.raises(UnreadableInput, match="is a directory"):
        load_label_rows(tmp_path)


def test_a_generator_of_rows_is_consumed_once():
    rows = (make_label_row(data_hash=f"d{i}", data_title="t", label_hash="L", objects=[obj()]) for i in range(3))
    t = parse_label_rows(rows, source="gen")
    assert t.n_rows == 3 and len(t) == 3


def test_input_rows_are_not_modified():
    row = make_label_row(data_hash="d", data_title="t", label_hash="L", objects=[obj()])
    before = copy.deepcopy(row)
    parse_label_rows([row], source="x")
    assert row == before
    assert np.isfinite(parse_label_rows([row], source="x").x).all()
