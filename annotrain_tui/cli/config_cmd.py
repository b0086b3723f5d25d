"""`annotrain config show|set|paths|reset`.

``set`` works on the file's own keys, so it repairs a file whose values are wrong; a file that is
not TOML (or nests too deeply to read) is refused with its line and the way out: fix that line, or
``config reset``, which moves the file aside (nothing is deleted) so the defaults apply again.
"""

from __future__ import annotations

import argparse

from annotrain_tui.cli.common import add_command, add_json_flag, emit_json
from annotrain_tui.core.config import Paths, key_file_warning, load_settings, reset_config, update_config
from annotrain_tui.core.text import shown


def _show(args: argparse.Namespace) -> int:
    paths = Paths.default()
    settings = load_settings(paths)
    data = settings.to_json()
    if args.json:
        emit_json({"file": str(paths.config_file), "settings": data,
                   "paths": {k: str(v) for k, v in vars(paths).items()}})
        return 0
    print(f"# {shown(paths.config_file)}{'' if paths.config_file.exists() else ' (not written yet: defaults)'}")
    for key, value in data.items():
        if value is None:  # TOML has no null: an unset key is a comment
            print(f"# {key} is not set")
        else:
            print(f"{key} = {shown(_toml(value))}")
    return 0


def _toml(value: object) -> str:
    """A setting's value as TOML writes it (the file's own syntax, not Python's: trial item 21)."""
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml(v)}" for k, v in value.items()) + " }" if value \
            else "{}"
    return json.dumps(str(value), ensure_ascii=False)


def binding_ids() -> set[str]:
    """What a keymap entry may name: the TUI's one list (``tui.keys``, the one the app checks at
    launch), imported only for a keymap entry (core does not know the TUI)."""
    from annotrain_tui.tui.keys import binding_ids as tui_binding_ids

    return tui_binding_ids()


def _set(args: argparse.Namespace) -> int:
    paths = Paths.default()
    ids = binding_ids() if args.key.partition(".")[0] == "keymap" and args.value != "" else None
    settings = update_config(paths, args.key, args.value, binding_ids=ids)
    key = args.key.replace('."', ".").removesuffix('"') if '."' in args.key else args.key
    print(f"{shown(key, limit=60)} {'unset' if args.value == '' else 'set'} in "
          f"{shown(paths.config_file)}")
    if args.key == "ssh_key_path" and settings.ssh_key_path:
        if not settings.ssh_key_path.exists():
            print(f"warning: {shown(settings.ssh_key_path)} does not exist (yet)")
        elif warning := key_file_warning(settings.ssh_key_path):
            print(f"warning: {shown(warning)}")
    return 0


def _reset(args: argparse.Namespace) -> int:
    paths = Paths.default()
    moved = reset_config(paths)
    if moved is None:
        print(f"No settings file at {shown(paths.config_file)}: the defaults apply already.")
    else:
        print(f"Moved {shown(paths.config_file)} to {shown(moved)}; the defaults apply now.")
    return 0


def _paths(args: argparse.Namespace) -> int:
    paths = Paths.default()
    for key, value in vars(paths).items():
        print(f"{key:<11} {shown(value)}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("config", help="show or change settings", description="Show or change settings.")
    gs = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = add_command(gs, "show", "print the settings", _show, workspace=False)
    add_json_flag(p)
    p = add_command(gs, "set", "set one setting (KEY.SUB for a table entry, '' to unset)", _set, workspace=False)
    p.add_argument("key")
    p.add_argument("value")
    add_command(gs, "paths", "print where annotrain keeps config, data, state and cache", _paths, workspace=False)
    add_command(gs, "reset", "move the settings file aside (kept as a .bak beside it): back to the defaults",
                _reset, workspace=False)
