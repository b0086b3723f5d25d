"""The one reader of Encord label rows (``LabelRowV2.to_encord_dict()`` form).

A label row holds ``data_units`` (data hash → unit), a unit holds ``labels``, and the labels are
either one frame (``{"objects": [...], "classifications": [...]}``: images, image groups, whose
frame is the unit's ``data_sequence``) or numbered frames (``{"0": {"objects": [...]}, ...}``:
videos, DICOM, NIfTI, PDF pages). Which layout a unit has follows its row's ``data_type``
(``img_group`` and ``image_group`` alike); labels in the other layout are not read and are said
(see :func:`frames_of_unit`).

Every walk of that structure in ``annotrain_tui`` goes through this module (a test checks the
source): the evaluation parser (:mod:`.parse`, columnar and fast, strict), the sandbox's flat
object list, the item view's shapes and the offline session's "who owns this file". Two modes,
chosen by the caller with ``strict``:

* strict: anything that is not label-row JSON raises :class:`InvalidInput` naming the row (index
  and ``label_hash``), the data unit, the frame and the object, what is wrong and how to fix it;
* tolerant: the same things are skipped and counted in a :class:`Skipped` tally (for views of
  rows the evaluation already accepted, or rows a server holds).

Geometry (:func:`geometry_of`) is read into the records of :mod:`.shapes`: boxes, rotated boxes,
polygons (multi-polygons and holes as extra rings), polylines, points, skeletons and bitmasks
(still encoded: the canvas decodes what it draws); classifications are given back as their raw
answers (:func:`classifications_of`). Other shapes (cuboids, ellipses, …) have no record:
:func:`geometry_of` returns None and the tally counts them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.evaluation.shapes import (
    Bitmask,
    Box,
    Geometry,
    Point,
    Polygon,
    Polyline,
    RotatedBox,
    Skeleton,
)
from annotrain_tui.core.remedies import Note
from annotrain_tui.core.text import shown

if TYPE_CHECKING:  # numpy is imported where arrays are made: the sandbox reads rows without it
    import numpy as np

__all__ = [
    "BOX", "ROTATED", "POLYGON", "POLYLINE", "POINT", "SKELETON", "BITMASK", "COMPARED_SHAPES", "AREA_SHAPES",
    "skeleton_values", "vertices", "FIX_OBJECT", "KEYPOINT_ABSENT", "keypoint_present", "frame_classification_refs", "KNOWN_SHAPES", "KNOWN_DATA_TYPES",
    "LabelObject", "Skipped", "safe_text", "type_name", "is_frame_key", "units_of", "unit_of",
    "frames_of_unit", "frame_objects", "read_objects", "geometry_of", "classifications_of", "box_values",
    "polygon_rings",
]

POLYLINE = "polyline"
POINT = "point"
BOX = "bounding_box"
ROTATED = "rotatable_bounding_box"
POLYGON = "polygon"
SKELETON = "skeleton"
BITMASK = "bitmask"
#: the shapes evaluation compares, in code order (a shape's code is its index: codes of the first
#: three are what they were before the other four were compared)
COMPARED_SHAPES: tuple[str, ...] = (BOX, ROTATED, POLYGON, POLYLINE, POINT, SKELETON, BITMASK)
#: the shapes whose similarity is an area IoU (the others: a keypoint similarity, OKS, buffered IoU)
AREA_SHAPES: tuple[str, ...] = (BOX, ROTATED, POLYGON, BITMASK)
SHAPE_CODE = {s: i for i, s in enumerate(COMPARED_SHAPES)}
# Every shape of ``encord.objects.common.Shape`` (SDK 0.1.2xx); copied so core does not import the SDK.
KNOWN_SHAPES = frozenset({
    "bounding_box", "polygon", "point", "skeleton", "polyline", "rotatable_bounding_box", "bitmask",
    "audio", "time_range", "text", "cuboid", "cuboid_2d", "segmentation", "circle", "ellipse",
})
# Every ``data_type`` of ``encord.constants.enums.DataType`` (plus "image_group", the storage name
# of img_group); copied so core does not import the SDK. Anything else is a located error.
_SINGLE_FRAME_TYPES = frozenset({"image", "img_group", "image_group"})
_MULTI_FRAME_TYPES = frozenset({"video", "dicom", "dicom_study", "nifti", "pdf", "scene"})
_NO_FRAME_TYPES = frozenset({"audio", "time_series", "plain_text", "group"})
KNOWN_DATA_TYPES = _SINGLE_FRAME_TYPES | _MULTI_FRAME_TYPES | _NO_FRAME_TYPES
_MAX_FRAME = 2**31 - 1


def safe_text(value: Any, limit: int = 80) -> str:
    """An untrusted value for a message: one line, escaped by the untrusted-text policy, bounded."""
    return shown(value if isinstance(value, str) else repr(value), limit=limit)


def type_name(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null",
            int: "number", float: "number"}.get(type(value), type(value).__name__)



_NUM = (int, float)
#: the way out of every unreadable object (the reader's and the parser's errors)
FIX_OBJECT = "fix or delete the object in the source project and export again"


def _number(value: Any, where: Any, what: Any, key: str) -> float:
    """A finite real number, else one clear InvalidInput."""
    t = type(value)
    if t is float:
        if value - value == 0.0:  # false for NaN and ±inf
            return value
        kind = "NaN" if value != value else "infinite"
        raise InvalidInput(f"{where}: {what} has {kind} coordinate '{key}'",
                           hint=FIX_OBJECT)
    if t is int:
        try:
            return float(value)
        except OverflowError:  # a 400-digit integer: no coordinate
            raise InvalidInput(f"{where}: {what} has infinite coordinate '{key}' (an integer of "
                               f"{len(str(abs(value))):,} digits)",
                               hint=FIX_OBJECT) from None
    if value is None:
        raise InvalidInput(f"{where}: {what} coordinate '{key}' is null")
    raise InvalidInput(f"{where}: {what} coordinate '{key}' is not a number (got {type_name(value)})")


def box_values(payload: Any, where: Any, what: str, keys: tuple[str, ...]) -> list[float]:
    if not isinstance(payload, dict):
        if payload is None:
            raise InvalidInput(f"{where}: {what} has no coordinates")
        raise InvalidInput(f"{where}: {what} coordinates must be an object, got {type_name(payload)}")
    out = []
    for key in keys:
        if key not in payload:
            raise InvalidInput(f"{where}: {what} is missing coordinate '{key}'", hint=FIX_OBJECT)
        out.append(_number(payload[key], where, what, key))
    if out[2] < 0 or out[3] < 0:
        raise InvalidInput(f"{where}: {what} has a negative size (w={out[2]!r}, h={out[3]!r})", hint=FIX_OBJECT)
    return out


def _point_xy(point: Any, where: Any, index: Any, shape: str = "polygon") -> tuple[float, float]:
    if not isinstance(point, dict):
        raise InvalidInput(f"{where}: {shape} vertex {safe_text(index)} must be an object with x and y, "
                           f"got {type_name(point)}", hint=FIX_OBJECT)
    if "x" not in point or "y" not in point:
        raise InvalidInput(f"{where}: {shape} vertex {safe_text(index)} is missing 'x' or 'y'", hint=FIX_OBJECT)
    what = Lazy(lambda: f"{shape} vertex {safe_text(index)}")
    return _number(point["x"], where, what, "x"), _number(point["y"], where, what, "y")


def _float_points(points: list[Any]) -> np.ndarray | None:
    """(n, 2) array when every vertex is {x: float, y: float} with finite values; else None (the
    caller then checks vertex by vertex, to say which one is wrong)."""
    import numpy as np

    try:
        xs = [p["x"] for p in points]
        ys = [p["y"] for p in points]
    except (TypeError, KeyError, IndexError):
        return None
    if not (all(type(v) is float for v in xs) and all(type(v) is float for v in ys)):
        return None
    arr = np.array([xs, ys], dtype=np.float64).T
    return arr if np.isfinite(arr).all() else None


def polygon_rings(obj: dict, where: Any) -> list[list[np.ndarray]]:
    """[[outer, hole, …], …] as (n, 2) float arrays, from ``polygons`` or else ``polygon``."""
    import numpy as np

    multi = obj.get("polygons")
    if multi:
        if not isinstance(multi, list):
            raise InvalidInput(f"{where}: 'polygons' must be a list, got {type_name(multi)}")
        polys = []
        for pi, poly in enumerate(multi):
            if not isinstance(poly, list) or not poly:
                raise InvalidInput(f"{where}: polygons[{pi}] must be a non-empty list of contours")
            rings = []
            for ci, contour in enumerate(poly):
                if not isinstance(contour, list) or len(contour) % 2:
                    raise InvalidInput(f"{where}: polygons[{pi}][{ci}] must be a flat list [x0, y0, x1, y1, …] "
                                       "of even length")
                for vi, v in enumerate(contour):
                    if type(v) not in _NUM:
                        raise InvalidInput(f"{where}: polygons[{pi}][{ci}] value {vi} is not a number "
                                           f"(got {type_name(v)})")
                try:
                    arr = np.asarray(contour, dtype=np.float64).reshape(-1, 2)
                except OverflowError:  # an integer of hundreds of digits: infinite as a coordinate
                    arr = np.asarray([float("inf") if type(v) is int and abs(v) > 1e308 else v for v in contour],
                                     dtype=np.float64).reshape(-1, 2)
                if not np.isfinite(arr).all():
                    bad = int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])
                    kind = "NaN" if np.isnan(arr[bad]).any() else "infinite"
                    raise InvalidInput(f"{where}: polygon has {kind} coordinate at vertex {bad} "
                                       f"(polygons[{pi}][{ci}])",
                                       hint=FIX_OBJECT)
                rings.append(arr)
            polys.append(rings)
        return polys
    legacy = obj.get("polygon")
    if isinstance(legacy, dict):
        try:
            if not all(is_frame_key(k) for k in legacy):  # the same shape of key: "0", "1", …
                raise ValueError
            items = sorted((int(k), v) for k, v in legacy.items())
        except (TypeError, ValueError):
            raise InvalidInput(f"{where}: polygon vertex keys must be integers (\"0\", \"1\", …)") from None
        fast = _float_points([v for _, v in items])
        if fast is not None:
            return [[fast]]
        pts = [_point_xy(v, where, k) for k, v in items]
    elif isinstance(legacy, list):
        fast = _float_points(legacy)
        if fast is not None:
            return [[fast]]
        pts = [_point_xy(v, where, k) for k, v in enumerate(legacy)]
    elif legacy is None or legacy == {}:
        raise InvalidInput(f"{where}: polygon has no coordinates ('polygon' or 'polygons')")
    else:
        raise InvalidInput(f"{where}: 'polygon' must be an object or a list, got {type_name(legacy)}")
    return [[np.asarray(pts, dtype=np.float64).reshape(-1, 2)]]


class Lazy:
    """Text for an error message, formatted only if a message is ever made (parsing stays fast)."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], str]) -> None:
        self.make = make

    def __str__(self) -> str:
        return self.make()

    __format__ = lambda self, spec: str(self)  # noqa: E731


def row_where(src: str, index: int, label_hash: Any) -> Lazy:
    """"FILE: row N (label_hash H)"."""
    return Lazy(lambda: f"{src}: row {index} (label_hash {safe_text(label_hash, 40)})")


def object_where(row_where: Any, frame: int, index: int, object_hash: str) -> Lazy:
    return Lazy(lambda: f"{row_where} frame {frame} object {index} ({safe_text(object_hash, 40)})")


_FRAME_KEY = re.compile(r"0|[1-9][0-9]{0,8}")


def is_frame_key(key: Any) -> bool:
    """A frame number as Encord writes it as a key: ASCII digits, no leading zero, at most 9 digits.
    ("²", "١", "１" pass str.isdigit() and are no frame; "00" would silently merge into frame 0.)"""
    return isinstance(key, str) and _FRAME_KEY.fullmatch(key) is not None


def frame_number(value: Any, where: Any, what: str) -> int:
    if type(value) is int:
        frame = value
    elif is_frame_key(value):
        frame = int(value)
    else:
        raise InvalidInput(f"{where}: {what} must be a frame number, got {safe_text(value)}")
    if not 0 <= frame <= _MAX_FRAME:
        raise InvalidInput(f"{where}: {what} {frame} is out of range")
    return frame



def _objects_in(frame_labels: Any) -> int:
    objects = frame_labels.get("objects") if isinstance(frame_labels, dict) else None
    return len(objects) if isinstance(objects, list) else 0


def frames_of_unit(unit: dict, data_type: Any, where: Any, skipped: list[tuple[Any, str, int]], *,
                   strict: bool = True) -> Iterator[tuple[int, Any]]:
    """(frame, objects) of one data unit, read by the layout its data type has.

    Labels in the other layout (frame-numbered keys on an image, a bare ``objects`` list on a
    video, objects on audio or text) are not read: each such unit adds (where, why, objects
    skipped) to ``skipped``, which becomes one warning, so nothing is silently 0 objects.
    """
    labels = unit.get("labels")
    if labels is None:
        return
    if not isinstance(labels, dict):
        if not strict:
            skipped.append((where, f"'labels' is {type_name(labels)}, not an object", 0))
            return
        raise InvalidInput(f"{where}: 'labels' must be an object, got {type_name(labels)}")
    if data_type in _SINGLE_FRAME_TYPES or (data_type is None and "objects" in labels):
        frame_keys = [k for k in labels if is_frame_key(k)]
        if frame_keys:
            n = sum(_objects_in(labels[k]) for k in frame_keys)
            skipped.append((where, f"data_type '{data_type or 'image'}' has one frame, but its labels are keyed by "
                                   f"frame number like a video's ({len(frame_keys)} frame(s))", n))
        try:
            frame = frame_number(unit.get("data_sequence", 0), where, "data_sequence")
        except InvalidInput as err:
            if strict:
                raise
            skipped.append((where, str(err), _objects_in(labels)))
            return
        yield frame, labels.get("objects", [])
        return
    if data_type in _NO_FRAME_TYPES:
        n = _objects_in(labels) + sum(_objects_in(v) for k, v in labels.items() if is_frame_key(k))
        if n:
            skipped.append((where, f"data_type '{data_type}' has no frames to compare, but its labels hold objects", n))
        return
    image_layout = "objects" in labels
    if image_layout:
        skipped.append((where, f"data_type '{data_type}' has numbered frames, but its labels have an image's layout "
                               "('objects' with no frame number)", _objects_in(labels)))
    for key, frame_labels in labels.items():
        if not is_frame_key(key):
            if data_type == "scene":
                continue  # scene stream keys ("stream#frame") are not frames
            if image_layout and key in ("objects", "classifications"):
                continue  # reported above
            if not strict:
                skipped.append((where, f"labels key {safe_text(key)} is not a frame number", _objects_in(frame_labels)))
                continue
            if isinstance(key, str) and key.isascii() and key.isdigit() and key[:1] != "0":
                raise InvalidInput(f"{where}: labels key {safe_text(key, 20)} ({len(key):,} digits) is too large "
                                   "to be a frame number")
            raise InvalidInput(f"{where}: labels key {safe_text(key)} is not a frame number (0, 1, 2, … in ASCII "
                               "digits, no leading zeros)")
        if not isinstance(frame_labels, dict):
            if not strict:
                skipped.append((where, f"labels[{safe_text(key)}] is not an object", 0))
                continue
            raise InvalidInput(f"{where}: labels[{safe_text(key)}] must be an object, got {type_name(frame_labels)}")
        yield frame_number(key, where, "frame"), frame_labels.get("objects", [])




# --- walking a row (tolerant by default; strict on request) --------------------------------------

@dataclass
class Skipped:
    """What a tolerant read left out: counts by reason, and the first few places (for a warning)."""

    counts: dict[str, int] = field(default_factory=dict)
    places: list[str] = field(default_factory=list)

    def add(self, reason: str, where: Any = None, n: int = 1) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + n
        if where is not None and len(self.places) < 5:
            self.places.append(f"{where}: {reason}")

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __bool__(self) -> bool:
        return bool(self.counts)


def units_of(row: Any, where: Any = "label row", *, strict: bool = False,
             skipped: Skipped | None = None) -> Collection[tuple[str, dict[str, Any]]]:
    """A row's data units as (key, unit) pairs, in the file's order.

    Strict: a row that is not an object, a missing or non-object ``data_units`` or unit raises.
    Tolerant: those are left out (and counted)."""
    if not isinstance(row, dict):
        if strict:
            raise InvalidInput(f"{where}: expected a label row (JSON object), got {type_name(row)}")
        if skipped is not None:
            skipped.add("not a label row", where)
        return []
    units = row.get("data_units")
    if type(units) is not dict:
        if strict:
            if units is None:
                raise InvalidInput(f"{where} is missing 'data_units'",
                                   hint="export label rows with LabelRowV2.to_encord_dict()")
            raise InvalidInput(f"{where}: 'data_units' must be an object, got {type_name(units)}")
        if skipped is not None:
            skipped.add("no data units", where)
        return []
    for unit in units.values():  # the common case, checked without building anything (parse speed)
        if type(unit) is not dict:
            break
    else:
        return units.items()
    out = []
    for key, unit in units.items():
        if type(unit) is not dict:
            if strict:
                raise InvalidInput(f"{where}: data unit {safe_text(key, 40)} must be an object, "
                                   f"got {type_name(unit)}")
            if skipped is not None:
                skipped.add("data unit not an object", where)
            continue
        out.append((key, unit))
    return out


def unit_of(row: Any, data_hash: str) -> dict[str, Any]:
    """The data unit of ``data_hash`` in a row (its metadata: ``data_link``, ``width``…), else {}."""
    for key, unit in units_of(row):
        if key == data_hash:
            return unit
    return {}


def frame_objects(row: Any, *, strict: bool = False, skipped: Skipped | None = None,
                  where: Any = "label row") -> Iterator[tuple[dict[str, Any], int, dict[str, Any]]]:
    """(unit, frame, object dict) of every object annotation in a row, in the file's order.

    The frame layout follows :func:`frames_of_unit`; non-object entries in an ``objects`` list are
    skipped (tolerant) or raise (strict)."""
    data_type = row.get("data_type") if isinstance(row, dict) else None
    wrong: list[tuple[Any, str, int]] = []
    for _key, unit in units_of(row, where, strict=strict, skipped=skipped):
        for frame, objects in frames_of_unit(unit, data_type, where, wrong, strict=strict):
            if type(objects) is not list:
                if strict:
                    raise InvalidInput(f"{where} frame {frame}: 'objects' must be a list, got {type_name(objects)}")
                if skipped is not None:
                    skipped.add("objects not a list", where)
                continue
            for oi, obj in enumerate(objects):
                if type(obj) is not dict:
                    if strict:
                        raise InvalidInput(f"{where} frame {frame} object {oi}: expected an object, "
                                           f"got {type_name(obj)}")
                    if skipped is not None:
                        skipped.add("object not an object", where)
                    continue
                yield unit, frame, obj
    if skipped is not None:
        for place, why, n in wrong:
            skipped.add(why, place, max(n, 1))


@dataclass(frozen=True)
class LabelObject:
    """One object annotation on one frame, read from a label row (strings as written: untrusted)."""

    frame: int
    object_hash: str
    feature_hash: str | None
    name: str
    color: str | None
    shape: str
    created_by: str | None
    geometry: Geometry | None  # None: a shape without a record yet (bitmask, skeleton…) or unreadable


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def read_objects(row: Any, *, strict: bool = False, skipped: Skipped | None = None,
                 where: Any = "label row") -> list[LabelObject]:
    """Every object annotation of a row as :class:`LabelObject` records (see :func:`frame_objects`)."""
    out: list[LabelObject] = []
    for _unit, frame, obj in frame_objects(row, strict=strict, skipped=skipped, where=where):
        object_hash = obj.get("objectHash")
        if not isinstance(object_hash, str) or not object_hash:
            if strict:
                raise InvalidInput(f"{where} frame {frame}: an object is missing 'objectHash'")
            if skipped is not None:
                skipped.add("object without objectHash", where)
            continue
        shape = obj["shape"] if isinstance(obj.get("shape"), str) else ""
        geometry = geometry_of(obj, strict=strict, skipped=skipped,
                               where=object_where(where, frame, len(out), object_hash))
        name = _text_or_none(obj.get("name")) or _text_or_none(obj.get("value")) or "?"
        out.append(LabelObject(frame=frame, object_hash=object_hash, feature_hash=_text_or_none(obj.get("featureHash")),
                               name=name, color=_text_or_none(obj.get("color")), shape=shape,
                               created_by=_text_or_none(obj.get("createdBy")), geometry=geometry))
    return out


def classifications_of(row: Any) -> list[Any]:
    """A row's classification answers, raw (``classification_answers`` values), for later scoring."""
    answers = row.get("classification_answers") if isinstance(row, dict) else None
    return list(answers.values()) if isinstance(answers, dict) else []


def numbered(payload: Any, where: Any, what: str) -> list[Any] | None:
    """The items of a numbered map as Encord writes vertices and keypoints (``{"0": …, "1": …}``, in
    number order) or of a list; None when ``payload`` is neither. Keys that are not numbers raise."""
    if isinstance(payload, dict):
        if not all(is_frame_key(k) for k in payload):
            raise InvalidInput(f"{where}: {what} keys must be integers (\"0\", \"1\", …)")
        return [v for _, v in sorted((int(k), v) for k, v in payload.items())]
    return payload if isinstance(payload, list) else None


def vertices(payload: Any, where: Any, what: str) -> tuple[tuple[float, float], ...]:
    """Points written as ``{"0": {x, y}, …}`` or ``[{x, y}, …]`` (polyline, point, legacy polygon)."""
    items = numbered(payload, where, f"{what} vertex")
    if items is None:
        raise InvalidInput(f"{where}: {what} has no coordinates")
    return tuple(_point_xy(v, where, i, what) for i, v in enumerate(items))


def geometry_of(obj: Mapping[str, Any], *, strict: bool = False, skipped: Skipped | None = None,
                where: Any = "object") -> Geometry | None:
    """The geometry record of an object dict, by its ``shape`` (or, without one, by which
    coordinate key it has). Strict: unreadable coordinates raise, located by ``where``; tolerant:
    None (counted). Shapes without a record give None either way."""
    shape = obj.get("shape")
    if not isinstance(shape, str):
        shape = next((s for key, s in _SHAPE_OF_KEY if key in obj), "")
    try:
        if shape == BOX:
            return Box(*box_values(obj.get("boundingBox"), where, "bounding box", ("x", "y", "w", "h")))
        if shape == ROTATED:
            return RotatedBox(*box_values(obj.get("rotatableBoundingBox"), where, "rotatable bounding box",
                                          ("x", "y", "w", "h", "theta")))
        if shape == POLYGON:
            rings = [ring for poly in polygon_rings(dict(obj), str(where)) for ring in poly]
            pts = [tuple((float(x), float(y)) for x, y in ring.tolist()) for ring in rings]
            return Polygon(pts[0], tuple(pts[1:])) if pts else None
        if shape == POLYLINE:
            return Polyline(vertices(obj.get("polyline"), where, "polyline"))
        if shape == POINT:
            points = vertices(obj.get("point"), where, "point")
            if not points:
                raise InvalidInput(f"{where}: point has no coordinates")
            return Point(*points[0])
        if shape == SKELETON:
            _keys, keypoints, present, names = skeleton_values(obj.get("skeleton"), where)
            return Skeleton(tuple(keypoints), tuple(present), names)
        if shape == BITMASK:
            mask = obj.get("bitmask")
            if not isinstance(mask, dict):
                raise InvalidInput(f"{where}: bitmask has no coordinates")
            values = []
            for key in ("top", "left", "height", "width"):
                v = mask.get(key)
                if type(v) is not int or v < 0:
                    raise InvalidInput(f"{where}: bitmask '{key}' must be a whole number of pixels")
                values.append(v)
            rle = mask.get("rleString")
            if not isinstance(rle, str):
                raise InvalidInput(f"{where}: bitmask 'rleString' must be a string")
            top, left, height, width = values
            return Bitmask(top, left, height, width, rle)
    except InvalidInput:
        if strict:
            raise
        if skipped is not None:
            skipped.add(f"unreadable {shape} coordinates", where)
        return None
    if skipped is not None:
        skipped.add(f"shape {safe_text(shape, 40)} not read", None)
    return None


#: the skeleton keypoint ``visibility`` that means "not there" (``encord.objects.coordinates.Visibility``:
#: visible, invisible — outside the frame —, occluded, selfOccluded; the CamelStrEnum's values). An
#: occluded keypoint was still placed, as COCO's v=1: it counts.
KEYPOINT_ABSENT = "invisible"


def keypoint_present(point: Mapping[str, Any]) -> bool:
    """Whether one keypoint of a label row's ``skeleton`` counts as present (OKS's ``vᵢ = 1``).

    As the SDK reads it (``get_coordinates_from_frame_object_dict`` in encord/objects/coordinates.py,
    ``_with_visibility_enum``): older rows carry a true boolean named after the state
    (``"invisible": true``, ``"occluded": true``, …), which wins over ``"visibility"``; else every
    ``visibility`` but :data:`KEYPOINT_ABSENT` is present, and so is a keypoint without one (the SDK
    omits the key when it is unset).
    """
    if point.get("invisible"):
        return False
    if point.get("occluded") or point.get("selfOccluded") or point.get("visible"):
        return True
    return point.get("visibility") != KEYPOINT_ABSENT


#: keypoints one skeleton may have (COCO's person has 17; Encord's templates are drawn by hand)
MAX_KEYPOINTS = 1_000


def skeleton_values(payload: Any, where: Any
                    ) -> tuple[tuple[str, ...], list[tuple[float, float]], list[bool], tuple[str, ...]]:
    """A skeleton's keypoints as Encord writes them (``SkeletonCoordinates.to_dict()``:
    ``{"0": {x, y, name, featureHash, visibility?, …}, …}``): their keys (the template keypoint's
    ``featureHash``, else its ``name``, else its position), normalised (x, y), whether each is
    present (:func:`keypoint_present`) and their names ("" where none). Unreadable: :class:`InvalidInput` located by ``where``."""
    items = numbered(payload, where, "skeleton keypoint")
    if items is None:
        raise InvalidInput(f"{where}: skeleton has no keypoints",
                           hint=FIX_OBJECT)
    if len(items) > MAX_KEYPOINTS:
        raise InvalidInput(f"{where}: skeleton has {len(items):,} keypoints; a skeleton template holds at most "
                           f"{MAX_KEYPOINTS:,}", hint=FIX_OBJECT)
    keys: list[str] = []
    names: list[str] = []
    seen: set[str] = set()
    points: list[tuple[float, float]] = []
    present: list[bool] = []
    for i, kp in enumerate(items):
        if not isinstance(kp, dict):
            raise InvalidInput(f"{where}: skeleton keypoint {i} must be an object with x and y, got {type_name(kp)}",
                               hint=FIX_OBJECT)
        key = kp.get("featureHash") or kp.get("name") or str(i)
        if not isinstance(key, str):
            raise InvalidInput(f"{where}: skeleton keypoint {i} has a 'featureHash' that is not a string",
                               hint=FIX_OBJECT)
        if key in seen:
            raise InvalidInput(f"{where}: skeleton keypoint {safe_text(key, 40)} appears twice", hint=FIX_OBJECT)
        seen.add(key)
        what = f"skeleton keypoint {i}"
        if "x" not in kp or "y" not in kp:
            raise InvalidInput(f"{where}: skeleton keypoint {i} is missing 'x' or 'y'", hint=FIX_OBJECT)
        points.append((_number(kp["x"], where, what, "x"), _number(kp["y"], where, what, "y")))
        keys.append(key)
        names.append(kp["name"] if isinstance(kp.get("name"), str) else "")
        present.append(keypoint_present(kp))
    return tuple(keys), points, present, tuple(names)


#: coordinate key → shape, for objects written without a ``shape``
_SHAPE_OF_KEY = (("rotatableBoundingBox", ROTATED), ("boundingBox", BOX), ("polygons", POLYGON), ("polygon", POLYGON),
                 ("polyline", POLYLINE), ("point", POINT), ("skeleton", SKELETON), ("bitmask", BITMASK))


# -- which rows count: finished work only ------------------------------------------------------------
#: the SDK's status of a finished task (``encord/orm/label_row.py`` ``AnnotationTaskStatus``)
DONE_STATUS = "COMPLETED"


@dataclass
class FinishedRows:
    """The rows of an export that count, and what was said about the others."""

    rows: list[Any]
    left_out: int = 0
    warnings: list[str] = field(default_factory=list)


def finished_rows(rows: list[Any], *, source: str, include_incomplete: bool = False) -> FinishedRows:
    """The rows of a label-row export whose task is finished (``annotation_task_status`` COMPLETED),
    the one rule for every offline evaluation (CLI and TUI), as online only Complete tasks count
    (an export of 38 COMPLETED and 22 unfinished rows scored recall 0.567 offline, 0.897 online).
    A row without a status counts, with a warning (an export may not carry it); a file that mixes
    statuses is said either way. ``include_incomplete`` counts every row."""
    counts: dict[str, int] = {}
    for row in rows:
        status = row.get("annotation_task_status") if isinstance(row, dict) else None
        key = status if isinstance(status, str) and status else "(none)"
        counts[key] = counts.get(key, 0) + 1
    name = safe_text(source, 120)
    unfinished = {k: n for k, n in counts.items() if k not in (DONE_STATUS, "(none)")}
    said = ", ".join(f"{k} {n}" for k, n in sorted(unfinished.items()))
    out = FinishedRows(rows=list(rows))
    if counts.get("(none)"):
        out.warnings.append(f"{name}: {counts['(none)']} row(s) carry no annotation_task_status and are counted as "
                            "finished")
    if not unfinished:
        return out
    if include_incomplete:
        out.warnings.append(f"{name} mixes finished and unfinished tasks ({said}): every row is counted, as asked")
        return out
    out.rows = [r for r in rows if not (isinstance(r, dict) and isinstance(r.get("annotation_task_status"), str)
                                        and r["annotation_task_status"] in unfinished)]  # {} or [] is "(none)"
    out.left_out = len(rows) - len(out.rows)
    out.warnings.append(Note(f"{name}: {out.left_out} row(s) of unfinished tasks ({said}) are left out: only "
                             "finished work is evaluated, as online", see="evaluate.include_incomplete"))
    return out


# --- classification references in frame labels (read by core/evaluation/answers.py) --------------

def frame_classification_refs(row: Any, *, strict: bool = False,
                              where: Any = "label row") -> Iterator[tuple[int, Any]]:
    """(frame, raw ``classifications`` list) of every frame label of a row that has one, in the file's order.

    These are the references ``{"classificationHash", "featureHash", "createdBy"?, …}`` the
    Encord backend puts in frame labels (``encord.objects.types.FrameClassification``; SDK 0.1.211
    writes ``[]`` there and places classifications by ``classification_answers[…]["range"]``
    only, see ``encord/objects/classification_expansion.py``, which expands ranges back into
    these lists). The frame follows the unit's layout as in :func:`frames_of_unit`: images and
    image groups, the unit's ``data_sequence``; numbered frames otherwise. Units whose layout does
    not fit, and rows without units, are left to :func:`frames_of_unit` and :func:`units_of`
    (which report them); the list is given raw, for the caller to check. Strict: an unreadable
    ``data_sequence`` raises, located."""
    data_type = row.get("data_type") if isinstance(row, dict) else None
    for _key, unit in units_of(row, where):  # a row without units: the object reader's to report
        labels = unit.get("labels")
        if not isinstance(labels, dict):
            continue
        if data_type in _SINGLE_FRAME_TYPES or (data_type is None and "objects" in labels):
            if "classifications" not in labels:
                continue
            try:
                frame = frame_number(unit.get("data_sequence", 0), where, "data_sequence")
            except InvalidInput:
                if strict:
                    raise
                continue
            yield frame, labels["classifications"]
        elif data_type not in _NO_FRAME_TYPES:
            for key, frame_labels in labels.items():
                if is_frame_key(key) and isinstance(frame_labels, dict) and "classifications" in frame_labels:
                    yield int(key), frame_labels["classifications"]
