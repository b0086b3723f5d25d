"""`annotrain config show|set|path`."""

from __future__ import annotations

import argparse

from annotrain_tui.cli.common import add_command, add_json_flag, emit_json
from annotrain_tui.core.config import Paths, key_file_warning, load_settings, save_settings, set_setting


def _show(args: argparse.Namespace) -> int:
    paths = Paths.default()
    settings = load_settings(paths)
    data = settings.model_dump(mode="json")
    if args.json:
        emit_json({"file": str(paths.config_file), "settings": data,
                   "paths": {k: str(v) for k, v in vars(paths).items()}})
        return 0
    print(f"# {paths.config_file}{'' if paths.config_file.exists() else ' (not written yet: defaults)'}")
    for key, value in data.items():
        print(f"{key} = {value!r}" if not isinstance(value, dict) else f"{key} = {value}")
    return 0


def _set(args: argparse.Namespace) -> int:
    paths = Paths.default()
    settings = set_setting(load_settings(paths), args.key, args.value)
    file = save_settings(settings, paths)
    print(f"{args.key} set in {file}")
    if args.key == "ssh_key_path" and settings.ssh_key_path:
        if not settings.ssh_key_path.exists():
            print(f"warning: {settings.ssh_key_path} does not exist (yet)")
        elif warning := key_file_warning(settings.ssh_key_path):
            print(f"warning: {warning}")
    return 0


def _paths(args: argparse.Namespace) -> int:
    paths = Paths.default()
    for key, value in vars(paths).items():
        print(f"{key:<11} {value}")
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
