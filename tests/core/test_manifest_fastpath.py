"""validate_bytes' fast path (msgspec, one plain section) against the reference path (json.loads + dicts).

The reference path is the contract: on generated manifests with problems at random places the
fast path must give the same result, diagnostic for diagnostic (code, message, line, column,
pointer, data, see), or decline (None) so that the reference path answers.
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
EXT = {"images": "jpg", "videos": "mp4", "audio": "mp3", "pdfs": "pdf", "text": "txt", "nifti": "nii"}


def reference(raw: bytes, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> ValidationResult:
    monkeypatch.setattr(validate_module, "FAST_PATH_MIN_BYTES", 1 << 62)
    return validate_bytes(raw, path="m.json", **kw)


def fast(raw: bytes, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> ValidationResult:
    monkeypatch.setattr(validate_module, "FAST_PATH_MIN_BYTES", 0)
    return validate_bytes(raw, path="m.json", **kw)


def as_tuple(r: ValidationResult) -> tuple[Any, ...]:
    return (r.path, r.format, r.items, r.urls, r.sections, r.valid,
            [(d.severity, d.code, d.message, d.line, d.column, d.pointer, d.data, d.see) for d in r.diagnostics])


# Problems a plain section can have while staying plain (the fast path answers) ...
STAYS_PLAIN = ["angle", "space", "relative", "http", "dup-url", "wrong-ext", "long-name", "colon-title",
               "non-ascii", "empty-title", "query", "dots", "other-host", "forbidden", "gcp-host"]
# ... and ones it must leave to the reference path.
DECLINES = ["dup-title", "long-title", "null-title", "unknown-key", "repeated-key", "number-url", "lone-surrogate",
            "escape", "trailing-comma", "missing-url", "not-object"]


def item_text(section: str, i: int, problem: str | None, rng: random.Random) -> str:
    url = f"{S3}/batch-{i // 100:03d}/file-{i:06d}.{EXT[section]}"
    title: Any = f"file-{i:06d}" if i % 3 == 0 else None
    extra = ""
    if problem == "angle":
        url = f"<{url}>"
    elif problem == "space":
        url = url.replace("file-", "my file-")
    elif problem == "relative":
        url = f"batch/file-{i}.{EXT[section]}"
    elif problem == "http":
        url = url.replace("https://", "http://")
    elif problem == "dup-url":
        url = f"{S3}/batch-000/file-000000.{EXT[section]}"
    elif problem == "wrong-ext":
        url = url.rsplit(".", 1)[0] + (".mp4" if section != "videos" else ".png")
    elif problem == "long-name":
        url = f"{S3}/batch/{'n' * 320}.{EXT[section]}"
    elif problem == "colon-title":
        title = f"a:b:{i}"
    elif problem == "non-ascii":
        url = url.replace("file-", "fichier-é-")
    elif problem == "empty-title":
        title = ""
    elif problem == "query":
        url = url + "?v=1#x"
    elif problem == "dots":
        url = url.replace("/batch-", "/.../batch-")
    elif problem == "other-host":
        url = url.replace(S3, "https://example.org")
    elif problem == "forbidden":
        url = url.replace("file-", "file|")
    elif problem == "gcp-host":
        url = url.replace(S3, "https://storage.googleapis.com/bucket")
    elif problem == "dup-title":
        title = "the same title"
    elif problem == "long-title":
        title = "t" * 301
    elif problem == "null-title":
        title = "NULL"
    elif problem == "unknown-key":
        extra = ', "tittle": "x"'
    elif problem == "repeated-key":
        extra = f', "objectUrl": "{url}"'
    elif problem == "escape":
        title = "caf\\u00e9"
    elif problem == "lone-surrogate":
        title = "x\\ud800y"
    parts = [] if problem == "missing-url" else [f'"objectUrl": {json.dumps(url, ensure_ascii=False)}']
    if problem == "number-url":
        parts = ['"objectUrl": 12']
    if title == "NULL":
        parts.append('"title": null')
    elif title is not None:
        parts.append(f'"title": "{title}"' if "\\u" in title else f'"title": {json.dumps(title, ensure_ascii=False)}')
    if problem == "not-object":
        return json.dumps(url)
    body = ", ".join(parts) + extra
    if rng.random() < 0.1:
        body = body.replace('"objectUrl": ', '"objectUrl":\n        ')  # the value on the next line
    return "{" + body + "}" if rng.random() < 0.5 else "{\n      " + body.replace(", ", ",\n      ") + "\n    }"


def manifest(rng: random.Random, problems: list[str], *, section: str = "images", n: int = 60,
             flags: dict[str, bool] | None = None) -> bytes:
    at = {rng.randrange(1, n): p for p in problems}
    items = [item_text(section, i, at.get(i), rng) for i in range(n)]
    sep = "," if "trailing-comma" not in problems else ",,"
    body = f'  "{section}": [\n    ' + f"{sep}\n    ".join(items) + "\n  ]"
    for key, value in (flags or {}).items():
        body += f',\n  "{key}": {json.dumps(value)}'
    return ("{\n" + body + "\n}\n").encode()


@pytest.mark.parametrize("seed", range(120))
def test_the_fast_path_says_what_the_reference_path_says(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    section = rng.choice(list(EXT))
    problems = rng.sample(STAYS_PLAIN, rng.randint(0, 4))
    flags = rng.choice([{}, {"skip_duplicate_urls": True}, {"upsert_metadata": True},
                        {"upsert_metadata": True, "skip_duplicate_urls": False}])
    raw = manifest(rng, problems, section=section, n=rng.randint(2, 80), flags=flags)
    provider = rng.choice([None, "aws", "gcp", "direct"])
    max_per_code = rng.choice([1000, 2, 1])
    kw: dict[str, Any] = {"provider": provider, "max_per_code": max_per_code}
    taken = fastpath.validate_plain(raw, path="m.json", **kw)
    assert taken is not None, (problems, raw[:300])  # plain: the fast path answers itself
    assert as_tuple(fast(raw, monkeypatch, **kw)) == as_tuple(reference(raw, monkeypatch, **kw))
    assert as_tuple(taken) == as_tuple(reference(raw, monkeypatch, **kw))


@pytest.mark.parametrize("problem", DECLINES)
def test_what_is_not_plain_is_left_to_the_reference_path(problem: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(problem)
    raw = manifest(rng, [problem, rng.choice(STAYS_PLAIN)] if problem != "dup-title" else [problem, problem])
    if problem == "dup-title":  # two items with the same title
        raw = raw.replace(b'"title": "file-000003"', b'"title": "the same title"')
    assert fastpath.validate_plain(raw, path="m.json", provider=None, max_per_code=1000) is None
    assert as_tuple(fast(raw, monkeypatch)) == as_tuple(reference(raw, monkeypatch))
    assert not reference(raw, monkeypatch).valid or problem in ("escape", "dup-title")


@pytest.mark.parametrize("text", [
    '{"images": [], "videos": [{"objectUrl": "%s/a.mp4"}]}' % S3,                  # two sections
    '{"images": []}',                                                                 # no items
    '{}',
    '{"images": [{"objectUrl": "%s/a.jpg"}], "images": [{"objectUrl": "%s/b.jpg"}]}' % (S3, S3),  # repeated section
    '\ufeff{"images": [{"objectUrl": "%s/a.jpg"}]}' % S3,                            # BOM
    '{"images": [{"objectUrl": "%s/a.jpg"}], "skip_duplicate_urls": "true"}' % S3,   # a quoted boolean
    '{"image_groups": [{"title": "g", "objectUrl_0": "%s/a.jpg"}]}' % S3,            # a group section
    '[{"objectUrl": "%s/a.jpg"}]' % S3,
    '',
])
def test_unusual_files_get_the_reference_answer(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = text.encode()
    assert fastpath.validate_plain(raw, path="m.json", provider=None, max_per_code=1000) is None
    assert as_tuple(fast(raw, monkeypatch)) == as_tuple(reference(raw, monkeypatch))


def test_a_big_clean_file_takes_the_fast_path_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """validate_bytes uses the fast path from FAST_PATH_MIN_BYTES on, with the reference's result."""
    rng = random.Random(7)
    raw = manifest(rng, ["angle", "dup-url"], n=60)
    calls: list[bytes] = []
    real = fastpath.validate_plain

    def spy(data: bytes, **kw: Any) -> ValidationResult | None:
        calls.append(data)
        return real(data, **kw)

    monkeypatch.setattr(fastpath, "validate_plain", spy)
    monkeypatch.setattr(validate_module, "FAST_PATH_MIN_BYTES", len(raw))
    got = validate_bytes(raw, path="m.json")
    assert calls == [raw]
    assert as_tuple(got) == as_tuple(reference(raw, monkeypatch))
    monkeypatch.setattr(validate_module, "FAST_PATH_MIN_BYTES", len(raw) + 1)
    validate_bytes(raw, path="m.json")
    assert calls == [raw]  # below the threshold: not tried


@pytest.mark.parametrize("problems", [["dup-url", "angle"], ["dup-url", "http", "wrong-ext"]])
def test_values_on_the_line_after_their_key(problems: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A repeat names the line of the first copy's key, a diagnostic stands at the value: here they differ."""
    raw = manifest(random.Random(3), problems, n=40).replace(b'"objectUrl": ', b'"objectUrl":\n        ')
    got = fast(raw, monkeypatch, provider="aws")
    assert any(d.code == "duplicate-url" for d in got.diagnostics)
    assert as_tuple(got) == as_tuple(reference(raw, monkeypatch, provider="aws"))
