"""Issue 17: `manifest split` takes what is too big for Encord (over 500,000 items, 1,000,000 URLs,
10,000 CSV entries) and writes the parts all or nothing; the batch plan of `register --batch`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from annotrain_tui.cli.exit_codes import exit_code_for
from annotrain_tui.core.errors import AnnotrainError, InvalidInput, OutputExists
from annotrain_tui.core.manifest import split as split_mod
from annotrain_tui.core.manifest.convert import ManifestHasErrors
from annotrain_tui.core.manifest.split import LIMIT_CODES, chunk, split_file, split_parsed
from annotrain_tui.core.manifest.validate import parse_path, validate_path

S3 = "https://b.s3.eu-west-2.amazonaws.com"
SETTINGS = '"skip_duplicate_urls": true, "upsert_metadata": true, "x_note": "kept"'


def big_images(path: Path, n: int = 500_001, *, bad_at: int | None = None) -> Path:
    """A manifest of ``n`` images, written as text (fast), with the two flags and one unknown key."""
    items = ",".join(
        f'{{"objectUrl": "{S3}/i/{i}.jpg"}}' if i != bad_at else '{"objectUrl": "<bucket>/x.jpg"}'
        for i in range(n))
    path.write_text(f'{{"images": [{items}], {SETTINGS}}}')
    return path


def big_series(path: Path, series: int = 10_001, files: int = 100) -> Path:
    """``series`` DICOM series of ``files`` files each: 1,000,100 URLs in 10,001 items by default."""
    body = ",".join(
        f'{{"title": "s{s}", ' + ", ".join(f'"objectUrl_{k}": "{S3}/d/{s}/{k}.dcm"' for k in range(files)) + "}"
        for s in range(series))
    path.write_text(f'{{"dicom_series": [{body}], "skip_duplicate_urls": true}}')
    return path


@pytest.fixture(scope="module")
def big500(tmp_path_factory) -> Path:
    return big_images(tmp_path_factory.mktemp("big") / "big.json")


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# -- which errors a split accepts ----------------------------------------------------------------

def test_the_limit_codes_are_the_validators(tmp_path: Path, big500: Path) -> None:
    assert {d.code for d in validate_path(big500).errors} == {"too-many-items"}
    csv = tmp_path / "c.csv"
    csv.write_text("ObjectUrl,Image title\n" + "".join(f"{S3}/i/{i}.jpg,t{i}\n" for i in range(10_001)))
    assert {d.code for d in validate_path(csv).errors} == {"too-many-items"}
    assert {"too-many-items", "too-many-urls"} == LIMIT_CODES


def test_500001_items_split_into_parts_that_keep_the_top_level_options(tmp_path: Path, big500: Path) -> None:
    source = big500
    out = tmp_path / "parts"
    result = split_file(source, out, max_items=250_000)
    assert [f.name for f in result.files] == [f"big-part-00{k}-of-003.json" for k in (1, 2, 3)]
    assert result.items == [250_000, 250_000, 1]
    assert listing(out) == [f.name for f in result.files]  # nothing else left there
    urls = []
    for f in result.files:
        part = json.loads(f.read_text())
        assert {k: v for k, v in part.items() if k != "images"} == {
            "skip_duplicate_urls": True, "upsert_metadata": True, "x_note": "kept"}
        urls += [i["objectUrl"] for i in part["images"]]
    assert urls == [f"{S3}/i/{i}.jpg" for i in range(500_001)]
    last = validate_path(result.files[-1])
    assert last.valid and [d.code for d in last.diagnostics] == ["unknown-key"]  # x_note: a warning only


def test_500001_items_default_split_follows_the_seed_advice(tmp_path: Path, big500: Path) -> None:
    result = split_file(big500, tmp_path / "p")
    assert len(result.files) == 501 and set(result.items[:-1]) == {1000} and result.items[-1] == 1
    assert result.files[0].name == "big-part-001-of-501.json"
    assert len(listing(tmp_path / "p")) == 501


def test_1000001_urls_split_by_urls_counting_every_file_of_a_series(tmp_path: Path) -> None:
    source = big_series(tmp_path / "dicom.json")
    parsed = parse_path(source)
    assert parsed.result.urls == 1_000_100 and {d.code for d in parsed.result.errors} == {"too-many-urls"}
    # at most 500,000 items per part would allow all 10,001 series: the URL limit cuts them
    result = split_parsed(parsed, tmp_path / "p", stem="dicom", max_items=500_000, inputs=[source])
    assert result.items == [10_000, 1]
    first = json.loads(result.files[0].read_text())
    assert sum(len(s) - 1 for s in first["dicom_series"]) == 1_000_000
    assert first["skip_duplicate_urls"] is True
    assert validate_path(result.files[1]).valid


def test_a_group_is_counted_by_its_files_for_the_url_limit() -> None:
    groups = [{"title": f"g{i}", **{f"objectUrl_{k}": f"{S3}/{i}/{k}.jpg" for k in range(3)}} for i in range(5)]
    assert split_mod._url_count("image_groups", groups[0]) == 3
    # the cap on URLs (a CSV's 10,000 rows, here 7) never cuts a group: 2 groups (6 URLs) per part
    parts = chunk({"image_groups": groups, "upsert_metadata": False}, max_items=100, max_rows=7)
    assert [len(p["image_groups"]) for p in parts] == [2, 2, 1]
    assert all(p["upsert_metadata"] is False for p in parts)


def test_a_csv_over_10000_entries_is_split_into_csv_parts(tmp_path: Path) -> None:
    csv = tmp_path / "many.csv"
    csv.write_text("ObjectUrl,Image title\n" + "".join(f"{S3}/i/{i}.jpg,t{i}\n" for i in range(10_001)))
    result = split_file(csv, tmp_path / "p", max_items=10_000)
    assert result.items == [10_000, 1] and [f.suffix for f in result.files] == [".csv", ".csv"]
    assert all(validate_path(f).valid for f in result.files)
    merged = [i for f in result.files for i in parse_path(f).data["images"]]
    assert merged == parse_path(csv).data["images"]


def test_any_other_error_still_blocks(tmp_path: Path) -> None:
    source = big_images(tmp_path / "big.json", bad_at=7)
    with pytest.raises(ManifestHasErrors) as exc:
        split_file(source, tmp_path / "p")
    assert exit_code_for(exc.value) == 1 and "besides Encord's size limits" in str(exc.value)
    assert "fix it first" in (exc.value.hint or "")
    assert not (tmp_path / "p").exists()
    small = tmp_path / "small.json"
    small.write_text('{"images": [{"objectUrl": "<bucket>/x.jpg"}]}')
    with pytest.raises(ManifestHasErrors):
        split_file(small, tmp_path / "p")
    syntax = tmp_path / "syntax.json"
    syntax.write_text('{"images": [}')
    with pytest.raises(InvalidInput) as exc:
        split_file(syntax, tmp_path / "p")
    assert exit_code_for(exc.value) == 2  # unreadable as written


# -- all or nothing ------------------------------------------------------------------------------

def _small(tmp_path: Path, n: int = 25) -> Path:
    source = tmp_path / "m.json"
    source.write_text(json.dumps({"images": [{"objectUrl": f"{S3}/{i}.jpg"} for i in range(n)],
                                  "skip_duplicate_urls": True}))
    return source


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, OSError])
def test_a_failure_while_moving_parts_into_place_leaves_nothing(tmp_path: Path, monkeypatch, exc_type) -> None:
    source = _small(tmp_path)
    out = tmp_path / "p"
    out.mkdir()
    real_link = os.link
    calls = {"n": 0}

    def link(a, b, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise exc_type(28, "No space left on device") if exc_type is OSError else exc_type()
        return real_link(a, b, *args, **kwargs)

    monkeypatch.setattr(split_mod.os, "link", link)
    monkeypatch.setattr(split_mod.os, "rename", lambda *a, **k: (_ for _ in ()).throw(exc_type()))
    # an OSError from link falls back to a rename, which fails too: one line (AnnotrainError)
    with pytest.raises(KeyboardInterrupt if exc_type is KeyboardInterrupt else AnnotrainError):
        split_file(source, out, max_items=5)
    assert listing(out) == []  # neither parts 1-2 nor any temporary file


def test_an_interrupt_while_writing_removes_the_temporary_files(tmp_path: Path, monkeypatch) -> None:
    source = _small(tmp_path)
    out = tmp_path / "p"
    real_fsync = os.fsync
    calls = {"n": 0}

    def fsync(fd):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real_fsync(fd)

    monkeypatch.setattr(split_mod.os, "fsync", fsync)
    with pytest.raises(KeyboardInterrupt):
        split_file(source, out, max_items=5)
    assert listing(out) == []
    monkeypatch.setattr(split_mod.os, "fsync", real_fsync)
    assert len(split_file(source, out, max_items=5).files) == 5  # the rerun is not refused


def test_with_force_a_failure_puts_back_the_parts_it_replaced(tmp_path: Path, monkeypatch) -> None:
    source = _small(tmp_path)
    out = tmp_path / "p"
    first = split_file(source, out, max_items=10)
    before = {f.name: f.read_bytes() for f in first.files}
    source.write_text(json.dumps({"images": [{"objectUrl": f"{S3}/new/{i}.jpg"} for i in range(25)]}))
    real_rename = os.rename
    calls = {"n": 0}

    def rename(a, b):
        calls["n"] += 1
        if calls["n"] == 4:  # part 2 moved aside, then its new text fails to move in
            raise OSError(5, "Input/output error")
        return real_rename(a, b)

    monkeypatch.setattr(split_mod.os, "rename", rename)
    with pytest.raises(AnnotrainError):
        split_file(source, out, max_items=10, force=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    monkeypatch.setattr(split_mod.os, "rename", real_rename)
    again = split_file(source, out, max_items=10, force=True)
    assert json.loads(again.files[0].read_text())["images"][0]["objectUrl"] == f"{S3}/new/0.jpg"
    assert listing(out) == [f.name for f in again.files]


def test_a_run_killed_outright_leaves_nothing_that_refuses_the_rerun(tmp_path: Path) -> None:
    source = _small(tmp_path)
    out = tmp_path / "p"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    # what a split killed with SIGKILL leaves: hidden temporary files named after its process
    stale = out / f".m-part-001-of-003.json.annotrain-split-{dead.pid}-0123456789ab.tmp"
    stale.write_text("{")
    mine = out / f".m-part-002-of-003.json.annotrain-split-{os.getpid()}-0123456789ab.tmp"
    mine.write_text("{")  # a split of a process still running (this one): left alone
    other = out / ".notes.json.annotrain-split-1-0123456789ab.tmp"
    other.write_text("{")  # not a part of this manifest: left alone
    result = split_file(source, out, max_items=10)
    assert len(result.files) == 3
    assert listing(out) == sorted([mine.name, other.name] + [f.name for f in result.files])
    with pytest.raises(OutputExists):  # the parts themselves still need --force
        split_file(source, out, max_items=10)


def test_a_subprocess_killed_while_writing_parts_then_rerun(tmp_path: Path) -> None:
    """The real thing: a split process killed (SIGKILL) just before moving its parts into place."""
    source = _small(tmp_path, 30)
    out = tmp_path / "p"
    code = (
        "import os, sys\n"
        "from annotrain_tui.core.manifest import split as s\n"
        "real = s.check_output\n"
        "n = {'k': 0}\n"
        "def check(t, **kw):\n"
        "    n['k'] += 1\n"
        "    if n['k'] > 3:\n"  # the re-check before the first rename: every part is staged
        "        os.kill(os.getpid(), 9)\n"
        "    return real(t, **kw)\n"
        "s.check_output = check\n"
        f"s.split_file({str(source)!r}, {str(out)!r}, max_items=10)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                          capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr
    left = listing(out)
    assert len(left) == 3 and all(".annotrain-split-" in name and name.startswith(".") for name in left)
    result = split_file(source, out, max_items=10)  # not refused; the dead run's files are gone
    assert listing(out) == [f.name for f in result.files]


# -- register in batches (core) ------------------------------------------------------------------

from annotrain_tui.core import registration as reg  # noqa: E402
from annotrain_tui.core.config import Paths  # noqa: E402
from annotrain_tui.core.models import JobStatus, RegistrationResult  # noqa: E402


class PartsOnly:
    """The sandbox for folders and integrations; jobs answered at once without creating items (a
    500,001-item registration in parts, at the speed of the batching itself). ``die_at``: raise
    between parts, as a kill would stop the run, when that part would start."""

    def __init__(self, inner, die_at: int | None = None) -> None:
        self.inner, self.die_at, self.sent = inner, die_at, []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def start_registration(self, folder_id, integration_id, manifest, *, ignore_errors=True):
        if self.die_at is not None and len(self.sent) + 1 == self.die_at:
            raise RuntimeError("killed between parts")
        self.sent.append(manifest)
        return f"job-{len(self.sent):04d}"

    def get_registration_result(self, folder_id, job_id, *, timeout_seconds=0.0):
        n = int(job_id.rsplit("-", 1)[1])
        return RegistrationResult(status=JobStatus.DONE, items_created=reg.count_urls(self.sent[n - 1]))


def test_batch_parts_follow_the_seed_by_type() -> None:
    data = {"videos": [{"objectUrl": f"{S3}/v/{i}.mp4"} for i in range(150)],
            "audio": [{"objectUrl": f"{S3}/a/{i}.mp3"} for i in range(1500)], "skip_duplicate_urls": True}
    parts = reg.batch_parts(data)
    assert [(len(p.get("videos", [])), len(p.get("audio", []))) for p in parts] == [(100, 0), (50, 500), (0, 1000)]
    assert all(p["skip_duplicate_urls"] is True for p in parts)
    assert [len(p["audio"]) for p in reg.batch_parts({"audio": data["audio"]}, 700)] == [700, 700, 100]
    note = reg.advice(data)
    assert note is not None and reg.ADVICE in note and "3 jobs" in note
    assert reg.advice({"videos": data["videos"][:100]}) is None


def test_500001_items_registered_in_batches(sandbox, big500: Path) -> None:
    sandbox.add_integration("S3", "aws")
    sandbox.create_folder("F")
    manifest, _ = reg.load_for_registration(str(big500), batched=True)
    assert len(reg.batch_parts(manifest)) == 501  # the seed's default: 1,000 images per job
    backend = PartsOnly(sandbox)
    events: list[tuple[str, int]] = []
    status = reg.register_batch(backend, reg.JobStore(Paths.default()), manifest, manifest_path=str(big500),
                                integration_ref="S3", folder_ref="F", limit=100_000, step=0,
                                on_event=lambda kind, plan, r: events.append((kind, r.batch.part if r else 0)))
    assert status.status == "done" and status.parts == 6 and status.items_created == 500_001
    assert [reg.count_urls(m) for m in backend.sent] == [100_000] * 5 + [1]
    assert all(m["skip_duplicate_urls"] is True and m["upsert_metadata"] is True for m in backend.sent)
    # one part at a time: each finishes before the next starts
    assert events == [("plan", 0)] + [e for k in range(1, 7) for e in (("started", k), ("poll", k), ("finished", k))]


def test_a_kill_between_parts_then_the_rerun_continues(sandbox) -> None:
    sandbox.add_integration("S3", "aws")
    manifest = {"images": [{"objectUrl": f"{S3}/ok/{i}.jpg"} for i in range(10)], "upsert_metadata": False}
    store = reg.JobStore(Paths.default())
    dying = PartsOnly(sandbox, die_at=3)
    kwargs = dict(manifest_path="m.json", integration_ref="S3", folder_ref="/New", create_folder=True, limit=3,
                  step=0)
    with pytest.raises(RuntimeError):
        reg.register_batch(dying, store, manifest, **kwargs)
    [batch] = reg.group_batches(reg.jobs_of_workspace(sandbox, store).mine)[0]
    assert batch.status == "incomplete" and batch.not_started == [3, 4] and batch.items_created == 6
    again = PartsOnly(sandbox)
    again.sent = list(dying.sent)  # the same server: job ids go on
    status = reg.register_batch(again, store, manifest, **{**kwargs, "limit": 5})  # another --batch: the recorded one
    assert status.id == batch.id and status.status == "done" and status.items_created == 10
    assert [reg.count_urls(m) for m in again.sent[2:]] == [3, 1]  # parts 3 and 4 only
    # the same registration once more starts nothing; new=True starts a new batch
    assert reg.register_batch(again, store, manifest, **kwargs).id == batch.id and len(again.sent) == 4
    fresh = reg.register_batch(again, store, manifest, **kwargs, new=True)
    assert fresh.id != batch.id and len(again.sent) == 8


def test_batch_key_is_the_content_folder_integration_and_workspace() -> None:
    a = {"images": [{"objectUrl": f"{S3}/1.jpg", "title": "t"}]}
    b = {"images": [{"title": "t", "objectUrl": f"{S3}/1.jpg"}]}  # same content, other key order
    assert reg.manifest_hash(a) == reg.manifest_hash(b)
    key = reg.batch_key("sandbox /w.db", "f1", "i1", reg.manifest_hash(a))
    assert key != reg.batch_key("sandbox /w.db", "f2", "i1", reg.manifest_hash(a))
    assert key != reg.batch_key("sandbox /other.db", "f1", "i1", reg.manifest_hash(a))
    assert key != reg.batch_key("sandbox /w.db", "f1", "i1", reg.manifest_hash({"images": []}))


def test_retry_batch_sends_only_the_failed_urls_of_every_part(sandbox) -> None:
    sandbox.add_integration("S3", "aws")
    urls = ["ok/1", "flaky/2", "ok/3", "missing/4", "flaky/5"]
    manifest = {"images": [{"objectUrl": f"{S3}/{u}.jpg"} for u in urls], "skip_duplicate_urls": True}
    store = reg.JobStore(Paths.default())
    status = reg.register_batch(sandbox, store, manifest, manifest_path="m.json", integration_ref="S3",
                                folder_ref="/R", create_folder=True, limit=2, step=0)
    assert status.parts == 3 and len(status.failed_urls) == 3 and status.items_created == 2
    retries = reg.retry_batch(sandbox, store, status)
    assert sorted(r.urls for r in retries) == [1, 1, 1]
    assert all(store.manifest(r.id)["skip_duplicate_urls"] is True for r in retries)
    for r in retries:
        reg.wait(sandbox, store, r, step=0)
    after = reg.find_batch(sandbox, store, status.id[:9])
    assert after.failed_urls == [f"{S3}/missing/4.jpg"] and after.items_created == 4
    [second] = reg.retry_batch(sandbox, store, after)
    assert second.urls == 1 and second.retry_of == next(p.leaf.id for p in after.part_status if p.failed_urls)
    with pytest.raises(Exception, match="running"):
        reg.retry_batch(sandbox, store, reg.find_batch(sandbox, store, status.id))


def test_500001_items_registered_in_batches_on_the_real_sandbox(sandbox, big500: Path, monkeypatch) -> None:
    """Issue 17, must show: the 500,001-item manifest registered in batches on the sandbox itself (its
    duplicate check reads only each part's URLs, so 501 parts into a growing folder stay linear)."""
    monkeypatch.setenv("ANNOTRAIN_SANDBOX_JOB_SECONDS", "0")
    sandbox.add_integration("S3", "aws")
    folder = sandbox.create_folder("F")
    manifest, _ = reg.load_for_registration(str(big500), batched=True)
    status = reg.register_batch(sandbox, reg.JobStore(Paths.default()), manifest, manifest_path=str(big500),
                                integration_ref="S3", folder_ref="F", step=0)
    assert status.status == "done" and status.parts == 501 and status.items_created == 500_001
    (n,) = sandbox.store.query("SELECT COUNT(*) AS n FROM items WHERE folder_id = ?", (folder.id,))
    assert n["n"] == 500_001


def test_a_manifest_over_a_million_urls_registered_in_batches_on_the_sandbox(sandbox, tmp_path, monkeypatch) -> None:
    """1,000,100 URLs in 10,001 DICOM series: over Encord's per-manifest limit, registered as parts
    that each stay under it (here 1,000 series, 100,000 files, per job) into one folder."""
    monkeypatch.setenv("ANNOTRAIN_SANDBOX_JOB_SECONDS", "0")
    sandbox.add_integration("S3", "aws")
    folder = sandbox.create_folder("D")
    source = big_series(tmp_path / "dicom.json")
    manifest, _ = reg.load_for_registration(str(source), batched=True)
    status = reg.register_batch(sandbox, reg.JobStore(Paths.default()), manifest, manifest_path=str(source),
                                integration_ref="S3", folder_ref="D", limit=1_000, step=0)
    assert status.status == "done" and status.parts == 11 and status.items_created == 10_001
    (n,) = sandbox.store.query("SELECT COUNT(*) AS n FROM items WHERE folder_id = ?", (folder.id,))
    assert n["n"] == 10_001  # one item per series


def test_a_split_killed_while_placing_its_parts_is_undone_by_the_next_one(tmp_path: Path) -> None:
    """Trial (issue 17): SIGKILL after 3 of 6 parts were moved into place left a set that looked
    finished, and the rerun refused it without --force. The journal written before placing lets
    the next split put the directory back, then write the whole set."""
    import subprocess
    import sys

    source = tmp_path / "m.json"
    source.write_text(json.dumps({"images": [{"objectUrl": f"{S3}/i/{i}.jpg"} for i in range(60)]}))
    out = tmp_path / "parts"
    code = f"""
import os, signal
from annotrain_tui.core.manifest import split
n = [0]
real = os.link
def link(a, b):
    real(a, b)
    n[0] += 1
    if n[0] == 3:
        os.kill(os.getpid(), signal.SIGKILL)
os.link = link
split.split_file({str(source)!r}, {str(out)!r}, max_items=10)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == -9
    assert len([p for p in out.iterdir() if not p.name.startswith(".")]) == 3  # a partial set, for now
    result = split_file(source, out, max_items=10)  # no --force needed
    visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert visible == [f"m-part-{n:03d}-of-006.json" for n in range(1, 7)] and len(result.files) == 6
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp or journal left
