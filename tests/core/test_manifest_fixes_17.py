"""Issue 17 quick fixes in core: each one changes only what it must (the rest byte-identical), for
JSON and CSV, and ``apply_fixes`` (the loop the CLI and the editor share) applies them all."""

from __future__ import annotations

import json

import pytest

from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.manifest.diagnostics import Diagnostic, fix_data
from annotrain_tui.core.manifest.fixes import (
    apply_fixes,
    batch_fixes,
    csv_records,
    encode_url,
    fixes_for,
    keep_copy,
    shorten_middle,
    truncate,
)
from annotrain_tui.core.manifest.validate import validate_text

H = "https://bucket.s3.eu-west-2.amazonaws.com"
LONG = "T" * 290 + "-0123456789-end"  # 305 characters


def diag(text: str, code: str, fmt: str | None = None, n: int = 0) -> Diagnostic:
    found = [d for d in validate_text(text, format=fmt).diagnostics if d.code == code]  # type: ignore[arg-type]
    assert len(found) > n, f"no {code} in {[d.code for d in validate_text(text, format=fmt).diagnostics]}"
    return found[n]


def apply(text: str, code: str, fix_id: str, fmt: str | None = None, n: int = 0) -> str:
    d = diag(text, code, fmt, n)
    fixes = {f.id: f for f in fixes_for(d, text, format=fmt)}
    assert fix_id in fixes, f"{fix_id} not offered for {code}: {list(fixes)}"
    return fixes[fix_id].apply(text)


def only_changed(old: str, new: str, before: str, after: str) -> None:
    """``new`` is ``old`` with exactly one ``before`` replaced by ``after``: the rest byte-identical."""
    assert old.count(before) == 1, before
    assert new == old.replace(before, after)
    assert new.encode("utf-8") == old.encode("utf-8").replace(before.encode("utf-8"), after.encode("utf-8"))


# A JSON manifest with odd formatting and non-ASCII text the fixes must keep as it is.
JSON = (
    '{\n'
    '\t"images" : [\n'
    '\t\t{ "objectUrl":"' + H + '/my photo.jpg",  "title": "caf\u00e9 \\u00e9" },\n'
    '\t\t{ "objectUrl": "  ' + H + '/b.jpg\\t", "title": "' + LONG + '" },\n'
    '\t\t{ "objectUrl": "' + H + '/clip.mp4" },\n'
    '\t\t{ "objectUrl": "' + H + '/a|b^c%zz.jpg" },\n'
    '\t\t{ "objectUrl": "' + H + '/d.jpg" },\n'
    '\t\t{ "objectUrl": "' + H + '/d.jpg" }\n'
    '\t],\r\n'
    '  "skip_duplicate_urls": false\n'
    '}\n'
)


def test_percent_encode_a_space_json() -> None:
    new = apply(JSON, "url-not-absolute", "percent-encode-url")
    only_changed(JSON, new, "/my photo.jpg", "/my%20photo.jpg")


def test_percent_encode_other_characters_and_a_bare_percent() -> None:
    d = next(d for d in validate_text(JSON).diagnostics if d.code == "url-not-absolute" and "a|b" in d.data["url"])
    (fix,) = [f for f in fixes_for(d, JSON) if f.id == "percent-encode-url"]
    only_changed(JSON, fix.apply(JSON), "/a|b^c%zz.jpg", "/a%7Cb%5Ec%25zz.jpg")


def test_encode_url_rules() -> None:
    assert encode_url(H + "/x y/%41 é.jpg") == H + "/x%20y/%41%20é.jpg"  # an escape stays; a letter too
    assert encode_url("  " + H + "/a b.jpg ") == "  " + H + "/a%20b.jpg "  # trimming is its own fix
    assert encode_url("https://my bucket.example.com/a.jpg") is None    # not in the host
    assert encode_url("no-scheme/a b.jpg") is None
    assert encode_url(H + "/a\ud800.jpg") is None                        # no bytes to encode


def test_trim_url_json_and_the_order_of_fixes_for_one_url() -> None:
    d = next(d for d in validate_text(JSON).diagnostics if d.code == "url-not-absolute" and "b.jpg" in d.data["url"])
    (fix,) = fixes_for(d, JSON)
    assert fix.id == "trim-url" and fix.local
    only_changed(JSON, fix.apply(JSON), '"  ' + H + '/b.jpg\\t"', '"' + H + '/b.jpg"')


def test_title_truncate_and_shorten_json() -> None:
    new = apply(JSON, "title-too-long", "truncate-title")
    only_changed(JSON, new, LONG, LONG[:300])
    short = apply(JSON, "title-too-long", "shorten-title")
    kept = shorten_middle(LONG)
    assert len(kept) == 300 and kept.endswith("-0123456789-end") and kept.startswith("TTT") and "…" in kept
    only_changed(JSON, short, LONG, kept)
    assert "title-too-long" not in validate_text(new).codes() + validate_text(short).codes()
    assert truncate("a" * 299 + "  b") == "a" * 299 and truncate("short") == "short"


def test_move_item_to_the_section_of_its_extension_json() -> None:
    new = apply(JSON, "extension-mismatch", "move-item")
    item = '{ "objectUrl": "' + H + '/clip.mp4" }'
    expected = JSON.replace("\t\t" + item + ",\n", "").replace(
        '  "skip_duplicate_urls": false\n', '  "skip_duplicate_urls": false,\r\n  "videos": [\r\n\t\t' + item
        + '\r\n  ]\n')
    assert new == expected
    data = json.loads(new)
    assert data["videos"] == [{"objectUrl": H + "/clip.mp4"}] and len(data["images"]) == 5
    assert "extension-mismatch" not in validate_text(new).codes()


def test_move_item_into_an_existing_section_keeps_its_text() -> None:
    text = '{"images": [{"objectUrl": "' + H + '/v.MP4", "title": "v"}], "videos": [\n  {"objectUrl": "' + H + \
        '/w.mp4"}\n]}'
    new = apply(text, "extension-mismatch", "move-item")
    assert new == ('{"images": [], "videos": [\n  {"objectUrl": "' + H + '/w.mp4"},\n  {"objectUrl": "' + H
                   + '/v.MP4", "title": "v"}\n]}')


def test_remove_a_duplicate_url_json() -> None:
    new = apply(JSON, "duplicate-url", "remove-entry")
    only_changed(JSON, new, ',\n\t\t{ "objectUrl": "' + H + '/d.jpg" }\n\t]', "\n\t]")


def test_remove_a_duplicate_url_in_an_image_group_renumbers_the_rest() -> None:
    text = ('{"image_groups": [{"title": "g", "createVideo": false, "objectUrl_0": "' + H + '/1.jpg", '
            '"objectUrl_1": "' + H + '/1.jpg", "objectUrl_2": "' + H + '/2.jpg"}]}')
    new = apply(text, "duplicate-url", "remove-group-url")
    assert new == text.replace('"objectUrl_1": "' + H + '/1.jpg", ', "").replace('"objectUrl_2"', '"objectUrl_1"')
    assert validate_text(new).diagnostics == []


def test_keep_one_of_repeated_top_level_keys_offers_each_copy() -> None:
    text = ('{\n  "skip_duplicate_urls": true,\n  "images": [{"objectUrl": "' + H + '/1.jpg"}],\n'
            '  "skip_duplicate_urls": false\n}\n')
    d = diag(text, "duplicate-key")
    fixes = fixes_for(d, text)
    ids = [f.id for f in fixes]
    assert ids == ["keep-copy-2", "keep-copy-1", "keep-last"]
    assert "line 4: false, what JSON reads now" in fixes[0].title and "line 2: true" in fixes[1].title
    first = fixes[1].apply(text)
    assert first == text.replace(',\n  "skip_duplicate_urls": false\n}', "\n}")
    assert json.loads(first)["skip_duplicate_urls"] is True
    last = fixes[0].apply(text)
    assert last == text.replace('  "skip_duplicate_urls": true,\n', "")
    assert validate_text(first).diagnostics == validate_text(last).diagnostics == []


def test_keep_one_of_repeated_sections_offers_merge_and_each_copy() -> None:
    text = ('{"images": [{"objectUrl": "' + H + '/1.jpg"}], "images": [{"objectUrl": "' + H + '/2.jpg"}, '
            '{"objectUrl": "' + H + '/3.jpg"}]}')
    fixes = fixes_for(diag(text, "duplicate-key"), text)
    assert [f.id for f in fixes] == ["merge-sections", "keep-copy-2", "keep-copy-1", "keep-last"]
    assert "(line 1: 2 items, what JSON reads now)" in fixes[1].title and "(line 1: 1 item)" in fixes[2].title
    assert json.loads(fixes[2].apply(text)) == {"images": [{"objectUrl": H + "/1.jpg"}]}
    assert json.loads(fixes[0].apply(text))["images"] == [{"objectUrl": H + f"/{i}.jpg"} for i in (1, 2, 3)]


def test_keep_copy_of_three_keeps_the_middle_one() -> None:
    text = '{"a": 1, "k": 1, "b": 2, "k": 2, "k": 3}'
    assert keep_copy(text, "", "k", 1) == '{"a": 1, "b": 2, "k": 2}'
    assert keep_copy(text, "", "k", 0) == '{"a": 1, "k": 1, "b": 2}'
    assert keep_copy(text, "", "k", 2) == '{"a": 1, "b": 2, "k": 3}'
    with pytest.raises(InvalidInput):
        keep_copy(text, "", "a", 0)


# -- CSV ---------------------------------------------------------------------------------------

CSV = (
    "\ufeffObjectUrl,Image title\r\n"
    + H + "/1.jpg,Hello, world\r\n"
    + " " + H + "/2.jpg ,\"quoted, title\"\r\n"
    + H + "/my photo.jpg,caf\u00e9\r\n"
    + H + "/1.jpg,again\r\n"
    + H + "/clip.mp4,a clip\r\n"
    + H + "/3.jpg," + LONG + "\r\n"
)


def test_csv_records_know_every_cell() -> None:
    records = csv_records(CSV)
    assert len(records) == 7 and records[0].start == 1 and records[2].cells[1].quoted
    assert records[2].cells[1].value == "quoted, title"


def test_csv_repair_a_row_with_too_many_cells() -> None:
    new = apply(CSV, "csv-row", "join-extra-cells", "csv")
    only_changed(CSV, new, "/1.jpg,Hello, world\r\n", '/1.jpg,"Hello, world"\r\n')
    dropped = apply(CSV, "csv-row", "drop-extra-cells", "csv")
    only_changed(CSV, dropped, "/1.jpg,Hello, world\r\n", "/1.jpg,Hello\r\n")


def test_csv_repair_joins_into_the_title_column_of_a_group_header() -> None:
    text = "ObjectUrl,Image group title,Create video\n" + H + "/1.jpg,Sunny, day,false\n"
    new = apply(text, "csv-row", "join-extra-cells", "csv")
    only_changed(text, new, ",Sunny, day,", ',"Sunny, day",')
    assert validate_text(new, format="csv").diagnostics == []


def test_csv_trim_and_percent_encode() -> None:
    new = apply(CSV, "url-not-absolute", "trim-url", "csv")
    only_changed(CSV, new, "\r\n " + H + "/2.jpg ,", "\r\n" + H + "/2.jpg,")
    enc = apply(CSV, "url-not-absolute", "percent-encode-url", "csv", n=1)
    only_changed(CSV, enc, "/my photo.jpg,", "/my%20photo.jpg,")


def test_csv_title_truncate_and_shorten() -> None:
    new = apply(CSV, "title-too-long", "truncate-title", "csv")
    only_changed(CSV, new, LONG, LONG[:300])
    short = apply(CSV, "title-too-long", "shorten-title", "csv")
    only_changed(CSV, short, LONG, shorten_middle(LONG))


def test_csv_title_of_an_image_group_changes_on_every_row_of_the_group() -> None:
    text = ("ObjectUrl,Image group title,Create video\n" + H + "/1.jpg," + LONG + ",false\n"
            + H + "/2.jpg,other,false\n" + H + "/3.jpg," + LONG + ",false\n")
    new = apply(text, "title-too-long", "truncate-title", "csv")
    assert new == text.replace(LONG, LONG[:300])
    assert "title-too-long" not in validate_text(new, format="csv").codes()


def test_csv_remove_a_duplicate_row() -> None:
    new = apply(CSV, "duplicate-url", "remove-row", "csv")
    only_changed(CSV, new, H + "/1.jpg,again\r\n", "")


def test_csv_move_a_row_to_a_new_section_of_its_type() -> None:
    new = apply(CSV, "extension-mismatch", "move-item", "csv")
    assert new == CSV.replace(H + "/clip.mp4,a clip\r\n", "") + "ObjectUrl,Video title\r\n" + H + "/clip.mp4,a clip\r\n"
    assert "extension-mismatch" not in validate_text(new, format="csv").codes()


def test_csv_move_a_row_into_an_existing_section() -> None:
    text = ("ObjectUrl,Video title\n" + H + "/v.mp4,v\n\nObjectUrl,Image title\n" + H + "/i.jpg,i\n"
            + H + "/w.mp4,w")
    new = apply(text, "extension-mismatch", "move-item", "csv")
    assert new == "ObjectUrl,Video title\n" + H + "/v.mp4,v\n" + H + "/w.mp4,w\n\nObjectUrl,Image title\n" + H + "/i.jpg,i"
    assert validate_text(new, format="csv").diagnostics == []


def test_csv_fixes_are_not_offered_for_json_pointers_and_csv_needs_a_position() -> None:
    d = Diagnostic(severity="error", code="csv-row", message="this row has 3 cells but the header (line 1) has 2",
                   data=fix_data("extra-cells"))
    assert fixes_for(d, CSV, format="csv") == []  # the fix would need the row's line


# -- the loop ------------------------------------------------------------------------------------

def test_apply_fixes_json_all() -> None:
    run = apply_fixes(JSON)
    assert run.remaining == [] and run.format == "json"
    assert sorted(a.code for a in run.applied) == sorted(["url-not-absolute"] * 3 + ["title-too-long",
                                                          "extension-mismatch", "duplicate-url"])
    data = json.loads(run.text)
    assert [i["objectUrl"] for i in data["images"]] == [H + "/my%20photo.jpg", H + "/b.jpg", H + "/a%7Cb%5Ec%25zz.jpg",
                                                        H + "/d.jpg"]
    assert run.text.startswith('{\n\t"images" : [\n\t\t{ "objectUrl":"') and "caf\u00e9 \\u00e9" in run.text


def test_apply_fixes_one_code_leaves_the_others() -> None:
    run = apply_fixes(JSON, codes={"title-too-long"})
    assert [a.code for a in run.applied] == ["title-too-long"]
    only_changed(JSON, run.text, LONG, LONG[:300])
    assert "url-not-absolute" in [d.code for d in run.errors_left]
    assert {d.code for d in run.fixable_left()} >= {"url-not-absolute", "duplicate-url", "extension-mismatch"}


def test_apply_fixes_csv_all() -> None:
    run = apply_fixes(CSV, path="m.csv")
    assert run.format == "csv" and run.remaining == []
    assert run.text == ("\ufeffObjectUrl,Image title\r\n" + H + '/1.jpg,"Hello, world"\r\n' + H
                        + '/2.jpg,"quoted, title"\r\n' + H + "/my%20photo.jpg,caf\u00e9\r\n" + H + "/3.jpg,"
                        + LONG[:300] + "\r\nObjectUrl,Video title\r\n" + H + "/clip.mp4,a clip\r\n")


def test_apply_fixes_nothing_to_do_and_no_loop() -> None:
    text = '{"images": [{"objectUrl": "' + H + '/1.jpg"}]}'
    run = apply_fixes(text)
    assert run.text == text and run.applied == [] and not run.changed
    bad = '{"images": [{"objectUrl": "<object url>"}]}'
    run = apply_fixes(bad)
    assert run.text == bad and [d.code for d in run.errors_left] == ["url-not-absolute"]


def test_batch_fixes_are_the_loop() -> None:
    d = diag(JSON, "title-too-long")
    one, every = batch_fixes(d)
    assert one.id == "all-title-too-long" and every.id == "all"
    assert one.apply(JSON) == apply_fixes(JSON, codes={"title-too-long"}).text
    assert every.apply(JSON) == apply_fixes(JSON).text


def test_apply_fixes_composes_two_fixes_of_one_url_and_many_at_once() -> None:
    items = [{"objectUrl": f" {H}/a {i}.jpg "} for i in range(300)] + [{"objectUrl": f"{H}/ok.jpg"}]
    text = json.dumps({"images": items}, indent=1)
    run = apply_fixes(text)
    assert run.remaining == []
    assert run.text == text.replace(f'" {H}/a ', f'"{H}/a%20').replace('.jpg "', '.jpg"')
    assert sorted({a.fix for a in run.applied}) == ["percent-encode-url", "trim-url"] and len(run.applied) == 600


# -- trial (issue 17): a fix never drops what the user wrote ------------------------------------
B = "https://b.s3.eu-west-2.amazonaws.com"


def test_a_repeated_url_keeps_the_copy_that_carries_a_title_and_metadata():
    from annotrain_tui.core.manifest.fixes import apply_fixes

    text = (f'{{"images":[{{"objectUrl":"{B}/x.jpg"}},\n {{"objectUrl":"{B}/x.jpg","title":"keep.jpg",'
            f'"clientMetadata":{{"split":"train"}}}}]}}')
    run = apply_fixes(text, path="m.json")
    doc = json.loads(run.text)
    assert doc["images"] == [{"objectUrl": f"{B}/x.jpg", "title": "keep.jpg", "clientMetadata": {"split": "train"}}]


def test_two_copies_each_with_their_own_fields_are_never_removed():
    from annotrain_tui.core.manifest.fixes import apply_fixes

    text = f'{{"images":[{{"objectUrl":"{B}/x.jpg","title":"a"}},\n {{"objectUrl":"{B}/x.jpg","title":"b"}}]}}'
    doc = json.loads(apply_fixes(text, path="m.json").text)
    assert [i["title"] for i in doc["images"]] == ["a", "b"]


def test_a_repeat_across_sections_is_the_later_one_in_the_file():
    from annotrain_tui.core.manifest.validate import validate_text

    text = (f'{{"images":[{{"objectUrl":"{B}/x.jpg","title":"kept"}}],\n'
            f' "videos":[{{"objectUrl":"{B}/x.jpg"}}]}}')
    (dup,) = [d for d in validate_text(text, path="m.json").diagnostics if d.code == "duplicate-url"]
    assert dup.pointer == "/videos/0/objectUrl" and dup.line == 2


def test_a_byte_order_mark_goes_first_so_the_other_fixes_run_in_the_same_run():
    from annotrain_tui.core.manifest.fixes import apply_fixes

    text = f'\ufeff{{\n  "images": [\n    {{"objectUrl": "{B}/a b.jpg"}}\n  ]\n}}\n'
    run = apply_fixes(text, path="m.json")
    assert run.text == f'{{\n  "images": [\n    {{"objectUrl": "{B}/a%20b.jpg"}}\n  ]\n}}\n'
    with pytest.raises(InvalidInput, match="json-bom"):
        apply_fixes(text, path="m.json", codes={"url-not-absolute"})


def test_cutting_a_title_keeps_its_file_extension():
    from annotrain_tui.core.manifest.fixes import truncate

    cut = truncate("é" * 310 + ".jpg")
    assert len(cut) == 300 and cut.endswith("é.jpg")
    assert truncate("a" * 400) == "a" * 300
