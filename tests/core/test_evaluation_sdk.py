"""Against the real Encord SDK (offline, detached label rows): the generated rows are what
``LabelRowV2`` reads and writes, and seed mode equals the published script run on SDK objects."""

from __future__ import annotations

import io
import json
import types

import pandas as pd
import pytest

from annotrain_tui.core.evaluation import evaluate, parse_label_rows
from tests.labelgen import DEFAULT_CLASSES, make_programme, published_seed
from tests.reference_script import published_script

encord = pytest.importorskip("encord")
from encord.exceptions import LabelRowError  # noqa: E402
from encord.objects.common import Shape  # noqa: E402
from encord.objects.ontology_labels_impl import LabelRowV2  # noqa: E402
from encord.objects.ontology_structure import OntologyStructure  # noqa: E402
from encord.orm.storage import CustomerProvidedImageMetadata, CustomerProvidedVideoMetadata  # noqa: E402


@pytest.fixture(scope="module")
def ontology():
    structure = OntologyStructure()
    for c in DEFAULT_CLASSES:
        structure.add_object(c.name, Shape(c.shape), feature_node_hash=c.feature_hash, color=c.color)
    return types.SimpleNamespace(structure=structure)


def sdk_row(ontology, d: dict) -> LabelRowV2:
    if d["data_type"] == "video":
        md = CustomerProvidedVideoMetadata(fps=25, duration=10, width=1280, height=720, fileSize=1,
                                           mimeType="video/mp4")
    elif d["data_type"] == "img_group":
        md = [CustomerProvidedImageMetadata(mimeType="image/jpeg", fileSize=1, height=720, width=1280)
              for _ in d["data_units"]]
    else:
        md = CustomerProvidedImageMetadata(mimeType="image/jpeg", fileSize=1, height=720, width=1280)
    lr = LabelRowV2.from_media_metadata(ontology, md)
    lr.from_labels_dict(d)
    return lr


def test_generated_rows_round_trip_through_the_sdk_and_parse_the_same(ontology):
    prog = make_programme(seed=4, n_items=10, shapes=("bounding_box", "rotatable_bounding_box", "polygon"),
                          video_every=3, group_every=4, late_start=0.3, annotators=("a@x.com",))
    for rows in (prog.benchmark, *prog.training.values()):
        exported = [json.loads(json.dumps(sdk_row(ontology, d).to_encord_dict())) for d in rows]
        ours = parse_label_rows(rows, source="ours").to_frame().drop(columns=["geom", "seq"])
        theirs = parse_label_rows(exported, source="sdk").to_frame().drop(columns=["geom", "seq"])
        key = ["row", "frame", "object_hash"]
        pd.testing.assert_frame_equal(ours.sort_values(key).reset_index(drop=True),
                                      theirs.sort_values(key).reset_index(drop=True))


def test_seed_mode_equals_the_published_script_on_sdk_label_rows(ontology, tmp_path):
    prog = make_programme(seed=8, n_items=30, video_every=5, group_every=0, objects_per_item=(1, 10),
                          annotators=("alice@example.com", "bob@example.com"), p_no_created_by=0.05)
    bm_sdk = [sdk_row(ontology, d) for d in prog.benchmark]
    for name, rows in prog.training.items():
        expected = published_script(bm_sdk, [sdk_row(ontology, d) for d in rows])
        got = evaluate(prog.benchmark, [(name, rows)], matching="seed").seed_rows()
        assert len(expected) > 50
        assert got.to_dict(orient="records") == expected
        buf = io.StringIO()
        pd.DataFrame(expected).to_csv(buf, index=False)
        from annotrain_tui.core.exports import write_csv

        write_csv(tmp_path / "iou_results.csv", got)
        assert (tmp_path / "iou_results.csv").read_bytes() == buf.getvalue().encode()


def test_the_published_script_fails_on_objects_absent_from_frame_0_which_seed_mode_skips(ontology):
    prog = make_programme(seed=2, n_items=6, video_every=2, late_start=1.0, annotators=("a@x.com",))
    bm_sdk = [sdk_row(ontology, d) for d in prog.benchmark]
    name, rows = next(iter(prog.training.items()))
    with pytest.raises(LabelRowError):
        published_script(bm_sdk, [sdk_row(ontology, d) for d in rows])
    result = evaluate(prog.benchmark, [(name, rows)], matching="seed")
    # the same rows as the script with objects absent from frame 0 left out
    assert result.seed_rows().to_dict(orient="records") == published_seed(prog.benchmark, rows)
    assert result.not_compared["training"]["not on frame 0"] > 0
