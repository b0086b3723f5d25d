"""The CLI on the encord backend: the real SDK against the loopback fake of Encord's API."""

from __future__ import annotations

import json
import logging

import pytest

from annotrain_tui.cli import main
from tests.fake_encord import PASSPHRASE, write_rsa_key


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def encord_args(fake, key) -> list[str]:
    return ["--backend", "encord", "--ssh-key", str(key), "--domain", fake.url]


def test_projects_list_against_the_fake(capsys, fake, encord_keys):
    code, out, err = run(capsys, *encord_args(fake, encord_keys["plain"].path), "projects", "list")
    assert code == 0 and err == ""
    assert "Benchmark Labels" in out and "Annotator Training - Alex Kim" in out
    # one paged listing: datasets and users are one more call per project, asked for with --details
    assert "Street Scene Objects" in out and "(--details)" in out and "gold.expert" not in out
    assert {e.route for e in fake.log if e.route.startswith("projects.")} == {"projects.list"}
    code, out, err = run(capsys, *encord_args(fake, encord_keys["plain"].path), "projects", "list", "--details")
    assert code == 0 and "gold.expert@example.com (annotator)" in out


def test_projects_list_json_and_options_after_the_command(capsys, fake, encord_keys):
    code, out, _ = run(capsys, "projects", "list", "--json", *encord_args(fake, encord_keys["plain"].path))
    assert code == 0
    doc = json.loads(out)
    assert doc["backend"] == f"encord {fake.url}"
    bench = next(p for p in doc["projects"] if p["title"] == "Benchmark Labels")
    assert bench["datasets"] is None and bench["users"] is None and bench["your_role"] == "admin"
    assert [st["kind"] for st in bench["stages"]] == ["annotation", "review", "done"]
    code, out, _ = run(capsys, "projects", "list", "--json", "--details", *encord_args(fake, encord_keys["plain"].path))
    bench = next(p for p in json.loads(out)["projects"] if p["title"] == "Benchmark Labels")
    assert bench["datasets"] == [{"id": fake.demo.dataset, "title": "Annotator Training Set"}]
    assert bench["ontology"]["title"] == "Street Scene Objects"


def test_folders_integrations_and_status(capsys, fake, encord_keys):
    args = encord_args(fake, encord_keys["plain"].path)
    code, out, _ = run(capsys, *args, "folders", "list", "--json")
    assert code == 0 and "/Training Data/Street Scenes" in [f["path"] for f in json.loads(out)["folders"]]
    code, out, _ = run(capsys, *args, "integrations", "list")
    assert code == 0 and "Street Scenes S3" in out and "AWS S3" in out
    code, out, _ = run(capsys, *args, "status", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["benchmarks"][0]["complete"] == 4 and doc["benchmarks"][0]["total"] == 4


def _one_clear_line(err: str, *keys) -> None:
    assert err.count("\n") == 1 and err.startswith("annotrain: error: ") and "Traceback" not in err
    for key in keys:
        assert key.secret_fragment not in err and "PRIVATE KEY" not in err


def test_a_passphrase_key_without_its_passphrase(capsys, caplog, fake, encord_keys):
    caplog.set_level(logging.DEBUG)
    locked = encord_keys["locked"]
    code, out, err = run(capsys, *encord_args(fake, locked.path), "projects", "list")
    assert code == 1 and out == ""
    _one_clear_line(err, locked)
    assert "passphrase" in err and "ENCORD_SSH_KEY_PASSPHRASE" in err
    assert locked.secret_fragment not in caplog.text


def test_a_passphrase_from_the_environment_unlocks_the_key(capsys, fake, encord_keys, monkeypatch):
    monkeypatch.setenv("ENCORD_SSH_KEY_PASSPHRASE", PASSPHRASE)
    code, out, err = run(capsys, *encord_args(fake, encord_keys["locked"].path), "datasets", "list")
    assert code == 0 and "Annotator Training Set" in out and PASSPHRASE not in out + err


def test_a_bad_key_is_one_line_and_shows_no_key_material(capsys, caplog, fake, tmp_path):
    caplog.set_level(logging.DEBUG)
    rsa = write_rsa_key(tmp_path / "id_rsa")
    code, out, err = run(capsys, *encord_args(fake, rsa.path), "projects", "list")
    assert code == 2 and out == ""
    _one_clear_line(err, rsa)
    assert "Ed25519" in err
    assert rsa.secret_fragment not in caplog.text


def test_a_missing_key_file(capsys, fake, tmp_path):
    code, out, err = run(capsys, *encord_args(fake, tmp_path / "id_missing"), "projects", "list")
    assert code == 2 and out == ""
    _one_clear_line(err)
    assert "does not exist" in err


def test_a_key_encord_does_not_know(capsys, fake, encord_keys):
    stranger = encord_keys["stranger"]
    code, out, err = run(capsys, *encord_args(fake, stranger.path), "projects", "list")
    assert code == 1 and out == ""
    _one_clear_line(err, stranger)
    assert "did not accept the SSH key" in err


@pytest.mark.parametrize("status,code,words", [(403, 1, "refused listing projects"), (429, 1, "rate limiting")])
def test_server_refusals_are_one_line(capsys, fake, encord_keys, status, code, words):
    from tests.fake_encord import Fault

    assert run(capsys, "config", "set", "retry_base_delay", "0")[0] == 0  # retries without waiting
    fake.inject("projects.list", Fault(status=status, times=10))
    got, out, err = run(capsys, *encord_args(fake, encord_keys["plain"].path), "projects", "list", "--json")
    assert got == code and out == ""
    _one_clear_line(err)
    assert words in err


def test_a_bearer_token_from_the_environment_signs_in_and_is_never_shown(capsys, caplog, fake, monkeypatch):
    """Issue 12: the SDK's other documented sign-in (create_with_bearer_token), from the environment only."""
    caplog.set_level(logging.DEBUG)
    token = "tok_" + "Zq8" * 12
    fake.register_token(token)
    monkeypatch.setenv("ENCORD_BEARER_TOKEN", token)
    base = ["--backend", "encord", "--domain", fake.url]
    code, out, err = run(capsys, *base, "projects", "list", "--json")
    assert code == 0 and "Benchmark Labels" in out
    code, out, err = run(capsys, *base, "doctor", "--json")
    assert token not in out + err
    monkeypatch.setenv("ENCORD_BEARER_TOKEN", "tok_" + "Wr0ng" * 8)
    code, out, err = run(capsys, *base, "projects", "list")
    assert code == 1 and out == "" and "did not accept the bearer token" in err and "ENCORD_BEARER_TOKEN" in err
    assert "Wr0ng" not in err and token not in caplog.text and "Wr0ng" not in caplog.text


def test_what_the_backend_noticed_is_in_the_evaluation_json_and_said_once(capsys, fake, encord_keys):
    """Issue 12: a row the bundle answer left out is a warning of the result (--json), not only of stderr."""
    box = {"x": 0.1, "y": 0.1, "w": 0.2, "h": 0.3}
    for item in fake.demo.items[1:3]:
        fake.ws.label(fake.demo.training, item, stage="Complete", boxes=[("Car", box)], by="alex@example.com")
    fake.ws.bundle_omits.add(fake.ws.data_hash(fake.demo.dataset, fake.demo.items[2]))  # deleted meanwhile
    code, out, err = run(capsys, *encord_args(fake, encord_keys["plain"].path), "evaluate", "--benchmark",
                         "Benchmark Labels", "--all", "--json")
    assert code == 0, err
    warnings = json.loads(out)["warnings"]
    assert any("were not in its answer" in w for w in warnings)
    assert err.count("were not in its answer") == 1


@pytest.mark.parametrize("route,body", [
    ("v1.labelrow.get", {"status": 200, "response": [{"weird": 1}], "payload": [1, 2]}),
    ("v1.labelrowmetadata.get", [{"label_hash": 1}]),
])
def test_an_answer_the_sdk_cannot_read_is_one_line_with_no_sdk_traceback(capsys, fake, encord_keys, route, body):
    """Trial (issue 12): the SDK logged its own traceback on stderr (no handler: logging.lastResort) and the
    failure ended as an internal error; it is one line naming Encord's answer."""
    from tests.fake_encord import Fault

    fake.ws.label(fake.demo.training, fake.demo.items[1], stage="Complete", boxes=[("Car", {"x": 0.1, "y": 0.1,
                                                                                            "w": 0.2, "h": 0.3})])
    assert run(capsys, "config", "set", "retry_base_delay", "0")[0] == 0
    fake.inject(route, Fault(body=body, times=100))
    code, out, err = run(capsys, *encord_args(fake, encord_keys["plain"].path), "evaluate", "--benchmark",
                         "Benchmark Labels", "--all")
    assert code == 1 and "Traceback" not in err and "internal error" not in err
    assert "unexpected answer from Encord" in err and err.count("\n") == 1


def test_a_create_with_an_unknown_template_names_it(capsys, fake, encord_keys, tmp_path):
    assert run(capsys, "config", "set", "workflow_templates.Annotator Training",
               "00000000-0000-4000-8000-00000000dead")[0] == 0
    roster = tmp_path / "r.csv"
    roster.write_text("name,email\nBea Ng,bea@example.com\n")
    code, out, err = run(capsys, *encord_args(fake, encord_keys["plain"].path), "provision", "--roster", str(roster),
                         "--benchmark", "Benchmark Labels", "--template", "Annotator Training", "--yes")
    assert code == 1
    assert "00000000-0000-4000-8000-00000000dead" in out + err and "workflow template" in out + err
