"""Encord label rows (``LabelRowV2.to_encord_dict()`` form) → columnar object tables.

One entry per object *annotation*: an object on a video present on 30 frames is 30 entries, one
per frame (its ``objectHash`` ties them together). Every compared shape is kept as geometry:

* ``bounding_box``: ``boundingBox`` ``{x, y, w, h}``, normalised 0..1 (top-left, size);
* ``rotatable_bounding_box``: ``rotatableBoundingBox`` ``{x, y, w, h, theta}``; the unrotated box,
  turned ``theta`` degrees (clockwise on screen) about its centre;
* ``polygon``: ``polygons`` (list of polygons, each a list of flat ``[x0, y0, x1, y1, …]`` contours,
  the first outer, the rest holes), else the legacy ``polygon`` (``{"0": {"x", "y"}, …}`` or a list);
* ``polyline``: ``polyline`` ``{"0": {x, y}, …}``; ``point``: ``point`` ``{"0": {x, y}}``;
* ``skeleton``: ``skeleton`` ``{"0": {x, y, name, featureHash, visibility?}, …}``
  (``SkeletonCoordinates.to_dict()``), keypoints keyed by the template keypoint's feature hash;
* ``bitmask``: ``bitmask`` ``{top, left, height, width, rleString}``, decoded (and checked) here.

Each row's classification answers and object attributes are read too (:func:`.answers.read_answers`,
strict). Every other shape the SDK knows (cuboid, ellipse, circle, audio, text, …) and shapes it
does not know are *not compared*: counted in :attr:`ObjectTable.not_compared` (unknown shapes also
get a warning) and skipped, never an error.

Strict where evaluation needs it: a row without ``data_hash`` or ``data_units``, an object without
``objectHash``/``featureHash``/``shape``, or a compared shape with missing, non-numeric, NaN or
infinite coordinates (or a negative box size), or a ``confidence`` that is not a finite number,
raises :class:`InvalidInput` with the file, the row index (0-based, as in the JSON list), its
``label_hash``, the frame and the object.
Tolerant elsewhere: missing titles, names, ``createdBy``, image sizes, … are fine. What is read but
cannot be compared as written is a warning naming the rows: ``"data_units": {}`` (nothing read), a
data unit ``width``/``height`` present but not a pixel count (0, -1, ``"1280"``, ``true``, ``1e-300``:
its rotated boxes lose that pixel scale), boxes of zero width or height and zero-area polygons
(they overlap nothing).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.evaluation.answers import RowAnswers, read_answers
from annotrain_tui.core.evaluation.labels import (  # the one label-row reader; re-exported names for old callers
    _NUM,
    BOX,
    COMPARED_SHAPES,
    FIX_OBJECT,
    KNOWN_DATA_TYPES,
    KNOWN_SHAPES,
    POINT,
    POLYGON,
    POLYLINE,
    ROTATED,
    SHAPE_CODE,
    SKELETON,
    Lazy,
    safe_text,
    units_of,
)
from annotrain_tui.core.evaluation.labels import box_values as _box_values
from annotrain_tui.core.evaluation.labels import frames_of_unit as _frames_of_unit
from annotrain_tui.core.evaluation.labels import object_where as _where
from annotrain_tui.core.evaluation.labels import polygon_rings as _polygon_rings
from annotrain_tui.core.evaluation.labels import row_where as _row_where
from annotrain_tui.core.evaluation.labels import skeleton_values as _skeleton_values
from annotrain_tui.core.evaluation.labels import type_name as _type_name
from annotrain_tui.core.evaluation.labels import vertices as _vertices
from annotrain_tui.core.evaluation.similarity import MAX_POLYLINE_VERTICES, Bitmask
from annotrain_tui.core.files import read_user_bytes
from annotrain_tui.core.jsonread import JsonProblem, loads, wide_encoding
from annotrain_tui.core.lazy import lazy_module

if TYPE_CHECKING:
    import pandas as pd
    import shapely
else:
    pd = lazy_module("pandas")  # only what builds a frame pays its import
    shapely = lazy_module("shapely")  # only polygons: boxes (the seed script's only shape) never pay it

# Normalised coordinates put the image in 0..1; an object with a coordinate beyond ±FAR (box
# corners, polygon bounds) is far outside it, most likely pixels written where fractions belong.
# It is still compared (it overlaps nothing), with a warning naming it.
FAR = 10.0
_FAR_NAMED = 3  # objects named in that warning

__all__ = [
    "BOX",
    "ROTATED",
    "POLYGON",
    "COMPARED_SHAPES",
    "KNOWN_SHAPES",
    "ObjectTable",
    "parse_label_rows",
    "load_label_rows",
    "read_label_rows",
    "safe_text",
]

class RowColumns:
    """One entry per label row of a table, column by column (object arrays): ``label_hash``,
    ``data_hash``, ``data_title``, ``data_type``, ``classifications`` (how many classification
    instances). Plain numpy: reading a file for a summary builds no pandas frame."""

    COLUMNS = ("label_hash", "data_hash", "data_title", "data_type", "classifications")

    def __init__(self, columns: dict[str, np.ndarray]) -> None:
        self._columns = columns

    @classmethod
    def of(cls, records: list[tuple[Any, ...]]) -> RowColumns:
        n = len(records)
        cols = list(zip(*records)) if records else [()] * len(cls.COLUMNS)
        out = {}
        for name, values in zip(cls.COLUMNS, cols):
            arr = np.empty(n, dtype=object)
            arr[:] = values
            out[name] = arr
        return cls(out)

    def __getitem__(self, column: str) -> np.ndarray:
        return self._columns[column]

    def __len__(self) -> int:
        return len(self._columns["data_hash"])

    def __iter__(self) -> Any:
        return iter(self.COLUMNS)


@dataclass
class ObjectTable:
    """Parsed label rows of one source (a project or a file), column by column.

    ``rows`` has one entry per label row (``label_hash``, ``data_hash``, ``data_title``,
    ``data_type``, ``classifications``), in input order. The object columns are numpy arrays of one
    length, one entry per object annotation of a compared shape:

    ``row`` (index into ``rows``), ``frame``, ``seq`` (rank of the object's first appearance in its
    row, the SDK's ``get_object_instances()`` order), ``object_hash``, ``feature_code``/``name_code``/
    ``created_by_code`` (indices into ``feature_vocab``, ``name_vocab``, ``created_by_vocab``; the
    ``feature_hash``, ``name`` and ``created_by`` properties give the strings, ``None`` for a missing
    ``createdBy``), ``shape`` (code into :data:`COMPARED_SHAPES`),
    ``x``, ``y``, ``w``, ``h`` (box; for polygons their bounds), ``theta`` (degrees; NaN unless
    rotated), ``img_w``, ``img_h`` (pixels of the data unit, NaN when absent), ``geom`` (shapely
    geometry for polygons, an (n, 2) array of normalised vertices for polylines, the decoded
    :class:`~.similarity.Bitmask` of a bitmask, ``None`` otherwise), ``keypoints``
    (skeletons' keypoints, see :class:`Keypoints`; None without skeletons). Points keep their
    position in ``x``, ``y`` (``w`` = ``h`` = 0); polylines and skeletons their bounds in
    ``x``..``h``; bitmasks NaN there (their place is in the mask: ``geom`` holds the decoded
    :class:`~.similarity.Bitmask`).
    """

    source: str
    rows: RowColumns
    row: np.ndarray
    frame: np.ndarray
    seq: np.ndarray
    object_hash: np.ndarray
    feature_code: np.ndarray
    name_code: np.ndarray
    created_by_code: np.ndarray
    feature_vocab: np.ndarray
    name_vocab: np.ndarray
    created_by_vocab: np.ndarray
    shape: np.ndarray
    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    h: np.ndarray
    theta: np.ndarray
    img_w: np.ndarray
    img_h: np.ndarray
    geom: np.ndarray
    keypoints: Keypoints | None = None
    #: per label row, its classification answers and object attributes (:mod:`.answers`)
    answers: list[RowAnswers] | None = None
    not_compared: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.row)

    @property
    def feature_hash(self) -> np.ndarray:
        return self.feature_vocab[self.feature_code] if len(self.feature_code) else np.empty(0, dtype=object)

    @property
    def name(self) -> np.ndarray:
        return self.name_vocab[self.name_code] if len(self.name_code) else np.empty(0, dtype=object)

    @property
    def created_by(self) -> np.ndarray:
        return self.created_by_vocab[self.created_by_code] if len(self.created_by_code) else np.empty(0, dtype=object)

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    def to_frame(self) -> pd.DataFrame:
        """The object columns as a DataFrame (shape as its name), joined with the row columns."""
        df = pd.DataFrame({
            "row": self.row, "frame": self.frame, "seq": self.seq, "object_hash": self.object_hash,
            "feature_hash": self.feature_hash, "name": self.name,
            "shape": np.array(COMPARED_SHAPES, dtype=object)[self.shape] if len(self.shape) else
            np.array([], dtype=object),
            "created_by": self.created_by, "x": self.x, "y": self.y, "w": self.w, "h": self.h,
            "theta": self.theta, "img_w": self.img_w, "img_h": self.img_h, "geom": self.geom,
        })
        rows = pd.DataFrame({c: self.rows[c] for c in ("label_hash", "data_hash", "data_title")})
        return df.join(rows, on="row")


@dataclass(frozen=True)
class Keypoints:
    """The skeletons of a table, dense: ``index`` per object annotation its row in the arrays (-1: not a
    skeleton); ``vocab`` the keypoint keys (template keypoint feature hashes) the columns stand for;
    ``x``, ``y`` (m, len(vocab)) normalised, NaN where the skeleton has no such keypoint; ``present``
    where it has one that is not invisible (:data:`~.labels.KEYPOINT_ABSENT`)."""

    index: np.ndarray
    vocab: tuple[str, ...]
    x: np.ndarray
    y: np.ndarray
    present: np.ndarray

    def aligned(self, objects: np.ndarray, vocab: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """x, y, present of ``objects`` (indices into the table) with columns in ``vocab``'s order."""
        cols = np.array([vocab[k] for k in self.vocab], dtype=np.int64)
        rows = self.index[objects]
        n, v = len(objects), len(vocab)
        x = np.full((n, v), np.nan)
        y = np.full((n, v), np.nan)
        present = np.zeros((n, v), dtype=bool)
        if len(cols):
            x[:, cols] = self.x[rows]
            y[:, cols] = self.y[rows]
            present[:, cols] = self.present[rows]
        return x, y, present


class _Others:
    """What the parser collects for the shapes without columns of their own: a polyline's vertices,
    a bitmask's values (kept in ``geom``) and skeleton keypoints (made into :class:`Keypoints`)."""

    def __init__(self) -> None:
        self.geom: dict[int, Any] = {}
        self.kp_vocab: dict[str, int] = {}
        self.kp_object: list[int] = []  # per keypoint: the record index of its skeleton
        self.kp_code: list[int] = []
        self.kp_xy: list[tuple[float, float]] = []
        self.kp_present: list[bool] = []
        self.skeletons: list[int] = []
        self.too_long: list[Any] = []  # where: polylines over MAX_POLYLINE_VERTICES (they overlap nothing)

    def keypoint_table(self, n: int) -> Keypoints | None:
        if not self.skeletons:
            return None
        index = np.full(n, -1, dtype=np.int64)
        index[np.asarray(self.skeletons, dtype=np.int64)] = np.arange(len(self.skeletons))
        m, v = len(self.skeletons), len(self.kp_vocab)
        x = np.full((m, v), np.nan)
        y = np.full((m, v), np.nan)
        present = np.zeros((m, v), dtype=bool)
        if self.kp_object:
            r = index[np.asarray(self.kp_object, dtype=np.int64)]
            c = np.asarray(self.kp_code, dtype=np.int64)
            xy = np.asarray(self.kp_xy, dtype=np.float64).reshape(-1, 2)
            x[r, c], y[r, c] = xy[:, 0], xy[:, 1]
            present[r, c] = np.asarray(self.kp_present, dtype=bool)
        return Keypoints(index=index, vocab=tuple(self.kp_vocab), x=x, y=y, present=present)


def _bounds(points: Any) -> tuple[float, float, float, float]:
    if not len(points):
        return math.nan, math.nan, math.nan, math.nan
    a = np.asarray(points, dtype=np.float64)
    lo, hi = a.min(axis=0), a.max(axis=0)
    return float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1])


def _other_shape(code: int, obj: dict, where: Any, record: int, others: _Others) -> tuple[float, float, float, float]:
    """Read a polyline, point, skeleton or bitmask (strict, located by ``where``); its x, y, w, h."""
    shape = COMPARED_SHAPES[code]
    if shape == POLYLINE:
        points = _vertices(obj.get("polyline"), where, "polyline")
        if len(points) > MAX_POLYLINE_VERTICES:  # kept, overlapping nothing, and said
            others.too_long.append(where)
            others.geom[record] = np.zeros((0, 2))
        else:
            others.geom[record] = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        return _bounds(points)
    if shape == POINT:
        points = _vertices(obj.get("point"), where, "point")
        if not points:
            raise InvalidInput(f"{where}: point has no coordinates",
                               hint=FIX_OBJECT)
        return points[0][0], points[0][1], 0.0, 0.0
    if shape == SKELETON:
        keys, keypoints, present, _names = _skeleton_values(obj.get("skeleton"), where)
        others.skeletons.append(record)
        code_of = others.kp_vocab.setdefault
        for key, xy, p in zip(keys, keypoints, present):
            others.kp_object.append(record)
            others.kp_code.append(code_of(key, len(others.kp_vocab)))
            others.kp_xy.append(xy)
            others.kp_present.append(p)
        if len(others.kp_vocab) > MAX_KEYPOINT_KINDS:  # the dense (skeletons × kinds) arrays would not fit
            raise InvalidInput(f"{where}: the skeletons of this file name more than {MAX_KEYPOINT_KINDS:,} different "
                               "keypoints (templates hold tens)",
                               hint=FIX_OBJECT)
        return _bounds(keypoints)
    others.geom[record] = Bitmask.from_dict(obj.get("bitmask"), where=str(where))
    return math.nan, math.nan, math.nan, math.nan


_EXPORT_AGAIN = "export the rows again with LabelRowV2.to_encord_dict() (or fix the object in the file)"

#: different skeleton keypoints (template keypoint feature hashes) one file may name
MAX_KEYPOINT_KINDS = 10_000

_MAX_PIXELS = 2**31 - 1  # a data unit's width or height, as Encord stores it (a 32-bit integer)


def _dimension(value: Any) -> float:
    """A data unit's width or height in pixels; NaN when absent (``None``) or not a pixel count
    (the caller warns about the latter: see :func:`_bad_dimension`)."""
    if type(value) in _NUM and 1 <= value <= _MAX_PIXELS:  # NaN compares false; bool is not int here
        return float(value)
    return math.nan


def _bad_dimension(value: Any) -> str:
    """Why a present width/height is no pixel count, for the warning."""
    if type(value) in _NUM:
        if value != value:
            return "got NaN"
        if type(value) is int and abs(value) >= 10**40:
            return f"got a whole number of {len(str(abs(value))):,} digits"
        return f"got {value!r}"
    try:  # as the file spells it: "1280", true, null
        spelled = json.dumps(value, ensure_ascii=False) if not isinstance(value, (dict, list)) else None
    except (TypeError, ValueError):
        spelled = None
    if spelled is None:
        return ("got an object" if isinstance(value, dict) else "got a list" if isinstance(value, list)
                else f"got {safe_text(repr(value), 40)}")
    return f"got {safe_text(spelled, 40)} ({_type_name(value)})"


def _bad_size(row_where: Any, unit_key: Any, what: str, value: Any) -> Lazy:
    """The located warning for a data unit's width or height that is no pixel count (made lazily)."""
    return Lazy(lambda: f"{row_where} data unit {safe_text(unit_key, 40)}: {what} must be a positive number of "
                        f"pixels (1 to {_MAX_PIXELS:,}), {_bad_dimension(value)}")


# What the engine does with a unit whose size is unknown (engine._fill_iou: the benchmark unit's size,
# else the training unit's; geometry.rotated_iou_pairs: a NaN width or height counts as 1).
_DIMENSION_CONSEQUENCE = ("the value is ignored: rotated boxes on this data unit are scaled by the benchmark's "
                          "value for it (else the training file's), or by 1 when neither file has a valid one, which "
                          "distorts their rotation (their IoU is then not the one on the image)")
_BAD_NAMED = 3  # rows named in the data-unit warnings


@np.errstate(all="ignore")  # shapely/numpy overflow on huge coordinates: checked, not printed
def parse_label_rows(rows: Iterable[Any], *, source: str) -> ObjectTable:
    """Parse label-row dicts (a list, or any iterable: it is consumed once) into an :class:`ObjectTable`.

    ``source`` names the file or project in messages and is the table's :attr:`~ObjectTable.source`.
    """
    records: list[tuple[Any, ...]] = []
    row_meta: list[tuple[Any, str, str, Any, int]] = []
    not_compared: dict[str, int] = {}
    unknown: dict[str, int] = {}
    # Codes for the repeated strings (json.loads makes one str per occurrence; these share them).
    features: dict[str, int] = {}
    names: dict[str, int] = {}
    creators: dict[str | None, int] = {}
    polys: list[tuple[int, list[list[np.ndarray]]]] = []
    others = _Others()  # polylines, skeletons and bitmasks, by record index
    row_answers: list[RowAnswers] = []
    skipped: list[tuple[Any, str, int]] = []  # labels in the wrong layout for their data type
    no_units: list[Lazy] = []  # rows with "data_units": {}
    bad_sizes: list[Lazy] = []  # data units whose width/height is present but no pixel count
    src = safe_text(source, 200)

    add = records.append
    feature_id, name_id, creator_id = features.setdefault, names.setdefault, creators.setdefault
    for ri, lr in enumerate(rows):
        if type(lr) is not dict:
            raise InvalidInput(f"{src}: row {ri}: expected a label row (JSON object), got {_type_name(lr)}")
        label_hash = lr.get("label_hash")
        row_where = _row_where(src, ri, label_hash)
        if label_hash is not None and type(label_hash) is not str:
            raise InvalidInput(f"{row_where}: 'label_hash' must be a string or null")
        data_hash = lr.get("data_hash")
        if type(data_hash) is not str or not data_hash:
            what = "is missing 'data_hash'" if data_hash is None else "has an invalid 'data_hash'"
            raise InvalidInput(f"{row_where} {what}",
                               hint="export label rows with LabelRowV2.to_encord_dict(); data_hash pairs them")
        title = lr.get("data_title")
        title = title if type(title) is str else ""
        data_type = lr.get("data_type")
        if data_type is not None and (type(data_type) is not str or data_type not in KNOWN_DATA_TYPES):
            raise InvalidInput(f"{row_where}: unknown data_type {safe_text(repr(data_type), 40)}: Encord's are "
                               f"{', '.join(sorted(KNOWN_DATA_TYPES))}",
                               hint="export label rows with LabelRowV2.to_encord_dict()")
        units = units_of(lr, row_where, strict=True)
        if not units:
            no_units.append(row_where)
        answers = lr.get("classification_answers")
        n_classifications = len(answers) if type(answers) is dict else 0
        ra = read_answers(lr, row_where, strict=True)
        row_answers.append(ra)
        for reason, count in ra.not_compared.items():
            not_compared[reason] = not_compared.get(reason, 0) + count
        row_meta.append((label_hash, data_hash, title, data_type, n_classifications))

        first_seen: dict[str, int] = {}
        seq_id = first_seen.setdefault
        for unit_key, unit in units:
            raw_w, raw_h = unit.get("width"), unit.get("height")
            img_w = _dimension(raw_w)
            img_h = _dimension(raw_h)
            # A size matters only where there are shapes to scale: a PDF, audio or text unit (or an
            # image nobody labelled) may carry 0 (the SDK builds PDF rows with width/height 0).
            shapes_before, unit_bad = len(records), []
            if img_w != img_w and raw_w is not None:
                unit_bad.append(_bad_size(row_where, unit_key, "width", raw_w))
            if img_h != img_h and raw_h is not None:
                unit_bad.append(_bad_size(row_where, unit_key, "height", raw_h))
            for frame, objects in _frames_of_unit(unit, data_type, row_where, skipped):
                if type(objects) is not list:
                    raise InvalidInput(f"{row_where} frame {frame}: 'objects' must be a list, "
                                       f"got {_type_name(objects)}", hint=_EXPORT_AGAIN)
                on_frame: set[str] = set()
                for oi, obj in enumerate(objects):
                    if type(obj) is not dict:
                        raise InvalidInput(f"{row_where} frame {frame} object {oi}: expected an object, "
                                           f"got {_type_name(obj)}", hint=_EXPORT_AGAIN)
                    get = obj.get
                    object_hash = get("objectHash")
                    shape = get("shape")
                    if type(object_hash) is not str or not object_hash:
                        raise InvalidInput(f"{row_where} frame {frame} object {oi}: missing 'objectHash'",
                                           hint=_EXPORT_AGAIN)
                    code = SHAPE_CODE.get(shape) if type(shape) is str else None
                    if code is None:
                        if type(shape) is not str:
                            raise InvalidInput(f"{row_where} frame {frame} object {oi} "
                                               f"({safe_text(object_hash, 40)}): missing 'shape'", hint=_EXPORT_AGAIN)
                        if shape in KNOWN_SHAPES:
                            not_compared[shape] = not_compared.get(shape, 0) + 1
                        else:
                            key = safe_text(shape, 40)
                            unknown[key] = unknown.get(key, 0) + 1
                        continue
                    if "event" in obj and get("event") == "delete":
                        continue  # an event-based row's end marker, not an annotation
                    if object_hash in on_frame:
                        raise InvalidInput(f"{_where(row_where, frame, oi, object_hash)}: the same objectHash "
                                           f"appears twice on frame {frame}")
                    on_frame.add(object_hash)
                    feature_hash = get("featureHash")
                    if type(feature_hash) is not str or not feature_hash:
                        raise InvalidInput(f"{_where(row_where, frame, oi, object_hash)}: missing 'featureHash' "
                                           "(the object's class)")
                    name = get("name")
                    if type(name) is not str or not name:
                        name = feature_hash
                    created_by = get("createdBy")
                    if created_by is not None and type(created_by) is not str:
                        raise InvalidInput(f"{_where(row_where, frame, oi, object_hash)}: 'createdBy' must be an "
                                           "email string or null")
                    if "confidence" in obj:
                        confidence = get("confidence")
                        if type(confidence) is not float or confidence - confidence != 0.0:
                            _check_confidence(confidence, _where(row_where, frame, oi, object_hash))
                    theta = math.nan
                    if code == 0:
                        bb = get("boundingBox")
                        try:  # fast path: four finite floats, non-negative size
                            x, y, w, h = bb["x"], bb["y"], bb["w"], bb["h"]  # type: ignore[index]  # None: TypeError, below
                            ok = (type(x) is float and type(y) is float and type(w) is float and type(h) is float
                                  and x - x == 0.0 and y - y == 0.0 and w - w == 0.0 and h - h == 0.0
                                  and w >= 0.0 and h >= 0.0)
                        except (TypeError, KeyError):
                            ok = False
                        if not ok:
                            x, y, w, h = _box_values(bb, _where(row_where, frame, oi, object_hash), "bounding box",
                                                     ("x", "y", "w", "h"))
                    elif code == 1:
                        x, y, w, h, theta = _box_values(get("rotatableBoundingBox"),
                                                        _where(row_where, frame, oi, object_hash),
                                                        "rotatable bounding box", ("x", "y", "w", "h", "theta"))
                    elif code == 2:
                        polys.append((len(records), _polygon_rings(obj, _where(row_where, frame, oi, object_hash))))
                        x = y = w = h = math.nan
                    else:
                        x, y, w, h = _other_shape(code, obj, _where(row_where, frame, oi, object_hash), len(records),
                                                  others)
                    add((ri, frame, seq_id(object_hash, len(first_seen)), object_hash,
                         feature_id(feature_hash, len(features)), name_id(name, len(names)), code,
                         creator_id(created_by, len(creators)), x, y, w, h, theta, img_w, img_h))
            if unit_bad and len(records) > shapes_before:
                bad_sizes.extend(unit_bad)

    return assemble_table(source, Collected(
        records=records, row_meta=row_meta, polys=polys, others=others, row_answers=row_answers,
        not_compared=not_compared, unknown=unknown, skipped=skipped, no_units=no_units, bad_sizes=bad_sizes,
        features=features, names=names, creators=creators))


@dataclass
class Collected:
    """What a walk over label rows gathers before it becomes an :class:`ObjectTable` (the dict walk
    above and the typed decode of :mod:`.fastread` both fill one, and :func:`assemble_table` makes
    the table and its warnings from it: one truth for both). ``records`` are 15-tuples (row, frame,
    seq, object hash, feature code, name code, shape code, creator code, x, y, w, h, theta, img_w,
    img_h); ``row_meta`` (label_hash, data_hash, title, data_type, classifications) per row."""

    records: list[tuple[Any, ...]]
    row_meta: list[tuple[Any, str, str, Any, int]]
    polys: list[tuple[int, list[list[np.ndarray]]]]
    others: _Others
    row_answers: list[RowAnswers]
    not_compared: dict[str, int]
    unknown: dict[str, int]
    skipped: list[tuple[Any, str, int]]
    no_units: list[Lazy]
    bad_sizes: list[Lazy]
    features: dict[str, int]
    names: dict[str, int]
    creators: dict[str | None, int]


@np.errstate(all="ignore")
def assemble_table(source: str, c: Collected) -> ObjectTable:
    """The :class:`ObjectTable` of what a walk collected: columns, polygons built, keypoints, warnings."""
    src = safe_text(source, 200)
    records, row_meta, polys, others = c.records, c.row_meta, c.polys, c.others
    not_compared, unknown, skipped, no_units, bad_sizes = c.not_compared, c.unknown, c.skipped, c.no_units, c.bad_sizes
    features, names, creators, row_answers = c.features, c.names, c.creators, c.row_answers
    degenerate = unrepaired = repaired = 0
    n = len(records)
    cols: list[Any] = list(zip(*records)) if records else [()] * 15
    geom = np.full(n, None, dtype=object)
    x = np.asarray(cols[8], dtype=np.float64)
    y = np.asarray(cols[9], dtype=np.float64)
    w = np.asarray(cols[10], dtype=np.float64)
    h = np.asarray(cols[11], dtype=np.float64)
    if polys:
        idx = np.fromiter((i for i, _ in polys), dtype=np.int64, count=len(polys))
        built, n_degenerate, n_unrepaired, repaired = _build_polygons([p for _, p in polys])
        degenerate += n_degenerate
        unrepaired += n_unrepaired
        geom[idx] = built
        b = shapely.bounds(built)
        empty = shapely.is_empty(built)
        b[empty] = 0.0
        x[idx], y[idx], w[idx], h[idx] = b[:, 0], b[:, 1], b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]

    for i, value in others.geom.items():
        geom[i] = value
    keypoints = others.keypoint_table(n)

    warnings: list[str] = []
    for shape, count in sorted(unknown.items()):
        warnings.append(f"{src}: {count} object annotation(s) of unknown shape '{shape}' skipped")
        not_compared[f"unknown:{shape}"] = count
    if skipped:
        n_objects = sum(n for _, _, n in skipped)
        where, why, first_n = skipped[0]
        more = (f"; {len(skipped) - 1} more data unit(s) like it, {n_objects} object annotation(s) not read in all"
                if len(skipped) > 1 else "")
        warnings.append(f"{where}: {why}, so its {first_n} object annotation(s) were not read{more} (fix "
                        "data_type, or export the rows again)")
        not_compared["frame-layout"] = not_compared.get("frame-layout", 0) + n_objects
    def named(found: np.ndarray) -> str:
        """The first objects of ``found`` by row, label hash, frame and object hash, and how many more."""
        first = "; ".join(f"row {int(cols[0][i])} (label_hash {safe_text(row_meta[int(cols[0][i])][0], 40)}) "
                          f"frame {int(cols[1][i])} object {safe_text(cols[3][i], 40)}" for i in found[:_FAR_NAMED])
        return first + (f"; and {len(found) - _FAR_NAMED} more" if len(found) > _FAR_NAMED else "")

    far = _far_outside(x, y, w, h)
    if len(far):
        warnings.append(f"{src}: {len(far)} object annotation(s) lie far outside the image (a coordinate beyond "
                        f"±{FAR:g}, where the image spans 0..1: pixel values where fractions belong?): {named(far)}")
    if degenerate:
        warnings.append(f"{src}: {degenerate} polygon(s) with fewer than 3 distinct vertices or no area "
                        "(they overlap nothing)")
    flat = _zero_size_boxes(np.asarray(cols[6], dtype=np.int8), w, h)
    if len(flat):
        warnings.append(f"{src}: {len(flat)} box(es) of zero width or height, no area (they overlap nothing): "
                        f"{named(flat)}")
    if no_units:
        more = f"; and {len(no_units) - _BAD_NAMED} more row(s) like it" if len(no_units) > _BAD_NAMED else ""
        warnings.append(f"{'; '.join(map(str, no_units[:_BAD_NAMED]))}: no data units (\"data_units\": {{}}), so "
                        f"nothing in {'it' if len(no_units) == 1 else 'them'} is read: "
                        f"{'it counts as a row' if len(no_units) == 1 else 'they count as rows'} with no objects (in a "
                        f"training file, every benchmark object of that data counts as missed){more} (export the "
                        "rows again)")
    if bad_sizes:
        more = f"; and {len(bad_sizes) - _BAD_NAMED} more like it" if len(bad_sizes) > _BAD_NAMED else ""
        warnings.append(f"{'; '.join(map(str, bad_sizes[:_BAD_NAMED]))}{more}: {_DIMENSION_CONSEQUENCE}")
    if others.too_long:
        more = f"; and {len(others.too_long) - _BAD_NAMED} more" if len(others.too_long) > _BAD_NAMED else ""
        warnings.append(f"{'; '.join(map(str, others.too_long[:_BAD_NAMED]))}{more}: polyline(s) of more than "
                        f"{MAX_POLYLINE_VERTICES:,} vertices overlap nothing (no one draws such a line; buffering it "
                        "would take minutes: redraw it with fewer points)")
    if repaired:
        warnings.append(f"{src}: {repaired} polygon(s) cross themselves: repaired (shapely make_valid) before they are "
                        "compared, so their IoU is the repaired outline's (redraw them to compare what was meant)")
    if unrepaired:
        warnings.append(f"{src}: {unrepaired} polygon(s) cross themselves more than {MAX_REPAIR_CROSSINGS} times "
                        f"(or have over {MAX_REPAIR_VERTICES:,} vertices and cross): not repaired, they overlap "
                        "nothing (redraw them)")

    return ObjectTable(
        source=source,
        rows=RowColumns.of(row_meta),
        row=np.asarray(cols[0], dtype=np.int64),
        frame=np.asarray(cols[1], dtype=np.int64),
        seq=np.asarray(cols[2], dtype=np.int64),
        object_hash=_object_array(cols[3]),
        feature_code=np.asarray(cols[4], dtype=np.int32),
        name_code=np.asarray(cols[5], dtype=np.int32),
        created_by_code=np.asarray(cols[7], dtype=np.int32),
        feature_vocab=_object_array(list(features)),
        name_vocab=_object_array(list(names)),
        created_by_vocab=_object_array(list(creators)),
        shape=np.asarray(cols[6], dtype=np.int8),
        x=x, y=y, w=w, h=h,
        theta=np.asarray(cols[12], dtype=np.float64),
        img_w=np.asarray(cols[13], dtype=np.float64),
        img_h=np.asarray(cols[14], dtype=np.float64),
        geom=geom,
        keypoints=keypoints,
        answers=row_answers,
        not_compared=not_compared,
        warnings=warnings,
    )


def _zero_size_boxes(shape: np.ndarray, w: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Indices of boxes (plain or rotated) with zero width or height: no area, they overlap nothing."""
    if not len(shape):
        return np.empty(0, dtype=np.int64)
    boxes = (shape == SHAPE_CODE[BOX]) | (shape == SHAPE_CODE[ROTATED])
    return np.flatnonzero(boxes & ((w == 0.0) | (h == 0.0)))


def _check_confidence(value: Any, where: Any) -> None:
    """An object's ``confidence``: a finite number or null (as the SDK writes it), else one clear error."""
    if value is None or type(value) is float and value - value == 0.0:
        return
    if type(value) is int:
        if abs(value) <= 1e308:
            return
        raise InvalidInput(f"{where}: 'confidence' is an integer of {len(str(abs(value))):,} digits, not a "
                           "confidence (a number from 0 to 1)",
                           hint=FIX_OBJECT)
    if type(value) is float:
        kind = "NaN" if value != value else "infinite"
        raise InvalidInput(f"{where}: 'confidence' is {kind}, not a confidence (a number from 0 to 1)",
                           hint=FIX_OBJECT)
    raise InvalidInput(f"{where}: 'confidence' must be a number from 0 to 1, got {safe_text(repr(value), 40)} "
                       f"({_type_name(value)})")


def _far_outside(x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Indices of objects with a corner beyond ±FAR (NaN compares false; no numpy warnings)."""
    if not len(x):
        return np.empty(0, dtype=np.int64)
    with np.errstate(all="ignore"):
        far = ((np.abs(x) > FAR) | (np.abs(y) > FAR) | (np.abs(x + w) > FAR) | (np.abs(y + h) > FAR))
    return np.flatnonzero(far)


def _object_array(values: Any) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _build_polygons(polys: list[list[list[np.ndarray]]]) -> tuple[np.ndarray, int, int, int]:
    """Shapely geometries (vectorised for the common single-contour case), made valid; counts of the
    degenerate, the unrepaired and the repaired (a self-crossing outline made valid, with an area)."""
    out = np.empty(len(polys), dtype=object)
    simple = [i for i, p in enumerate(polys) if len(p) == 1 and len(p[0]) == 1 and len(p[0][0]) >= 3]
    if simple:
        rings = [polys[i][0][0] for i in simple]
        coords = np.concatenate(rings)
        indices = np.repeat(np.arange(len(rings)), [len(r) for r in rings])
        out[np.asarray(simple)] = shapely.polygons(shapely.linearrings(coords, indices=indices))
    done = set(simple)
    fixed_parts: set[int] = set()  # made valid
    for i, p in enumerate(polys):
        if i in done:
            continue
        parts = []
        for rings in p:
            if len(rings[0]) < 3:
                continue
            holes = [r for r in rings[1:] if len(r) >= 3]
            parts.append(shapely.Polygon(rings[0], holes))
        if not parts:
            out[i] = shapely.Polygon()
        elif len(parts) == 1:
            out[i] = parts[0]
        else:  # several contours: each repaired within bounds, then joined
            fixed = [part if shapely.is_valid(part) else (shapely.make_valid(part) if _repairable(part) else None)
                     for part in parts]
            out[i] = shapely.Polygon() if any(f is None for f in fixed) else shapely.unary_union(fixed)
            if not all(f is None or f is part for f, part in zip(fixed, parts)):
                fixed_parts.add(i)
    invalid = np.flatnonzero(~shapely.is_valid(out))
    unrepaired = 0
    for i in invalid.tolist():  # rare; one at a time, so Ctrl+C is heard between them
        if _repairable(out[i]):
            out[i] = shapely.make_valid(out[i])
            fixed_parts.add(i)
        else:
            out[i] = shapely.Polygon()
            unrepaired += 1
    area = shapely.area(out)
    degenerate = int((area <= 0).sum()) - unrepaired
    repaired = sum(1 for i in fixed_parts if area[i] > 0)
    return out, degenerate, unrepaired, repaired


#: A self-crossing polygon is repaired (shapely.make_valid) only within these bounds: the repair's
#: cost grows with the crossings (a 300-vertex star with 40,000 of them took over a minute, deaf to
#: Ctrl+C). Annotators' slips cross a few times; more is not a shape anyone drew.
MAX_REPAIR_VERTICES = 2000
MAX_REPAIR_CROSSINGS = 64


def _repairable(geometry: Any) -> bool:
    """Whether make_valid may run on ``geometry`` (any polygonal geometry) within the bounds above."""
    if shapely.get_num_coordinates(geometry) > MAX_REPAIR_VERTICES:
        return False
    crossings = 0
    for part in shapely.get_parts(geometry):
        rings = [shapely.get_exterior_ring(part)]
        rings += list(shapely.get_interior_ring(part, range(shapely.get_num_interior_rings(part))))
        for ring in rings:
            if ring is None:
                continue
            crossings += _crossings(shapely.get_coordinates(ring), MAX_REPAIR_CROSSINGS + 1 - crossings)
            if crossings > MAX_REPAIR_CROSSINGS:
                return False
    return True


def _crossings(ring: np.ndarray, stop: int) -> int:
    """Proper crossings between non-adjacent edges of a closed ring (vectorised in row chunks),
    counting up to ``stop``."""
    a = ring[:-1] if len(ring) > 1 and np.array_equal(ring[0], ring[-1]) else ring
    n = len(a)
    if n < 4:
        return 0
    p, q = a, np.roll(a, -1, axis=0)
    d = q - p
    total = 0
    with np.errstate(all="ignore"):
        for start in range(0, n, 256):
            i = np.arange(start, min(n, start + 256))[:, None]
            j = np.arange(n)[None, :]
            pairs = (j > i + 1) & ~((i == 0) & (j == n - 1))
            pi, di = p[i[:, 0]][:, None, :], d[i[:, 0]][:, None, :]
            o1 = di[..., 0] * (p[None, :, 1] - pi[..., 1]) - di[..., 1] * (p[None, :, 0] - pi[..., 0])
            o2 = di[..., 0] * (q[None, :, 1] - pi[..., 1]) - di[..., 1] * (q[None, :, 0] - pi[..., 0])
            o3 = d[None, :, 0] * (pi[..., 1] - p[None, :, 1]) - d[None, :, 1] * (pi[..., 0] - p[None, :, 0])
            qi = pi + di
            o4 = d[None, :, 0] * (qi[..., 1] - p[None, :, 1]) - d[None, :, 1] * (qi[..., 0] - p[None, :, 0])
            total += int(((o1 * o2 < 0) & (o3 * o4 < 0) & pairs).sum())
            if total >= stop:
                return total
    return total


# --- files -------------------------------------------------------------------------------------

def read_label_rows(data: bytes | str, *, source: str) -> list[Any]:
    """Decode a label-row JSON document (a list of row objects); errors name ``source`` and line:column."""
    src = safe_text(source, 200)
    if isinstance(data, bytes):
        wide = wide_encoding(data)
        if wide is not None:
            raise InvalidInput(f"{src}: the file is {wide} encoded, not UTF-8: save it as UTF-8")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{src}: not UTF-8 text (bad byte at offset {exc.start})") from None
    else:
        text = data.removeprefix("\ufeff")
    if not text.strip():
        raise InvalidInput(f"{src}: the file is empty, expected a JSON list of label rows")
    try:
        # NaN, Infinity and 1e400 pass here: every coordinate is checked below, naming its object.
        doc = loads(text, text=text, finite=False)
    except JsonProblem as exc:
        offset = exc.offset if exc.offset is not None else 0
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        detail = exc.message
        end = text.rstrip()
        if exc.kind == "syntax" and (offset >= len(end) or not end.endswith(("]", "}"))):
            detail += "; the file ends before the JSON does (truncated?)"
        raise InvalidInput(f"{src}: invalid JSON at line {line} column {column}: {detail}") from None
    if not isinstance(doc, list):
        hint = " (a single label row? wrap it in [ ])" if isinstance(doc, dict) and "data_units" in doc else ""
        raise InvalidInput(f"{src}: expected a JSON list of label rows (as LabelRowV2.to_encord_dict() writes), "
                           f"got {_type_name(doc)}{hint}")
    return doc


def load_label_rows(path: str | Path) -> list[Any]:
    """Read a label-row JSON file: a list of ``LabelRowV2.to_encord_dict()`` objects.

    Raises :class:`UnreadableInput` when the file cannot be read and :class:`InvalidInput` for
    invalid JSON (with line:column), a top level that is not a list, or undecodable bytes. The rows
    themselves are checked by :func:`parse_label_rows`.
    """
    data = read_user_bytes(path)
    return read_label_rows(data, source=str(path))
