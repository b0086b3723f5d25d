"""The typed decode (core/evaluation/fastread.py) gives what the dict path gives, for every input.

The dict path (read_label_rows + finished_rows + parse_label_rows) is the reference. For clean
programmes (every shape, answers, videos, image groups, unfinished rows) the fast path must take
the file itself (``fast``) and give an equal table: every column, the keypoints, the geometries,
the rows, the answers, not_compared and the warnings. For hostile files (seeded structural
mutations of those programmes, and the hand-picked cases) both paths must agree: the same table,
or the same one-line InvalidInput.
"""

from __future__ import annotations

import codecs
import copy
import json
import random
from typing import Any

import numpy as np
import pytest
import shapely

from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.evaluation.fastread import LoadedTable, load_table, reference_table
from annotrain_tui.core.evaluation.parse import ObjectTable
from tests.synth import ALL_SHAPES, make_mixed_programme, make_programme

_COLUMNS = ("row", "frame", "seq", "object_hash", "feature_code", "name_code", "created_by_code", "feature_vocab",
            "name_vocab", "created_by_vocab", "shape", "x", "y", "w", "h", "theta", "img_w", "img_h")


def _same_geom(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and np.array_equal(a, b)
    if isinstance(a, shapely.Geometry):
        return isinstance(b, shapely.Geometry) and shapely.to_wkb(a) == shapely.to_wkb(b)
    return type(a) is type(b) and all(np.array_equal(np.asarray(x), np.asarray(y))
                                      for x, y in zip(vars(a).values(), vars(b).values()))


def assert_same_table(fast: ObjectTable, ref: ObjectTable) -> None:
    assert fast.source == ref.source
    for name in _COLUMNS:
        a, b = getattr(fast, name), getattr(ref, name)
        assert a.dtype == b.dtype, name
        if a.dtype.kind == "f":
            assert np.array_equal(a, b, equal_nan=True), name
        else:
            assert a.tolist() == b.tolist(), name
    assert len(fast.geom) == len(ref.geom)
    assert all(_same_geom(a, b) for a, b in zip(fast.geom, ref.geom))
    if ref.keypoints is None:
        assert fast.keypoints is None
    else:
        assert fast.keypoints is not None
        k, r = fast.keypoints, ref.keypoints
        assert k.vocab == r.vocab and k.index.tolist() == r.index.tolist()
        assert np.array_equal(k.x, r.x, equal_nan=True) and np.array_equal(k.y, r.y, equal_nan=True)
        assert k.present.tolist() == r.present.tolist()
    assert list(fast.rows) == list(ref.rows)
    for column in ref.rows:  # every row column, value by value (None stays None)
        assert fast.rows[column].tolist() == ref.rows[column].tolist(), column
    assert fast.answers == ref.answers
    assert fast.not_compared == ref.not_compared
    assert list(fast.not_compared) == list(ref.not_compared)
    assert [str(w) for w in fast.warnings] == [str(w) for w in ref.warnings]


def assert_agree(data: bytes, *, source: str = "TR.json", include_incomplete: bool = False) -> LoadedTable | None:
    """Both paths on ``data``: equal results, or the same error. The fast result (None on an error)."""
    try:
        ref = reference_table(data, source=source, include_incomplete=include_incomplete)
    except InvalidInput as exc:
        with pytest.raises(InvalidInput) as got:
            load_table(data, source=source, include_incomplete=include_incomplete)
        assert str(got.value) == str(exc) and got.value.hint == exc.hint
        return None
    except Exception as exc:  # a fault of the reference itself: the fast path hands it the file, same fault
        with pytest.raises(type(exc)) as failed:
            load_table(data, source=source, include_incomplete=include_incomplete)
        assert str(failed.value) == str(exc)
        return None
    fast = load_table(data, source=source, include_incomplete=include_incomplete)
    assert_same_table(fast.table, ref.table)
    assert [str(w) for w in fast.warnings] == [str(w) for w in ref.warnings]
    assert fast.left_out == ref.left_out
    return fast


def _files(programme: Any) -> list[bytes]:
    return [json.dumps(programme.benchmark).encode()] + [json.dumps(rows).encode()
                                                         for rows in programme.training.values()]


# --- clean programmes: the fast path takes them, and agrees ---------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_box_programmes_with_videos_and_image_groups(seed):
    p = make_programme(seed=seed, n_items=30, video_every=4, group_every=5, frames=4, late_start=0.3,
                       p_no_created_by=0.2, shapes=("bounding_box", "rotatable_bounding_box", "polygon"))
    for data in _files(p):
        loaded = assert_agree(data)
        assert loaded is not None and loaded.fast and len(loaded.table) > 0


@pytest.mark.parametrize("seed", [0, 1])
def test_every_shape_answer_and_attribute(seed):
    p = make_mixed_programme(seed=seed, n_items=16)
    shapes: set[int] = set()
    for data in _files(p):
        loaded = assert_agree(data)
        assert loaded is not None and loaded.fast
        shapes |= set(loaded.table.shape.tolist())
        assert any(a.classifications for a in loaded.table.answers or [])
    assert shapes == set(range(len(ALL_SHAPES)))  # every shape went through the fast path


def test_unfinished_rows_are_left_out_or_counted_as_asked():
    rows = make_programme(seed=3, n_items=12).benchmark
    rows[1]["annotation_task_status"] = "IN_PROGRESS"
    rows[2]["annotation_task_status"] = "QUEUED"
    del rows[3]["annotation_task_status"]
    data = json.dumps(rows).encode()
    for include in (False, True):
        loaded = assert_agree(data, include_incomplete=include)
        assert loaded is not None and loaded.fast
        assert loaded.table.n_rows == (12 if include else 10) and loaded.warnings


def test_a_status_that_is_not_text_counts_as_none_beside_unfinished_rows():
    rows = make_programme(seed=3, n_items=4).benchmark
    rows[0]["annotation_task_status"] = "IN_PROGRESS"
    rows[1]["annotation_task_status"] = {"state": "COMPLETED"}  # was a TypeError (unhashable) in finished_rows
    rows[2]["annotation_task_status"] = ["x"]
    loaded = assert_agree(json.dumps(rows).encode())
    assert loaded is not None and loaded.fast and loaded.left_out == 1 and loaded.table.n_rows == 3


def test_a_bom_and_whitespace_are_taken():
    data = json.dumps(make_programme(seed=4, n_items=4).benchmark, indent=2).encode()
    loaded = assert_agree(codecs.BOM_UTF8 + data + b"\n")
    assert loaded is not None and loaded.fast


# --- hostile files: the dict path answers, and the fast path says the same -------------------------

def _image_row() -> dict[str, Any]:
    return copy.deepcopy(make_programme(seed=5, n_items=1, shapes=("bounding_box",)).benchmark[0])


def _obj(row: dict[str, Any]) -> dict[str, Any]:
    return next(iter(row["data_units"].values()))["labels"]["objects"][0]


def _unit(row: dict[str, Any]) -> dict[str, Any]:
    return next(iter(row["data_units"].values()))


HOSTILE = {
    "nan coordinate": lambda r: _obj(r)["boundingBox"].update(x=float("nan")),
    "overflowing coordinate": lambda r: _obj(r)["boundingBox"].update(x=10**400),
    "bool coordinate": lambda r: _obj(r)["boundingBox"].update(w=True),
    "negative size": lambda r: _obj(r)["boundingBox"].update(w=-0.1),
    "zero size": lambda r: _obj(r)["boundingBox"].update(w=0.0),
    "far outside": lambda r: _obj(r)["boundingBox"].update(x=640.0),
    "int coordinates": lambda r: _obj(r)["boundingBox"].update(x=0, y=1),
    "box null": lambda r: _obj(r).update(boundingBox=None),
    "no objectHash": lambda r: _obj(r).pop("objectHash"),
    "no featureHash": lambda r: _obj(r).pop("featureHash"),
    "no shape": lambda r: _obj(r).pop("shape"),
    "shape a number": lambda r: _obj(r).update(shape=3),
    "ellipse": lambda r: _obj(r).update(shape="ellipse"),
    "unknown shape": lambda r: _obj(r).update(shape="hexagon\u202e"),
    "deleted event": lambda r: _obj(r).update(event="delete"),
    "name not text": lambda r: _obj(r).update(name=5),
    "confidence bool": lambda r: _obj(r).update(confidence=True),
    "confidence nan": lambda r: _obj(r).update(confidence=float("nan")),
    "confidence huge": lambda r: _obj(r).update(confidence=10**400),
    "createdBy number": lambda r: _obj(r).update(createdBy=7),
    "duplicate object": lambda r: _unit(r)["labels"]["objects"].append(copy.deepcopy(_obj(r))),
    "object not an object": lambda r: _unit(r)["labels"]["objects"].append("x"),
    "objects not a list": lambda r: _unit(r)["labels"].update(objects={}),
    "labels null": lambda r: _unit(r).update(labels=None),
    "labels a list": lambda r: _unit(r).update(labels=[]),
    "video layout on an image": lambda r: _unit(r)["labels"].update({"0": {"objects": []}}),
    "image layout on a video": lambda r: r.update(data_type="video"),
    "audio with objects": lambda r: r.update(data_type="audio"),
    "no data_type": lambda r: r.pop("data_type"),
    "unknown data_type": lambda r: r.update(data_type="hologram"),
    "data_units empty": lambda r: r.update(data_units={}),
    "data_units missing": lambda r: r.pop("data_units"),
    "unit not an object": lambda r: r["data_units"].update(extra=5),
    "width text": lambda r: _unit(r).update(width="1280"),
    "width zero": lambda r: _unit(r).update(width=0),
    "height huge": lambda r: _unit(r).update(height=2**40),
    "bad data_sequence": lambda r: _unit(r).update(data_sequence="01"),
    "no data_hash": lambda r: r.pop("data_hash"),
    "label_hash number": lambda r: r.update(label_hash=5),
    "title not text": lambda r: r.update(data_title=["x"]),
    "surrogate title": lambda r: r.update(data_title="a\udc80b"),
    "control in title": lambda r: r.update(data_title="=cmd\x1b[2J"),
    "status not text": lambda r: r.update(annotation_task_status=5),
    "answers not an object": lambda r: r.update(classification_answers=[]),
    "answer without featureHash": lambda r: r.update(classification_answers={
        "c1": {"classificationHash": "c1", "classifications": [{"answers": "x"}], "range": [[0, 0]]}}),
    "frame reference without answer": lambda r: _unit(r)["labels"].update(
        classifications=[{"classificationHash": "zz", "featureHash": "f"}]),
    "object answers not an object": lambda r: r.update(object_answers=[]),
    "object attribute text": lambda r: r["object_answers"].update(
        {_obj(r)["objectHash"]: {"objectHash": "x", "classifications": [{"featureHash": "q", "answers": "red"}]}}),
    "object attribute malformed": lambda r: r["object_answers"].update(
        {_obj(r)["objectHash"]: {"classifications": [{"answers": "red"}]}}),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_rows_agree(name):
    row = _image_row()
    HOSTILE[name](row)
    assert_agree(json.dumps([row, _image_row()]).encode())


@pytest.mark.parametrize("data", [
    b"", b"   ", b"{}", b"[1, 2]", b"[{}]", b"null", b'[{"data_hash": "d"', b"[NaN]",
    codecs.BOM_UTF16_LE + "[]".encode("utf-16-le"), b"\xff\xfe\x00", b"[]",
])
def test_hostile_documents_agree(data):
    assert_agree(data)


_ODD_VALUES: list[Any] = [None, True, False, 0, -1, 1.5, 2**70, float("nan"), float("inf"), "", "x", "0", "1280",
                          "delete", [], {}, [None], {"x": 1}, "\u202e", "=1+1"]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*path, i))
    return out


def _mutate(rows: list[Any], rng: random.Random) -> list[Any]:
    rows = copy.deepcopy(rows)
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _paths(rows) if p]
        path = rng.choice(paths)
        parent = rows
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        if isinstance(parent, dict) and rng.random() < 0.25:
            del parent[last]
        elif isinstance(parent, list) and rng.random() < 0.1:
            parent.insert(last, copy.deepcopy(parent[last]))
        else:
            parent[last] = copy.deepcopy(rng.choice(_ODD_VALUES))
    return rows


def test_seeded_mutations_of_every_shape_agree():
    """Structural mutations of small programmes: every mutant gives the same answer both ways."""
    rng = random.Random(1414)
    bases = [make_mixed_programme(seed=7, n_items=3, objects_per_item=(2, 4)).benchmark,
             make_programme(seed=8, n_items=3, video_every=2, group_every=3, frames=2,
                            shapes=("bounding_box", "rotatable_bounding_box", "polygon")).benchmark]
    fast = slow = errors = 0
    for i in range(300):
        mutant = _mutate(bases[i % 2], rng)
        loaded = assert_agree(json.dumps(mutant).encode())
        if loaded is None:
            errors += 1
        elif loaded.fast:
            fast += 1
        else:
            slow += 1
    assert fast and slow and errors  # every branch was taken: typed, handed over, refused
