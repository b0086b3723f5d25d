"""One error hierarchy for the whole core.

Every error carries a message a user can act on. Fronts render ``str(err)``: one line on stderr
in the CLI, a toast or modal in the TUI. Third-party exception text is never passed through
unfiltered (the SDK's key-parsing errors can contain key material).

Each class has a ``kind``: ``"failure"`` (the work could not be done, or the workspace refused it: a
domain failure) or ``"input"`` (what the user gave -- the command line, a setting, a file -- is wrong
or cannot be read). What a front does with a kind is the front's business: the CLI's exit codes
live in ``annotrain_tui.cli.exit_codes``, not here. Likewise ``hint`` says what helps in words and
``see`` names the action that does it (``core.remedies``); each front renders that action.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from annotrain_tui.core.remedies import See, SeeLike, refs, with_remedy

#: ``"failure"``: a domain failure; ``"input"``: usage or unreadable/unusable input.
ErrorKind = Literal["failure", "input"]


class AnnotrainError(Exception):
    """Base class."""

    kind: ClassVar[ErrorKind] = "failure"
    retryable = False

    def __init__(self, message: str, *, hint: str | None = None, see: SeeLike = None) -> None:
        super().__init__(message)
        self.message = message
        #: what helps, in words true in any front (never a command line or a key)
        self.hint = hint
        #: the actions that help (core.remedies): each front renders them its own way
        self.see: tuple[See, ...] = refs(see)

    def __str__(self) -> str:  # one line, always: the front-neutral text (no action rendered)
        return with_remedy(self.message, self.hint, "")


class InvalidInput(AnnotrainError):
    """A file, roster, manifest or argument the user gave cannot be used as it is."""

    kind: ClassVar[ErrorKind] = "input"


class UnreadableInput(InvalidInput):
    """A file could not be read at all (missing, a directory, no permission)."""


class UsageError(InvalidInput):
    """The command line itself is wrong."""


class WriteFailed(AnnotrainError):
    """A file could not be written for a reason of the system, not of the path given (disk full,
    read-only file system, file-size limit, I/O error): exit 1; the old file, if any, is intact."""


class NotFound(AnnotrainError):
    pass


class Conflict(AnnotrainError):
    """Something with that identity already exists, or differs from what was expected."""


class Unusable(AnnotrainError):
    """One object (a project) cannot be used with this key or SDK, though others can: flows over many
    projects leave it out and say so, rather than stop."""


class PermissionDenied(Unusable):
    pass


class SdkCannotLoad(Unusable):
    """The SDK cannot load this project (its workflow has stages the SDK does not know, e.g. routers)."""


class AuthFailed(AnnotrainError):
    pass


class ConfigError(AnnotrainError):
    """A setting (config file, environment variable, global option) is wrong."""

    kind: ClassVar[ErrorKind] = "input"


class Transient(AnnotrainError):
    """A failure that may go away on retry (timeout, dropped connection, 5xx).

    ``acted`` is True when the call is known to have taken effect before the answer was lost,
    None when that is unknown (a timeout), False when it certainly did not act.
    """

    retryable = True

    def __init__(self, message: str, *, hint: str | None = None, acted: bool | None = None,
                 attempts: int | None = None, see: SeeLike = None) -> None:
        super().__init__(message, hint=hint, see=see)
        self.acted = acted
        #: At most this many attempts in all for this kind of failure (None: the policy's). A timeout
        #: of a long bulk request is worth one more try, not five.
        self.attempts = attempts


class RateLimited(Transient):
    def __init__(self, message: str, *, retry_after: float | None = None, hint: str | None = None,
                 see: SeeLike = None) -> None:
        super().__init__(message, hint=hint, acted=False, see=see)
        self.retry_after = retry_after


class Cancelled(AnnotrainError):
    """The user cancelled long work."""


class OutputExists(InvalidInput):
    """The file an output would be written to already exists and overwriting was not asked for.

    The CLI reports it (``--force`` overwrites); the TUI asks the user and retries with force.
    ``path`` is the real path that would be replaced.
    """

    def __init__(self, message: str, *, hint: str | None = "pass --force to overwrite it",
                 path: object | None = None, see: SeeLike = None) -> None:
        super().__init__(message, hint=hint, see=see)
        self.path = path
