"""CSV manifests: headers, sections, groups, limits, positions of every finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotrain_tui.core.manifest import parse_path, parse_text, validate_path, validate_text
from annotrain_tui.core.manifest.csv import CsvSyntaxError, read_records, to_csv

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "manifests"
S3 = "https://encord-integration.s3.eu-west-2.amazonaws.com"


def csv(text: str, **kw):
    return parse_text(text, format="csv", **kw)


def test_records_track_lines_and_columns_through_quotes_and_crlf() -> None:
    text = 'a,"b, with comma",c\r\n"multi\nline",x\r\n,"q""uote"\n'
    records = read_records(text)
    assert [[c.value for c in r.cells] for r in records] == [
        ["a", "b, with comma", "c"], ["multi\nline", "x"], ["", 'q"uote']]
    assert [(c.line, c.column) for c in records[0].cells] == [(1, 1), (1, 3), (1, 19)]
    assert [(c.line, c.column) for c in records[1].cells] == [(2, 1), (3, 7)]
    assert [(c.line, c.column) for c in records[2].cells] == [(4, 1), (4, 2)]


def test_unclosed_quote_is_a_syntax_error() -> None:
    with pytest.raises(CsvSyntaxError) as exc:
        read_records('ObjectUrl,Image title\n"https://a.example.com/1.jpg,x\n')
    assert (exc.value.line, exc.value.column) == (2, 1)
    result = validate_text('ObjectUrl,Image title\n"https://a.example.com/1.jpg,x\n', format="csv")
    assert result.codes() == ["csv-row"]


def test_mixed_sections_from_the_docs_example() -> None:
    parsed = parse_path(FIXTURES / "valid_mixed.csv")
    assert parsed.result.valid and parsed.result.diagnostics == []
    groups = parsed.data["image_groups"]
    assert groups[0] == {"title": "Sequence 1", "createVideo": True,
                         "objectUrl_0": f"{S3}/images/frame1.jpg", "objectUrl_1": f"{S3}/images/frame2.jpg"}
    assert groups[1]["createVideo"] is False  # explicit false
    assert parsed.data["images"] == [{"objectUrl": f"{S3}/images/frame7.jpg", "title": "Image 1"}]
    assert parsed.data["videos"] == [{"objectUrl": f"{S3}/videos/video.mp4", "title": "Video 1"}]
    assert (parsed.result.items, parsed.result.urls, parsed.result.format) == (4, 6, "csv")


def test_bom_crlf_and_case_insensitive_headers() -> None:
    parsed = parse_path(FIXTURES / "valid_bom_crlf.csv")
    assert parsed.result.valid and parsed.data == {
        "images": [{"objectUrl": f"{S3}/images/a.jpg", "title": "A"}, {"objectUrl": f"{S3}/images/b.jpg"}]}


@pytest.mark.parametrize("name", ["dicom_series_title.csv", "dicom_title.csv"])
def test_both_dicom_title_headers(name: str) -> None:
    parsed = parse_path(FIXTURES / name)
    assert parsed.result.valid
    first = parsed.data["dicom_series"][0]
    assert first["objectUrl_0"].endswith("1.dcm") and first["objectUrl_1"].endswith("2.dcm")


def test_blank_dicom_title_keeps_the_file_apart_named_after_the_file() -> None:
    series = parse_path(FIXTURES / "dicom_series_title.csv").data["dicom_series"]
    assert [s["title"] for s in series] == ["dicom series 1", "3.dcm"]


def test_lone_objecturl_column_means_videos_and_warns_for_images() -> None:
    parsed = parse_path(FIXTURES / "lone_objecturl_images.csv")
    assert list(parsed.data) == ["videos"]
    (d,) = parsed.result.diagnostics
    assert d.code == "extension-mismatch" and d.severity == "warning"
    assert "Expected a video, got a file of type image" in d.message and (d.line, d.column) == (2, 1)


def test_whitespace_in_a_url_is_an_error_at_the_cell() -> None:
    result = validate_path(FIXTURES / "csv_whitespace_url.csv")
    (d,) = result.diagnostics
    assert (d.code, d.severity, d.line, d.column, d.pointer) == ("url-not-absolute", "error", 2, 1, None)


def test_unknown_column_with_suggestion() -> None:
    result = validate_path(FIXTURES / "csv_unknown_column.csv")
    (d,) = result.diagnostics
    assert d.code == "csv-header" and (d.line, d.column) == (1, 11) and "Image title" in d.message


def test_conflicting_create_video_in_one_group() -> None:
    (d,) = validate_path(FIXTURES / "csv_create_video_conflict.csv").diagnostics
    assert d.code == "create-video" and d.line == 3 and "line 2" in d.message


def test_create_video_blank_means_true_and_no_column_means_group() -> None:
    with_column = csv(f"ObjectUrl,Image group title,Create video\n{S3}/1.jpg,G,\n").data
    without = csv(f"ObjectUrl,Image group title\n{S3}/1.jpg,G\n").data
    assert with_column["image_groups"][0]["createVideo"] is True
    assert without["image_groups"][0]["createVideo"] is False


def test_create_video_true_on_an_image_row_warns() -> None:
    result = csv(f"ObjectUrl,Image title,Create video\n{S3}/1.jpg,A,\n").result
    (d,) = result.diagnostics
    third_cell = len(f"{S3}/1.jpg,A,") + 1
    assert d.code == "create-video" and d.severity == "warning" and (d.line, d.column) == (2, third_cell)


def test_missing_header_row() -> None:
    (d,) = validate_path(FIXTURES / "csv_missing_header.csv").diagnostics
    assert d.code == "csv-header" and (d.line, d.column) == (1, 1)


def test_semicolon_separated_file() -> None:
    (d,) = csv("ObjectUrl;Image title\nx;y\n").result.diagnostics
    assert "comma" in d.message


def test_empty_group_title_and_missing_url() -> None:
    text = f"ObjectUrl,Image group title,Create video\n{S3}/1.jpg,,true\n,G,true\n"
    result = csv(text).result
    assert [(d.code, d.line) for d in result.diagnostics] == [("missing-title", 2), ("missing-url", 3)]


def test_extra_cells_in_a_row() -> None:
    (d,) = csv(f"ObjectUrl,Image title\n{S3}/1.jpg,A,extra\n").result.diagnostics
    assert d.code == "csv-row" and (d.line, d.column) == (2, len(f"{S3}/1.jpg,A,") + 1)


def test_at_most_10000_entries() -> None:
    rows = "".join(f"{S3}/images/{i}.jpg,\n" for i in range(10_001))
    result = csv("ObjectUrl,Image title\n" + rows).result
    (d,) = [d for d in result.diagnostics if d.code == "too-many-items"]
    assert d.line == 10_002 and "10,000" in d.message
    assert csv("ObjectUrl,Image title\n" + rows[: rows.rindex(S3)]).result.valid


def test_json_rules_apply_with_cell_positions() -> None:
    text = (f"ObjectUrl,Video title\n{S3}/1.mp4,{'t' * 301}\n<object url>,x\n{S3}/1.mp4,again\n"
            f"{S3}/photo.jpg,x\n")
    result = csv(text, provider="gcp").result
    got = {(d.code, d.line, d.column) for d in result.diagnostics}
    assert ("title-too-long", 2, len(f"{S3}/1.mp4,") + 1) in got
    assert ("url-not-absolute", 3, 1) in got
    assert ("duplicate-url", 4, 1) in got
    assert ("extension-mismatch", 5, 1) in got
    assert ("provider-mismatch", 2, 1) in got
    dup = next(d for d in result.diagnostics if d.code == "duplicate-url")
    assert "line 2" in dup.message


def test_to_csv_reports_what_it_cannot_carry() -> None:
    data = {"videos": [{"objectUrl": f"{S3}/a.mp4", "clientMetadata": {"k": 1},
                        "videoMetadata": {"fps": 1}}],
            "audio": [{"objectUrl": f"{S3}/a.mp3"}],
            "image_groups": [{"title": "g,1", "createVideo": True, "objectUrl_1": f"{S3}/b.jpg",
                              "objectUrl_0": f"{S3}/a.jpg"}],
            "skip_duplicate_urls": True}
    text, lost = to_csv(data)
    assert text.splitlines() == ["ObjectUrl,Video title", f"{S3}/a.mp4,", "ObjectUrl,Image group title,Create video",
                                 f'{S3}/a.jpg,"g,1",true', f'{S3}/b.jpg,"g,1",true']
    joined = " | ".join(lost)
    for words in ('"audio" entries are left out', "skip_duplicate_urls", "clientMetadata", "media metadata"):
        assert words in joined


def test_a_repeated_url_in_csv_names_the_line_and_a_row_to_remove() -> None:
    """Trial item 21: the CSV warning pointed at /images/0/objectUrl and advised "skip_duplicate_urls",
    which a CSV file cannot express."""
    from annotrain_tui.core.manifest.fixes import fixes_for

    url = "https://b.s3.eu-west-2.amazonaws.com/a.jpg"
    text = f"ObjectUrl,Image title\n{url},a\n{url},b\n"
    (d,) = validate_text(text, format="csv").diagnostics
    assert d.code == "duplicate-url" and (d.line, d.column) == (3, 1)
    assert "(line 2)" in d.message and "repeated row" in d.message
    assert "skip_duplicate_urls" not in d.message and "/images/" not in d.message
    assert [f.id for f in fixes_for(d, text, format="csv")] == ["remove-row"]
