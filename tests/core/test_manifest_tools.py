"""Convert, split, templates and the models (round trips through the validator)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from annotrain_tui.core.errors import InvalidInput, OutputExists, UsageError
from annotrain_tui.core.files import atomic_write_text
from annotrain_tui.core.manifest import (
    DATA_TYPES,
    PROVIDERS,
    ImageGroupItem,
    Manifest,
    chunk,
    convert_file,
    convert_text,
    from_urls,
    new_template,
    parse_path,
    split_file,
    validate_path,
    validate_text,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "manifests"
S3 = "https://encord-integration.s3.eu-west-2.amazonaws.com"


# ---------------------------------------------------------------------------------------------
# Convert.

def test_csv_to_json_and_back_keeps_every_row(tmp_path: Path) -> None:
    out_json = tmp_path / "m.json"
    conversion = convert_file(FIXTURES / "valid_mixed.csv", out_json)
    assert conversion.format == "json" and conversion.warnings == []
    assert validate_path(out_json).diagnostics == []
    back = tmp_path / "back.csv"
    convert_file(out_json, back)
    assert parse_path(back).data == parse_path(FIXTURES / "valid_mixed.csv").data


def test_json_to_csv_warns_about_what_is_lost(tmp_path: Path) -> None:
    conversion = convert_file(FIXTURES / "valid_all_types.json", tmp_path / "m.csv")
    joined = " | ".join(conversion.warnings)
    for words in ('"audio"', '"pdfs"', '"text"', '"nifti"', "skip_duplicate_urls", "clientMetadata",
                  "media metadata"):
        assert words in joined
    assert validate_path(tmp_path / "m.csv").valid


def test_convert_refuses_unreadable_content_and_same_format(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as exc:
        convert_file(FIXTURES / "duplicate_key_sections.json", tmp_path / "x.csv")
    assert "duplicate-key" in str(exc.value)
    with pytest.raises(InvalidInput):
        convert_file(FIXTURES / "json_syntax_trailing_comma.json", tmp_path / "x.csv")
    with pytest.raises(UsageError):
        convert_file(FIXTURES / "valid_images.json", tmp_path / "x.json")
    with pytest.raises(UsageError):
        convert_file(FIXTURES / "valid_images.json", tmp_path / "x.txt")
    assert not list(tmp_path.iterdir())


def test_convert_text_carries_validation_errors_over_with_a_warning() -> None:
    conversion = convert_text(json.dumps({"images": [{"objectUrl": "<x>"}]}), "csv")
    assert conversion.text.splitlines()[1] == "<x>,"
    assert any("validation error" in w for w in conversion.warnings)


def test_atomic_write_replaces_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    target.write_text("old")
    os.chmod(target, 0o640)
    atomic_write_text(target, "new")
    assert target.read_text() == "new" and (target.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]
    with pytest.raises(InvalidInput):
        atomic_write_text(tmp_path / "no" / "such" / "dir.json", "x")


# ---------------------------------------------------------------------------------------------
# Split.

def _images(n: int) -> dict:
    return {"images": [{"objectUrl": f"{S3}/i/{i}.jpg"} for i in range(n)], "skip_duplicate_urls": True}


def test_default_chunks_follow_the_docs_advice() -> None:
    data = {"videos": [{"objectUrl": f"{S3}/v/{i}.mp4"} for i in range(250)], **_images(2500)}
    parts = chunk(data)
    assert [len(p.get("videos", [])) for p in parts] == [100, 100, 50, 0, 0]
    assert [len(p.get("images", [])) for p in parts] == [0, 0, 500, 1000, 1000]
    assert all(p["skip_duplicate_urls"] is True for p in parts)


def test_groups_are_never_cut_and_count_their_files() -> None:
    groups = [{"title": f"g{i}", "createVideo": False, **{f"objectUrl_{k}": f"{S3}/{i}/{k}.jpg" for k in range(400)}}
              for i in range(5)]
    parts = chunk({"image_groups": groups})
    assert [len(p["image_groups"]) for p in parts] == [2, 2, 1]
    assert [len(p["image_groups"]) for p in chunk({"image_groups": groups}, max_items=4)] == [4, 1]


def test_max_items_bounds(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        chunk(_images(3), max_items=0)
    with pytest.raises(UsageError):
        chunk(_images(3), max_items=500_001)


def test_split_file_writes_valid_parts_and_refuses_to_overwrite(tmp_path: Path) -> None:
    source = tmp_path / "big.json"
    source.write_text(json.dumps(_images(2345)))
    result = split_file(source, tmp_path / "out", max_items=1000)
    assert [f.name for f in result.files] == ["big-part-001-of-003.json", "big-part-002-of-003.json",
                                              "big-part-003-of-003.json"]
    assert result.items == [1000, 1000, 345]
    urls = []
    for f in result.files:
        r = validate_path(f)
        assert r.valid and r.diagnostics == []
        urls += [i["objectUrl"] for i in json.loads(f.read_text())["images"]]
    assert urls == [i["objectUrl"] for i in _images(2345)["images"]]
    with pytest.raises(OutputExists):
        split_file(source, tmp_path / "out", max_items=1000)
    assert split_file(source, tmp_path / "out", max_items=1000, force=True).items == [1000, 1000, 345]


def test_split_csv_gives_csv_parts(tmp_path: Path) -> None:
    result = split_file(FIXTURES / "valid_mixed.csv", tmp_path, max_items=2)
    assert [f.suffix for f in result.files] == [".csv", ".csv"]
    merged: dict = {}
    for f in result.files:
        for key, value in parse_path(f).data.items():
            merged.setdefault(key, []).extend(value)
    assert merged == parse_path(FIXTURES / "valid_mixed.csv").data


def test_split_refuses_a_file_that_lost_data(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        split_file(FIXTURES / "duplicate_key_sections.json", tmp_path)


# ---------------------------------------------------------------------------------------------
# Templates and URL lists.

@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("data_type", list(DATA_TYPES))
def test_templates_have_the_right_shape_but_placeholders_fail(data_type: str, provider: str) -> None:
    data = new_template(data_type, provider)
    result = validate_text(json.dumps(data), provider=provider)
    codes = set(result.codes())
    assert codes <= {"url-not-absolute", "more-diagnostics"}, result.codes()
    assert result.items == 2 and not result.valid
    assert all("placeholder" in d.message for d in result.diagnostics if d.code == "url-not-absolute")
    section = DATA_TYPES[data_type][0]
    assert list(data) == [section, "skip_duplicate_urls"]
    if data_type == "image_sequences":
        assert all(g["createVideo"] is True for g in data[section])


def test_template_with_placeholders_replaced_is_valid() -> None:
    data = new_template("videos", "aws")
    text = json.dumps(data).replace("<bucket>", "my-bucket").replace("<region>", "eu-west-2")
    text = text.replace("<path/to/", "clips/").replace(".mp4>", ".mp4")
    assert validate_text(text, provider="aws").diagnostics == []


def test_unknown_type_and_aliases() -> None:
    with pytest.raises(UsageError):
        new_template("holograms")
    assert new_template("image-sequence")["image_groups"][0]["createVideo"] is True
    assert "dicom_series" in new_template("dicom")


def test_from_urls_by_extension() -> None:
    data = from_urls((FIXTURES / "urls.txt").read_text())
    assert data["images"] == [{"objectUrl": f"{S3}/images/a.jpg"}]
    assert data["videos"] == [{"objectUrl": f"{S3}/videos/b.mp4"}]
    assert data["dicom_series"] == [{"title": "series-1", "objectUrl_0": f"{S3}/dicom/series-1/1.dcm",
                                     "objectUrl_1": f"{S3}/dicom/series-1/2.dcm"}]
    assert validate_text(json.dumps(data)).diagnostics == []


def test_from_urls_forced_type_groups_by_folder() -> None:
    text = "\n".join(f"{S3}/seq/{d}/{i}.jpg" for d in ("a", "b") for i in range(3))
    data = from_urls(text, "image_sequences")
    assert [(g["title"], g["createVideo"], len(g)) for g in data["image_groups"]] == [("a", True, 5), ("b", True, 5)]


def test_from_urls_unknown_extension_names_the_lines() -> None:
    with pytest.raises(InvalidInput) as exc:
        from_urls(f"{S3}/a.jpg\n{S3}/mystery\n")
    assert "line 2" in str(exc.value) and "--type" in str(exc.value)
    with pytest.raises(InvalidInput):
        from_urls("# nothing\n\n")


# ---------------------------------------------------------------------------------------------
# Models.

def test_models_read_the_documented_json_and_write_it_back() -> None:
    data = json.loads((FIXTURES / "valid_all_types.json").read_text())
    manifest = Manifest.model_validate(data)
    assert manifest.item_count == 9 and manifest.url_count == 12
    assert manifest.videos[0].video_metadata is not None and manifest.videos[0].video_metadata.fps == 23.98
    assert manifest.pdfs[0].pdf_metadata.num_pages == 5
    assert manifest.to_data() == data


def test_image_group_model_orders_urls_by_index() -> None:
    group = ImageGroupItem.model_validate({"title": "g", "createVideo": True, "objectUrl_1": "b", "objectUrl_0": "a"})
    assert group.urls == ["a", "b"]
    assert group.model_dump() == {"title": "g", "createVideo": True, "objectUrl_0": "a", "objectUrl_1": "b"}


def test_models_reject_what_the_validator_rejects() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Manifest.model_validate({"images": [{"objectUrl": "x", "titel": "y"}]})
    with pytest.raises(ValidationError):
        Manifest.model_validate({"videos": [{"objectUrl": "x", "videoMetadata": {"fps": "25"}}]})
