"""Label-row files → :class:`~.parse.ObjectTable`, fast: a typed decode of only what evaluation reads.

The dict path (:func:`~.parse.read_label_rows` + :func:`~.labels.finished_rows` +
:func:`~.parse.parse_label_rows`) builds every row as Python dicts first (``json.loads``: a
77 MB export is ~1.2 s and ~5× its size in memory) and then walks them. Here the bytes are
decoded by msgspec straight into :class:`msgspec.Struct` records that hold only the fields
evaluation reads (identity, status, data units' sizes and frames, each object's hash, class,
creator, confidence and geometry); everything else in the file is skipped by the decoder, never
built. Boxes and rotated boxes are typed (finite floats, checked by the decoder); the other shapes,
classification answers and object attributes are kept as raw JSON slices (:class:`msgspec.Raw`)
and read, only when a row has them, by the very functions the dict path uses (``polygon_rings``,
``_other_shape``, :func:`.answers.read_answers`), so every rule has one copy. The table itself is
made by :func:`~.parse.assemble_table`, the dict path's own.

The dict path stays the strict reference and the tolerant reader: any file this path cannot take
as it is (not a JSON list of rows for the decoder, a value of another type than the record says,
a missing or malformed field, anything the dict path would warn about or refuse: labels in the
other layout, ``"data_units": {}``, a size that is no pixel count, a row without ``data_type``)
is handed to it whole, and it gives the located error (file, row, label hash, frame, object) or
the tolerant reading with its warnings. Decode fast; re-read only a file that fails, to say where.
Both paths give equal tables (``tests/core/test_fastread.py`` checks every column, the answers,
``not_compared`` and the warnings on generated programmes and on the hostile cases).

The cyclic garbage collector is off while a file is read (as the manifest validator does): the
records are many small objects that hold no cycles (``gc=False`` structs), and a collector that
rescans the growing heap made the cost per image grow with the file.
"""

from __future__ import annotations

import codecs
import math
from dataclasses import dataclass, field
from typing import Any

import msgspec
from msgspec import UNSET, Raw, Struct, UnsetType

from annotrain_tui.core.evaluation.answers import RowAnswers, read_answers
from annotrain_tui.core.evaluation.labels import (
    _MULTI_FRAME_TYPES,
    _NO_FRAME_TYPES,
    _SINGLE_FRAME_TYPES,
    KNOWN_SHAPES,
    SHAPE_CODE,
    finished_rows,
    frame_number,
    is_frame_key,
    object_where,
    polygon_rings,
    row_where,
    safe_text,
)
from annotrain_tui.core.evaluation.parse import (
    Collected,
    ObjectTable,
    _dimension,
    _other_shape,
    _Others,
    assemble_table,
    parse_label_rows,
    read_label_rows,
)
from annotrain_tui.core.startup import no_cyclic_gc

__all__ = ["LoadedTable", "load_table", "reference_table"]


# --- the records: only what evaluation reads (gc=False: they hold no cycles) --------------------

class _Box(Struct, gc=False):
    x: float
    y: float
    w: float
    h: float


class _RotatedBox(Struct, gc=False):
    x: float
    y: float
    w: float
    h: float
    theta: float


class _Object(Struct, gc=False):
    objectHash: str | None = None  # noqa: N815 (the file's spelling)
    shape: str | None = None
    featureHash: str | None = None  # noqa: N815
    name: Any = None
    createdBy: str | None = None  # noqa: N815
    confidence: float | None = None  # a bool, NaN or 1e400 fails the decode: the dict path says where
    event: Any = None
    boundingBox: _Box | None = None  # noqa: N815
    rotatableBoundingBox: _RotatedBox | None = None  # noqa: N815
    # read by the dict path's functions when the object has that shape (empty: the key is absent)
    polygon: Raw = Raw()
    polygons: Raw = Raw()
    polyline: Raw = Raw()
    point: Raw = Raw()
    skeleton: Raw = Raw()
    bitmask: Raw = Raw()


class _FrameLabels(Struct, gc=False):
    objects: list[_Object] = []
    # a frame's classification references: absent (UNSET), [] (the SDK's) or some; null is an error
    classifications: list[Raw] | None | UnsetType = UNSET


class _Unit(Struct, gc=False):
    width: Any = None
    height: Any = None
    data_sequence: Any = 0
    labels: dict[str, Raw] | None = None


class _ObjectAnswers(Struct, gc=False):
    classifications: list[Raw] | None = None  # another type fails the decode: the reader says where


class _Row(Struct, gc=False):
    label_hash: str | None = None
    data_hash: Any = None
    data_title: Any = None
    data_type: Any = None
    annotation_task_status: Any = None
    data_units: dict[str, _Unit] | None = None
    classification_answers: Raw = Raw()
    object_answers: dict[str, _ObjectAnswers] | None = None


_ROWS = msgspec.json.Decoder(list[_Row])
_OBJECTS = msgspec.json.Decoder(list[_Object])
_FRAME = msgspec.json.Decoder(_FrameLabels)
_ANY = msgspec.json.Decoder()
#: raw values of an image's classification references that hold nothing to read (absent is the
#: empty Raw; null there is an error, the reader's to say)
_NO_REFERENCES = (b"", b"[]")
#: the raw coordinate keys each shape reads (the dict path's ``obj.get`` of them)
_RAW_KEYS = {code: keys for code, keys in (
    (SHAPE_CODE["polygon"], ("polygons", "polygon")), (SHAPE_CODE["polyline"], ("polyline",)),
    (SHAPE_CODE["point"], ("point",)), (SHAPE_CODE["skeleton"], ("skeleton",)), (SHAPE_CODE["bitmask"], ("bitmask",)))}


class _Fallback(Exception):
    """This file is the dict path's to read (it warns, refuses or reads it tolerantly)."""


@dataclass
class LoadedTable:
    """One label-row file read for evaluation: its table (finished rows only, unless asked), what
    :func:`~.labels.finished_rows` said and left out, and whether the typed decode took the file
    (``fast``) or the dict path did."""

    table: ObjectTable
    warnings: list[str] = field(default_factory=list)
    left_out: int = 0
    fast: bool = True


def load_table(data: bytes, *, source: str, include_incomplete: bool = False) -> LoadedTable:
    """The :class:`ObjectTable` of a label-row file's bytes, with the finished-rows rule applied.

    Equal to :func:`reference_table` (the dict path) for every input; raises what it raises
    (:class:`InvalidInput`, located) for a file it refuses. The garbage collector is off meanwhile.
    """
    with no_cyclic_gc():
        try:
            return _fast(data, source=source, include_incomplete=include_incomplete)
        except MemoryError:
            raise
        except Exception:  # noqa: BLE001 (anything the typed decode cannot take is the dict path's)
            pass
        loaded = reference_table(data, source=source, include_incomplete=include_incomplete)
        loaded.fast = False
        return loaded


def reference_table(data: bytes | str, *, source: str, include_incomplete: bool = False) -> LoadedTable:
    """The dict path, the strict reference: decode, keep the finished rows, parse."""
    kept = finished_rows(read_label_rows(data, source=source), source=source, include_incomplete=include_incomplete)
    return LoadedTable(parse_label_rows(kept.rows, source=source), list(kept.warnings), kept.left_out, fast=False)


def _raw_is(raw: Raw, empty: tuple[bytes, ...]) -> bool:
    return len(raw) <= 8 and bytes(raw).strip() in empty


def _fast(data: bytes, *, source: str, include_incomplete: bool) -> LoadedTable:
    view = memoryview(data)
    if data[:3] == codecs.BOM_UTF8:
        view = view[3:]
    rows = _ROWS.decode(view)
    # The finished-rows rule, by its one function: it sees each row's status as the dict path does.
    stubs = [{"annotation_task_status": r.annotation_task_status} for r in rows]
    kept = finished_rows(stubs, source=source, include_incomplete=include_incomplete)
    if kept.left_out:
        keep = {id(s) for s in kept.rows}
        rows = [r for r, s in zip(rows, stubs) if id(s) in keep]
    del stubs
    table = assemble_table(source, _walk(rows, source))
    return LoadedTable(table, list(kept.warnings), kept.left_out, fast=True)


def _walk(rows: list[_Row], source: str) -> Collected:
    """The dict path's walk (:func:`~.parse.parse_label_rows`) over the typed records: the same
    records, codes and counts; anything it would refuse or warn about raises :class:`_Fallback`."""
    src = safe_text(source, 200)
    records: list[tuple[Any, ...]] = []
    row_meta: list[tuple[Any, str, str, Any, int]] = []
    not_compared: dict[str, int] = {}
    unknown: dict[str, int] = {}
    features: dict[str, int] = {}
    names: dict[str, int] = {}
    creators: dict[str | None, int] = {}
    polys: list[tuple[int, list[list[Any]]]] = []
    others = _Others()
    row_answers: list[RowAnswers] = []
    add = records.append
    feature_id, name_id, creator_id = features.setdefault, names.setdefault, creators.setdefault
    single, multi, no_frames = _SINGLE_FRAME_TYPES, _MULTI_FRAME_TYPES, _NO_FRAME_TYPES
    nan = math.nan
    decode_objects, decode_frame = _OBJECTS.decode, _FRAME.decode

    for ri, lr in enumerate(rows):
        label_hash = lr.label_hash
        data_hash = lr.data_hash
        if type(data_hash) is not str or not data_hash:
            raise _Fallback
        title = lr.data_title if type(lr.data_title) is str else ""
        data_type = lr.data_type
        if type(data_type) is not str or not (data_type in single or data_type in multi or data_type in no_frames):
            raise _Fallback  # no data_type (the layout is guessed from the labels) or an unknown one
        units = lr.data_units
        if not units:
            raise _Fallback  # missing (an error) or {} (a warning)
        where = row_where(src, ri, label_hash)
        row_nc: dict[str, int] = {}
        refs: list[tuple[str, Any, dict[str, Any]]] = []  # units with frame classification references
        first_seen: dict[str, int] = {}
        seq_id = first_seen.setdefault

        for unit_key, unit in units.items():
            img_w = _dimension(unit.width)
            img_h = _dimension(unit.height)
            unit_bad = (img_w != img_w and unit.width is not None) or (img_h != img_h and unit.height is not None)
            shapes_before = len(records)
            labels = unit.labels
            if labels is None:
                continue
            frames: list[tuple[int, list[_Object]]] = []
            if data_type in single:
                if any(is_frame_key(k) for k in labels):
                    raise _Fallback  # a video's layout on an image: a warning
                frame = frame_number(unit.data_sequence, where, "data_sequence")
                raw = labels.get("objects")
                if raw is not None:
                    frames.append((frame, decode_objects(raw)))
                listed = labels.get("classifications")
                if listed is not None and not _raw_is(listed, _NO_REFERENCES):
                    refs.append((unit_key, unit.data_sequence, {"classifications": _ANY.decode(listed)}))
            elif data_type in multi:
                if "objects" in labels:
                    raise _Fallback  # an image's layout on a video: a warning
                mine: dict[str, Any] = {}
                for key, raw in labels.items():
                    if not is_frame_key(key):
                        if data_type == "scene":
                            continue
                        raise _Fallback
                    fl = decode_frame(raw)
                    frames.append((int(key), fl.objects))
                    refs_of = fl.classifications
                    if refs_of is None:
                        mine[key] = {"classifications": None}
                    elif not isinstance(refs_of, UnsetType) and refs_of:
                        mine[key] = {"classifications": [_ANY.decode(r) for r in refs_of]}
                if mine:
                    refs.append((unit_key, unit.data_sequence, mine))
            else:
                raise _Fallback  # labels on audio or text: the dict path says what it skips

            # one frame of a one-unit row (an image): the row's first-seen map is the frame's, so
            # a hash seen again on it is the map not growing (no set of the frame's hashes)
            alone = len(frames) == 1 and len(units) == 1
            for frame, objects in frames:
                on_frame: set[str] = set()
                for oi, obj in enumerate(objects):
                    object_hash = obj.objectHash
                    if not object_hash:
                        raise _Fallback
                    shape = obj.shape
                    code = SHAPE_CODE.get(shape) if shape is not None else None
                    if code is None:
                        if shape is None:
                            raise _Fallback
                        if shape in KNOWN_SHAPES:
                            row_nc[shape] = row_nc.get(shape, 0) + 1
                        else:
                            key = safe_text(shape, 40)
                            unknown[key] = unknown.get(key, 0) + 1
                        continue
                    if obj.event == "delete":
                        continue
                    n_seen = len(first_seen)
                    if alone:
                        seq = seq_id(object_hash, n_seen)
                        if len(first_seen) == n_seen:
                            raise _Fallback  # the hash again on this frame
                    else:
                        if object_hash in on_frame:
                            raise _Fallback
                        on_frame.add(object_hash)
                        seq = seq_id(object_hash, n_seen)
                    feature_hash = obj.featureHash
                    if not feature_hash:
                        raise _Fallback
                    name = obj.name
                    if type(name) is not str or not name:
                        name = feature_hash
                    theta = nan
                    if code == 0:
                        bb = obj.boundingBox
                        if bb is None:
                            raise _Fallback
                        x, y, w, h = bb.x, bb.y, bb.w, bb.h
                        if w < 0.0 or h < 0.0:
                            raise _Fallback
                    elif code == 1:
                        rb = obj.rotatableBoundingBox
                        if rb is None:
                            raise _Fallback
                        x, y, w, h, theta = rb.x, rb.y, rb.w, rb.h, rb.theta
                        if w < 0.0 or h < 0.0:
                            raise _Fallback
                    else:
                        plain = {k: _ANY.decode(raw) for k in _RAW_KEYS[code]
                                 if len(raw := getattr(obj, k))}
                        at = object_where(where, frame, oi, object_hash)
                        if code == 2:
                            polys.append((len(records), polygon_rings(plain, at)))
                            x = y = w = h = nan
                        else:
                            x, y, w, h = _other_shape(code, plain, at, len(records), others)
                    add((ri, frame, seq, object_hash,
                         feature_id(feature_hash, len(features)), name_id(name, len(names)), code,
                         creator_id(obj.createdBy, len(creators)), x, y, w, h, theta, img_w, img_h))
            if unit_bad and len(records) > shapes_before:
                raise _Fallback  # a size that is no pixel count, on a unit with shapes: a warning

        # answers: read by the dict path's reader, from the parts of the row that hold any
        ca = lr.classification_answers
        answers: Any = _ANY.decode(ca) if len(ca) else None
        n_classifications = len(answers) if type(answers) is dict else 0
        attributes = {oh: {"classifications": [_ANY.decode(r) for r in e.classifications]}
                      for oh, e in (lr.object_answers or {}).items() if e.classifications}
        if n_classifications or refs or attributes or (answers is not None and type(answers) is not dict):
            mini: dict[str, Any] = {"data_type": data_type,
                                    "data_units": {k: {"data_sequence": s, "labels": lab} for k, s, lab in refs}}
            if answers is not None:
                mini["classification_answers"] = answers
            if attributes:
                mini["object_answers"] = attributes
            ra = read_answers(mini, where, strict=True)
        else:
            ra = RowAnswers()
        row_answers.append(ra)
        for reason, count in ra.not_compared.items():
            not_compared[reason] = not_compared.get(reason, 0) + count
        for reason, count in row_nc.items():
            not_compared[reason] = not_compared.get(reason, 0) + count
        row_meta.append((label_hash, data_hash, title, data_type, n_classifications))

    return Collected(records=records, row_meta=row_meta, polys=polys, others=others, row_answers=row_answers,
                     not_compared=not_compared, unknown=unknown, skipped=[], no_units=[], bad_sizes=[],
                     features=features, names=names, creators=creators)
