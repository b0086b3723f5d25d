"""Encord label-row JSON, as ``LabelRowV2.to_encord_dict()`` writes it, for the sandbox.

The sandbox keeps each label row's objects as a flat list of Encord object entries with a
``frame`` key; this module writes the label-row dict Encord returns from that (the writer), and
reads it back through the one reader, :mod:`annotrain_tui.core.evaluation.labels`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from annotrain_tui.core.evaluation.labels import frame_objects

#: The values the SDK knows for a label row's ``annotation_task_status`` (encord 0.1.x,
#: ``encord/orm/label_row.py`` ``AnnotationTaskStatus``): there is no ``IN_PROGRESS``.
TASK_STATUSES = ("QUEUED", "ASSIGNED", "IN_REVIEW", "RETURNED", "COMPLETED")


def task_status(stage: str | None, labelled: bool, *, kind: str = "", assigned: bool = False) -> str:
    """The SDK's task status for a sandbox task in ``stage`` (of ``kind``, see ``models.Stage``; by title
    when not given): COMPLETED in the final stage, IN_REVIEW in a review stage, ASSIGNED once assigned
    to or labelled by an annotator, else QUEUED (created, not started)."""
    name = (stage or "").casefold()
    if kind == "done" or (not kind and name == "complete"):
        return "COMPLETED"
    if kind == "review" or (not kind and "review" in name):
        return "IN_REVIEW"
    return "ASSIGNED" if labelled or assigned else "QUEUED"

#: shape value → the coordinate key Encord uses for it in an object entry
COORD_KEYS = {
    "bounding_box": "boundingBox",
    "rotatable_bounding_box": "rotatableBoundingBox",
    "polygon": "polygon",
    "polyline": "polyline",
    "point": "point",
    "bitmask": "bitmask",
    "skeleton": "skeleton",
}

#: sandbox item_type → Encord label-row data_type
DATA_TYPES = {
    "image": "image", "image_group": "img_group", "image_sequence": "video", "video": "video",
    "dicom_series": "dicom", "nifti": "nifti", "pdf": "pdf", "audio": "audio", "plain_text": "plain_text",
}

MULTI_FRAME = {"video", "dicom", "nifti", "pdf"}


def encord_time(dt: datetime | None = None) -> str:
    """Encord's long datetime string, e.g. 'Mon, 23 Nov 2026 19:24:47 UTC': what a label row exported
    by the SDK carries (``LabelRowV2.to_encord_dict`` writes its times with
    encord/common/time_parser.py ``format_datetime_to_long_string``)."""
    dt = (dt or datetime.now(UTC)).astimezone(UTC)
    return dt.strftime("%a, %d %b %Y %H:%M:%S UTC")


def lower_snake(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def object_entry(*, object_hash: str, ontology_object: dict[str, Any], coordinates: dict[str, Any], frame: int,
                 created_by: str, created_at: datetime | None = None) -> dict[str, Any]:
    """One object annotation on one frame, in Encord's form (plus ``frame`` for the sandbox)."""
    shape = ontology_object["shape"]
    entry = {
        "frame": frame,
        "name": ontology_object["name"],
        "color": ontology_object.get("color", "#888888"),
        "shape": shape,
        "value": lower_snake(ontology_object["name"]),
        "createdAt": encord_time(created_at),
        "createdBy": created_by,
        "confidence": 1.0,
        "objectHash": object_hash,
        "featureHash": ontology_object["featureNodeHash"],
        "manualAnnotation": True,
        COORD_KEYS[shape]: coordinates,
    }
    return entry


def build_label_row(*, label_hash: str, data_hash: str, data_title: str, item_type: str, data_link: str,
                    width: int | None, height: int | None, dataset_hash: str, dataset_title: str,
                    objects: list[dict[str, Any]], created_at: str, last_edited_at: str,
                    stage: str, stage_kind: str = "", assigned: bool = False) -> dict[str, Any]:
    """The label-row dict for one data unit, from the sandbox's flat object list."""
    data_type = DATA_TYPES.get(item_type, "image")
    object_answers: dict[str, Any] = {}
    frames: dict[int, list[dict[str, Any]]] = {}
    for entry in objects:
        e = dict(entry)
        frame = int(e.pop("frame", 0))
        frames.setdefault(frame, []).append(e)
        object_answers.setdefault(e["objectHash"], {
            "objectHash": e["objectHash"], "featureHash": e["featureHash"], "classifications": [],
            "createdBy": e.get("createdBy"), "createdAt": e.get("createdAt"),
        })
    if data_type in MULTI_FRAME:
        labels: dict[str, Any] = {
            str(f): {"objects": objs, "classifications": []} for f, objs in sorted(frames.items())
        }
    else:
        labels = {"objects": frames.get(0, []), "classifications": []}
    unit: dict[str, Any] = {
        "data_hash": data_hash,
        "data_title": data_title,
        "data_type": _mime(data_link, item_type),
        "data_sequence": 0,
        "labels": labels,
        "data_link": data_link,
        "width": width or 0,
        "height": height or 0,
    }
    return {
        "label_hash": label_hash,
        "branch_name": "main",
        "created_at": created_at,
        "last_edited_at": last_edited_at,
        "data_hash": data_hash,
        "dataset_hash": dataset_hash,
        "dataset_title": dataset_title,
        "data_title": data_title,
        "data_type": data_type,
        "annotation_task_status": task_status(stage, bool(objects), kind=stage_kind, assigned=assigned),
        "is_shadow_data": False,
        "object_answers": object_answers,
        "classification_answers": {},
        "object_actions": {},
        "label_status": "LABELLED" if objects else "NOT_LABELLED",
        "data_units": {data_hash: unit},
        "spaces": {},
    }


def _mime(url: str, item_type: str) -> str:
    ext = url.rsplit(".", 1)[-1].lower() if "." in url.rsplit("/", 1)[-1] else ""
    return {
        "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp",
        "mp4": "video/mp4", "webm": "video/webm", "pdf": "application/pdf", "txt": "text/plain",
        "mp3": "audio/mpeg", "wav": "audio/wav",
    }.get(ext, {"video": "video/mp4", "image_sequence": "video/mp4"}.get(item_type, "image/jpeg"))


def objects_of(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The flat object list (with ``frame``) of an Encord label-row dict (the one reader's tolerant
    walk, :func:`annotrain_tui.core.evaluation.labels.frame_objects`: what a server holds, never refused)."""
    return [{**obj, "frame": frame} for _unit, frame, obj in frame_objects(row)]
