"""The published evaluation script's comparison code, verbatim, in one place (tests and bench use it).

:func:`published_script` is the script's loop as published: it runs on the SDK's ``LabelRowV2``
objects or on the light stand-ins :func:`standins` builds from label-row dicts (attribute access
only, so a benchmark of the loop is not slowed by the SDK). ``shape`` and ``calculate_iou`` are the
two seams the tests need to run the same loop over other shapes; their defaults are the script's.
Nothing here imports the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

BOUNDING_BOX = "bounding_box"  # == encord.objects.common.Shape.BOUNDING_BOX (a string enum)


def calculate_iou(bbox1, bbox2) -> float:
    """Verbatim from the published script."""
    x_left = max(bbox1.top_left_x, bbox2.top_left_x)
    y_top = max(bbox1.top_left_y, bbox2.top_left_y)
    x_right = min(bbox1.top_left_x + bbox1.width, bbox2.top_left_x + bbox2.width)
    y_bottom = min(bbox1.top_left_y + bbox1.height, bbox2.top_left_y + bbox2.height)
    intersection = max(0, x_right - x_left) * max(0, y_bottom - y_top)
    union = bbox1.width * bbox1.height + bbox2.width * bbox2.height - intersection
    return intersection / union if union > 0 else 0.0


def published_script(benchmark_label_rows, training_label_rows, *, shape: Any = BOUNDING_BOX,
                     calculate_iou: Callable[[Any, Any], float] = calculate_iou) -> list[dict]:
    """The comparison part of the published script, verbatim (``Shape.BOUNDING_BOX`` is ``shape``)."""
    benchmark_dict = {lr.data_hash: lr for lr in benchmark_label_rows}
    paired_label_rows = [
        (benchmark_dict[lr.data_hash], lr)
        for lr in training_label_rows
        if lr.data_hash in benchmark_dict
    ]

    results = []
    for bm_lr, prod_lr in paired_label_rows:
        prod_instances = [oi for oi in prod_lr.get_object_instances() if oi.ontology_item.shape == shape and oi.get_annotation(0)]  # noqa: E501
        bm_instances = [oi for oi in bm_lr.get_object_instances() if oi.ontology_item.shape == shape and oi.get_annotation(0)]  # noqa: E501

        training_data_unit_name = prod_lr.data_title
        training_label_id = prod_lr.label_hash

        for prod_obj in prod_instances:
            best_iou = 0.0
            best_match_hash = None
            prod_bbox = prod_obj.get_annotation(0).coordinates
            training_email = prod_obj.get_annotation(0).created_by

            for bm_obj in bm_instances:
                bm_bbox = bm_obj.get_annotation(0).coordinates
                iou = calculate_iou(prod_bbox, bm_bbox)
                if iou > best_iou:
                    best_iou = iou
                    best_match_hash = bm_obj.feature_hash

            class_score = 1.0 if best_match_hash == prod_obj.feature_hash and best_match_hash is not None else 0.0

            results.append({
                'training_email': training_email,
                'data_unit_name': training_data_unit_name,
                'label_id': training_label_id,
                'iou_score': best_iou,
                'class_score': class_score
            })
    return results


# --- light stand-ins for the SDK objects the script touches ------------------------------------

class Coords:
    """An annotation's coordinates: a box's ``top_left_x``… and, for other shapes, the raw object
    and its data unit (``raw``, ``unit``) for a test's own ``calculate_iou``."""

    __slots__ = ("top_left_x", "top_left_y", "width", "height", "raw", "unit")

    def __init__(self, obj: dict[str, Any], unit: dict[str, Any]) -> None:
        b = obj.get("boundingBox") or {}
        self.top_left_x, self.top_left_y, self.width, self.height = b.get("x"), b.get("y"), b.get("w"), b.get("h")
        self.raw, self.unit = obj, unit


class Annotation:
    __slots__ = ("coordinates", "created_by")

    def __init__(self, coordinates: Coords, created_by: str | None) -> None:
        self.coordinates, self.created_by = coordinates, created_by


class Ontology:
    __slots__ = ("shape",)

    def __init__(self, shape: str) -> None:
        self.shape = shape


class Instance:
    __slots__ = ("ontology_item", "feature_hash", "_frames")

    def __init__(self, shape: str, feature_hash: str) -> None:
        self.ontology_item, self.feature_hash, self._frames = Ontology(shape), feature_hash, {}

    def get_annotation(self, frame: int = 0) -> Annotation | None:
        return self._frames.get(frame)


class LabelRow:
    """A label-row dict as the script sees a ``LabelRowV2``: objects in first-appearance order,
    frames by data type (image and image-group units by ``data_sequence``, videos by frame key)."""

    __slots__ = ("data_hash", "data_title", "label_hash", "_objects")

    def __init__(self, d: dict[str, Any]) -> None:
        self.data_hash, self.data_title, self.label_hash = d["data_hash"], d["data_title"], d["label_hash"]
        objs: dict[str, Instance] = {}
        for unit in d["data_units"].values():
            labels = unit.get("labels", {})
            if d.get("data_type", "image") in ("image", "img_group", "image_group"):
                frame_lists = [(int(unit.get("data_sequence", 0)), labels.get("objects", []))]
            else:
                frame_lists = [(int(k), v.get("objects", [])) for k, v in labels.items()]
            for frame, objects in frame_lists:
                for o in objects:
                    inst = objs.setdefault(o["objectHash"], Instance(o["shape"], o["featureHash"]))
                    inst._frames[frame] = Annotation(Coords(o, unit), o.get("createdBy"))
        self._objects = list(objs.values())

    def get_object_instances(self) -> list[Instance]:
        return self._objects


def standins(rows: list[dict[str, Any]]) -> list[LabelRow]:
    return [LabelRow(d) for d in rows]
