"""Opening a workspace: settings + command-line overrides → a backend wrapped in retries.

Both fronts call :func:`open_workspace`; nothing else constructs backends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotrain_tui.core.config import Paths, Settings, key_file_warning, load_settings
from annotrain_tui.core.errors import NotFound, UsageError
from annotrain_tui.core.retry import RetryingBackend, RetryPolicy


@dataclass
class Workspace:
    paths: Paths
    settings: Settings
    backend: Any  # a Backend, wrapped in retries (and fault injection when asked for)
    warnings: list[str] = field(default_factory=list)

    @property
    def raw(self) -> Any:
        """The unwrapped backend (sandbox-only operations live there)."""
        inner = self.backend
        while hasattr(inner, "inner"):
            inner = inner.inner
        return inner

    def close(self) -> None:
        self.raw.close()


def resolve_settings(paths: Paths | None = None, *, backend: str | None = None, sandbox: str | Path | None = None,
                     ssh_key: str | Path | None = None, domain: str | None = None) -> tuple[Paths, Settings]:
    paths = paths or Paths.default()
    settings = load_settings(paths)
    updates: dict[str, Any] = {}
    if backend:
        updates["backend"] = backend
    if sandbox:
        updates["sandbox_path"] = Path(sandbox).expanduser()
    if ssh_key:
        updates["ssh_key_path"] = Path(ssh_key).expanduser()
    if domain:
        updates["encord_domain"] = domain
    if updates:
        settings = settings.model_copy(update=updates)
    return paths, settings


def sandbox_path(paths: Paths, settings: Settings) -> Path:
    return settings.sandbox_path or paths.default_sandbox


def open_workspace(paths: Paths, settings: Settings, *, demo_if_new: bool = False,
                   must_exist: bool = False, passphrase: Any = None) -> Workspace:
    """``passphrase``: text, or a callback asked with the key path, for a passphrase-protected key
    (never stored)."""
    warnings: list[str] = []
    policy = RetryPolicy(attempts=settings.retry_attempts, base_delay=settings.retry_base_delay)
    if settings.backend == "sandbox":
        from annotrain_tui.core.backends.faults import FaultInjector
        from annotrain_tui.core.backends.sandbox import SandboxBackend

        path = sandbox_path(paths, settings)
        fresh = not path.exists()
        if fresh and must_exist:
            raise NotFound(f"no sandbox workspace at {path}", hint="run 'annotrain sandbox init --demo'")
        backend = SandboxBackend(path)
        if fresh and demo_if_new:
            from annotrain_tui.core.backends.sandbox.demo import seed_demo

            seed_demo(backend, paths)
        inner = FaultInjector.from_env(backend)
    else:
        import os

        key = settings.ssh_key_path or (Path(os.environ["ENCORD_SSH_KEY_FILE"]).expanduser()
                                        if os.environ.get("ENCORD_SSH_KEY_FILE") else None)
        if key is None:
            raise UsageError("the encord backend needs an SSH key", hint="pass --ssh-key PATH, set "
                             "ENCORD_SSH_KEY_FILE or run 'annotrain config set ssh_key_path PATH'")
        warning = key_file_warning(key)
        if warning:
            warnings.append(warning)
        from annotrain_tui.core.backends.encord import EncordBackend

        inner = EncordBackend.connect(settings, passphrase=passphrase)
    return Workspace(paths=paths, settings=settings, backend=RetryingBackend(inner, policy), warnings=warnings)
