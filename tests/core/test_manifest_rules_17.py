"""Issue 17, items 3-5 (core): the rules still missing, the batch-size advice, the seeds' templates."""

from __future__ import annotations

import json
import re

import pytest

from annotrain_tui.core.errors import UsageError
from annotrain_tui.core.manifest.csv import to_csv
from annotrain_tui.core.manifest.diagnostics import CODES, Diagnostic, ValidationResult
from annotrain_tui.core.manifest.rules import batch_count
from annotrain_tui.core.manifest.split import chunk
from annotrain_tui.core.manifest.templates import (
    DATA_TYPES,
    TEMPLATES,
    TYPE_CHOICES,
    from_urls,
    new_template,
    normalise_type,
)
from annotrain_tui.core.manifest.urls import PROVIDERS
from annotrain_tui.core.manifest.validate import validate_text

S3 = "https://encord-integration.s3.eu-west-2.amazonaws.com"
MRAP = "https://arn:aws:s3::123123123:accesspoint/frf28frarf9.mrap.s3-accesspoint.amazonaws.com"


def of(result: ValidationResult, code: str) -> list[Diagnostic]:
    return [d for d in result.diagnostics if d.code == code]


def at(text: str, d: Diagnostic, width: int) -> str:
    """The text at a diagnostic's line and column."""
    line = text.split("\n")[d.line - 1]
    return line[d.column - 1:d.column - 1 + width]


def test_new_codes_are_documented() -> None:
    for code in ("file-name-too-long", "metadata-mime", "duplicate-title", "batch-size"):
        assert code in CODES


# ---------------------------------------------------------------------------------------------
# File names over 300 characters inside object URLs.

def test_a_file_name_over_300_characters_is_a_located_error() -> None:
    name = "a" * 297 + ".jpg"  # 301 characters
    ok = "b" * 296 + ".jpg"  # 300
    text = json.dumps({"images": [{"objectUrl": f"{S3}/x/{ok}"}, {"objectUrl": f"{S3}/x/{name}?v=1"}]}, indent=1)
    result = validate_text(text)
    (d,) = of(result, "file-name-too-long")
    assert d.severity == "error" and not result.valid
    assert d.pointer == "/images/1/objectUrl" and at(text, d, 9) == f'"{S3[:8]}'
    assert "301 characters" in d.message and "300" in d.message


def test_file_names_are_counted_percent_decoded_and_without_the_query() -> None:
    encoded = "%C3%A9" * 290 + ".jpg"  # 294 characters once decoded, 1,744 as written
    long_query = "a.jpg?sig=" + "x" * 2000
    text = json.dumps({"images": [{"objectUrl": f"{S3}/{encoded}"}, {"objectUrl": f"{S3}/{long_query}"},
                                  {"objectUrl": f"{S3}/{'d' * 400}/short.jpg"}]})
    assert of(validate_text(text), "file-name-too-long") == []
    over = "%C3%A9" * 301 + ".jpg"
    (d,) = of(validate_text(json.dumps({"images": [{"objectUrl": f"{S3}/{over}"}]})), "file-name-too-long")
    assert "305 characters long (percent-decoded)" in d.message


def test_file_names_in_image_groups_and_csv() -> None:
    name = "f" * 320 + ".jpg"
    text = json.dumps({"image_groups": [{"title": "g", "createVideo": False, "objectUrl_0": f"{S3}/1.jpg",
                                         "objectUrl_1": f"{S3}/{name}"}]})
    (d,) = of(validate_text(text), "file-name-too-long")
    assert d.pointer == "/image_groups/0/objectUrl_1"
    csv = f"ObjectUrl,Image title\n{S3}/a.jpg,A\n{S3}/{name},B\n"
    (d,) = of(validate_text(csv, format="csv"), "file-name-too-long")
    assert (d.line, d.column) == (3, 1)


# ---------------------------------------------------------------------------------------------
# A metadata mime_type that does not fit its section.

def _image(meta: dict) -> str:
    return json.dumps({"images": [{"objectUrl": f"{S3}/a.jpg",
                                   "imageMetadata": {"fileSize": 1, "width": 2, "height": 3, **meta}}]}, indent=2)


def test_video_mime_type_in_images_is_a_located_error() -> None:
    text = _image({"mimeType": "video/mp4"})
    result = validate_text(text)
    (d,) = of(result, "metadata-mime")
    assert d.severity == "error" and not result.valid
    assert d.pointer == "/images/0/imageMetadata/mimeType" and at(text, d, 11) == '"video/mp4"'
    assert '"videos"' in d.message and "image/jpeg" in d.message


def test_both_spellings_and_not_a_mime_type_at_all() -> None:
    (d,) = of(validate_text(_image({"mime_type": "audio/wav"})), "metadata-mime")
    assert d.pointer == "/images/0/imageMetadata/mime_type"
    # The seed's own template placeholder is no MIME type.
    (d,) = of(validate_text(_image({"mimeType": "MIME-file-type-extension"})), "metadata-mime")
    assert "not a MIME type" in d.message


@pytest.mark.parametrize(("section", "block", "meta"), [
    ("images", "imageMetadata", {"mimeType": "image/jpg", "fileSize": 124, "width": 640, "height": 480}),
    ("text", "textMetadata", {"fileSize": 300, "mime_type": "application/xml"}),
    ("text", "textMetadata", {"fileSize": 300, "mime_type": "text/plain; charset=utf-8"}),
    ("audio", "audioMetadata", {"duration": 1.5, "file_size": 2, "mime_type": "video/mp4", "sample_rate": 44100,
                                "bit_depth": 16, "codec": "aac", "num_channels": 2}),
    ("videos", "videoMetadata", {"fps": 25, "duration": 2, "width": 3, "height": 4, "file_size": 5,
                                 "mime_type": "application/octet-stream"}),
])
def test_mime_types_that_fit(section: str, block: str, meta: dict) -> None:
    ext = {"images": "jpg", "text": "xml", "audio": "mp4", "videos": "mp4"}[section]
    text = json.dumps({section: [{"objectUrl": f"{S3}/f.{ext}", block: meta}]})
    assert validate_text(text).diagnostics == []


def test_mime_type_of_text_in_videos() -> None:
    text = json.dumps({"videos": [{"objectUrl": f"{S3}/v.mp4", "videoMetadata": {
        "fps": 25, "duration": 2, "width": 3, "height": 4, "file_size": 5, "mime_type": "text/html"}}]})
    (d,) = of(validate_text(text), "metadata-mime")
    assert '"text"' in d.message


# ---------------------------------------------------------------------------------------------
# Repeated titles.

def test_a_repeated_title_is_a_warning_naming_the_first_one() -> None:
    text = json.dumps({"videos": [{"objectUrl": f"{S3}/1.mp4", "title": "clip"}],
                       "images": [{"objectUrl": f"{S3}/1.jpg", "title": "other"},
                                  {"objectUrl": f"{S3}/2.jpg", "title": "clip"}]}, indent=1)
    result = validate_text(text)
    (d,) = of(result, "duplicate-title")
    assert d.severity == "warning" and result.valid
    assert d.pointer == "/images/1/title" and at(text, d, 6) == '"clip"'
    first_line = text.split("\n").index('   "title": "clip"') + 1
    assert f"/videos/0/title (line {first_line})" in d.message


def test_untitled_files_with_one_file_name_are_not_repeated_titles() -> None:
    text = json.dumps({"images": [{"objectUrl": f"{S3}/a/0001.jpg"}, {"objectUrl": f"{S3}/b/0001.jpg"},
                                  {"objectUrl": f"{S3}/c.jpg", "title": ""}, {"objectUrl": f"{S3}/d.jpg", "title": ""}]})
    assert of(validate_text(text), "duplicate-title") == []


def test_repeated_group_titles_across_sections_and_in_csv() -> None:
    text = json.dumps({"image_groups": [{"title": "s1", "createVideo": False, "objectUrl_0": f"{S3}/1.jpg"}],
                       "dicom_series": [{"title": "s1", "objectUrl_0": f"{S3}/1.dcm"}]})
    (d,) = of(validate_text(text), "duplicate-title")
    assert d.pointer == "/dicom_series/0/title"
    csv = f"ObjectUrl,Image title\n{S3}/a.jpg,Same\n{S3}/b.jpg,Other\n{S3}/c.jpg,Same\n"
    (d,) = of(validate_text(csv, format="csv"), "duplicate-title")
    assert (d.line, d.column) == (4, len(f"{S3}/c.jpg") + 2) and "line 2" in d.message


# ---------------------------------------------------------------------------------------------
# The items of the first copy of a repeated top-level key.

DUPLICATED = """{
  "images": [
    {"objectUrl": "<https://example.com/a.jpg>"},
    {"objectUrl": "%s/b.mp4", "title": "b"}
  ],
  "images": [
    {"objectUrl": "%s/c.jpg"}
  ]
}""" % (S3, S3)


def test_the_items_of_a_dropped_copy_are_validated_where_they_are() -> None:
    result = validate_text(DUPLICATED)
    assert [d.code for d in result.diagnostics] == ["url-not-absolute", "extension-mismatch", "duplicate-key"]
    bad, mismatch, dup = result.diagnostics
    assert (bad.line, bad.column) == (3, 19) and at(DUPLICATED, bad, 2) == '"<'
    assert (mismatch.line, mismatch.column) == (4, 19)
    assert 'in the first "images" array, which is dropped as the file stands' in bad.message
    # No pointer (one would name the copy that is kept), so no quick fix lands on the other copy.
    assert bad.pointer is None and bad.data and bad.data["dropped_pointer"] == "/images/0/objectUrl"
    assert (dup.line, dup.column, dup.pointer) == (6, 3, "/images")
    assert result.items == 1  # what the server would register


def test_a_clean_dropped_copy_adds_nothing_and_copies_are_numbered() -> None:
    clean = '{"images": [{"objectUrl": "%s/a.jpg"}],\n "images": [{"objectUrl": "%s/b.jpg"}]}' % (S3, S3)
    assert [d.code for d in validate_text(clean).diagnostics] == ["duplicate-key"]
    three = ('{"videos": [{"objectUrl": "%s/a.mp4"}],\n "videos": [{"objectUrl": "nope"}],\n'
             ' "videos": [{"objectUrl": "%s/c.mp4"}]}' % (S3, S3))
    result = validate_text(three)
    (bad,) = of(result, "url-not-absolute")
    assert bad.line == 2 and 'copy 2 of the "videos" array' in bad.message
    assert len(of(result, "duplicate-key")) == 2


def test_a_first_copy_on_the_first_line_is_located_by_its_column() -> None:
    text = '{"pdfs": [{"objectUrl": 5}], "pdfs": []}'
    (d,) = of(validate_text(text), "wrong-type")
    assert (d.line, d.column) == (1, 25) and text[24] == "5"


# ---------------------------------------------------------------------------------------------
# The seed's batch advice: "Limit uploads to 100 videos or up to 1,000 images at a time."

def _videos(n: int) -> dict:
    return {"videos": [{"objectUrl": f"{S3}/v{i}.mp4"} for i in range(n)]}


def _images(n: int) -> dict:
    return {"images": [{"objectUrl": f"{S3}/i{i}.jpg"} for i in range(n)]}


def test_batch_size_warns_above_100_videos_or_1000_images_only() -> None:
    assert validate_text(json.dumps(_videos(100))).diagnostics == []
    assert validate_text(json.dumps(_images(1000))).diagnostics == []
    result = validate_text(json.dumps(_videos(101)))
    (d,) = result.diagnostics
    assert d.code == "batch-size" and d.severity == "warning" and result.valid
    assert (d.line, d.column, d.pointer) == (1, 1, "/videos")
    assert "registering it in batches" in d.message and "2 jobs" in d.message and "101 videos" in d.message
    assert [r.action for r in d.see] == ["register.batch", "manifest.split"]  # each front names its way
    assert "annotrain" not in d.message
    (d,) = validate_text(json.dumps(_images(2500))).diagnostics
    assert "2,500 images" in d.message and "3 jobs" in d.message and d.pointer == "/images"


def test_batch_count_is_the_split_count() -> None:
    groups = [{"title": f"g{i}", "createVideo": False, **{f"objectUrl_{k}": f"{S3}/g{i}/{k}.jpg"
                                                          for k in range(n)}}
              for i, n in enumerate([3, 700, 2000, 1, 1, 999])]
    cases = [_videos(250), _images(1001), {**_videos(55), **_images(460)}, {"image_groups": groups},
             {**_images(10), "image_groups": groups, **_videos(31), "pdfs": [{"objectUrl": f"{S3}/p.pdf"}] * 7}]
    for data in cases:
        assert batch_count(data) == len(chunk(data)), data.keys()


def test_batch_size_mixed_counts_and_one_big_group_is_not_batched() -> None:
    data = {**_videos(60), **_images(500)}  # 600 + 500 units
    (d,) = validate_text(json.dumps(data)).diagnostics
    assert "60 videos and 500 images" in d.message and "2 jobs" in d.message
    one = {"image_groups": [{"title": "g", "createVideo": False,
                             **{f"objectUrl_{k}": f"{S3}/g/{k}.jpg" for k in range(5000)}}]}
    assert validate_text(json.dumps(one)).diagnostics == []  # no batching makes one item smaller


def test_batch_size_in_a_csv() -> None:
    csv = "ObjectUrl,Video title\n" + "".join(f"{S3}/v{i}.mp4,\n" for i in range(150))
    (d,) = validate_text(csv, format="csv").diagnostics
    assert d.code == "batch-size" and (d.line, d.column) == (1, 1)


# ---------------------------------------------------------------------------------------------
# Multi-Region Access Points, checked as such with --provider aws.

def test_the_seeds_mrap_form_and_the_prose_form_are_accepted_for_aws() -> None:
    text = json.dumps({"videos": [
        {"objectUrl": f"{MRAP}/Videos/2022/video_1.mp4"},
        {"objectUrl": "arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap/Videos/video_2.mp4"},
        {"objectUrl": "https://arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap/video_3.mp4"},
    ]})
    assert validate_text(text, provider="aws").diagnostics == []


@pytest.mark.parametrize(("url", "words"), [
    ("https://arn:aws:s3::123123123:accesspoint/frf28frarf9/Videos/v.mp4", "an alias ends in .mrap"),
    ("https://arn:aws:s3::123123123:accesspoint/frf28frarf9.mrap.s3-accesspoint.amazonaws.com/", "no object name"),
    ("arn:aws:s3::123123123:accesspoint//v.mp4", "no access point alias"),
])
def test_an_mrap_arn_without_an_object_is_a_provider_warning(url: str, words: str) -> None:
    text = json.dumps({"videos": [{"objectUrl": f"{MRAP}/ok.mp4"}, {"objectUrl": url}]}, indent=1)
    result = validate_text(text, provider="aws")
    (d,) = of(result, "provider-mismatch")
    assert d.pointer == "/videos/1/objectUrl" and words in d.message and result.valid
    assert at(text, d, 12) == json.dumps(url)[:12]
    assert validate_text(text).diagnostics == []  # the form is checked for the aws provider


def test_an_mrap_url_with_another_provider_names_the_access_point() -> None:
    (d,) = validate_text(json.dumps({"videos": [{"objectUrl": f"{MRAP}/v.mp4"}]}), provider="gcp").diagnostics
    assert "Multi-Region Access Point" in d.message


# ---------------------------------------------------------------------------------------------
# Templates for what the seeds show.

_FILL = {"bucket": "my-bucket", "region": "eu-west-2", "account": "myaccount", "container": "data",
         "namespace": "ns", "host": "files.example.com", "account-id": "123456789012", "alias": "mfzwi23gnjvgw"}


def fill(text: str) -> str:
    """Every <placeholder> of a template replaced by a plausible real value."""
    def one(m: re.Match[str]) -> str:
        inner = m.group(1)
        return "clips/" + inner[len("path/to/"):] if inner.startswith("path/to/") else _FILL[inner]
    return re.sub(r"<([^<>]+)>", one, text)


def _providers(kind: str) -> tuple[str, ...]:
    return ("aws",) if kind == "mrap" else PROVIDERS


@pytest.mark.parametrize("kind", list(TEMPLATES))
def test_each_template_validates_clean_once_its_placeholders_are_replaced(kind: str) -> None:
    for provider in _providers(kind):
        data = new_template(kind, provider)
        raw = validate_text(json.dumps(data), provider=provider)
        assert set(raw.codes()) == {"url-not-absolute"}, (provider, raw.codes())
        assert all("placeholder" in d.message for d in raw.diagnostics)
        filled = validate_text(fill(json.dumps(data, indent=2)), provider=provider)
        assert filled.diagnostics == [], (provider, [d.render(kind) for d in filled.diagnostics])
        assert data["skip_duplicate_urls"] is True


def test_metadata_templates_use_the_seeds_fields() -> None:
    fields = {"videos_metadata": ("videos", "videoMetadata",
                                  ["fps", "duration", "width", "height", "file_size", "mime_type"]),
              "audio_metadata": ("audio", "audioMetadata", ["duration", "file_size", "mime_type", "sample_rate",
                                                            "bit_depth", "codec", "num_channels"]),
              "images_metadata": ("images", "imageMetadata", ["mimeType", "fileSize", "width", "height"]),
              "pdfs_metadata": ("pdfs", "pdfMetadata", ["fileSize", "numPages"]),
              "text_metadata": ("text", "textMetadata", ["fileSize", "mime_type"])}
    for kind, (section, block, names) in fields.items():
        items = new_template(kind)[section]
        described = [i for i in items if block in i]
        assert described and all(list(i[block]) == names for i in described)
        assert any(block not in i for i in items)  # the seed's shape: one without, one with
    text = new_template("text_metadata")["text"]
    assert [i["textMetadata"]["mime_type"] for i in text[1:]] == ["text/plain", "text/csv", "application/xml",
                                                                   "text/html"]


def test_key_frames_mixed_and_mrap_templates() -> None:
    videos = new_template("videos_key_frames")["videos"]
    assert all(isinstance(v["clientMetadata"]["keyframes"], list) for v in videos)
    mixed = new_template("mixed")
    assert [k for k in mixed if k != "skip_duplicate_urls"] == ["images", "videos", "image_groups"]
    assert [g["createVideo"] for g in mixed["image_groups"]] == [True, True, False]
    mrap = new_template("mrap")["videos"][0]["objectUrl"]
    assert mrap.startswith("https://arn:aws:s3::<account-id>:accesspoint/<alias>.mrap.s3-accesspoint.amazonaws.com/")
    with pytest.raises(UsageError) as exc:
        new_template("mrap", "gcp")
    assert "--provider aws" in (exc.value.hint or "")


def test_template_names_aliases_and_url_lists() -> None:
    assert set(TYPE_CHOICES) == set(DATA_TYPES) | set(TEMPLATES)
    assert normalise_type("videoMetadata") == "videos_metadata"
    assert normalise_type("client-metadata") == "videos_key_frames"
    assert normalise_type("Multiple file types") == "mixed"
    # A template's name with a URL list registers the data type it shows.
    assert list(from_urls(f"{S3}/a.mp4\n", "videos_metadata")) == ["videos", "skip_duplicate_urls"]
    assert set(from_urls(f"{S3}/a.mp4\n{S3}/b.jpg\n", "mixed")) == {"videos", "images", "skip_duplicate_urls"}


def test_templates_convert_to_csv_with_a_note_about_the_metadata() -> None:
    _, lost = to_csv(new_template("videos_metadata"))
    assert lost  # CSV has no metadata columns: the conversion says so
