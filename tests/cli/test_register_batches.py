"""Issue 17 through the real CLI: `manifest split` over Encord's limits, `register --batch`, `jobs`
grouping a batch, `jobs --retry batch-…`, and a batch killed between parts continued by a rerun."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotrain_tui.cli import main
from annotrain_tui.core.backends.sandbox import SandboxBackend

S3 = "https://street-scenes-training.s3.eu-west-1.amazonaws.com"
INTEGRATION = "AWS S3 - street-scenes"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def images(path: Path, names: list[str], **top) -> Path:
    path.write_text(json.dumps({"images": [{"objectUrl": f"{S3}/b/{n}.jpg"} for n in names], **top}))
    return path


NAMES = ["a", "b", "flaky-c", "d", "missing-e", "f", "g"]


def folder_items(capsys, path: str) -> int:
    code, out, _ = run(capsys, "folders", "list", "--json")
    return next(f for f in json.loads(out)["folders"] if f["path"] == path)["item_count"]


# -- manifest split ------------------------------------------------------------------------------

def test_split_cli_takes_500001_items(capsys, tmp_path: Path) -> None:
    body = ",".join(f'{{"objectUrl": "{S3}/i/{i}.jpg"}}' for i in range(500_001))
    source = tmp_path / "big.json"
    source.write_text(f'{{"images": [{body}], "skip_duplicate_urls": true, "upsert_metadata": true}}')
    code, out, err = run(capsys, "manifest", "validate", str(source))
    assert code == 1 and "too-many-items" in out and "manifest split" in out
    code, out, err = run(capsys, "manifest", "split", str(source), "--max-items", "250000",
                         "--out-dir", str(tmp_path / "p"), "--json")
    doc = json.loads(out)
    assert code == 0 and [f["items"] for f in doc["files"]] == [250_000, 250_000, 1] and doc["warnings"] == []
    last = json.loads(Path(doc["files"][-1]["path"]).read_text())
    assert last == {"images": [{"objectUrl": f"{S3}/i/500000.jpg"}], "skip_duplicate_urls": True,
                    "upsert_metadata": True}
    code, out, _ = run(capsys, "manifest", "validate", doc["files"][0]["path"])
    assert code == 0


def test_split_cli_refuses_other_errors(capsys, tmp_path: Path) -> None:
    source = tmp_path / "bad.json"
    source.write_text(json.dumps({"images": [{"objectUrl": "<bucket>/a.jpg"}, {"objectUrl": f"{S3}/b.jpg"}]}))
    code, out, err = run(capsys, "manifest", "split", str(source), "--max-items", "1", "--out-dir", str(tmp_path / "p"))
    assert code == 1 and "fix it first" in err and err.count("\n") == 1
    assert not (tmp_path / "p").exists() or list((tmp_path / "p").iterdir()) == []


# -- register --batch ----------------------------------------------------------------------------

def test_register_batch_jobs_and_retry_of_every_part(capsys, tmp_path: Path) -> None:
    run(capsys, "sandbox", "init", "--demo")
    m = images(tmp_path / "m.json", NAMES, skip_duplicate_urls=True)
    code, out, err = run(capsys, "register", str(m), "--integration", INTEGRATION, "--folder", "/Training Data/B17",
                         "--create-folder", "--batch", "2", "--json")
    doc = json.loads(out)
    assert code == 1  # URLs failed
    assert doc["status"] == "done" and doc["parts"] == 4 and doc["parts_finished"] == 4 and doc["urls"] == 7
    assert doc["items_created"] == 5 and sorted(doc["failed_urls"]) == [f"{S3}/b/flaky-c.jpg", f"{S3}/b/missing-e.jpg"]
    assert [p["urls"] for p in doc["part_jobs"]] == [2, 2, 2, 1] and doc["id"].startswith("batch-")
    batch = doc["id"]

    code, out, _ = run(capsys, "jobs", "--json")
    listing = json.loads(out)
    assert code == 0 and [b["id"] for b in listing["batches"]] == [batch]
    assert len(listing["jobs"]) == 4 and all(j["batch"]["id"] == batch for j in listing["jobs"])
    assert all(j["batch"]["manifest_path"] == str(m) for j in listing["jobs"])
    code, out, _ = run(capsys, "jobs")
    lines = out.splitlines()
    assert lines[2].startswith(batch) and "done 4/4" in lines[2] and "5/7" in lines[2]
    assert [ln.split()[0] for ln in lines[3:7]] == ["1/4", "2/4", "3/4", "4/4"]

    code, out, _ = run(capsys, "jobs", "--retry", batch[:10], "--watch", "--json")
    retried = json.loads(out)
    assert code == 1  # the missing file fails again
    assert [r["urls"] for r in retried["retries"]] == [1, 1]  # only the failed URLs, one job per part
    assert all(r["batch"]["id"] == batch for r in retried["retries"])
    assert retried["failed_urls"] == [f"{S3}/b/missing-e.jpg"] and retried["items_created"] == 6
    # a second retry sends only what failed again
    code, out, _ = run(capsys, "jobs", "--retry", batch, "--watch", "--json")
    again = json.loads(out)
    assert [r["urls"] for r in again["retries"]] == [1] and again["failed_urls"] == [f"{S3}/b/missing-e.jpg"]
    code, out, _ = run(capsys, "jobs")
    assert "done 4/4" in out and "6/7" in out
    assert folder_items(capsys, "/Training Data/B17") == 6

    code, out, err = run(capsys, "register", str(m), "--integration", INTEGRATION, "--folder", "/Training Data/B17",
                         "--batch", "2")  # the same registration again: continues (nothing left), starts nothing
    assert "Continuing batch " + batch in out and "nothing left to start" in out
    assert folder_items(capsys, "/Training Data/B17") == 6


def test_register_batch_default_follows_the_seed_and_a_warning_without_batch(capsys, tmp_path: Path) -> None:
    run(capsys, "sandbox", "init", "--demo")
    m = images(tmp_path / "many.json", [f"i{k}" for k in range(1001)], skip_duplicate_urls=True)
    code, out, err = run(capsys, "register", str(m), "--integration", INTEGRATION, "--folder", "Incoming", "--wait")
    assert code == 0 and err.count("Limit uploads to 100 videos or up to 1,000 images at a time") == 1
    assert "see 'annotrain register ... --batch'" in err and "2 jobs" in err
    m2 = images(tmp_path / "more.json", [f"j{k}" for k in range(1001)])
    code, out, err = run(capsys, "register", str(m2), "--integration", INTEGRATION, "--folder", "Incoming",
                         "--batch", "--json")
    doc = json.loads(out)
    assert code == 0 and [p["urls"] for p in doc["part_jobs"]] == [1000, 1] and "Limit uploads" not in err
    small = images(tmp_path / "small.json", ["x"])
    code, out, err = run(capsys, "register", str(small), "--integration", INTEGRATION, "--folder", "Incoming")
    assert code == 0 and "Limit uploads" not in err


def test_over_the_limits_needs_batch(capsys, tmp_path: Path, monkeypatch) -> None:
    import annotrain_tui.core.manifest.rules as rules

    monkeypatch.setattr(rules, "MAX_ITEMS", 3)  # the limit check, at a size a test registers quickly
    run(capsys, "sandbox", "init", "--demo")
    m = images(tmp_path / "m.json", ["a", "b", "c", "d"])
    code, out, err = run(capsys, "register", str(m), "--integration", INTEGRATION, "--folder", "Incoming")
    assert code == 1 and "too-many-items" in err and "--batch" in err
    code, out, err = run(capsys, "register", str(m), "--integration", INTEGRATION, "--folder", "Incoming",
                         "--batch", "3", "--json")
    assert code == 0 and json.loads(out)["items_created"] == 4


@pytest.mark.parametrize("value", ["0", "x", "500001"])
def test_batch_value_is_checked(capsys, tmp_path: Path, value: str) -> None:
    m = images(tmp_path / "m.json", ["a"])
    with pytest.raises(SystemExit) as exc:
        main(["register", str(m), "--integration", INTEGRATION, "--folder", "Incoming", "--batch", value])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "--batch" in err and err.count("\n") == 1


def test_a_batch_killed_between_parts_is_continued_by_the_same_command(capsys, tmp_path: Path, monkeypatch) -> None:
    run(capsys, "sandbox", "init", "--demo")
    m = images(tmp_path / "m.json", NAMES)
    argv = ["register", str(m), "--integration", INTEGRATION, "--folder", "Incoming", "--batch", "2"]
    real = SandboxBackend.start_registration
    calls: list[int] = []

    def start_then_die(self, folder_id, integration_id, manifest, **kw):
        calls.append(len(manifest["images"]))
        if len(calls) == 3:  # between part 2 (finished) and part 3: the user presses Ctrl+C, or the process dies
            raise KeyboardInterrupt
        return real(self, folder_id, integration_id, manifest, **kw)

    monkeypatch.setattr(SandboxBackend, "start_registration", start_then_die)
    code, out, err = run(capsys, *argv)
    assert code == 130 and "part 2/4: job" in out and "part 3/4" not in out
    assert "Run the same command again to continue" in err
    code, out, _ = run(capsys, "jobs", "--json")
    [batch] = json.loads(out)["batches"]
    assert batch["status"] == "incomplete" and batch["parts_not_started"] == [3, 4]
    code, out, _ = run(capsys, "jobs")
    assert "incomplete 2/4" in out and "2 of 4 part(s) not started" in out

    monkeypatch.setattr(SandboxBackend, "start_registration", real)
    before = folder_items(capsys, "/Training Data/Incoming")
    code, out, err = run(capsys, *argv, "--json")
    doc = json.loads(out)
    assert doc["id"] == batch["id"] and doc["status"] == "done" and doc["parts_finished"] == 4
    assert [p["job"] for p in doc["part_jobs"][:2]] == [p["job"] for p in batch["part_jobs"]]  # not started again
    assert folder_items(capsys, "/Training Data/Incoming") == before + 2  # parts 3 and 4 only: g, f (missing-e fails)
    code, out, _ = run(capsys, "jobs", "--json")
    assert len(json.loads(out)["jobs"]) == 4
