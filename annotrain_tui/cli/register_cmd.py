"""`annotrain register MANIFEST …` and `annotrain jobs [--watch] [--retry JOB]`."""

from __future__ import annotations

import argparse
import sys

from annotrain_tui.cli.common import add_command, add_json_flag, emit_json, path_arg, table
from annotrain_tui.cli.context import workspace_from_args
from annotrain_tui.core import registration as reg
from annotrain_tui.core.errors import NotFound, Transient, UsageError
from annotrain_tui.core.files import shell_word
from annotrain_tui.core.text import shown


def _record_json(r: reg.JobRecord) -> dict:
    return {**r.model_dump(mode="json", exclude={"unit_errors"}), "failed_urls": r.failed_urls,
            "unit_errors": [e.model_dump() for e in r.unit_errors]}


def _describe(r: reg.JobRecord) -> str:
    job, folder = shown(r.id), shown(r.folder_path)
    if r.status.value == "pending":
        return f"job {job}: pending ({r.urls} URL(s) into {folder})"
    if r.status.value == "done":
        failed = len(r.failed_urls)
        return (f"job {job}: done, {r.items_created} file(s) registered into {folder}"
                + (f", {failed} URL(s) failed (retry: annotrain jobs --retry {shell_word(r.id[:8])})"
                   if failed else ""))
    return f"job {job}: FAILED: {shown('; '.join(r.errors), limit=500) or 'the whole registration failed'}"


def _print_failures(r: reg.JobRecord) -> None:
    for e in r.unit_errors:
        for url in e.object_urls:
            print(f"  failed: {shown(url)}  ({shown(e.error, limit=300)})")


def _register(args: argparse.Namespace) -> int:
    ws = workspace_from_args(args)
    try:
        integration = reg.find_integration(ws.backend, args.integration)
        manifest, warnings = reg.load_for_registration(args.manifest, provider=integration.provider.value)
        for w in warnings[:20]:
            sys.stderr.write(f"{shown(w)}\n")
        store = reg.JobStore(ws.paths)
        record = reg.start(ws.backend, store, manifest, manifest_path=args.manifest,
                           integration_ref=integration.id, folder_ref=args.folder,
                           create_folder=args.create_folder, ignore_errors=not args.no_ignore_errors)
        if not args.json:
            print(f"Registration started: job {shown(record.id)} ({record.urls} URL(s) into {shown(record.folder_path)}). "
                  "The job runs on the server; 'annotrain jobs --watch' follows it.")
        if args.wait:
            record = reg.wait(ws.backend, store, record, on_poll=None if args.json else
                              (lambda r: print(f"  … {r.status.value}", flush=True)))
    finally:
        ws.close()
    if args.json:
        emit_json(_record_json(record))
    else:
        print(_describe(record))
        _print_failures(record)
    return 1 if record.status.value == "failed" or (record.finished and record.failed_urls) else 0


def _jobs(args: argparse.Namespace) -> int:
    if args.all and (args.watch or args.retry is not None):
        raise UsageError("--all lists every workspace's jobs without following them: use it without "
                         "--watch and --retry", hint="follow or retry a job from its own workspace")
    ws = workspace_from_args(args)
    try:
        store = reg.JobStore(ws.paths)
        if args.retry is not None:  # '' too: a usage error, never "list the jobs"
            original = store.find(ws.backend, args.retry)  # a job of another workspace: refused, naming it
            original = reg.poll(ws.backend, store, original)
            try:
                record, existing = reg.retry_failed(ws.backend, store, original), False
            except reg.RetryExists as already:  # another run retried it first: follow that job, start none
                record, existing = already.existing, True
                if not args.json:
                    print(f"Not retrying again: {shown(already)}")
            if args.watch:
                record = reg.wait(ws.backend, store, record)
            if args.json:
                emit_json({**_record_json(record), "existing": existing})
            else:
                if not existing:
                    print(f"Retrying {len(original.failed_urls)} failed URL(s) of job {shown(original.id[:8])} "
                          f"as job {shown(record.id)}")
                print(_describe(record))
                _print_failures(record)
            return 0 if not record.finished or (record.status.value == "done" and not record.failed_urls) else 1
        split = reg.jobs_of_workspace(ws.backend, store)  # only this workspace's jobs are asked about here
        if args.all:
            return _list_all(args, split)
        records, unpolled = [], 0
        for r in split.mine:
            try:
                records.append(reg.poll(ws.backend, store, r) if not r.finished else r)
            except (NotFound, Transient) as err:  # one job the server cannot answer for: the others are listed
                records.append(r)
                unpolled += 1
                sys.stderr.write(f"annotrain: warning: job {shown(r.id)} shown as last recorded: {err}\n")
        if store.unsaved:
            sys.stderr.write(f"annotrain: warning: job status shown but not kept: {store.unsaved}\n")
        if args.watch:
            pending = [r for r in records if not r.finished]
            for r in pending:
                if not args.json:
                    print(f"following job {shown(r.id)} …", flush=True)
                done = reg.wait(ws.backend, store, r)
                if not args.json:
                    print(_describe(done))
                    _print_failures(done)
            mine = {r.id for r in records}
            records = [r for r in store.all() if r.id in mine]
    finally:
        ws.close()
    hidden = len(split.others)
    note = (f"{hidden} job(s) of other workspaces not shown ('annotrain jobs --all' lists them)" if hidden else None)
    if args.json:
        emit_json({"workspace": split.key, "jobs": [_record_json(r) for r in records], "other_workspaces_jobs": hidden,
                   "unpolled_jobs": unpolled})
        if note:
            sys.stderr.write(f"annotrain: note: {note}\n")
        return 1 if unpolled else 0
    if not records:
        print("No registration jobs in this workspace yet. Start one with "
              "'annotrain register MANIFEST --integration … --folder …'.")
    else:
        print(table([[r.id[:8], r.status.value, f"{r.items_created}/{r.urls}", str(len(r.failed_urls)),
                      r.folder_path, r.created_at.strftime("%Y-%m-%d %H:%M"), (r.retry_of or "")[:8]]
                     for r in records],
                    ["JOB", "STATUS", "REGISTERED", "FAILED", "FOLDER", "STARTED", "RETRY OF"]))
    if note:
        print(note)
    return 1 if unpolled else 0


def _list_all(args: argparse.Namespace, split: "reg.WorkspaceJobs") -> int:
    """Every workspace's jobs as last recorded: none is polled (another workspace's cannot be asked here)."""
    records = sorted(split.mine + split.others, key=lambda r: r.created_at, reverse=True)
    here = {r.id for r in split.mine}
    if args.json:
        emit_json({"workspace": split.key,
                   "jobs": [{**_record_json(r), "workspace": reg.record_workspace(r), "this_workspace": r.id in here}
                            for r in records]})
        return 0
    if not records:
        print("No registration jobs yet. Start one with 'annotrain register MANIFEST --integration … --folder …'.")
        return 0
    print(table([[r.id[:8], r.status.value, f"{r.items_created}/{r.urls}", str(len(r.failed_urls)), r.folder_path,
                  r.created_at.strftime("%Y-%m-%d %H:%M"),
                  ("(this one) " if r.id in here else "") + reg.workspace_label(r)] for r in records],
                ["JOB", "STATUS", "REGISTERED", "FAILED", "FOLDER", "STARTED", "WORKSPACE"]))
    print("Statuses as last recorded (not polled); a workspace's own 'annotrain jobs' follows its jobs.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "register", "register a manifest's files into a storage folder (an upload job)", _register)
    p.add_argument("manifest", type=path_arg, help="registration manifest, JSON or CSV")
    p.add_argument("--integration", required=True, help="cloud integration title or id")
    p.add_argument("--folder", required=True, help="storage folder path, name or id")
    p.add_argument("--create-folder", action="store_true", help="create the folder (and parents) if missing")
    p.add_argument("--no-ignore-errors", action="store_true",
                   help="fail the whole job when one file fails (default: register the others)")
    p.add_argument("--wait", action="store_true", help="follow the job to the end")
    add_json_flag(p)
    p = add_command(sub, "jobs", "registration jobs: status, failed URLs, retry", _jobs)
    p.add_argument("--watch", action="store_true", help="follow pending jobs to the end")
    p.add_argument("--all", action="store_true", help="list the jobs of every workspace, as last recorded "
                   "(not polled), each with its workspace")
    p.add_argument("--retry", metavar="JOB", help="re-register only the failed URLs of JOB (id or an unambiguous "
                   "prefix); a job already retried is not retried again (its retry job is shown)")
    add_json_flag(p)
