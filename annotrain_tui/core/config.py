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

import math
import os
import re
import stat
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from annotrain_tui.core.errors import ConfigError, InvalidInput
from annotrain_tui.core.files import atomic_write_text, user_path
from annotrain_tui.core.remedies import SeeLike
from annotrain_tui.core.roster import DEFAULT_TRAINING_TITLE
from annotrain_tui.core.secrets import PRIVATE_FILE, looks_like_key_text, make_private_dir
from annotrain_tui.core.text import escape_char, shown

APP = "annotrain"

#: What a value holding key text (where a key *path* belongs) is told; it never contains the value.
KEY_TEXT_MESSAGE = ("ssh_key_path holds the text of a private key, not a path; save the key to a file "
                    "(chmod 600) and give its path")
#: The hint of every broken-config error, with the action that repairs it (core.remedies).
REPAIR_HINT = "fix that line, or move the file aside and start from the defaults"
REPAIR_SEE = "config.reset"
#: The hint of a config file with a wrong value: changing a setting works on such a file.
SET_HINT = "change the value ('' unsets a key) or edit the file"
SET_SEE = "config.set"
#: A config file larger than this is not read (it is not a settings file).
MAX_CONFIG_BYTES = 1024 * 1024
#: Upper bounds of the settings in seconds: no value may make a command wait (almost) for ever.
MAX_TIMEOUT = 3600.0
MAX_RETRY_DELAY = 30.0  # the retry layer never waits longer between attempts (retry.RetryPolicy)
MAX_REFRESH = 3600.0
#: The settings that are numbers; `config set` converts its text for them (_value_from_text).
NUMBER_SETTINGS = ("request_timeout", "bulk_timeout", "retry_attempts", "retry_base_delay", "iou_threshold", "low_overlap",
                   "pass_f1", "pass_class_accuracy", "refresh_interval", "pass_min_items", "keypoint_sigma",
                   "pass_classification_accuracy", "pass_attribute_accuracy", "pass_confidence")
#: tables whose values are numbers (class name = number): ``config set TABLE.NAME X`` reads X as one
NUMBER_TABLES = ("class_thresholds", "class_sigmas", "class_pass_f1")
DOMAIN_HINT = "the EU platform is https://api.encord.com, the US one https://api.us.encord.com"


_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")


def _host_problem(host: str) -> str | None:
    """Why ``host`` (no brackets, no port) is not a host name or IP literal; None when it is one."""
    import ipaddress  # (this module's imports are every command's start-up: only what every one needs)

    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return f"'{shown(host, limit=80)}' is not a valid IPv6 address"
        return None
    labels = host.split(".")
    if all(label.isascii() and label.isdigit() for label in labels if label) and labels[-1]:
        try:  # all-numeric: only a real dotted IPv4 address (256.1.1.1 and 1.2.3 are not)
            ipaddress.IPv4Address(host)
        except ValueError:
            return f"'{shown(host, limit=80)}' is not a valid IPv4 address"
        return None
    if len(host) > 253:
        return f"the host name is {len(host)} characters long (at most 253)"
    for label in labels:
        if not label:
            return f"the host name '{shown(host, limit=80)}' has an empty label (two dots, or a dot at an end)"
        if len(label) > 63:
            return f"the host name has a label of {len(label)} characters (at most 63)"
        if not label.isascii():
            return "the host name holds non-ASCII letters: give its xn-- (punycode) form"
        if not _LABEL.match(label):
            return (f"the host name label '{shown(label, limit=63)}' may hold only letters, digits and "
                    "hyphens, and may not start or end with a hyphen")
    if labels[-1].isdigit():
        return f"the host name '{shown(host, limit=80)}' ends in a number (not a name, not an IPv4 address)"
    return None


def _domain_problem(text: str) -> str | None:
    from urllib.parse import urlsplit

    if not text.isprintable() or any(ch.isspace() for ch in text):
        return "it holds spaces or control characters"
    if "%" in text:
        return "it holds percent-encoding (%..): write the address as it is"
    if "\\" in text:
        return "it holds a backslash"
    try:
        parts = urlsplit(text)
    except ValueError:
        return "it is not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "it needs a scheme, http:// or https://"
    if not parts.netloc:
        return "it has no host"
    netloc = parts.netloc
    if "@" in netloc:
        return "it must not carry a user name or password"
    if parts.path not in ("", "/"):
        return f"it has a path ('{shown(parts.path, limit=60)}'): give only scheme, host and port"
    if "?" in text or "#" in text:
        return "it has a query or fragment (? or #): give only scheme, host and port"
    if netloc.startswith("["):
        close = netloc.find("]")
        if close < 0:
            return "its IPv6 address has no closing ']'"
        host, rest = netloc[1:close], netloc[close + 1:]
        if not host:
            return "it has no host"
        if ":" not in host:
            return "only an IPv6 address goes in [brackets]"
    else:
        host, _, port = netloc.partition(":")
        rest = f":{port}" if _ else ""
        if not host:
            return "it has no host"
    if rest:
        if not rest.startswith(":"):
            return "give only scheme, host and port"
        port_text = rest[1:]
        if not port_text:
            return "the port after ':' is empty"
        if not (port_text.isascii() and port_text.isdigit()):
            return f"the port '{shown(port_text, limit=20)}' is not a number"
        if not 1 <= int(port_text) <= 65535:
            return f"the port {int(port_text) if len(port_text) < 12 else port_text[:12] + '...'} is outside 1-65535"
    return _host_problem(host)


def check_domain(value: str) -> str:
    """An Encord API address: ``http(s)://host[:port]`` (the one check, for --domain, config and set).

    The host is a DNS name (labels of 1-63 letters, digits and hyphens, no hyphen at either end,
    at most 253 characters) or an IPv4/IPv6 literal; the port is 1-65535; no user info,
    percent-encoding, path (other than '/'), query or fragment. Returns the address without a
    trailing slash; anything else is a ValueError whose message names the problem and is safe to show.
    """
    text = value.strip().rstrip("/")
    problem = _domain_problem(text)
    if problem is not None:
        raise ValueError(f"encord_domain '{shown(text, limit=80)}' is not an API address: {problem} "
                         f"({DOMAIN_HINT})")
    return text


def key_path_from_text(text: str | Path, *, source: str) -> Path:
    """A key path given as text (``--ssh-key``, ``ENCORD_SSH_KEY_FILE``); key text is refused unechoed."""
    if looks_like_key_text(str(text)):
        raise ConfigError(KEY_TEXT_MESSAGE.replace("ssh_key_path", source, 1))
    try:
        return check_path_text(text, controls=False)
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def check_path_text(value: str | Path, *, controls: bool = True) -> Path:
    """A path setting or option as a Path: ``~``/``~name`` expanded by the one ``files.user_path``
    (an unknown user is one line); empty is a ValueError whose message is safe to show.

    ``controls``: a *setting* (config.toml, ``config set``) holding a control character (NUL, a
    line break, ESC ...) is refused too: no settings file needs one. A path given on the command
    line or in ENCORD_SSH_KEY_FILE (``controls=False``) names a file as it is: a strange but real
    file name is used, and shown escaped (only NUL, which no file name can hold, is refused)."""
    text = os.fspath(value)
    if not text.strip():
        raise ValueError("the path is empty (give a file's path, or unset the setting)")
    bad = next((ch for ch in text if unicodedata.category(ch) == "Cc"), None) if controls else None
    if bad is not None:
        raise ValueError(f"'{shown(text, limit=120)}' contains the control character {escape_char(bad)}, "
                         "which no path here may hold (remove it)")
    try:
        return user_path(text)
    except InvalidInput as exc:
        raise ValueError(exc.message) from None


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path
    state_dir: Path
    cache_dir: Path

    @classmethod
    def default(cls) -> Paths:
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
    def programmes_dir(self) -> Path:
        """Each programme's record (decisions, exclusions, history): ``core.programme``."""
        return self.state_dir / "programmes"

    @property
    def drafts_dir(self) -> Path:
        return self.state_dir / "drafts"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "annotrain.log"


class Settings(BaseModel):
    """Everything a user can set. ``annotrain config show`` prints it; ``config set`` edits it."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    backend: Literal["sandbox", "encord"] = "sandbox"
    sandbox_path: Path | None = Field(None, description="sandbox workspace file (default: user data dir)")
    ssh_key_path: Path | None = Field(None, description="Encord SSH private key: a path, never the key")
    encord_domain: str | None = Field(None, description="Encord API domain, e.g. https://api.us.encord.com")
    workflow_templates: dict[str, str] = Field(
        default_factory=dict, description="Encord workflow templates, title = template hash")
    default_template: str | None = Field(None, description="template title used for training projects")
    training_title: str = Field(DEFAULT_TRAINING_TITLE, description="title pattern for training projects")
    # Numbers are strict (a TOML string or true/false is not a number) and finite (allow_inf_nan);
    # every one has an upper bound, so no setting can make a command wait for ever.
    request_timeout: float = Field(30.0, gt=0, le=MAX_TIMEOUT, strict=True,
                                   description="seconds before an interactive call gives up")
    # A bundle of label rows, a whole dataset's data rows or a link of many items is one long request
    # (the SDK's own default read timeout is 180 s: encord/http/constants.py DEFAULT_READ_TIMEOUT).
    bulk_timeout: float = Field(180.0, gt=0, le=MAX_TIMEOUT, strict=True,
                                description="seconds before a bulk call (label rows, data rows, linking) gives up")
    retry_attempts: int = Field(5, ge=1, le=20, strict=True)
    retry_base_delay: float = Field(0.5, ge=0, le=MAX_RETRY_DELAY, strict=True)
    iou_threshold: float = Field(0.5, ge=0, le=1, strict=True)
    low_overlap: float = Field(0.8, ge=0, le=1, strict=True)
    pass_f1: float = Field(0.8, ge=0, le=1, strict=True)
    pass_class_accuracy: float = Field(0.9, ge=0, le=1, strict=True)
    pass_classification_accuracy: float = Field(0.8, ge=0, le=1, strict=True,
                                                description="the mean score of the classification answers")
    pass_attribute_accuracy: float = Field(0.8, ge=0, le=1, strict=True,
                                           description="the mean score of the object attributes on matches")
    pass_min_items: int | None = Field(None, ge=1, le=10**9, strict=True,
                                       description="finished items a status needs (unset: every benchmark item)")
    pass_confidence: float = Field(0.95, ge=0, lt=1, strict=True,
                                   description="confidence of the F1 interval: 'uncertain' when it straddles the "
                                               "mark (0: off)")
    class_matching: Literal["any", "same"] = Field(
        "any", description="any: objects match whatever their classes; same: within a class, then a cross-class pass")
    keypoint_sigma: float = Field(0.05, gt=0, le=1, strict=True,
                                  description="points and skeletons: the keypoint similarity's sigma")
    class_thresholds: dict[str, Annotated[float, Field(gt=0, le=1, strict=True)]] = Field(
        default_factory=dict, description="class name = the similarity a match needs (instead of iou_threshold)")
    class_sigmas: dict[str, Annotated[float, Field(gt=0, le=1, strict=True)]] = Field(
        default_factory=dict, description="class name = keypoint sigma (instead of keypoint_sigma)")
    class_pass_f1: dict[str, Annotated[float, Field(ge=0, le=1, strict=True)]] = Field(
        default_factory=dict, description="class name = the F1 that class needs to pass")
    refresh_interval: float = Field(10.0, ge=0.5, le=MAX_REFRESH, strict=True,
                                    description="seconds between live refreshes")
    keymap: dict[str, str] = Field(default_factory=dict, description="binding id = keys, e.g. \"app.help\" = \"f2\"")

    @field_validator("ssh_key_path", "sandbox_path", mode="before")
    @classmethod
    def _expand(cls, value: Any) -> Any:
        if isinstance(value, (str, Path)):
            return check_path_text(value)
        return value  # None, or a type pydantic refuses with its own message

    @field_validator("default_template", "training_title", "workflow_templates", "keymap", "encord_domain",
                     "class_thresholds", "class_sigmas", "class_pass_f1", mode="before", check_fields=False)
    @classmethod
    def _no_key_text_anywhere(cls, value: Any) -> Any:
        """No setting holds key text (a config file edited by hand, a table entry): refused, never echoed."""
        texts = list(value.keys()) + list(value.values()) if isinstance(value, dict) else [value]
        if any(isinstance(t, str) and looks_like_key_text(t) for t in texts):
            raise ValueError("holds the text of a key, which no setting holds: remove it (keys are kept in "
                             "files; ssh_key_path names one)")
        return value

    @field_validator("ssh_key_path", mode="before")  # runs before _expand: pydantic runs later ones first
    @classmethod
    def _not_key_text(cls, value: Any) -> Any:
        if value is not None and looks_like_key_text(str(value)):
            raise ValueError(KEY_TEXT_MESSAGE)
        return value

    @field_validator(*NUMBER_SETTINGS, mode="before")
    @classmethod
    def _a_number(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"must be a number, not {'true' if value else 'false'}")
        if isinstance(value, str):
            raise ValueError(f"must be a number, not the text '{shown(value, limit=40)}' (write it without quotes)")
        return value

    @field_validator("training_title")
    @classmethod
    def _title_pattern(cls, value: str) -> str:
        from annotrain_tui.core.roster import title_pattern_problem  # the one check of a title pattern

        problem = title_pattern_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("encord_domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        return check_domain(value) if value is not None else None


def _did_you_mean(key: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _name(key: object) -> str:
    """A key name from the user's file or command line, safe to put in a message."""
    return shown(str(key), limit=60)


def parse_settings(data: dict[str, Any], *, source: str = "config", hint: str | None = None,
                   lines: dict[str, int] | None = None, see: SeeLike = None) -> Settings:
    """Validate a settings mapping, reporting every problem at once in one message.

    ``lines`` (key or ``table.key`` → line in the file) locates each problem: the first one's line
    goes into the location (``file:3: ...``), the others say ``line N:``.
    """
    known = list(Settings.model_fields)
    problems: list[tuple[str, str]] = [
        (str(k), f"unknown key '{_name(k)}'{_did_you_mean(str(k), known)}") for k in data if k not in known]
    clean = {k: v for k, v in data.items() if k in known}
    try:
        settings = Settings.model_validate(clean)
    except ValidationError as exc:
        for err in exc.errors(include_input=False, include_url=False):
            key = ".".join(str(p) for p in err["loc"])
            problems.append((key, _problem(key, err["msg"])))
        settings = None
    if problems:
        raise ConfigError(_located(source, problems, lines or {}), hint=hint, see=see)
    assert settings is not None
    return settings


def _problem(key: str, msg: str) -> str:
    where = _name(key)
    msg = msg.removeprefix("Value error, ")
    return msg if msg.startswith(f"{where} ") else f"'{where}': {shown(msg)}"


def _line_of(key: str, lines: dict[str, int]) -> int | None:
    while key:
        if key in lines:
            return lines[key]
        key = key.rpartition(".")[0]
    return None


def _located(source: str, problems: list[tuple[str, str]], lines: dict[str, int]) -> str:
    big = 1 << 62  # problems in the order of the file; those without a line last
    problems = sorted(problems, key=lambda p: (_line_of(p[0], lines) or big))
    first = _line_of(problems[0][0], lines)
    parts = [problems[0][1]]
    for key, msg in problems[1:]:
        line = _line_of(key, lines)
        parts.append(msg if line is None or first is None else f"line {line}: {msg}")
    return f"{source}{'' if first is None else f':{first}'}: " + "; ".join(parts)


_KEY_LINE = re.compile(r"""\s*(?:"([^"\\]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*(?:=|\.)""")
_TABLE_LINE = re.compile(r"""\s*\[\s*(?:"([^"\\]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*\]""")


def key_lines(text: str) -> dict[str, int]:
    """Where each top-level key (and ``table.key``) of a settings file is, by line (1-based).

    Only for locating problems in messages: a plain scan of ``key =`` and ``[table]`` lines, never
    a second parser; a key it does not find is reported without a line.
    """
    found: dict[str, int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), 1):
        if m := _TABLE_LINE.match(line):
            table = next(g for g in m.groups() if g is not None)
            found.setdefault(table, number)
        elif m := _KEY_LINE.match(line):
            key = next(g for g in m.groups() if g is not None)
            found.setdefault(f"{table}.{key}" if table else key, number)
    return found


def _value_from_text(key: str, raw: str) -> Any:
    """A ``config set`` value, typed as the setting is: the model itself is strict (a TOML string is
    not a number), so the command line's text is converted here, and refused when it is no number."""
    if key not in NUMBER_SETTINGS:
        return raw
    text = raw.strip().replace("_", "")
    annotation = Settings.model_fields[key].annotation
    if annotation is int or (int in get_args(annotation) and float not in get_args(annotation)):  # int, int | None
        if not re.fullmatch(r"[+-]?[0-9]{1,18}", text):
            raise ConfigError(f"config set {key}: '{shown(raw, limit=40)}' is not a whole number")
        return int(text)
    try:
        number = float(text)
    except ValueError:
        raise ConfigError(f"config set {key}: '{shown(raw, limit=40)}' is not a number") from None
    if not math.isfinite(number):
        raise ConfigError(f"config set {key}: '{shown(raw, limit=40)}' is not a finite number")
    return number


def _check_one(key: str, value: Any) -> None:
    """Validate one setting's new value on its own, so its problem is reported as the argument's."""
    try:
        Settings.__pydantic_validator__.validate_assignment(Settings.model_construct(), key, value)
    except ValidationError as exc:
        msgs = [e["msg"].removeprefix("Value error, ")
                for e in exc.errors(include_input=False, include_url=False)]
        raise ConfigError(f"config set {_name(key)}: " + "; ".join(msgs)) from None


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
    try:  # stat first: a FIFO would block every command, a device would read forever
        mode = os.stat(file).st_mode
    except FileNotFoundError:
        if os.path.lexists(file):
            raise ConfigError(f"{where}: is a symbolic link to a file that does not exist",
                              hint="point the link at your config file, or remove it") from None
        return {}
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read ({exc.strerror or type(exc).__name__})",
                          hint="fix the file (a symbolic link loop?) or move it aside", see=REPAIR_SEE) from None
    if not stat.S_ISREG(mode):
        from annotrain_tui.core.files import kind_of

        raise ConfigError(f"{where}: is {kind_of(mode)}, not a regular file",
                          hint="move it aside", see=REPAIR_SEE)
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
                          hint=REPAIR_HINT.replace("fix that line", "fix the file"), see=REPAIR_SEE)
    if raw.startswith(b"\xef\xbb\xbf"):  # TOML 1.0 allows none, tomllib says "Invalid statement"
        raise ConfigError(f"{where} starts with a byte order mark (BOM)",
                          hint="save it as UTF-8 without BOM, or move it aside", see=REPAIR_SEE)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8", "replace")
        line, col = _line_col(before, len(before))
        raise ConfigError(f"{where}:{line}:{col}: not UTF-8 text", hint=REPAIR_HINT, see=REPAIR_SEE) from None
    import tomllib  # only when there is a file to read

    problem: str | None = None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)\s*$", msg)
        if m:
            msg = msg[: m.start()].rstrip()
            problem = f"{where}:{m.group(1)}:{m.group(2)}: invalid TOML: {shown(msg)}"
        else:
            problem = f"{where}: invalid TOML: {shown(msg)}"
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
    raise ConfigError(problem, hint=REPAIR_HINT, see=REPAIR_SEE)


def load_settings(paths: Paths | None = None) -> Settings:
    paths = paths or Paths.default()
    file = paths.config_file
    if not os.path.lexists(file):  # a link to nothing or a loop is not "no file": read_config_data says what
        return Settings()
    data = read_config_data(file)
    return parse_settings(data, source=shown(file), hint=SET_HINT, see=SET_SEE, lines=_file_key_lines(file))


def _file_key_lines(file: Path) -> dict[str, int]:
    try:
        with open(file, "rb") as fh:
            return key_lines(fh.read(MAX_CONFIG_BYTES).decode("utf-8", "replace"))
    except OSError:
        return {}


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


# A keymap value: Textual key names (letters, digits, f1…, ctrl+…, shift+…, question_mark), comma separated.
_KEYS = re.compile(r"[a-z0-9_]+(?:\+[a-z0-9_]+)*(?:,[a-z0-9_]+(?:\+[a-z0-9_]+)*)*")


def update_config(paths: Paths, key: str, raw: str, *, binding_ids: Collection[str] | None = None) -> Settings:
    """``annotrain config set``: change one key *in the file* and write it back.

    Works from the file's own mapping, not from validated settings, so a file with a wrong value
    (say key text in ssh_key_path) is repaired by setting that key; a file that is not TOML is
    one ConfigError with the line and the way out. ``binding_ids``: the ids a ``keymap`` entry may
    name (the front knows them; core does not); an unknown one is refused with a did-you-mean, and
    may still be unset. A sub-key in TOML quotes (``keymap."app.help"``) is that key without them.
    """
    data = read_config_data(paths.config_file)
    known = list(Settings.model_fields)
    base, _, sub = key.partition(".")
    if len(sub) >= 2 and sub[0] == sub[-1] and sub[0] in "\"'":  # as TOML quotes a dotted key
        sub = sub[1:-1]
        key = f"{base}.{sub}"
    if base not in known:
        raise ConfigError(f"unknown key '{_name(key)}'{_did_you_mean(base, known)}")
    # Whatever the key: key text is never written to the file (nor echoed here), and neither a key
    # nor a value holds control characters, which no setting needs.
    if base != "ssh_key_path" and (looks_like_key_text(raw) or looks_like_key_text(sub)):  # that one says more
        raise ConfigError(f"config set {_name(base)}: the value is the text of a key, which no setting holds "
                          "(save a key to a file, chmod 600, and set ssh_key_path to its path); nothing was saved")
    def no_controls() -> None:  # after a key's own check, which names its problem better
        for part, what in (((sub, "the key"), (raw, "the value")) if base != "ssh_key_path" else ()):
            bad = next((ch for ch in part if unicodedata.category(ch) in ("Cc", "Cf")), None)
            if bad is not None:
                raise ConfigError(f"config set {_name(key)}: {what} holds the control character "
                                  f"{escape_char(bad)}; nothing was saved")

    if sub:
        no_controls()
        if Settings.model_fields[base].default_factory is not dict:
            raise ConfigError(f"'{base}' is not a table; set it as '{base}' without a sub-key")
        current = data.get(base)
        table = dict(current if isinstance(current, dict) else {})
        if raw == "":  # '' unsets: the entry goes, as it does for a plain key
            table.pop(sub, None)
        else:
            if base == "keymap" and binding_ids is not None and sub not in binding_ids:
                raise ConfigError(f"config set {_name(key)}: no binding has the id '{_name(sub)}'"
                                  f"{_did_you_mean(sub, sorted(binding_ids))}; nothing was saved",
                                  hint="F1 in the app lists every key with its binding id")
            if base == "keymap" and not _KEYS.fullmatch(raw):
                raise ConfigError(f"config set {_name(key)}: '{shown(raw, limit=40)}' is not a list of keys "
                                  "(key names such as f2, ctrl+q or question_mark, separated by commas); "
                                  "nothing was saved")
            table[sub] = _table_number(key, raw) if base in NUMBER_TABLES else raw
        if table:
            data[base] = table
        else:
            data.pop(base, None)
    elif raw == "":
        data.pop(base, None)  # unset: back to the default
    else:  # the new value's own problem is the argument's: "config set KEY: ..."
        value = _value_from_text(base, raw)
        _check_one(base, value)
        no_controls()
        data[base] = value
    lines = {k: n for k, n in _file_key_lines(paths.config_file).items() if k.partition(".")[0] != base}
    settings = parse_settings(data, source=shown(paths.config_file), lines=lines,
                              hint=f"nothing was saved; {SET_HINT}", see=SET_SEE)
    save_settings(settings, paths)
    return settings


def _table_number(key: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"config set {_name(key)}: '{shown(raw, limit=40)}' is not a number; nothing was saved") \
            from None
    if not math.isfinite(value):
        raise ConfigError(f"config set {_name(key)}: the value must be a finite number; nothing was saved")
    return value


def reset_config(paths: Paths) -> Path | None:
    """``annotrain config reset``: move the file aside (nothing is deleted); None when there is none."""
    import os
    from datetime import datetime

    file = paths.config_file
    if not os.path.lexists(file):  # a broken link or a loop is moved aside too
        return None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = file.with_name(f"{file.name}.{stamp}.bak")
    n = 1
    while os.path.lexists(target):
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
        value: Any = _value_from_text(base, raw) if raw != "" else raw
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
