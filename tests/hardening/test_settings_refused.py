"""Settings, paths and domains that cannot be used are refused with one located line, never
absorbed: a number that is infinite, NaN, out of bounds, true/false or text; ``~name`` of a user
that does not exist; a control character in a path setting; an API address whose host, port or
form is wrong; a config file with a BOM. Hints that embed a path quote it as one shell word and
name the workspace the command used. All driven through the real CLI."""

from __future__ import annotations

import pwd
import secrets
import shlex
from pathlib import Path

import pytest

from annotrain_tui.core.config import Paths, check_domain, load_settings
from tests.hardening.helpers import cli


def one_line(err: str) -> str:
    assert "Traceback" not in err and "internal error" not in err, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    return err.strip()


def write_config(text: str | bytes) -> Path:
    file = Paths.default().config_file
    file.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        file.write_bytes(text)
    else:
        file.write_text(text, encoding="utf-8")
    return file


def no_such_user() -> str:
    while True:
        name = "nouser" + secrets.token_hex(4)
        try:
            pwd.getpwnam(name)
        except KeyError:
            return name


# -- 1. numbers: finite, of their own type, bounded ----------------------------------------------------

@pytest.mark.parametrize("key,value,what", [
    ("request_timeout", "inf", "not a finite number"),
    ("request_timeout", "1e999", "not a finite number"),
    ("retry_base_delay", "Infinity", "not a finite number"),
    ("pass_f1", "nan", "not a finite number"),
    ("retry_attempts", "true", "not a whole number"),
    ("retry_attempts", "2.5", "not a whole number"),
    ("request_timeout", "soon", "not a number"),
    ("request_timeout", "1e300", "less than or equal to 3600"),
    ("retry_base_delay", "1e9", "less than or equal to 30"),
    ("refresh_interval", "1e9", "less than or equal to 3600"),
])
def test_config_set_refuses_a_number_it_cannot_use_and_writes_nothing(capsys, key, value, what):
    rc, out, err = cli(["config", "set", key, value], capsys)
    line = one_line(err)
    assert rc == 2 and f"config set {key}" in line and what in line, line
    assert not Paths.default().config_file.exists()
    rc, out, err = cli(["config", "show"], capsys)
    assert rc == 0 and f"{key} = {value}" not in out


@pytest.mark.parametrize("text,line_no,what", [
    ("backend = 'sandbox'\nrequest_timeout = inf\n", 2, "finite number"),
    ("backend = 'sandbox'\nretry_base_delay = inf\n", 2, "finite number"),
    ("request_timeout = nan\n", 1, "finite number"),
    ("# a comment\n\nretry_attempts = true\n", 3, "must be a number, not true"),
    ("iou_threshold = false\n", 1, "must be a number, not false"),
    ("request_timeout = '30'\n", 1, "write it without quotes"),
    ("request_timeout = 1e999\n", 1, "finite number"),
    ("refresh_interval = 1e300\n", 1, "less than or equal to 3600"),
])
def test_a_config_file_number_that_cannot_be_used_is_one_line_with_its_line(capsys, text, line_no, what):
    file = write_config(text)
    for argv in (["status"], ["config", "show"]):
        rc, out, err = cli(argv, capsys)
        line = one_line(err)
        assert rc == 2 and f"{file}:{line_no}:" in line and what in line, line


def test_several_problems_are_reported_in_the_files_order_each_with_its_line(capsys):
    file = write_config("retry_attempts = true\nrequest_timeout = inf\n[keymap]\nhelp = 5\n")
    rc, out, err = cli(["config", "show"], capsys)
    line = one_line(err)
    assert rc == 2 and f"{file}:1: 'retry_attempts'" in line
    assert "line 2: 'request_timeout'" in line and "line 4: 'keymap.help'" in line
    assert line.index("retry_attempts") < line.index("request_timeout") < line.index("keymap.help")


def test_good_numbers_still_work_from_the_file_and_from_config_set(capsys):
    write_config("request_timeout = 30\nretry_base_delay = 0\npass_f1 = 0.75\n")  # TOML ints for floats
    settings = load_settings()
    assert settings.request_timeout == 30.0 and settings.retry_base_delay == 0.0 and settings.pass_f1 == 0.75
    assert cli(["config", "set", "request_timeout", "12.5"], capsys)[0] == 0
    assert cli(["config", "set", "retry_attempts", "3"], capsys)[0] == 0
    assert load_settings().request_timeout == 12.5 and load_settings().retry_attempts == 3
    assert "retry_attempts = 3\n" in Paths.default().config_file.read_text()


# -- 2. ~name of a user that does not exist ------------------------------------------------------------

def test_tilde_of_an_unknown_user_is_one_line_wherever_a_path_is_given(capsys, monkeypatch):
    user = no_such_user()
    expected = f"there is no user '{user}' (check the path)"
    cases = [
        (["--sandbox", f"~{user}/x.db", "status"], "--sandbox"),
        (["--backend", "encord", "--ssh-key", f"~{user}/k", "projects", "list"], "--ssh-key"),
    ]
    for argv, source in cases:
        rc, out, err = cli(argv, capsys)
        line = one_line(err)
        assert rc == 2 and f"{source}: ~{user}/" in line and expected in line, line

    monkeypatch.setenv("ENCORD_SSH_KEY_FILE", f"~{user}/k")
    rc, out, err = cli(["--backend", "encord", "projects", "list"], capsys)
    line = one_line(err)
    assert rc == 2 and "ENCORD_SSH_KEY_FILE" in line and expected in line, line
    monkeypatch.delenv("ENCORD_SSH_KEY_FILE")

    file = write_config(f'sandbox_path = "~{user}/x.db"\n')
    for argv in (["status"], ["config", "show"]):
        rc, out, err = cli(argv, capsys)
        line = one_line(err)
        assert rc == 2 and f"{file}:1:" in line and "sandbox_path" in line and expected in line, line
    rc, out, err = cli(["config", "set", "ssh_key_path", f"~{user}/k"], capsys)
    assert rc == 2 and expected in one_line(err)


def test_tilde_of_a_known_user_and_of_home_still_expand(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cli(["config", "set", "sandbox_path", "~/w.db"], capsys)[0] == 0
    assert load_settings().sandbox_path == tmp_path / "w.db"
    me = pwd.getpwuid(__import__("os").getuid())
    write_config(f'sandbox_path = "~{me.pw_name}/w.db"\n')
    assert load_settings().sandbox_path == Path(me.pw_dir) / "w.db"


# -- 3. control characters in a path setting -----------------------------------------------------------

@pytest.mark.parametrize("key", ["ssh_key_path", "sandbox_path"])
@pytest.mark.parametrize("escape,shown_as", [("\\u0000", "\\x00"), ("\\u001b", "\\x1b"), ("\\n", "\\x0a"),
                                             ("\\u009b", "\\x9b")])
def test_a_control_character_in_a_path_setting_is_refused_with_its_line(capsys, key, escape, shown_as):
    file = write_config(f'backend = "encord"\n{key} = "a{escape}b"\n')
    rc, out, err = cli(["status"], capsys)
    line = one_line(err)
    assert rc == 2 and f"{file}:2:" in line and key in line and shown_as in line, line
    assert "\x00" not in err and "\x1b" not in err and "\x9b" not in err


def test_a_control_character_in_config_set_is_refused_and_nothing_written(capsys):
    rc, out, err = cli(["config", "set", "sandbox_path", "a\tb"], capsys)
    line = one_line(err)
    assert rc == 2 and "config set sandbox_path" in line and "\\x09" in line
    assert not Paths.default().config_file.exists()


def test_a_strange_file_name_on_the_command_line_is_used_as_it_is_and_shown_escaped(capsys, tmp_path, monkeypatch):
    """Only settings refuse control characters: a file named on the command line (or in
    ENCORD_SSH_KEY_FILE) is a real file name, looked up as it is and shown escaped."""
    path = tmp_path / "w\x1b[31m.db"
    rc, out, err = cli(["--sandbox", str(path), "status"], capsys)
    line = one_line(err)
    assert rc == 2 and "no sandbox workspace at" in line and "w\\x1b[31m.db" in line and "\x1b" not in err
    monkeypatch.setenv("ENCORD_SSH_KEY_FILE", str(tmp_path / "k\x07x"))
    rc, out, err = cli(["--backend", "encord", "projects", "list"], capsys)
    line = one_line(err)
    assert rc == 2 and "does not exist" in line and "k\\x07x" in line and "\x07" not in err


# -- 4. the API address ---------------------------------------------------------------------------------

BAD_DOMAINS = [
    ("https://a..b", "empty label"),
    ("https://" + "a" * 70 + ".com", "label of 70 characters"),
    ("https://" + ".".join(["a" * 60] * 5), "at most 253"),
    ("https://-api.encord.com", "may not start or end with a hyphen"),
    ("https://api_x.encord.com", "only letters, digits and hyphens"),
    ("https://api.encord.com:0", "port 0 is outside 1-65535"),
    ("https://api.encord.com:65536", "port 65536 is outside 1-65535"),
    ("https://api.encord.com:", "port after ':' is empty"),
    ("https://%41.com", "percent-encoding"),
    ("https://256.256.256.256", "not a valid IPv4 address"),
    ("https://1.2.3", "not a valid IPv4 address"),
    ("http://[::g]:80", "not a valid"),
    ("https://user:pw@api.encord.com", "user name or password"),
    ("https://api.encord.com/v1", "has a path"),
    ("https://api.encord.com?x=1", "query or fragment"),
    ("https://api.encord.com#top", "query or fragment"),
    ("https://bücher.example", "punycode"),
]


@pytest.mark.parametrize("domain,what", BAD_DOMAINS)
def test_an_invalid_domain_is_refused_naming_the_problem(capsys, domain, what):
    rc, out, err = cli(["--domain", domain, "status"], capsys)
    line = one_line(err)
    assert rc == 2 and "--domain" in line and what in line, line
    rc, out, err = cli(["config", "set", "encord_domain", domain], capsys)
    line = one_line(err)
    assert rc == 2 and "encord_domain" in line and what in line, line
    assert not Paths.default().config_file.exists()
    file = write_config(f'backend = "sandbox"\nencord_domain = "{domain}"\n')
    rc, out, err = cli(["status"], capsys)
    line = one_line(err)
    assert rc == 2 and f"{file}:2:" in line and what in line, line
    file.unlink()


@pytest.mark.parametrize("domain", ["https://api.encord.com", "https://api.us.encord.com/", "http://127.0.0.1:8080",
                                    "http://[::1]:1", "http://localhost:65535", "https://xn--bcher-kva.example"])
def test_valid_domains_are_kept(domain):
    assert check_domain(domain) == domain.rstrip("/")


# -- 5. a byte order mark ---------------------------------------------------------------------------------

def test_a_config_file_with_a_bom_is_named_as_such(capsys):
    file = write_config(b"\xef\xbb\xbfbackend = 'sandbox'\n")
    for argv in (["status"], ["config", "show"], ["config", "set", "backend", "sandbox"]):
        rc, out, err = cli(argv, capsys)
        line = one_line(err)
        assert rc == 2 and str(file) in line and "byte order mark (BOM)" in line and "without BOM" in line, line
    assert file.read_bytes().startswith(b"\xef\xbb\xbf")  # nothing the user wrote is changed


# -- 6. hints a user pastes -----------------------------------------------------------------------------

def _command_in(line: str, start: str) -> list[str]:
    at = line.index(start)
    end = line.rindex(")")
    return shlex.split(line[at:end])


def test_a_missing_workspace_hint_quotes_its_path_as_one_shell_word(capsys, tmp_path):
    path = tmp_path / "a b;rm x.db"
    rc, out, err = cli(["--sandbox", str(path), "status"], capsys)
    line = one_line(err)
    assert rc == 2 and shlex.quote(str(path)) in line  # a mistyped path: unreadable input (exit 2)
    # the command is in double quotes, as its argument is in single ones (cli.common.see_text)
    command = line[line.index('"annotrain --sandbox') + 1:line.rindex('"')]
    assert shlex.split(command) == ["annotrain", "--sandbox", str(path), "sandbox", "init", "--demo"]


def test_reset_names_the_workspace_it_reset(capsys, tmp_path):
    path = tmp_path / "my $(work).db"
    assert cli(["--sandbox", str(path), "sandbox", "init", "--demo"], capsys)[0] == 0
    rc, out, err = cli(["--sandbox", str(path), "sandbox", "reset", "--yes"], capsys)
    assert rc == 0 and err == ""
    words = shlex.split(out[out.index("annotrain --sandbox"):])
    assert words == ["annotrain", "--sandbox", str(path), "sandbox", "init", "--demo"]
