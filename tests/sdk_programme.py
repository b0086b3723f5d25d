"""Training programmes of every shape and answer, written through the real Encord SDK (issue 15).

:func:`mixed_ontology` is an ``OntologyStructure`` (SDK 0.1.211) with an object class of every
shape Encord scores here — bounding box (Car, Truck), rotatable box (Sign), polygon (Road),
polyline (Lane), point (Eye, Nose), skeleton (Person, from a ``SkeletonTemplate`` added with
``OntologyStructure.add_skeleton_object``, ``encord/objects/ontology_structure.py``) and bitmask
(Puddle) — radio, checklist and text attributes on the vehicles and the road, and classifications
of every kind: radio (with a nested radio under one option), checklist, text, and a global radio
(``OntologyClassificationLevel.GLOBAL``, ``encord/objects/classification.py``). It is built from
the plain data of :mod:`tests.synth` (``MIXED_CLASSES``, ``MIXED_CLASSIFICATIONS``,
``MIXED_SKELETON``), the same ontology that :func:`tests.synth.make_mixed_programme` writes without
the SDK.

:func:`make_sdk_programme` draws a scene with :func:`tests.synth.make_mixed_scene` (jitter,
dropped and extra objects, wrong classes, wrong and missing answers, skeleton keypoints moved, left
out or made invisible, polygons with holes and several parts, masks shifted and resized) and writes
every row through ``LabelRowV2.from_media_metadata`` on a detached ontology
(``types.SimpleNamespace(structure=...)``), ``add_object_instance`` / ``add_classification_instance``
and ``set_answer``, then ``to_encord_dict()`` and a JSON round trip. ``createdBy`` is the
annotator's email on every object and classification; the identity fields the detached row leaves
as zero UUIDs (data hash, label hash, image-group unit hashes) and ``annotation_task_status`` are
filled in afterwards (``COMPLETED``).
"""

from __future__ import annotations

import json
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from encord.objects.attributes import Attribute, ChecklistAttribute, RadioAttribute, TextAttribute
from encord.objects.bitmask import BitmaskCoordinates
from encord.objects.classification import Classification, OntologyClassificationLevel
from encord.objects.classification_instance import ClassificationInstance
from encord.objects.common import Shape
from encord.objects.coordinates import (
    BoundingBoxCoordinates,
    PointCoordinate,
    PolygonCoordinates,
    PolylineCoordinates,
    RotatableBoundingBoxCoordinates,
    SkeletonCoordinate,
    SkeletonCoordinates,
    Visibility,
)
from encord.objects.ontology_labels_impl import LabelRowV2
from encord.objects.ontology_object import Object
from encord.objects.ontology_object_instance import ObjectInstance
from encord.objects.ontology_structure import OntologyStructure
from encord.objects.options import Option
from encord.objects.skeleton_template import SkeletonTemplate, SkeletonTemplateCoordinate
from encord.orm.storage import CustomerProvidedImageMetadata, CustomerProvidedVideoMetadata

from tests.synth import (
    ALL_SHAPES,
    MIXED_CLASSES,
    MIXED_CLASSIFICATIONS,
    MIXED_SKELETON,
    MIXED_SKELETON_NAME,
    MixedItem,
    SynthQuestion,
    _unit_hash,
    ellipse_mask,
    make_mixed_scene,
)

__all__ = ["SdkProgramme", "mixed_ontology", "make_sdk_programme", "sdk_label_row", "detached"]

_WHEN = datetime(2025, 5, 1, 9, 0, 0)
_KIND = {"radio": RadioAttribute, "checklist": ChecklistAttribute, "text": TextAttribute}


def _add_question(parent: Any, q: SynthQuestion, *, nested: bool = False) -> None:
    add = parent.add_nested_attribute if nested else parent.add_attribute
    attr = add(_KIND[q.kind], q.name, feature_node_hash=q.feature_hash)
    for o in q.options:
        opt = attr.add_option(o.name, feature_node_hash=o.feature_hash)
        for nq in o.nested:
            _add_question(opt, nq, nested=True)


def mixed_ontology() -> OntologyStructure:
    """The ontology of :data:`tests.synth.MIXED_CLASSES` and ``MIXED_CLASSIFICATIONS`` in the SDK."""
    s = OntologyStructure()
    for c in MIXED_CLASSES:
        if c.shape == "skeleton":
            template = SkeletonTemplate(
                name=MIXED_SKELETON_NAME, width=1.0, height=1.0,
                skeleton={str(i): SkeletonTemplateCoordinate(x=x, y=y, name=name, feature_hash=fh)
                          for i, (name, fh, x, y) in enumerate(MIXED_SKELETON)},
                skeleton_edges={})
            s.add_skeleton_object(c.name, template, color=c.color, feature_node_hash=c.feature_hash)
            continue
        obj = s.add_object(c.name, Shape(c.shape), color=c.color, feature_node_hash=c.feature_hash)
        for q in c.attributes:
            _add_question(obj, q)
    for cl in MIXED_CLASSIFICATIONS:
        level = OntologyClassificationLevel.GLOBAL if cl.is_global else None
        node = s.add_classification(feature_node_hash=cl.feature_hash, level=level)
        _add_question(node, cl.question)
    return s


def detached(structure: OntologyStructure) -> Any:
    """What ``LabelRowV2.from_media_metadata`` needs of an ontology, offline."""
    return types.SimpleNamespace(structure=structure)


def _coordinates(shape: str, spec: dict[str, Any], size: tuple[int, int]) -> Any:
    if shape == "bounding_box":
        return BoundingBoxCoordinates(height=spec["h"], width=spec["w"], top_left_x=spec["x"], top_left_y=spec["y"])
    if shape == "rotatable_bounding_box":
        return RotatableBoundingBoxCoordinates(height=spec["h"], width=spec["w"], top_left_x=spec["x"],
                                               top_left_y=spec["y"], theta=spec["theta"])
    if shape == "polygon":
        return PolygonCoordinates(polygons=[[[PointCoordinate(x=x, y=y) for x, y in ring] for ring in part]
                                            for part in spec["polygons"]])
    if shape == "polyline":
        return PolylineCoordinates(values=[PointCoordinate(x=x, y=y) for x, y in spec["points"]])
    if shape == "point":
        return PointCoordinate(x=spec["x"], y=spec["y"])
    if shape == "skeleton":
        names = {fh: name for name, fh, _x, _y in MIXED_SKELETON}
        values = [SkeletonCoordinate(x=x, y=y, name=names[fh], feature_hash=fh,
                                     visibility=None if vis is None else Visibility(vis))
                  for fh, (x, y, vis) in spec["keypoints"].items()]
        return SkeletonCoordinates(values=values, name=MIXED_SKELETON_NAME)
    if shape == "bitmask":
        return BitmaskCoordinates(ellipse_mask(spec, *size))
    raise ValueError(f"no SDK coordinates for shape {shape!r}")


def _set_answers(instance: Any, attributes: Sequence[Attribute], answers: dict[str, Any]) -> None:
    """``set_answer`` for every answered attribute (nested ones too), by feature hash."""
    def walk(attr: Attribute) -> None:
        value = answers.get(attr.feature_node_hash)
        if value is not None:
            if isinstance(attr, TextAttribute):
                instance.set_answer(value, attribute=attr)
            else:
                chosen = [o for o in attr.options if o.feature_node_hash in value]
                instance.set_answer(chosen[0] if isinstance(attr, RadioAttribute) else chosen, attribute=attr)
        for o in getattr(attr, "options", ()):
            opt: Option = o
            for nested in getattr(opt, "nested_options", ()):
                walk(nested)

    for a in attributes:
        walk(a)


def _metadata(item: MixedItem) -> Any:
    if item.kind == "video":
        w, h = item.sizes[0]
        return CustomerProvidedVideoMetadata(fps=float(item.n_frames), duration=1.0, width=w, height=h, fileSize=1,
                                             mimeType="video/mp4")
    if item.kind == "img_group":
        return [CustomerProvidedImageMetadata(mimeType="image/jpeg", fileSize=1, height=h, width=w)
                for w, h in item.sizes]
    w, h = item.sizes[0]
    return CustomerProvidedImageMetadata(mimeType="image/jpeg", fileSize=1, height=h, width=w)


def sdk_label_row(structure: OntologyStructure, item: MixedItem, created_by: str) -> dict[str, Any]:
    """One item written through ``LabelRowV2`` and serialised (``to_encord_dict()``, JSON round trip)."""
    objects = {o.feature_node_hash: o for o in structure.objects}
    classes = {c.feature_node_hash: c for c in structure.classifications}
    lr = LabelRowV2.from_media_metadata(detached(structure), _metadata(item))
    for o in item.objects:
        ontology_object: Object = objects[o.cls.feature_hash]
        inst = ObjectInstance(ontology_object, object_hash=o.object_hash)
        for f in sorted(o.frames):
            inst.set_for_frames(_coordinates(o.cls.shape, o.frames[f], item.size(f)), frames=f, created_by=created_by,
                                created_at=_WHEN, last_edited_at=_WHEN)
        _set_answers(inst, ontology_object.attributes, o.answers)
        lr.add_object_instance(inst)
    for c in item.classifications:
        node: Classification = classes[c.cls.feature_hash]
        ci = ClassificationInstance(node, classification_hash=c.classification_hash)
        ci.set_for_frames(frames=[] if c.frames is None else list(c.frames), created_by=created_by,
                          created_at=_WHEN, last_edited_at=_WHEN)
        _set_answers(ci, node.attributes, c.answers)
        lr.add_classification_instance(ci)
    d: dict[str, Any] = json.loads(json.dumps(lr.to_encord_dict()))
    d["data_hash"], d["label_hash"], d["data_title"] = item.data_hash, item.label_hash, item.title
    d["annotation_task_status"] = "COMPLETED"
    d["dataset_title"] = "Training dataset"
    units = {}
    for unit in d["data_units"].values():
        if item.kind == "img_group":
            h = _unit_hash(item.data_hash, int(unit["data_sequence"]))  # as tests.synth names them
            unit["data_title"] = f"{item.title}/{int(unit['data_sequence']):03d}.jpg"
        else:
            h = item.data_hash
            unit["data_title"] = item.title
        unit["data_hash"] = h
        units[h] = unit
    d["data_units"] = units
    return d


@dataclass
class SdkProgramme:
    """A benchmark and one training project per annotator, written through the SDK."""

    structure: OntologyStructure
    benchmark: list[dict[str, Any]]
    training: dict[str, list[dict[str, Any]]]  # project name -> rows
    annotators: dict[str, str] = field(default_factory=dict)  # project name -> email

    def training_sets(self) -> list[tuple[str, list[dict[str, Any]]]]:
        return list(self.training.items())


def make_sdk_programme(
    seed: int,
    n_items: int,
    data_types: Sequence[str] = ("image", "img_group", "video"),
    annotators: Sequence[str] = ("alice@example.com", "bob@example.com"),
    *,
    shapes: Sequence[str] = ALL_SHAPES,
    structure: OntologyStructure | None = None,
    **options: Any,
) -> SdkProgramme:
    """A programme of ``n_items`` items of ``data_types`` (cycled), every row built with the SDK.

    ``options`` go to :func:`tests.synth.make_mixed_scene` (``objects_per_item``, ``frames``,
    ``classifications``, ``attributes``, ``skill``, ``jitter``, ``p_miss``, …); ``shapes`` limits
    the object classes drawn. Deterministic for a seed (object and classification hashes too).
    """
    s = structure if structure is not None else mixed_ontology()
    scene = make_mixed_scene(seed=seed, n_items=n_items, annotators=annotators, shapes=shapes,
                             data_types=data_types, **options)
    bench = [sdk_label_row(s, it, scene.reviewer) for it in scene.benchmark]
    training = {name: [sdk_label_row(s, it, scene.annotators[name]) for it in items]
                for name, items in scene.training.items()}
    return SdkProgramme(structure=s, benchmark=bench, training=training, annotators=dict(scene.annotators))
