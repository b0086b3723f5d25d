"""`annotrain register` and `annotrain jobs` against the sandbox."""

from __future__ import annotations

import json

from annotrain_tui.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_register_wait_lists_failures_and_retry_reregisters_only_them(capsys, tmp_path):
    run(capsys, "sandbox", "init", "--demo")
    m = tmp_path / "m.json"
    m.write_text(json.dumps({"images": [
        {"objectUrl": "https://street-scenes-training.s3.eu-west-1.amazonaws.com/b/ok.jpg"},
        {"objectUrl": "https://street-scenes-training.s3.eu-west-1.amazonaws.com/b/flaky.jpg"}]}))
    code, out, _ = run(capsys, "register", str(m), "--integration", "AWS S3 - street-scenes",
                       "--folder", "/Training Data/Batch 2", "--create-folder", "--wait", "--json")
    doc = json.loads(out)
    assert code == 1 and doc["status"] == "done" and doc["items_created"] == 1
    assert doc["failed_urls"] == ["https://street-scenes-training.s3.eu-west-1.amazonaws.com/b/flaky.jpg"]
    code, out, _ = run(capsys, "jobs", "--retry", doc["id"][:8], "--watch", "--json")
    retry = json.loads(out)
    assert code == 0 and retry["retry_of"] == doc["id"] and retry["urls"] == 1 and retry["failed_urls"] == []
    code, out, _ = run(capsys, "jobs", "--json")
    assert [j["id"] for j in json.loads(out)["jobs"]] == [retry["id"], doc["id"]]
    code, out, _ = run(capsys, "folders", "list", "--json")
    batch = next(f for f in json.loads(out)["folders"] if f["path"] == "/Training Data/Batch 2")
    assert batch["item_count"] == 2


def test_an_invalid_manifest_registers_nothing(capsys, tmp_path):
    run(capsys, "sandbox", "init", "--demo")
    m = tmp_path / "bad.json"
    m.write_text('{"images": [{"objectUrl": "<bucket>/a.jpg"}, ]}')
    code, out, err = run(capsys, "register", str(m), "--integration", "AWS S3 - street-scenes", "--folder", "Archive")
    assert code == 1 and "nothing registered" in err and err.count("\n") == 1
    code, out, _ = run(capsys, "jobs", "--json")
    assert json.loads(out)["jobs"] == []


def test_unknown_integration_suggests(capsys, tmp_path):
    run(capsys, "sandbox", "init", "--demo")
    m = tmp_path / "m.json"
    m.write_text('{"images": [{"objectUrl": "https://x.example.com/a.jpg"}]}')
    code, _, err = run(capsys, "register", str(m), "--integration", "AWS S3 street-scenes", "--folder", "Archive")
    assert code == 1 and "did you mean 'AWS S3 - street-scenes'" in err


def test_create_folder_says_when_it_created_one(capsys, tmp_path, monkeypatch):
    """Issue 17, item 6: --create-folder never creates silently; an existing folder is just used."""
    from annotrain_tui.cli import main

    monkeypatch.setenv("ANNOTRAIN_SANDBOX_JOB_SECONDS", "0")
    main(["sandbox", "init", "--demo"])
    capsys.readouterr()
    manifest = tmp_path / "m.json"
    manifest.write_text('{"images": [{"objectUrl": "https://b.s3.eu-west-1.amazonaws.com/z.jpg"}]}')
    argv = ["register", str(manifest), "--folder", "/Made/Here", "--create-folder", "--integration",
            "AWS S3 - street-scenes"]
    assert main(argv) == 0
    assert "created folder '/Made/Here'" in capsys.readouterr().err
    assert main(argv) == 0
    assert "created folder" not in capsys.readouterr().err
