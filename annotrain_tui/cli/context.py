"""Turning the global options into a workspace, the same way for every command."""

from __future__ import annotations

import argparse
import sys

from annotrain_tui.core.config import Paths
from annotrain_tui.core.text import shown
from annotrain_tui.core.workspace import Workspace, open_workspace, resolve_settings


def settings_from_args(args: argparse.Namespace):
    return resolve_settings(
        Paths.default(), backend=getattr(args, "backend", None), sandbox=getattr(args, "sandbox", None),
        ssh_key=getattr(args, "ssh_key", None), domain=getattr(args, "domain", None))


def ask_passphrase(key_path) -> str | None:
    """Ask on the terminal (never echoed, never stored); None when there is no terminal."""
    if not sys.stdin.isatty():
        return None
    import getpass

    try:
        return getpass.getpass(f"Passphrase for {key_path}: ")
    except (EOFError, KeyboardInterrupt):
        return None


def workspace_from_args(args: argparse.Namespace) -> Workspace:
    paths, settings = settings_from_args(args)
    ws = open_workspace(paths, settings, passphrase=ask_passphrase)
    for warning in ws.warnings:
        sys.stderr.write(f"annotrain: warning: {shown(warning)}\n")
    return ws


def report_backend_warnings(ws: Workspace) -> None:
    """Warnings a backend collected while it worked (e.g. Encord projects it had to skip)."""
    for warning in getattr(ws.raw, "warnings", None) or []:
        sys.stderr.write(f"annotrain: warning: {shown(warning)}\n")
