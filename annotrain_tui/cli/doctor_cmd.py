"""`annotrain doctor [--programme|--benchmark REF] [--json]`: one preflight of the workspace (core/doctor.py).

Exit 0 when no check fails (warnings allowed), 1 when one does. A workspace that cannot even be
opened (no key, a key refused, a sandbox file missing, a broken config) is a report too: the
connection check fails with the reason and every other check is skipped.
"""

from __future__ import annotations

import argparse

from annotrain_tui.cli.common import add_command, add_json_flag, add_programme_option, emit_json, hint_line
from annotrain_tui.cli.context import report_backend_warnings, workspace_from_args
from annotrain_tui.cli.exit_codes import problems_code
from annotrain_tui.core.doctor import FAIL, OK, SKIPPED, WARN, DoctorReport, run_doctor, unopened_report
from annotrain_tui.core.errors import AnnotrainError
from annotrain_tui.core.text import shown

MARKS = {OK: "ok", WARN: "WARN", FAIL: "FAIL", SKIPPED: "skip"}


def _doctor(args: argparse.Namespace) -> int:
    try:
        ws = workspace_from_args(args)
    except AnnotrainError as err:  # the first check's answer, not the end of the report
        report = unopened_report(err, backend=getattr(args, "backend", None) or "")
    else:
        try:
            report = run_doctor(ws.backend, settings=ws.settings, paths=ws.paths, benchmark_ref=args.benchmark,
                                warnings=ws.warnings)
        finally:
            report_backend_warnings(ws)
            ws.close()
    if args.json:
        document = report.to_json()
        for check, shown_check in zip(report.checks, document["checks"]):  # the hint as this front says it
            shown_check["hint"] = hint_line(check.hint, check.see) or None
        emit_json(document)
    else:
        print_report(report)
    return problems_code(not report.ok)


def print_report(report: DoctorReport) -> None:
    print(f"Workspace: {shown(report.backend)}")
    for check in report.checks:
        print(f"  {MARKS.get(check.status, check.status):<4}  {shown(check.name)}: {shown(check.message)}")
        fix = hint_line(check.hint, check.see)
        if fix and check.status != OK:
            print(f"        fix: {shown(fix)}")
    verdict = "ready" if report.ok else "not ready: fix the FAIL lines first"
    print(f"{len(report.checks)} checks: {report.summary()} ({verdict})")


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "doctor", "preflight: key, roles, template, integration, benchmark, annotators, "
                    "folders, registration jobs (ok / what is wrong / how to fix)", _doctor)
    add_programme_option(p, help_text="the programme to check: its benchmark project's id or title (default: "
                                      "every programme of the workspace, the current one among them)")
    add_json_flag(p)
