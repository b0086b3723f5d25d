"""Key text where a path belongs is refused without being echoed; no output ever carries key text;
files under the config and state dirs are 0600 (their new directories 0700)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from annotrain_tui.cli import main
from annotrain_tui.core.config import KEY_TEXT_MESSAGE, Paths, Settings, load_settings
from annotrain_tui.core.errors import ConfigError
from annotrain_tui.core.secrets import REMOVED, looks_like_key_text, redact


def _openssh_ed25519() -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                             serialization.NoEncryption()).decode()


def _pem_rsa() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


def _pkcs8_ed25519() -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _public_line() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode() + " me@host"


@pytest.fixture(scope="module")
def key_text() -> str:
    return _openssh_ed25519()


def fragments(key: str) -> list[str]:
    """Pieces of the key that must never be seen: every body line (and its first 20 characters)."""
    body = [ln.strip() for ln in key.splitlines() if ln.strip() and not ln.startswith("-----")]
    return [b for b in body if len(b) >= 12] + [b[:20] for b in body if len(b) >= 20]


def assert_no_key(text: str, key: str) -> None:
    assert "PRIVATE KEY" not in text
    for piece in fragments(key):
        assert piece not in text, f"key text leaked: {piece!r}"


# -- the recogniser and redact() ------------------------------------------------------------------

@pytest.mark.parametrize("make", [_openssh_ed25519, _pem_rsa, _pkcs8_ed25519])
def test_every_armoured_private_key_is_recognised_in_every_shape(make):
    key = make()
    shapes = [key, key.strip(), " ".join(key.split()), repr(key),
              "".join(key.strip().splitlines()[1:-1]),      # the body alone, as one line
              "\n".join(key.strip().splitlines()[1:-1])]    # the body alone, its lines
    for shape in shapes:
        assert looks_like_key_text(shape), shape[:60]
        out = redact(f"SSH key file {shape} does not exist (fix it)")
        assert REMOVED in out and out.startswith("SSH key file ") and out.endswith("(fix it)")
        assert_no_key(out, key)
        assert redact(out) == out  # idempotent


def test_public_key_lines_are_recognised_too():
    line = _public_line()
    assert looks_like_key_text(line)
    assert "AAAA" not in redact(f"got {line}")


@pytest.mark.parametrize("text", [
    "/home/me/.ssh/id_ed25519", "~/.ssh/encord key.pem", "C:\\Users\\me\\key",
    "SHA256:" + "Ab1Cd2Ef3" * 4 + "xyzABCD",                      # a fingerprint (43 characters)
    "0123456789abcdef" * 4,                                         # a hex digest
    "3f2a1c4e-1111-2222-3333-444455556666",                         # an id
    "https://api.us.encord.com", "/tmp/pytest-of-root/pytest-0/test_x0/xdg_state_home/annotrain/crash",
    "Annotator Training - Alice", "a" * 200,
])
def test_paths_ids_and_digests_are_not_key_text(text):
    assert not looks_like_key_text(text)
    assert redact(text) == text


# -- refused where a path belongs, never echoed -----------------------------------------------------

def _run(argv, capsys, env=None, monkeypatch=None):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_ssh_key_option_refuses_key_text_at_parse_time(key_text, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--ssh-key", key_text, "status"])
    out, err = capsys.readouterr()
    assert exc.value.code == 2
    assert err.count("\n") == 1 and "holds the text of a private key, not a path" in err
    assert_no_key(out + err, key_text)
    assert not Paths.default().config_file.exists() and not Paths.default().default_sandbox.exists()


def test_ssh_key_option_after_the_subcommand_too(key_text, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["projects", "list", "--backend", "encord", "--ssh-key", key_text])
    out, err = capsys.readouterr()
    assert exc.value.code == 2 and "holds the text of a private key" in err
    assert_no_key(out + err, key_text)


def test_config_set_refuses_key_text_and_writes_nothing(key_text, capsys):
    code, out, err = _run(["config", "set", "ssh_key_path", key_text], capsys)
    assert code == 2 and err.count("\n") == 1
    assert KEY_TEXT_MESSAGE in err
    assert_no_key(out + err, key_text)
    assert not Paths.default().config_file.exists()


def test_environment_key_file_holding_key_text_is_refused(key_text, capsys, monkeypatch):
    monkeypatch.setenv("ENCORD_SSH_KEY_FILE", key_text)
    code, out, err = _run(["--backend", "encord", "status"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "ENCORD_SSH_KEY_FILE holds the text of a private key, not a path" in err
    assert_no_key(out + err, key_text)


def test_encord_backend_refuses_environment_key_text_itself(key_text, monkeypatch):
    from annotrain_tui.core.backends.encord import EncordBackend

    monkeypatch.setenv("ENCORD_SSH_KEY_FILE", key_text)
    with pytest.raises(ConfigError) as exc:
        EncordBackend.connect(Settings(backend="encord"))
    assert_no_key(str(exc.value), key_text)


def test_settings_refuse_key_text_without_echoing_it(key_text):
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as exc:
        Settings(ssh_key_path=key_text)
    assert KEY_TEXT_MESSAGE in str(exc.value)


def test_a_config_file_holding_key_text_is_one_line_and_config_set_repairs_it(key_text, capsys, tmp_path):
    # What an older annotrain wrote after `config set ssh_key_path "$(cat key)"`.
    paths = Paths.default()
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text(f"backend = 'encord'\nssh_key_path = '''{key_text}'''\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(paths)
    assert_no_key(str(exc.value), key_text)

    code, out, err = _run(["config", "show"], capsys)
    assert code == 2 and err.count("\n") == 1 and KEY_TEXT_MESSAGE in err and "config set" in err
    assert_no_key(out + err, key_text)
    code, out, err = _run(["config", "show", "--json"], capsys)
    assert code == 2 and out == ""
    assert_no_key(out + err, key_text)

    key = tmp_path / "id_ed25519"
    key.write_text(key_text)
    key.chmod(0o600)
    code, out, err = _run(["config", "set", "ssh_key_path", str(key)], capsys)
    assert code == 0, err
    assert_no_key(paths.config_file.read_text(), key_text)
    code, out, err = _run(["config", "show"], capsys)
    assert code == 0 and str(key) in out
    assert_no_key(out + err, key_text)


def test_every_error_line_is_redacted_at_the_edge(key_text, capsys, monkeypatch):
    """The last line of defence: a core message that carries key text loses it on the way out."""
    from annotrain_tui.cli import list_cmd as ws_cmd
    from annotrain_tui.core.errors import InvalidInput

    def leaky(*args, **kwargs):
        raise InvalidInput(f"SSH key file {key_text} cannot be read")

    monkeypatch.setattr(ws_cmd, "load_overview", leaky)
    code, out, err = _run(["status"], capsys)
    assert code == 2 and err.count("\n") == 1 and REMOVED in err
    assert_no_key(out + err, key_text)


def test_key_text_in_an_unknown_config_key_is_not_echoed(key_text, capsys):
    code, out, err = _run(["config", "set", key_text.strip().splitlines()[1] * 2, "x"], capsys)
    assert code == 2 and "unknown key" in err
    assert_no_key(out + err, key_text)


def test_key_text_in_a_subprocess_never_reaches_any_stream(key_text, tmp_path):
    """The real program, with the key text in the three places it is easy to put it."""
    env = {k: v for k, v in os.environ.items()}
    runs = [
        (["--ssh-key", key_text, "--backend", "encord", "status"], {}),
        (["config", "set", "ssh_key_path", key_text], {}),
        (["--backend", "encord", "projects", "list"], {"ENCORD_SSH_KEY_FILE": key_text}),
    ]
    for argv, extra in runs:
        proc = subprocess.run([sys.executable, "-m", "annotrain_tui", *argv], env={**env, **extra},
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
        assert_no_key(proc.stdout + proc.stderr, key_text)


# -- files only the user can read ---------------------------------------------------------------------

def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_config_file_is_0600_and_its_new_directory_0700(capsys):
    old = os.umask(0o022)
    try:
        code, _, err = _run(["config", "set", "retry_attempts", "3"], capsys)
    finally:
        os.umask(old)
    paths = Paths.default()
    assert code == 0, err
    assert _mode(paths.config_file) == 0o600
    assert _mode(paths.config_dir) == 0o700


def test_config_file_stays_0600_when_it_was_more_open(capsys):
    paths = Paths.default()
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text("retry_attempts = 2\n")
    paths.config_file.chmod(0o644)
    code, _, err = _run(["config", "set", "retry_attempts", "4"], capsys)
    assert code == 0, err
    assert _mode(paths.config_file) == 0o600


def test_job_store_and_journal_are_0600():
    from annotrain_tui.core.provisioning import Journal
    from annotrain_tui.core.registration import JobStore

    paths = Paths.default()
    old = os.umask(0o022)
    try:
        store = JobStore(paths)
        store.save_manifest("job1", {"images": []})
        journal = Journal.for_benchmark(paths.journal_dir, "bench1")
        journal.record("created", email="a@b.c", project_id="p1")
    finally:
        os.umask(old)
    assert _mode(store.dir / "job1.manifest.json") == 0o600
    assert _mode(journal.path) == 0o600
    assert _mode(paths.journal_dir) == 0o700


def test_jobs_file_is_0600(demo):
    from annotrain_tui.core.registration import JobRecord, JobStore

    paths = Paths.default()
    store = JobStore(paths)
    fields = {f.name for f in msgspec.structs.fields(JobRecord)}
    assert "id" in fields
    old = os.umask(0o022)
    try:
        # the smallest real record: what start() persists
        from annotrain_tui.core import registration

        backend, ids = demo
        manifest = {"images": [{"objectUrl": "https://example.com/a.jpg"}]}
        integration = backend.list_integrations()[0]
        folder = backend.list_folders()[0]
        registration.start(backend, store, manifest, manifest_path="m.json", integration_ref=integration.id,
                           folder_ref=folder.id)
    finally:
        os.umask(old)
    assert _mode(paths.jobs_file) == 0o600


def test_key_text_is_removed_before_it_is_escaped_or_cut(tmp_path):
    """Found by a trial: shown() escaped the key's line breaks (\\x0a) and cut it before redact()
    ran, so key lines leaked; and --sandbox / any file option took key text as a name."""
    import subprocess
    import sys

    from annotrain_tui.core.secrets import REMOVED
    from annotrain_tui.core.text import shown

    if True:
        key = ("-----BEGIN OPENSSH PRIVATE KEY-----\n"
               "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
               "QyNTUxOQAAACBM8FQ2y1dWKmw6lTowXMGvibm8Abuvi4kBjZN2MeBFawAAAJBhdx5dYXce\n"
               "XQAAAAtzc2gtZWQyNTUxOQAAACBM8FQ2y1dWKmw6lTowXMGvibm8Abuvi4kBjZN2MeBFaw\n"
               "-----END OPENSSH PRIVATE KEY-----\n")
    body = key.splitlines()[2]
    for text in (key, key.replace("\n", " "), body, f"x {body} y"):
        for limit in (None, 20, 45):
            out = shown(text, limit=limit)
            assert body[:12] not in out and body[-12:] not in out, (text[:30], limit, out)
            assert limit == 20 or REMOVED[:8] in out, (text[:30], limit, out)
    env = dict(__import__("os").environ)
    for argv in (["--sandbox", key, "status"], ["manifest", "validate", key], ["roster", "check", body]):
        proc = subprocess.run([sys.executable, "-m", "annotrain_tui", *argv], capture_output=True, text=True,
                              timeout=120, env=env)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        for line in key.splitlines()[1:-1]:
            assert line[:16] not in proc.stderr and line[-16:] not in proc.stderr, proc.stderr


@pytest.mark.parametrize("key", ["keymap.app.quit", "default_template", "workflow_templates.Annotator Training"])
def test_config_set_never_writes_key_text_under_any_key(capsys, key):
    """A trial: config set keymap.quit "$(cat key)" stored the private key in config.toml."""
    from annotrain_tui.cli import main
    from annotrain_tui.core.config import Paths

    text = ("-----BEGIN OPENSSH PRIVATE KEY-----\n"
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
            "-----END OPENSSH PRIVATE KEY-----\n")
    code = main(["config", "set", key, text])
    _, err = capsys.readouterr()
    assert code == 2 and "text of a key" in err and "b3BlbnNz" not in err
    file = Paths.default().config_file
    assert not file.exists() or "PRIVATE KEY" not in file.read_text()


def test_config_set_refuses_control_characters_in_keys_and_values(capsys):
    from annotrain_tui.cli import main

    assert main(["config", "set", "keymap.a\x1b[2J", "x"]) == 2
    assert main(["config", "set", "default_template", "T\x1b]0;x\x07"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and err.count("control character") == 2


def test_a_config_file_holding_key_text_in_any_setting_is_one_line_and_repairable(capsys):
    """A trial: key text written by hand under default_template loaded silently."""
    from annotrain_tui.cli import main
    from annotrain_tui.core.config import Paths

    body = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"
    file = Paths.default().config_file
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(f'default_template = "-----BEGIN OPENSSH PRIVATE KEY----- {body}"\n')
    assert main(["status"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "text of a key" in err and body[:12] not in err
    assert main(["config", "set", "default_template", ""]) == 0
    assert main(["status"]) == 0
    capsys.readouterr()
