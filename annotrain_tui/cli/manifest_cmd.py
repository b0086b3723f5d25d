"""`annotrain manifest validate|convert|split|new|fix`: registration manifests (JSON or CSV).

Exit codes: 0 ok (warnings allowed), 1 the manifest has errors, 2 unreadable input or bad usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from annotrain_tui.cli.common import (
    ArgumentError,
    add_command,
    add_force_flag,
    add_json_flag,
    diagnostic_json,
    diagnostic_line,
    emit_json,
    note_line,
    path_arg,
    read_bytes,
    see_text,
)
from annotrain_tui.core.errors import UsageError
from annotrain_tui.core.manifest.urls import PROVIDERS
from annotrain_tui.core.text import shown


def _clean(text: str) -> str:
    """One printable line (messages quote file content): the one untrusted-text policy."""
    return shown(text)


def _warn(message: str) -> None:
    sys.stderr.write(f"annotrain: warning: {_clean(message)}\n")


def _validate(args: argparse.Namespace) -> int:
    from annotrain_tui.core.manifest.validate import validate_bytes

    data = read_bytes(args.path)
    result = validate_bytes(data, path=str(args.path), provider=args.provider)
    if args.json:
        doc = result.to_json()
        doc["diagnostics"] = [diagnostic_json(d, str(args.path)) for d in result.diagnostics]
        emit_json(doc)
    else:
        out = sys.stdout
        for diag in result.diagnostics:
            out.write(_clean(diagnostic_line(diag, str(args.path))) + "\n")
        out.write(_clean(result.summary()) + "\n")
    return 0 if result.valid else 1


def _convert(args: argparse.Namespace) -> int:
    from annotrain_tui.core.manifest.convert import convert_file

    read_bytes(args.input)  # unreadable input: exit 2 with the shared message
    conversion = convert_file(args.input, args.output, force=args.force)
    items = conversion.source.items if conversion.source else 0
    if args.json:
        emit_json({"input": str(args.input), "output": str(args.output), "format": conversion.format,
                   "items": items, "warnings": [note_line(n, str(args.input)) for n in conversion.warnings]})
        return 0
    for note in conversion.warnings:
        _warn(note_line(note, str(args.input)))
    print(f"wrote {shown(args.output)} ({conversion.format.upper()}, {items:,} item{'s' if items != 1 else ''})")
    return 0


def _split(args: argparse.Namespace) -> int:
    from annotrain_tui.core.manifest.split import split_file

    read_bytes(args.input)
    result = split_file(args.input, args.out_dir, max_items=args.max_items, force=args.force)
    if args.json:
        emit_json({"input": str(args.input), "out_dir": str(args.out_dir),
                   "files": [{"path": str(f), "items": n} for f, n in zip(result.files, result.items, strict=True)],
                   "warnings": [note_line(n) for n in result.warnings]})
        return 0
    for note in result.warnings:
        _warn(note_line(note))
    for file, n in zip(result.files, result.items, strict=True):
        print(f"{shown(file)}  {n:,} item{'s' if n != 1 else ''}")
    print(f"{len(result.files)} file{'s' if len(result.files) != 1 else ''} written to {shown(args.out_dir)}")
    return 0


def _new(args: argparse.Namespace) -> int:
    from annotrain_tui.core.files import atomic_write_text, check_output
    from annotrain_tui.core.manifest.convert import dump_json
    from annotrain_tui.core.manifest.csv import to_csv
    from annotrain_tui.core.manifest.templates import from_urls, new_template
    from annotrain_tui.core.manifest.validate import decode, validate_text

    real_out = None
    if args.out:  # checked before any work: never an input, a device or an existing file without --force
        real_out = check_output(args.out, inputs=[args.urls] if args.urls else [], force=args.force)
    if args.urls:
        raw = read_bytes(args.urls)
        text, problem = decode(raw)
        if text is None:
            raise UsageError(f"{shown(args.urls)}: {problem.message if problem else 'not UTF-8 text'}")
        data = from_urls(text, args.type, title=args.title)
    else:
        if not args.type:
            raise ArgumentError("--type is required without --urls", hint="e.g. --type images")
        data = new_template(args.type, args.provider)
    fmt = "csv" if args.out and Path(args.out).suffix.lower() == ".csv" else "json"
    if fmt == "csv":
        output, lost = to_csv(data)
        for note in lost:
            _warn(note_line(note))
    else:
        output = dump_json(data)
    if args.urls:
        result = validate_text(dump_json(data), provider=args.provider, format="json")
        for diag in result.diagnostics:
            where = f" ({diag.pointer})" if diag.pointer else ""
            _warn(f"{diag.severity}[{diag.code}]{where}: {diag.said(see_text(diag.see))}")
        if result.errors:
            _warn(f"{len(result.errors)} error(s) in the URLs: fix them before registering "
                  "(annotrain manifest validate)")
    else:
        _warn("template: replace every <placeholder> (annotrain manifest validate flags any left)")
    if real_out is not None:
        atomic_write_text(real_out, output)
        print(f"wrote {shown(args.out)}")
    else:
        sys.stdout.write(output)
    return 0


FIX_HELP = (
    "apply the quick fixes (the manifest editor's F4) without asking: percent-encode a space or another "
    "character a URL cannot hold, trim a URL, cut a title to 300 characters, move an item to the section of "
    "its file type, remove a repeated URL, quote a CSV title holding a comma, merge repeated sections, … "
    "Each fix changes only the characters it must. Without --out FILE is rewritten in place (atomically) "
    "and what you wrote is kept first, byte for byte, in FILE.bak (an existing FILE.bak needs --force). "
    "Exit 0 when no error is left, 1 when errors remain (listed, with what still needs you)."
)


def _codes(raw: str | None) -> frozenset[str] | None:
    import difflib

    from annotrain_tui.core.manifest.diagnostics import CODES

    if raw is None:
        return None
    codes = frozenset(c.strip() for c in raw.split(",") if c.strip())
    if not codes:
        raise UsageError("--code is empty", hint="e.g. --code url-not-absolute (codes: annotrain manifest validate)")
    for code in sorted(codes):
        if code not in CODES:
            match = difflib.get_close_matches(code, list(CODES), n=1)
            hint = f"did you mean '{match[0]}'?" if match else f"codes: {', '.join(CODES)}"
            raise UsageError(f"--code: no diagnostic code '{shown(code)}'", hint=hint)
    return codes


def _fix(args: argparse.Namespace) -> int:
    import os

    from annotrain_tui.core.files import atomic_write_text, check_output
    from annotrain_tui.core.manifest.fixes import apply_fixes
    from annotrain_tui.core.manifest.validate import decode

    codes = _codes(args.code)
    source = Path(args.path)
    backup = Path(f"{args.path}.bak") if not args.out else None
    target = None
    if args.out and not args.dry_run:  # before any work: never an input, a device or an existing file without --force
        target = check_output(args.out, inputs=[args.path], force=args.force)
    data = read_bytes(args.path)
    text, problem = decode(data)
    if text is None:
        assert problem is not None
        run_text, applied, remaining, fmt = None, [], [problem], "json"
    else:
        run = apply_fixes(text, codes=codes, path=str(source), provider=args.provider)
        run_text, applied, remaining, fmt = run.text, run.applied, run.remaining, run.format
    fixable = len(run.fixable_left()) if text is not None else 0
    written: str | None = None
    kept: str | None = None
    if run_text is not None and not args.dry_run:
        if target is not None:
            atomic_write_text(target, run_text)
            written = str(args.out)
        elif applied:  # in place: FILE.bak first (never over an older one without --force), then FILE
            check_output(backup, inputs=[args.path], force=args.force)  # type: ignore[arg-type]
            mode = os.stat(args.path).st_mode & 0o7777
            atomic_write_text(backup, text, mode=mode)  # type: ignore[arg-type]  # decoded strictly: the same bytes
            atomic_write_text(args.path, run_text)
            written, kept = str(args.path), str(backup)
    errors = [d for d in remaining if d.severity == "error"]
    if args.json:
        emit_json({"path": str(args.path), "format": fmt, "dry_run": args.dry_run, "written": written,
                   "backup": kept, "fixed": [a.to_json() for a in applied],
                   "remaining": [diagnostic_json(d, str(args.path)) for d in remaining], "fixable_left": fixable,
                   "valid": not errors})
        return 1 if errors else 0
    out = sys.stdout
    name = str(args.path)
    for a in applied:
        where = f"{name}:{a.line}:{a.column or 1}" if a.line is not None else name
        out.write(_clean(f"{where}: fixed[{a.code}]: {a.title}") + "\n")
    for diag in remaining:
        out.write(_clean(diagnostic_line(diag, written or name)) + "\n")
    n = len(applied)
    verb = "would apply" if args.dry_run else "applied"
    summary = f"{n} fix{'es' if n != 1 else ''} {verb}"
    if written and kept:
        summary += f"; wrote {written} (what it held before: {kept})"
    elif written:
        summary += f"; wrote {written}"
    elif not args.dry_run and not n:
        summary += "; nothing written"
    n_err, n_warn = len(errors), len(remaining) - len(errors)
    summary += (f"; {n_err} error{'s' if n_err != 1 else ''}, {n_warn} warning{'s' if n_warn != 1 else ''} left")
    if fixable:
        summary += (f" ({fixable} with a fix of {'another code' if codes else 'your choosing'}: "
                    f"{'--all, or ' if codes else ''}the manifest editor's F4)")
    out.write(_clean(summary) + "\n")
    return 1 if errors else 0


def _group(args: argparse.Namespace) -> int:  # pragma: no cover - argparse requires an action first
    return 2


def register(sub: argparse._SubParsersAction) -> None:
    group = add_command(sub, "manifest", "check, fix, convert, split or create registration manifests (JSON/CSV)",
                        _group, workspace=False)
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = add_command(actions, "validate",
                    "check a JSON or CSV manifest against Encord's rules (exit 0 valid, 1 errors, 2 unreadable)",
                    _validate, workspace=False)
    p.add_argument("path", metavar="PATH", type=path_arg, help="manifest file (.json or .csv; otherwise guessed from the content)")
    p.add_argument("--provider", choices=PROVIDERS,
                   help="the integration's cloud provider: warn about URLs of another form")
    add_json_flag(p)

    p = add_command(actions, "convert", "convert CSV ↔ JSON (the format comes from OUT's extension)",
                    _convert, workspace=False)
    p.add_argument("input", metavar="IN")
    p.add_argument("output", metavar="OUT", type=path_arg, help="*.json or *.csv (written atomically)")
    add_force_flag(p)
    add_json_flag(p)

    p = add_command(actions, "split",
                    "split a manifest into upload-sized files (default: 100 videos or 1,000 images per file); "
                    "one over Encord's limits is split, any other error refuses it (exit 1); all parts or none",
                    _split, workspace=False)
    p.add_argument("input", metavar="IN")
    p.add_argument("--max-items", type=_positive_int, metavar="N",
                   help="items per file instead of the default (an image group counts as one item)")
    p.add_argument("--out-dir", required=True, metavar="DIR", type=path_arg, help="where to write IN-part-001-of-NNN files")
    add_force_flag(p, "part files")
    add_json_flag(p)

    from annotrain_tui.core.manifest.templates import TYPE_CHOICES

    p = add_command(actions, "new", "a new manifest from a template, or from a file of URLs (stdout without --out)",
                    _new, workspace=False)
    p.add_argument("--type", metavar="TYPE",
                   help=f"data type: {', '.join(TYPE_CHOICES)} (with --urls: default from each file's extension)")
    p.add_argument("--provider", choices=PROVIDERS,
                   help="cloud provider for the placeholder URLs (default aws); with --urls, checks the URLs' form")
    p.add_argument("--urls", metavar="FILE", type=path_arg, help="one URL per line (# comments and blank lines skipped)")
    p.add_argument("--title", help="title of the group or series when --urls holds one folder")
    p.add_argument("--out", metavar="FILE", type=path_arg, help="write here (*.json, or *.csv) instead of stdout")
    add_force_flag(p)

    p = add_command(actions, "fix", "apply the quick fixes (the editor's F4) without asking: in place keeping FILE.bak, or to --out", _fix,
                    workspace=False, epilog=FIX_HELP)
    p.add_argument("path", metavar="FILE", type=path_arg, help="manifest file (.json or .csv)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--code", metavar="CODE",
                       help="fix only problems with this code (several: comma-separated), e.g. url-not-absolute")
    which.add_argument("--all", action="store_true", help="fix every problem that has a fix (the default)")
    p.add_argument("--out", metavar="FILE", type=path_arg,
                   help="write the fixed manifest here; FILE itself is left as it is")
    p.add_argument("--provider", choices=PROVIDERS, help="the integration's cloud provider (as for validate)")
    p.add_argument("--dry-run", action="store_true", help="say what would be fixed; write nothing")
    add_force_flag(p, "--out, or FILE.bak when fixing in place,")
    add_json_flag(p)


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{value}'") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number
