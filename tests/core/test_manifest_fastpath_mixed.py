"""The fast path against the reference path on large files with each kind of URL problem mixed in.

validate's fast path proves a big clean file clean with shortcuts (a strictly ordered URL list has
no repeat and one host between its first and last URL; no backslash in the file means a quote count
proves the keys and a few character searches the URLs; positions are found in the bytes). Every
shortcut must give the reference path's answer, diagnostic for diagnostic, whatever is mixed in:
here files of a few thousand items (more than the samples of the host and suffix proofs see), in
listing order, reversed or shuffled, with problems at random places.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from annotrain_tui.core.manifest import fastpath
from annotrain_tui.core.manifest import validate as validate_module
from annotrain_tui.core.manifest.diagnostics import ValidationResult
from annotrain_tui.core.manifest.validate import validate_bytes

S3 = "https://encord-integration.s3.eu-west-2.amazonaws.com"


def reference(raw: bytes, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> ValidationResult:
    monkeypatch.setattr(validate_module, "FAST_PATH_MIN_BYTES", 1 << 62)
    return validate_bytes(raw, path="m.json", **kw)


def as_tuple(r: ValidationResult) -> tuple[Any, ...]:
    return (r.path, r.format, r.items, r.urls, r.sections, r.valid,
            [(d.severity, d.code, d.message, d.line, d.column, d.pointer, d.data, d.see) for d in r.diagnostics])


def url_of(i: int) -> str:
    return f"{S3}/batch-{i // 100:03d}/file-{i:06d}.jpg"


# Each: what the URL of item i becomes (None: the problem is not in the URL).
URL_PROBLEMS = {
    "angle": lambda i: f"<{url_of(i)}>",
    "space": lambda i: url_of(i).replace("file-", "my file-"),
    "trailing-space": lambda i: url_of(i) + " ",
    "relative": lambda i: f"batch/file-{i}.jpg",
    "empty": lambda i: "",
    "http": lambda i: url_of(i).replace("https://", "http://"),
    "http-other-host": lambda i: url_of(i).replace(S3, "http://files.example.org"),
    "dots": lambda i: url_of(i).replace("/batch-", "/.../batch-"),
    "long-url": lambda i: url_of(i)[:-4] + "/" + "a" * 4200 + ".jpg",
    "long-name": lambda i: f"{S3}/batch/{'n' * 320}.jpg",
    "wrong-ext": lambda i: url_of(i)[:-4] + ".mp4",
    "upper-ext": lambda i: url_of(i)[:-4] + ".JPG",
    "no-ext": lambda i: url_of(i)[:-4],
    "query": lambda i: url_of(i) + "?v=1",
    "other-host": lambda i: url_of(i).replace(S3, "https://example.org"),
    "gcp-host": lambda i: url_of(i).replace(S3, "https://storage.googleapis.com/bucket"),
    "placeholder-host": lambda i: url_of(i).replace(S3, "https://my-bucket"),
    "forbidden": lambda i: url_of(i).replace("file-", "file|"),
    "brace": lambda i: url_of(i).replace("file-", "{file}-"),
    "delete-char": lambda i: url_of(i).replace("file-", "file\x7f"),
    "non-ascii": lambda i: url_of(i).replace("file-", "fichier-é-"),
    "typo-scheme": lambda i: url_of(i).replace("https://", "https:/"),
    "s3-scheme": lambda i: f"s3://bucket/file-{i}.jpg",
    "mrap": lambda i: f"https://arn:aws:s3::123456789012:accesspoint/alias/file-{i}.jpg",
    "no-path": lambda i: "https://files.example.org",
    "newline": lambda i: url_of(i).replace("file-", "file\n"),  # written as the escape \n
    "tab": lambda i: url_of(i).replace("file-", "file\t"),
}
# Repeats: item i gets the URL of an earlier item that has (or is given) this problem.
REPEATS = ["dup-good", "dup-angle", "dup-dots", "dup-long-url", "dup-http"]
# Titles.
TITLE_PROBLEMS = ["title-objectUrl", "title-is-a-bad-url", "title-is-a-good-url", "title-non-ascii", "title-colon"]
ALL = list(URL_PROBLEMS) + REPEATS + TITLE_PROBLEMS


def build(rng: random.Random, problems: list[str], n: int, order: str) -> tuple[list[dict[str, str]], dict[str, Any]]:
    urls = [url_of(i) for i in range(n)]
    titles: dict[int, str] = {i: f"t-{i:06d}" for i in range(0, n, 7)}
    for problem in problems:
        for _ in range(rng.choice([1, 1, 2, 5])):
            i = rng.randrange(n)
            if problem in URL_PROBLEMS:
                urls[i] = URL_PROBLEMS[problem](i)
            elif problem.startswith("dup-"):
                j = rng.randrange(n)
                kind = problem[len("dup-"):]
                if kind != "good":
                    urls[j] = URL_PROBLEMS[kind](j)
                urls[i] = urls[j]
            elif problem == "title-objectUrl":
                titles[i] = "objectUrl"
            elif problem == "title-is-a-bad-url":
                j = rng.randrange(n)
                urls[j] = URL_PROBLEMS["angle"](j)
                titles[i] = urls[j]
            elif problem == "title-is-a-good-url":
                titles[i] = urls[rng.randrange(n)]
            elif problem == "title-non-ascii":
                titles[i] = f"café-{i}"
            elif problem == "title-colon":
                titles[i] = f"a:b:{i}"
    if len(set(titles.values())) != len(titles):  # two equal titles: the fast path declines (tested elsewhere)
        seen: set[str] = set()
        for i in sorted(titles):
            if titles[i] in seen:
                del titles[i]
            else:
                seen.add(titles[i])
    items = [{"objectUrl": u, **({"title": titles[i]} if i in titles else {})} for i, u in enumerate(urls)]
    if order == "reversed":
        items.reverse()
    elif order == "shuffled":
        rng.shuffle(items)
    flags = rng.choice([{}, {"skip_duplicate_urls": True}])
    return items, flags


def dump(rng: random.Random, items: list[dict[str, str]], flags: dict[str, Any]) -> bytes:
    doc = {"images": items, **flags}
    layout = rng.choice(["indent", "compact", "next-line"])
    ascii_only = rng.random() < 0.3  # non-ASCII written as \u escapes: the fast path declines those
    text = json.dumps(doc, indent=None if layout == "compact" else 2, ensure_ascii=ascii_only)
    if layout == "next-line":
        text = text.replace('"objectUrl": ', '"objectUrl":\n        ')
    if rng.random() < 0.2:  # a backslash in the file (an escaped '/'): the URL rules then count colons
        text = text.replace(f'"{S3}/batch-000/', f'"{S3}\\/batch-000/', 1)
    return text.encode()


@pytest.mark.parametrize("seed", range(60))
def test_large_files_with_mixed_problems_get_the_reference_answer(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    problems = rng.sample(ALL, rng.choice([0, 1, 1, 2, 3, 6]))
    items, flags = build(rng, problems, rng.randint(1500, 4000), rng.choice(["listing", "listing", "reversed",
                                                                             "shuffled"]))
    raw = dump(rng, items, flags)
    kw: dict[str, Any] = {"provider": rng.choice([None, "aws", "aws", "gcp", "direct"]),
                          "max_per_code": rng.choice([1000, 1000, 3, 1])}
    got = fastpath.validate_plain(raw, path="m.json", **kw)
    if b"\\u" not in raw:
        assert got is not None, problems  # one plain section: the fast path answers itself
    if got is not None:
        assert as_tuple(got) == as_tuple(reference(raw, monkeypatch, **kw)), problems


@pytest.mark.parametrize("problem", ALL)
def test_each_problem_in_a_large_sorted_file(problem: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """One kind at a time, in a listing-ordered file of 3,000 items (the clean file's shortcuts all apply)."""
    rng = random.Random(problem)
    items, flags = build(rng, [problem], 3000, "listing")
    raw = json.dumps({"images": items, **flags}, indent=2, ensure_ascii=False).encode()
    found = 0
    for provider in (None, "aws"):
        got = fastpath.validate_plain(raw, path="m.json", provider=provider, max_per_code=1000)
        assert got is not None
        want = reference(raw, monkeypatch, provider=provider)
        assert as_tuple(got) == as_tuple(want)
        found += len(want.diagnostics) - 1  # besides the batch-size warning
    if problem not in FINE:
        assert found, problem


# What the rules take as it is.
FINE = {"no-ext", "query", "upper-ext", "non-ascii", "title-colon", "title-is-a-good-url", "title-non-ascii",
        "title-objectUrl"}


def test_a_clean_listing_and_its_shuffled_copy_say_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(5)
    items, _ = build(rng, [], 3000, "listing")
    listing = json.dumps({"images": items}, indent=2).encode()
    rng.shuffle(items)
    shuffled = json.dumps({"images": items}, indent=2).encode()
    for raw in (listing, shuffled):
        got = fastpath.validate_plain(raw, path="m.json", provider="aws", max_per_code=1000)
        assert got is not None and got.valid
        assert [d.code for d in got.diagnostics] == ["batch-size"]
        assert as_tuple(got) == as_tuple(reference(raw, monkeypatch, provider="aws"))


def test_a_repeat_next_to_its_first_copy_in_a_listing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sorted listing with one URL twice in a row is not strictly ordered: the repeat is reported."""
    items = [{"objectUrl": url_of(i)} for i in range(3000)]
    items.insert(1501, dict(items[1500]))
    raw = json.dumps({"images": items}, indent=2).encode()
    got = fastpath.validate_plain(raw, path="m.json", provider=None, max_per_code=1000)
    assert got is not None
    repeats = [d for d in got.diagnostics if d.code == "duplicate-url"]
    assert [d.pointer for d in repeats] == ["/images/1501/objectUrl"]
    assert as_tuple(got) == as_tuple(reference(raw, monkeypatch))


def test_a_repeat_among_urls_already_reported_for_their_form(monkeypatch: pytest.MonkeyPatch) -> None:
    """A URL over 4,096 characters is looked at closely but is a valid absolute URL: its repeat counts,
    although the rest of the listing is in order."""
    items = [{"objectUrl": url_of(i)} for i in range(3000)]
    long_url = URL_PROBLEMS["long-url"](10)
    items[10]["objectUrl"] = items[2500]["objectUrl"] = long_url
    raw = json.dumps({"images": items}, indent=2).encode()
    got = fastpath.validate_plain(raw, path="m.json", provider=None, max_per_code=1000)
    assert got is not None
    assert [d.pointer for d in got.diagnostics if d.code == "duplicate-url"] == ["/images/2500/objectUrl"]
    assert as_tuple(got) == as_tuple(reference(raw, monkeypatch))


def test_a_title_written_like_a_url_is_passed_over_when_locating(monkeypatch: pytest.MonkeyPatch) -> None:
    """The URL searched for in the bytes first appears as an earlier item's title: the position is the URL's."""
    items: list[dict[str, str]] = [{"objectUrl": url_of(i)} for i in range(3000)]
    bad = f"<{url_of(2000)}>"
    items[5]["title"] = bad
    items[2000]["objectUrl"] = bad
    raw = json.dumps({"images": items}, indent=2).encode()
    got = fastpath.validate_plain(raw, path="m.json", provider=None, max_per_code=1000)
    assert got is not None
    (diag,) = [d for d in got.diagnostics if d.code == "url-not-absolute"]
    assert diag.pointer == "/images/2000/objectUrl"
    assert diag.line == raw[:raw.index(b'"objectUrl": "' + bad.encode())].count(b"\n") + 1
    assert as_tuple(got) == as_tuple(reference(raw, monkeypatch))


# The two rules the shortcuts' proofs made visible (reference path, small files).

def test_a_url_with_a_line_break_is_reported() -> None:
    raw = json.dumps({"images": [{"objectUrl": f"{S3}/a\nb.jpg"}, {"objectUrl": f"{S3}/c.jpg"}]}).encode()
    (diag,) = validate_bytes(raw, path="m.json").diagnostics
    assert diag.code == "url-not-absolute" and "a line break" in diag.message
    assert diag.pointer == "/images/0/objectUrl"


def test_a_typo_in_one_urls_scheme_does_not_hide_the_others_problems() -> None:
    """'https:/…' has the host key 'https:/', which every 'https://…' URL starts with: those keep
    their own host and extension checks."""
    raw = json.dumps({"images": [{"objectUrl": "https:/typo.example.com/a.jpg"},
                                 {"objectUrl": "https://good.example.com/b.mp4"},
                                 {"objectUrl": "http://good.example.com/c.jpg"}]}).encode()
    codes = [(d.code, d.pointer) for d in validate_bytes(raw, path="m.json").diagnostics]
    assert codes == [("url-not-absolute", "/images/0/objectUrl"), ("extension-mismatch", "/images/1/objectUrl"),
                     ("url-scheme", "/images/2/objectUrl")]
