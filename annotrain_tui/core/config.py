"""Paths (platformdirs, so XDG_* variables relocate everything) and validated settings.

The config file is TOML at ``<config dir>/config.toml``. Every unknown key is reported at once,
with a did-you-mean. Secrets are never stored: an SSH key is kept as a *path*.
"""

from __future__ import annotations

import difflib
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from annotrain_tui.core.errors import ConfigError
from annotrain_tui.core.files import atomic_write_text

APP = "annotrain"


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

    @field_validator("ssh_key_path", "sandbox_path")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None


def _did_you_mean(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def parse_settings(data: dict[str, Any], *, source: str = "config") -> Settings:
    """Validate a settings mapping, reporting every problem at once in one message."""
    known = list(Settings.model_fields)
    problems = [f"unknown key '{k}'{_did_you_mean(k, known)}" for k in data if k not in known]
    clean = {k: v for k, v in data.items() if k in known}
    try:
        settings = Settings.model_validate(clean)
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            problems.append(f"'{where}': {err['msg']}")
        settings = None
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems))
    assert settings is not None
    return settings


def load_settings(paths: Paths | None = None) -> Settings:
    paths = paths or Paths.default()
    file = paths.config_file
    if not file.exists():
        return Settings()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: invalid TOML: {exc}", hint="fix the file or run 'annotrain config reset'") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from None
    return parse_settings(data, source=str(file))


def save_settings(settings: Settings, paths: Paths | None = None) -> Path:
    import tomli_w

    paths = paths or Paths.default()
    data = settings.model_dump(mode="json", exclude_defaults=True)
    data = {k: v for k, v in data.items() if v is not None}
    atomic_write_text(paths.config_file, tomli_w.dumps(data), make_parents=True)
    return paths.config_file


def set_setting(settings: Settings, key: str, raw: str) -> Settings:
    """Return settings with ``key`` set from a command-line string (``a.b`` sets a dict entry)."""
    known = list(Settings.model_fields)
    base, _, sub = key.partition(".")
    if base not in known:
        raise ConfigError(f"unknown key '{key}'{_did_you_mean(base, known)}")
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
    return parse_settings(data, source=f"config set {key}")


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
