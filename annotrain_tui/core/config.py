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

import codecs
import math
import os
import re
import stat
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import platformdirs

from annotrain_tui.core.errors import AnnotrainError, ConfigError, InvalidInput
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


#: Every setting and its default: the one list (the schema, core/settings_schema.py, takes its
#: defaults from here). A table's default is an empty dict (a fresh one per Settings).
DEFAULTS: dict[str, Any] = {
    "backend": "sandbox", "sandbox_path": None, "ssh_key_path": None, "encord_domain": None,
    "workflow_templates": {}, "default_template": None, "training_title": DEFAULT_TRAINING_TITLE,
    "request_timeout": 30.0, "bulk_timeout": 180.0, "retry_attempts": 5, "retry_base_delay": 0.5,
    "iou_threshold": 0.5, "low_overlap": 0.8, "pass_f1": 0.8, "pass_class_accuracy": 0.9,
    "pass_classification_accuracy": 0.8, "pass_attribute_accuracy": 0.8, "pass_min_items": None,
    "pass_confidence": 0.95, "class_matching": "any", "keypoint_sigma": 0.05, "class_thresholds": {},
    "class_sigmas": {}, "class_pass_f1": {}, "refresh_interval": 10.0, "keymap": {},
}
#: the settings that are tables (``name = value`` entries; ``config set TABLE.NAME``)
TABLE_SETTINGS = tuple(k for k, v in DEFAULTS.items() if isinstance(v, dict))


class Settings:
    """Everything a user can set, validated: what every command and screen runs with.

    A plain frozen object, not a pydantic model: pydantic (the schema, :mod:`.settings_schema`)
    validates what a user wrote, and is imported only then, so a start-up with the defaults or with
    a file validated before (``load_settings``' cache) never pays for it. ``Settings(**values)``
    validates ``values`` through the schema (a ValueError subclass, pydantic's ValidationError,
    when one is wrong); :meth:`trusted` takes values the schema already validated."""

    __slots__ = tuple(DEFAULTS)

    backend: Literal["sandbox", "encord"]
    sandbox_path: Path | None
    ssh_key_path: Path | None
    encord_domain: str | None
    workflow_templates: dict[str, str]
    default_template: str | None
    training_title: str
    request_timeout: float
    bulk_timeout: float
    retry_attempts: int
    retry_base_delay: float
    iou_threshold: float
    low_overlap: float
    pass_f1: float
    pass_class_accuracy: float
    pass_classification_accuracy: float
    pass_attribute_accuracy: float
    pass_min_items: int | None
    pass_confidence: float
    class_matching: Literal["any", "same"]
    keypoint_sigma: float
    class_thresholds: dict[str, float]
    class_sigmas: dict[str, float]
    class_pass_f1: dict[str, float]
    refresh_interval: float
    keymap: dict[str, str]

    def __init__(self, **values: Any) -> None:
        self._fill(_validated(values) if values else {})

    @classmethod
    def trusted(cls, values: dict[str, Any]) -> Settings:
        """Settings from values the schema validated (its output, or the cache of it): not checked again."""
        settings = cls.__new__(cls)
        settings._fill(values)
        return settings

    def _fill(self, values: dict[str, Any]) -> None:
        for name, default in DEFAULTS.items():
            value = values.get(name, default)
            object.__setattr__(self, name, dict(value) if isinstance(value, dict) else value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"settings are frozen: make new ones with replace({name}=...)")

    def replace(self, **updates: Any) -> Settings:
        """These settings with ``updates``, which the caller has checked already (a command-line
        option goes through the same check as the setting: ``check_path_text``, ``check_domain``)."""
        unknown = set(updates) - set(DEFAULTS)
        if unknown:
            raise TypeError(f"no such setting: {', '.join(sorted(unknown))}")
        return Settings.trusted({**self.as_dict(), **updates})

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in DEFAULTS}

    def to_json(self, *, exclude_defaults: bool = False) -> dict[str, Any]:
        """The settings as JSON values (paths as text), in the schema's order."""
        out: dict[str, Any] = {}
        for name, default in DEFAULTS.items():
            value = getattr(self, name)
            if exclude_defaults and value == default:
                continue
            out[name] = str(value) if isinstance(value, Path) else dict(value) if isinstance(value, dict) else value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Settings:
        """The inverse of :meth:`to_json` for values it wrote (the validated-settings cache)."""
        return cls.trusted({k: Path(v) if k in PATH_SETTINGS and v is not None else v
                            for k, v in data.items() if k in DEFAULTS})

    def __reduce__(self) -> tuple[Any, ...]:
        """Copied and pickled as its values (a slotted, frozen object has no state to set back)."""
        return (Settings.trusted, (self.as_dict(),))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Settings) and self.as_dict() == other.as_dict()

    __hash__ = None  # type: ignore[assignment]  # tables inside: not hashable, as a pydantic model with dicts

    def __repr__(self) -> str:
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items()) + ")"


def _declared(name: str) -> tuple[str, bool]:
    """The setting's declared type as ``Settings`` annotates it (without ``| None``), and whether
    it may be unset: the one description of each setting's kind beside the schema's."""
    declared = Settings.__annotations__[name]
    return declared.removesuffix(" | None"), declared.endswith(" | None")


#: the settings that are whole numbers (``config set`` reads their text as one)
INT_SETTINGS = tuple(name for name in DEFAULTS if _declared(name)[0] == "int")
#: the settings that are paths (kept as Path, written as text)
PATH_SETTINGS = tuple(name for name in DEFAULTS if _declared(name)[0] == "Path")


def _validated(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` validated by the schema (pydantic is imported here, and only here)."""
    from annotrain_tui.core.settings_schema import SettingsSchema

    return dict(SettingsSchema.model_validate(values))


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
    from pydantic import ValidationError

    known = list(DEFAULTS)
    problems: list[tuple[str, str]] = [
        (str(k), f"unknown key '{_name(k)}'{_did_you_mean(str(k), known)}") for k in data if k not in known]
    clean = {k: v for k, v in data.items() if k in known}
    settings: Settings | None
    try:
        settings = Settings.trusted(_validated(clean))
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
    if key in INT_SETTINGS:
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
    from pydantic import ValidationError

    from annotrain_tui.core.settings_schema import SettingsSchema

    try:
        SettingsSchema.__pydantic_validator__.validate_assignment(SettingsSchema.model_construct(), key, value)
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
    raw = _config_bytes(file)
    return {} if raw is None else _config_mapping(file, raw)


def _config_bytes(file: Path) -> bytes | None:
    """The config file's bytes (None: there is none); a file that cannot be a settings file is one
    ConfigError (a FIFO, a device, a link to nothing, too large, a BOM)."""
    where = shown(file)
    try:  # stat first: a FIFO would block every command, a device would read forever
        mode = os.stat(file).st_mode
    except FileNotFoundError:
        if os.path.lexists(file):
            raise ConfigError(f"{where}: is a symbolic link to a file that does not exist",
                              hint="point the link at your config file, or remove it") from None
        return None
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
        return None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read ({exc.strerror or type(exc).__name__})",
                          hint="check the file's permissions") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{where}: too large for a settings file (over {MAX_CONFIG_BYTES // 1024} KiB)",
                          hint=REPAIR_HINT.replace("fix that line", "fix the file"), see=REPAIR_SEE)
    if raw.startswith(codecs.BOM_UTF8):  # TOML 1.0 allows none, tomllib says "Invalid statement"
        raise ConfigError(f"{where} starts with a byte order mark (BOM)",
                          hint="save it as UTF-8 without BOM, or move it aside", see=REPAIR_SEE)
    return raw


def _config_mapping(file: Path, raw: bytes) -> dict[str, Any]:
    """The config file's bytes as TOML; not UTF-8 or not TOML is one ConfigError with the line."""
    where = shown(file)
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
    """The user's settings: the defaults when there is no config file; else the file validated by
    the schema, or, when these very bytes were validated before (by this code, with this home
    directory), the cached result of that (``_validated_cache``): start-up never imports pydantic
    for a file it has already checked."""
    paths = paths or Paths.default()
    file = paths.config_file
    if not os.path.lexists(file):  # a link to nothing or a loop is not "no file": _config_bytes says what
        return Settings()
    raw = _config_bytes(file)
    if raw is None:
        return Settings()
    key = _cache_key(raw)
    cached = _cached_settings(paths, key)
    if cached is not None:
        return cached
    settings = parse_settings(_config_mapping(file, raw), source=shown(file), hint=SET_HINT, see=SET_SEE,
                              lines=_file_key_lines(file))
    _remember_settings(paths, key, settings)
    return settings


#: the code whose checks a cached validation stands for: any change to one of them validates anew
_VALIDATING_MODULES = ("config.py", "settings_schema.py", "secrets.py", "roster.py", "files.py", "text.py")


def _cache_key(raw: bytes) -> str:
    """What a validation of ``raw`` depends on: the bytes, the home directory (``~`` in a path
    setting expands against it, HOME or the password database), the interpreter, and the
    validating code: annotrain's modules and pydantic's (each file's size and modification time).
    "" (no caching) for a file naming another user's home (``~name``: the password database)."""
    import hashlib
    import sys
    from importlib.util import find_spec

    if re.search(rb"~[^/\\\"'\s]", raw):
        return ""
    digest = hashlib.sha256(raw)
    digest.update(b"\0" + os.fsencode(os.path.expanduser("~")) + b"\0" + sys.version.encode())
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        spec = find_spec("pydantic")  # finds, does not import
        pydantic_dir = os.path.dirname(spec.origin) if spec is not None and spec.origin else ""
    except (ImportError, ValueError):
        pydantic_dir = ""
    if not pydantic_dir:
        return ""
    files = [os.path.join(here, name) for name in _VALIDATING_MODULES]
    files += [os.path.join(pydantic_dir, "version.py"), os.path.join(pydantic_dir, "__init__.py")]
    for path in files:
        try:
            st = os.stat(path)
        except OSError:
            return ""  # code not where it is expected: validate every time
        digest.update(f"\0{path}:{st.st_size}:{st.st_mtime_ns}".encode())
    return digest.hexdigest()


def _cache_file(paths: Paths) -> Path:
    return paths.cache_dir / "settings.validated.json"


def _cached_settings(paths: Paths, key: str) -> Settings | None:
    """The settings validated from the same bytes before, if the cache holds them. Only a file of
    this user's that no one else may write is believed, and only with values of each setting's
    type; anything odd: None, and the config file is validated again (it is only a cache)."""
    import json

    if not key:
        return None
    try:
        with open(_cache_file(paths), "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode) or st.st_mode & 0o022 or (hasattr(os, "geteuid")
                                                                       and st.st_uid != os.geteuid()):
                return None
            entry = json.loads(fh.read(MAX_CONFIG_BYTES))
        if not isinstance(entry, dict) or entry.get("key") != key or not isinstance(entry.get("settings"), dict):
            return None
        values = entry["settings"]
        if set(values) != set(DEFAULTS) or not all(_json_value_fits(k, v) for k, v in values.items()):
            return None
        return Settings.from_json(values)
    except (OSError, ValueError, TypeError, RecursionError):
        return None


def _json_value_fits(name: str, value: Any) -> bool:
    """Whether ``value`` is of the type the setting ``name`` is declared with (``Settings``'
    annotations, in their JSON form: a path as text). Types only: the values came out of the
    schema; this refuses a cache entry that something other than annotrain wrote or damaged."""
    kind, nullable = _declared(name)
    if value is None:
        return nullable

    def number(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if kind.startswith("Literal["):  # Literal["a", "b"]: text choices
        return value in [part.strip().strip("\"'") for part in kind[len("Literal["):-1].split(",")]
    if kind.startswith("dict[str, "):
        inner = kind[len("dict[str, "):-1]
        fits = number if inner == "float" else (lambda v: isinstance(v, str))
        return isinstance(value, dict) and all(isinstance(k, str) and fits(v) for k, v in value.items())
    if kind == "float":
        return number(value)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str)  # str, Path


def _remember_settings(paths: Paths, key: str, settings: Settings) -> None:
    import json

    if not key:
        return
    try:
        atomic_write_text(_cache_file(paths), json.dumps({"key": key, "settings": settings.to_json()}),
                          mode=PRIVATE_FILE, make_parents=True)
    except (OSError, AnnotrainError):
        pass  # a cache that cannot be written is validation next time, nothing worse


def _file_key_lines(file: Path) -> dict[str, int]:
    try:
        with open(file, "rb") as fh:
            return key_lines(fh.read(MAX_CONFIG_BYTES).decode("utf-8", "replace"))
    except OSError:
        return {}


def save_settings(settings: Settings, paths: Paths | None = None) -> Path:
    paths = paths or Paths.default()
    data = {k: v for k, v in settings.to_json(exclude_defaults=True).items() if v is not None}
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
    known = list(DEFAULTS)
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
        if base not in TABLE_SETTINGS:
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
    known = list(DEFAULTS)
    base, _, sub = key.partition(".")
    if base not in known:
        raise ConfigError(f"unknown key '{_name(key)}'{_did_you_mean(base, known)}")
    data = settings.to_json()
    if sub:
        if not isinstance(data.get(base), dict):
            raise ConfigError(f"'{base}' is not a table; set it as '{base}' without a sub-key")
        data[base] = {**data[base], sub: raw}
    else:
        value: Any = _value_from_text(base, raw) if raw != "" else raw
        if raw == "" and DEFAULTS[base] is None:
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
