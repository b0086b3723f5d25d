"""The settings' schema: pydantic validates what a user wrote (config.toml, ``config set``).

Imported only when something must be validated (a settings file not yet validated, a value being
set): the settings a command runs with are :class:`annotrain_tui.core.config.Settings`, a plain
frozen object, so a start-up with defaults or with an already-validated file never imports
pydantic (issue 14: pydantic's import alone is four times ``python -c pass``). The defaults are
``config.DEFAULTS``, the one list; ``tests/core/test_settings_light.py`` checks the two agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from annotrain_tui.core.config import (
    DEFAULTS as D,
)
from annotrain_tui.core.config import (
    KEY_TEXT_MESSAGE,
    MAX_REFRESH,
    MAX_RETRY_DELAY,
    MAX_TIMEOUT,
    NUMBER_SETTINGS,
    check_domain,
    check_path_text,
)
from annotrain_tui.core.secrets import looks_like_key_text
from annotrain_tui.core.text import shown


class SettingsSchema(BaseModel):
    """Everything a user can set. ``annotrain config show`` prints it; ``config set`` edits it."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    backend: Literal["sandbox", "encord"] = D["backend"]
    sandbox_path: Path | None = Field(D["sandbox_path"], description="sandbox workspace file (default: user data dir)")
    ssh_key_path: Path | None = Field(D["ssh_key_path"], description="Encord SSH private key: a path, never the key")
    encord_domain: str | None = Field(D["encord_domain"],
                                      description="Encord API domain, e.g. https://api.us.encord.com")
    workflow_templates: dict[str, str] = Field(
        default_factory=dict, description="Encord workflow templates, title = template hash")
    default_template: str | None = Field(D["default_template"], description="template title used for training projects")
    training_title: str = Field(D["training_title"], description="title pattern for training projects")
    # Numbers are strict (a TOML string or true/false is not a number) and finite (allow_inf_nan);
    # every one has an upper bound, so no setting can make a command wait for ever.
    request_timeout: float = Field(D["request_timeout"], gt=0, le=MAX_TIMEOUT, strict=True,
                                   description="seconds before an interactive call gives up")
    # A bundle of label rows, a whole dataset's data rows or a link of many items is one long request
    # (the SDK's own default read timeout is 180 s: encord/http/constants.py DEFAULT_READ_TIMEOUT).
    bulk_timeout: float = Field(D["bulk_timeout"], gt=0, le=MAX_TIMEOUT, strict=True,
                                description="seconds before a bulk call (label rows, data rows, linking) gives up")
    retry_attempts: int = Field(D["retry_attempts"], ge=1, le=20, strict=True)
    retry_base_delay: float = Field(D["retry_base_delay"], ge=0, le=MAX_RETRY_DELAY, strict=True)
    iou_threshold: float = Field(D["iou_threshold"], ge=0, le=1, strict=True)
    low_overlap: float = Field(D["low_overlap"], ge=0, le=1, strict=True)
    pass_f1: float = Field(D["pass_f1"], ge=0, le=1, strict=True)
    pass_class_accuracy: float = Field(D["pass_class_accuracy"], ge=0, le=1, strict=True)
    pass_classification_accuracy: float = Field(D["pass_classification_accuracy"], ge=0, le=1, strict=True,
                                                description="the mean score of the classification answers")
    pass_attribute_accuracy: float = Field(D["pass_attribute_accuracy"], ge=0, le=1, strict=True,
                                           description="the mean score of the object attributes on matches")
    pass_min_items: int | None = Field(D["pass_min_items"], ge=1, le=10**9, strict=True,
                                       description="finished items a status needs (unset: every benchmark item)")
    pass_confidence: float = Field(D["pass_confidence"], ge=0, lt=1, strict=True,
                                   description="confidence of the F1 interval: 'uncertain' when it straddles the "
                                               "mark (0: off)")
    class_matching: Literal["any", "same"] = Field(
        D["class_matching"],
        description="any: objects match whatever their classes; same: within a class, then a cross-class pass")
    keypoint_sigma: float = Field(D["keypoint_sigma"], gt=0, le=1, strict=True,
                                  description="points and skeletons: the keypoint similarity's sigma")
    class_thresholds: dict[str, Annotated[float, Field(gt=0, le=1, strict=True)]] = Field(
        default_factory=dict, description="class name = the similarity a match needs (instead of iou_threshold)")
    class_sigmas: dict[str, Annotated[float, Field(gt=0, le=1, strict=True)]] = Field(
        default_factory=dict, description="class name = keypoint sigma (instead of keypoint_sigma)")
    class_pass_f1: dict[str, Annotated[float, Field(ge=0, le=1, strict=True)]] = Field(
        default_factory=dict, description="class name = the F1 that class needs to pass")
    refresh_interval: float = Field(D["refresh_interval"], ge=0.5, le=MAX_REFRESH, strict=True,
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
