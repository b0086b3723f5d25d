"""Turning the global options into a workspace, the same way for every command."""

from __future__ import annotations

import argparse
import sys

from annotrain_tui.core.config import Paths
from annotrain_tui.core.workspace import Workspace, open_workspace, resolve_settings


def settings_from_args(args: argparse.Namespace):
    return resolve_settings(
        Paths.default(), backend=getattr(args, "backend", None), sandbox=getattr(args, "sandbox", None),
        ssh_key=getattr(args, "ssh_key", None), domain=getattr(args, "domain", None))


def workspace_from_args(args: argparse.Namespace, *, demo_if_new: bool = False,
                        must_exist: bool = False) -> Workspace:
    paths, settings = settings_from_args(args)
    ws = open_workspace(paths, settings, demo_if_new=demo_if_new, must_exist=must_exist)
    for warning in ws.warnings:
        sys.stderr.write(f"annotrain: warning: {warning}\n")
    return ws
