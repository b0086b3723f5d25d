"""Opening a workspace: settings + command-line overrides → a backend wrapped in retries.

Both fronts call :func:`open_workspace`; nothing else constructs backends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotrain_tui.core.backends.base import Backend, unwrap
from annotrain_tui.core.config import (
    Paths,
    Settings,
    check_domain,
    check_path_text,
    key_file_warning,
    key_path_from_text,
    load_settings,
)
from annotrain_tui.core.errors import ConfigError, UsageError
from annotrain_tui.core.files import protect
from annotrain_tui.core.recent import Recent
from annotrain_tui.core.remedies import see
from annotrain_tui.core.retry import RetryingBackend, RetryPolicy

if TYPE_CHECKING:
    from annotrain_tui.core.backends.sandbox import SandboxBackend
    from annotrain_tui.core.programme import Programme


@dataclass
class Workspace:
    paths: Paths
    settings: Settings
    backend: Backend  # wrapped in retries (and fault injection when asked for)
    warnings: list[str] = field(default_factory=list)

    @property
    def raw(self) -> Backend:
        """The backend under the retry and fault layers (adapter-only state lives there)."""
        return unwrap(self.backend)

    @property
    def sandbox(self) -> SandboxBackend:
        """The sandbox backend itself, for the sandbox-only operations (simulate, import labels);
        a UsageError on any other backend."""
        from annotrain_tui.core.backends.sandbox import SandboxBackend

        raw = self.raw
        if not isinstance(raw, SandboxBackend):
            raise UsageError("this works on the sandbox backend only", hint="pass --backend sandbox")
        return raw

    def close(self) -> None:
        self.raw.close()

    @property
    def key(self) -> str:
        """Which workspace this is, for what the fronts remember across launches (core.recent)."""
        if self.settings.backend == "sandbox":
            return f"sandbox:{sandbox_path(self.paths, self.settings)}"
        return f"encord:{self.settings.encord_domain or 'default'}"

    def recent(self) -> Recent:
        return Recent.of(self.paths, self.key)

    def programme(self, ref: str | None = None) -> Programme:
        """The programme of benchmark ``ref`` (id or title, or a training project's); None: the one
        the user worked on last (``recent`` 'benchmark') while it is one, else the first."""
        from annotrain_tui.core.programme import load_programme

        return load_programme(self.backend, ref, self.paths.programmes_dir, self.key,
                              preferred=self.recent().get("benchmark"))

    def programmes(self) -> list[Programme]:
        from annotrain_tui.core.programme import list_programmes

        return list_programmes(self.backend, self.paths.programmes_dir, self.key)


def resolve_settings(paths: Paths | None = None, *, backend: str | None = None, sandbox: str | Path | None = None,
                     ssh_key: str | Path | None = None, domain: str | None = None) -> tuple[Paths, Settings]:
    paths = paths or Paths.default()
    settings = load_settings(paths)
    updates: dict[str, Any] = {}
    if backend:
        updates["backend"] = backend
    if sandbox:  # expanded as every user's path is (core.config.check_path_text: ~name, NUL)
        try:
            updates["sandbox_path"] = check_path_text(sandbox, controls=False)
        except ValueError as exc:
            raise ConfigError(f"--sandbox: {exc}") from None
    if ssh_key:  # key text given where the path belongs is refused, never echoed
        updates["ssh_key_path"] = key_path_from_text(ssh_key, source="--ssh-key")
    if domain:  # replace() does not validate: check here what the settings would
        try:
            updates["encord_domain"] = check_domain(domain)
        except ValueError as exc:
            raise ConfigError(str(exc).replace("encord_domain", "--domain", 1)) from None
    if updates:
        settings = settings.replace(**updates)
    return paths, settings


def sandbox_path(paths: Paths, settings: Settings) -> Path:
    return settings.sandbox_path or paths.default_sandbox


def is_default_sandbox(paths: Paths, settings: Settings) -> bool:
    """The workspace in the user data dir, chosen by nobody (no --sandbox, no sandbox_path in config)."""
    return settings.sandbox_path is None or Path(settings.sandbox_path) == paths.default_sandbox


def open_sandbox(paths: Paths, settings: Settings, *, read_only: bool = False) -> SandboxBackend:
    """The one rule for opening a sandbox workspace, for every command of both fronts:

    - the DEFAULT workspace (user data dir) that does not exist yet is created with the demo
      programme, all or nothing, by the first command of any kind (CLI or TUI);
    - a path the user chose (--sandbox, config ``sandbox_path``) that does not exist is NotFound
      and nothing is created (no file, no directory): only 'sandbox init' creates one;
    - an existing file is opened for reading (nothing written until a write); one that is not an
      annotrain workspace is refused untouched; one that cannot be written serves reads.
    """
    import os

    from annotrain_tui.core.backends.sandbox import SandboxBackend

    path = sandbox_path(paths, settings)
    protect(path, "the sandbox workspace")  # no output of this process may replace it
    if not os.path.lexists(path) and is_default_sandbox(paths, settings) and not read_only:
        from annotrain_tui.core.backends.sandbox.demo import create_demo_workspace
        from annotrain_tui.core.errors import Conflict

        try:
            create_demo_workspace(path, paths)
        except Conflict:
            pass  # another first command made it meanwhile
    return SandboxBackend(path, create=False, read_only=read_only)


def open_workspace(paths: Paths, settings: Settings, *, passphrase: Any = None) -> Workspace:
    """``passphrase``: text, or a callback asked with the key path, for a passphrase-protected key
    (never stored)."""
    warnings: list[str] = []
    policy = RetryPolicy(attempts=settings.retry_attempts, base_delay=settings.retry_base_delay)
    if settings.backend == "sandbox":
        from annotrain_tui.core.backends.faults import FaultInjector

        inner: Backend = FaultInjector.from_env(open_sandbox(paths, settings))
    else:
        import os

        key = settings.ssh_key_path or (key_path_from_text(os.environ["ENCORD_SSH_KEY_FILE"],
                                                           source="ENCORD_SSH_KEY_FILE")
                                        if os.environ.get("ENCORD_SSH_KEY_FILE") else None)
        from annotrain_tui.core.backends.encord import TOKEN_ENV, EncordBackend

        if key is None and not os.environ.get(TOKEN_ENV, "").strip():
            raise UsageError("the encord backend needs an SSH key (or a bearer token)",
                             hint=f"pass --ssh-key PATH, set ENCORD_SSH_KEY_FILE or save the key's path in the "
                                  f"settings; or set {TOKEN_ENV}", see=see("config.set", key="ssh_key_path", value="PATH"))
        if key is not None:
            protect(key, "the SSH key")
            warning = key_file_warning(key)
            if warning:
                warnings.append(warning)

        inner = EncordBackend.connect(settings, passphrase=passphrase)
    return Workspace(paths=paths, settings=settings, backend=RetryingBackend(inner, policy), warnings=warnings)
