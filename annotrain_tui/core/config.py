"""Paths (platformdirs, so XDG_* variables relocate everything) and validated settings.

The config file is TOML at ``<config dir>/config.toml``. Every unknown key is reported at once,
with a did-you-mean. Secrets are never stored: an SSH key is kept as a *path*, and key *text*
given where the path belongs is refused without being echoed (core/secrets.py).

Reading never lets a broken file through as anything but one ConfigError naming the file and the
line: bad TOML, a file that is not UTF-8, nesting too deep for the parser, a 4,300-digit number.
``annotrain config set`` repairs a file whose values are wrong (it works on the file's own keys,
not on validated settings); a file that is not TOML at all is moved aside by ``annotrain config reset``.
The file is written 0600, its directory created 0700.
"""

from __future__ import annotations

import difflib
import re
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from annotrain_tui.core.errors import ConfigError
from annotrain_tui.core.files import atomic_write_text
from annotrain_tui.core.secrets import PRIVATE_FILE, looks_like_key_text, make_private_dir, redact
from annotrain_tui.core.text import shown

APP = "annotrain"

#: What a value holding key text (where a key *path* belongs) is told; it never contains the value.
KEY_TEXT_MESSAGE = ("ssh_key_path holds the text of a private key, not a path; save the key to a file "
                    "(chmod 600) and give its path")
#: The hint of every broken-config error: both commands exist (tests/hardening/test_one_line_failures.py).
REPAIR_HINT = ("fix that line, or run 'annotrain config reset' to move the file aside and start from "
               "the defaults")
#: The hint of a config file with a wrong value: `config set` works on such a file.
SET_HINT = "change it with 'annotrain config set KEY VALUE' ('' unsets a key) or edit the file"
#: A config file larger than this is not read (it is not a settings file).
MAX_CONFIG_BYTES = 1024 * 1024
DOMAIN_HINT = "the EU platform is https://api.encord.com, the US one https://api.us.encord.com"


def check_domain(value: str) -> str:
    """An Encord API address: ``http(s)://host[:port]`` (no path, query or credentials).

    Returns it without a trailing slash; anything else (``http://[::1``, ``api.encord.com``, a
    port that is not a number) is a ValueError whose message is safe to show.
    """
    text = value.strip().rstrip("/")
    problem = None
    try:
        from urllib.parse import urlsplit

        parts = urlsplit(text)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
        host = parts.hostname
    except ValueError:
        parts, host, problem = None, None, "it is not a valid URL"
    if problem is None and parts is not None:
        if parts.scheme not in ("http", "https"):
            problem = "it needs a scheme, http:// or https://"
        elif not host:
            problem = "it has no host"
        elif parts.username is not None or parts.password is not None:
            problem = "it must not carry a user name or password"
        elif parts.path or parts.query or parts.fragment or not text.isprintable() or " " in text:
            problem = "give only scheme, host and port"
    if problem is not None:
        raise ValueError(f"encord_domain '{shown(redact(text), limit=80)}' is not an API address: {problem} "
                         f"({DOMAIN_HINT})")
    return text


def key_path_from_text(text: str | Path, *, source: str) -> Path:
    """A key path given as text (``--ssh-key``, ``ENCORD_SSH_KEY_FILE``); key text is refused unechoed."""
    if looks_like_key_text(str(text)):
        raise ConfigError(KEY_TEXT_MESSAGE.replace("ssh_key_path", source, 1))
    return Path(text).expanduser()


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path
    state_dir: Path
    cache_dir: Path

    @classmethod
    def default(cls) -> "Paths":
        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP, appauthor=False)),
            data_dir=Path(platformdirs.user_data_dir(APP, appauthor=False)),
            state_dir=Path(platformdirs.user_state_dir(APP, appauthor=False)),
            cache_dir=Path(platformdirs.user_cache_dir(APP, appauthor=False)),
        )

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def default_sandbox(self) -> Path:
        return self.data_dir / "sandbox.db"

    @property
    def jobs_file(self) -> Path:
        return self.state_dir / "jobs.json"

    @property
    def journal_dir(self) -> Path:
        return self.state_dir / "journal"

    @property
    def drafts_dir(self) -> Path:
        return self.state_dir / "drafts"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "annotrain.log"


class Settings(BaseModel):
    """Everything a user can set. ``annotrain config show`` prints it; ``config set`` edits it."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    backend: Literal["sandbox", "encord"] = "sandbox"
    sandbox_path: Path | None = Field(None, description="sandbox workspace file (default: user data dir)")
    ssh_key_path: Path | None = Field(None, description="Encord SSH private key: a path, never the key")
    encord_domain: str | None = Field(None, description="Encord API domain, e.g. https://api.us.encord.com")
    workflow_templates: dict[str, str] = Field(
        default_factory=dict, description="Encord workflow templates, title = template hash")
    default_template: str | None = Field(None, description="template title used for training projects")
    training_title: str = Field("Annotator Training - {name}", description="title pattern for training projects")
    request_timeout: float = Field(30.0, gt=0, description="seconds before an interactive call gives up")
    retry_attempts: int = Field(5, ge=1, le=20)
    retry_base_delay: float = Field(0.5, ge=0)
    iou_threshold: float = Field(0.5, ge=0, le=1)
    low_overlap: float = Field(0.8, ge=0, le=1)
    pass_f1: float = Field(0.8, ge=0, le=1)
    pass_class_accuracy: float = Field(0.9, ge=0, le=1)
    refresh_interval: float = Field(10.0, ge=0.5, description="seconds between live refreshes")
    keymap: dict[str, str] = Field(default_factory=dict, description="binding id = keys, e.g. help = \"f2\"")

    @field_validator("ssh_key_path", mode="before")
    @classmethod
    def _not_key_text(cls, value: Any) -> Any:
        if value is not None and looks_like_key_text(str(value)):
            raise ValueError(KEY_TEXT_MESSAGE)
        return value

    @field_validator("ssh_key_path", "sandbox_path")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @field_validator("encord_domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        return check_domain(value) if value is not None else None


def _did_you_mean(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _name(key: object) -> str:
    """A key name from the user's file or command line, safe to put in a message."""
    return shown(redact(str(key)), limit=60)


def parse_settings(data: dict[str, Any], *, source: str = "config", hint: str | None = None) -> Settings:
    """Validate a settings mapping, reporting every problem at once in one message."""
    known = list(Settings.model_fields)
    problems = [f"unknown key '{_name(k)}'{_did_you_mean(str(k), known)}" for k in data if k not in known]
    clean = {k: v for k, v in data.items() if k in known}
    try:
        settings = Settings.model_validate(clean)
    except ValidationError as exc:
        for err in exc.errors(include_input=False, include_url=False):
            where = _name(".".join(str(p) for p in err["loc"]))
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(msg if msg.startswith(f"{where} ") else f"'{where}': {shown(redact(msg))}")
        settings = None
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems), hint=hint)
    assert settings is not None
    return settings


def _line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _deep_nesting_at(text: str, limit: int = 100) -> int | None:
    """Index where arrays/inline tables nest deeper than ``limit`` (strings and comments skipped)."""
    depth = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "\"'":
            end = text.find(ch, i + 1)
            while ch == '"' and end > 0 and text[end - 1] == "\\":
                end = text.find(ch, end + 1)
            i = n if end < 0 else end + 1
            continue
        if ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if ch in "[{":
            depth += 1
            if depth > limit:
                return i
        elif ch in "]}":
            depth = max(0, depth - 1)
        i += 1
    return None


def read_config_data(file: Path) -> dict[str, Any]:
    """The config file's TOML as a mapping; every way it can be broken is one ConfigError
    naming the file and, where there is one, the line and column."""
    where = shown(file)
    try:
        with open(file, "rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read ({exc.strerror or type(exc).__name__})",
                          hint="check the file's permissions") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{where}: too large for a settings file (over {MAX_CONFIG_BYTES // 1024} KiB)",
                          hint=REPAIR_HINT.replace("fix that line", "fix the file"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8", "replace")
        line, col = _line_col(before, len(before))
        raise ConfigError(f"{where}:{line}:{col}: not UTF-8 text", hint=REPAIR_HINT) from None
    problem: str | None = None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)\s*$", msg)
        if m:
            msg = msg[: m.start()].rstrip()
            problem = f"{where}:{m.group(1)}:{m.group(2)}: invalid TOML: {shown(redact(msg))}"
        else:
            problem = f"{where}: invalid TOML: {shown(redact(msg))}"
    except RecursionError:
        at = _deep_nesting_at(text)
        pos = "" if at is None else ":{}:{}".format(*_line_col(text, at))
        problem = f"{where}{pos}: arrays or tables nested too deeply to read"
    except ValueError:  # int() refusing a number of more than 4,300 digits
        m = re.search(r"[0-9][0-9_]{4000,}", text)
        pos = "" if m is None else ":{}:{}".format(*_line_col(text, m.start()))
        problem = f"{where}{pos}: a number with thousands of digits is not a setting"
    except MemoryError:
        problem = f"{where}: too complex to read"
    # raised outside the except blocks: nothing of the parser's state comes along
    raise ConfigError(problem, hint=REPAIR_HINT)


def load_settings(paths: Paths | None = None) -> Settings:
    paths = paths or Paths.default()
    file = paths.config_file
    if not file.exists():
        return Settings()
    data = read_config_data(file)
    return parse_settings(data, source=shown(file), hint=SET_HINT)


def save_settings(settings: Settings, paths: Paths | None = None) -> Path:
    paths = paths or Paths.default()
    data = settings.model_dump(mode="json", exclude_defaults=True)
    data = {k: v for k, v in data.items() if v is not None}
    return _write_config(paths, data)


def _write_config(paths: Paths, data: dict[str, Any]) -> Path:
    import tomli_w

    try:
        make_private_dir(paths.config_dir)
    except OSError:
        pass  # reported by the write, naming the file
    atomic_write_text(paths.config_file, tomli_w.dumps(data), mode=PRIVATE_FILE, make_parents=True)
    return paths.config_file


def update_config(paths: Paths, key: str, raw: str) -> Settings:
    """``annotrain config set``: change one key *in the file* and write it back.

    Works from the file's own mapping, not from validated settings, so a file with a wrong value
    (say key text in ssh_key_path) is repaired by setting that key; a file that is not TOML is
    one ConfigError with the line and the way out.
    """
    data = read_config_data(paths.config_file)
    known = list(Settings.model_fields)
    base, _, sub = key.partition(".")
    if base not in known:
        raise ConfigError(f"unknown key '{_name(key)}'{_did_you_mean(base, known)}")
    if sub:
        if Settings.model_fields[base].default_factory is not dict:
            raise ConfigError(f"'{base}' is not a table; set it as '{base}' without a sub-key")
        current = data.get(base)
        data[base] = {**(current if isinstance(current, dict) else {}), sub: raw}
    elif raw == "":
        data.pop(base, None)  # unset: back to the default
    else:
        data[base] = raw
    settings = parse_settings(data, source=f"{shown(paths.config_file)} (after config set {_name(key)})")
    save_settings(settings, paths)
    return settings


def reset_config(paths: Paths) -> Path | None:
    """``annotrain config reset``: move the file aside (nothing is deleted); None when there is none."""
    import os
    from datetime import datetime

    file = paths.config_file
    if not file.exists():
        return None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = file.with_name(f"{file.name}.{stamp}.bak")
    n = 1
    while target.exists():
        target = file.with_name(f"{file.name}.{stamp}-{n}.bak")
        n += 1
    try:
        os.rename(file, target)
    except OSError as exc:
        raise ConfigError(f"{shown(file)}: cannot move it aside ({exc.strerror or type(exc).__name__})") from None
    return target


def set_setting(settings: Settings, key: str, raw: str) -> Settings:
    """Return settings with ``key`` set from a command-line string (``a.b`` sets a dict entry)."""
    known = list(Settings.model_fields)
    base, _, sub = key.partition(".")
    if base not in known:
        raise ConfigError(f"unknown key '{_name(key)}'{_did_you_mean(base, known)}")
    data = settings.model_dump(mode="json")
    if sub:
        if not isinstance(data.get(base), dict):
            raise ConfigError(f"'{base}' is not a table; set it as '{base}' without a sub-key")
        data[base] = {**data[base], sub: raw}
    else:
        value: Any = raw
        if raw == "" and Settings.model_fields[base].default is None:
            value = None
        data[base] = value
    return parse_settings(data, source=f"config set {_name(key)}")


def key_file_warning(path: Path) -> str | None:
    """Like ssh: warn when a private key is readable or writable by group or others."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return (f"permissions {stat.S_IMODE(mode):04o} for '{path}' are too open: a private key must not be "
                f"accessible by others (run: chmod 600 '{path}')")
    return None
