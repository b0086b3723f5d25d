"""What the user picked or opened last, kept across launches (``recent.json`` in the state dir).

The TUI remembers, per workspace, the picked integration and folder, the last manifest opened, and
the last directory a file was saved or exported to. Nothing here is needed for correctness: a file
that cannot be read (missing, corrupt, from another version) is an empty memory, and a write that
fails is dropped silently (remembering is a convenience, never a reason to show an error). Writes
are atomic, so two processes never leave a half-written file.

    recent = Recent.of(paths, workspace_key)
    recent.get("manifest")            # -> "/home/me/cohort.json" or None
    recent.set(manifest="/home/me/cohort.json", export_dir="/home/me/out")
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from annotrain_tui.core.config import Paths
from annotrain_tui.core.files import atomic_write_text
from annotrain_tui.core.secrets import PRIVATE_FILE

#: the keys the fronts use (one place, so a typo is a KeyError in a test, not a silent miss)
KEYS = frozenset({"integration", "folder", "manifest", "save_dir", "export_dir", "roster", "benchmark"})
#: a memory is small; anything longer is not ours
_MAX_BYTES = 64 * 1024
_MAX_WORKSPACES = 20


@dataclass
class Recent:
    file: Path
    workspace: str

    @classmethod
    def of(cls, paths: Paths, workspace: str) -> Recent:
        return cls(paths.state_dir / "recent.json", workspace)

    def _load(self) -> dict[str, dict[str, str]]:
        try:
            if self.file.stat().st_size > _MAX_BYTES:
                return {}
            doc = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(doc, dict):
            return {}
        return {k: {kk: vv for kk, vv in v.items() if kk in KEYS and isinstance(vv, str)}
                for k, v in doc.items() if isinstance(k, str) and isinstance(v, dict)}

    def get(self, key: str) -> str | None:
        if key not in KEYS:
            raise KeyError(key)
        return self._load().get(self.workspace, {}).get(key)

    def set(self, **values: str | Path | None) -> None:
        """Remember ``values`` (``None`` forgets a key); never raises on a file problem."""
        unknown = set(values) - KEYS
        if unknown:
            raise KeyError(", ".join(sorted(unknown)))
        doc: dict[str, Any] = self._load()
        mine = doc.pop(self.workspace, {})
        for key, value in values.items():
            if value is None:
                mine.pop(key, None)
            else:
                mine[key] = str(value)
        doc[self.workspace] = mine  # most recent last; the oldest workspaces are forgotten first
        while len(doc) > _MAX_WORKSPACES:
            doc.pop(next(iter(doc)))
        try:
            atomic_write_text(self.file, json.dumps(doc, indent=1, ensure_ascii=False), mode=PRIVATE_FILE, make_parents=True)
        except (OSError, Exception):  # noqa: BLE001 - a memory that cannot be written is simply not kept
            pass
