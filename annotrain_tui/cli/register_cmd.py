"""`annotrain register MANIFEST …` and `annotrain jobs [--watch] [--retry JOB]`."""

from __future__ import annotations

import argparse
import sys

from annotrain_tui.cli.common import add_command, add_json_flag, diagnostic_line, emit_json, path_arg, table
from annotrain_tui.cli.context import workspace_from_args
from annotrain_tui.core import registration as reg
from annotrain_tui.core.backends.base import Backend
from annotrain_tui.core.errors import NotFound, Transient, UsageError
from annotrain_tui.core.files import shell_word
from annotrain_tui.core.manifest.models import MAX_ITEMS
from annotrain_tui.core.text import shown


def _record_json(r: reg.JobRecord) -> dict:
    from annotrain_tui.core.models import dump

    return {**{k: v for k, v in dump(r).items() if k != "unit_errors"}, "failed_urls": r.failed_urls,
            "unit_errors": [dump(e) for e in r.unit_errors]}


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


def _batch_json(b: reg.BatchStatus) -> dict:
    return {**b.to_json(), "jobs": [r.id for r in b.jobs]}


def _describe_batch(b: reg.BatchStatus) -> str:
    bid, folder = shown(b.id), shown(b.folder_path)
    head = (f"batch {bid}: {b.status}, {b.finished_parts}/{b.parts} part(s) finished, "
            f"{b.items_created:,} of {b.urls:,} file(s) registered into {folder}")
    if b.not_started and b.status == "incomplete":
        head += (f"; {len(b.not_started)} part(s) not started: run the same 'annotrain register' again "
                 "to continue")
    if b.failed_urls:
        head += f", {len(b.failed_urls):,} URL(s) failed (retry: annotrain jobs --retry {shell_word(b.id)})"
    return head


def _print_batch_failures(b: reg.BatchStatus) -> None:
    for p in b.part_status:
        if p.leaf.finished:
            for e in p.leaf.unit_errors:
                for url in e.object_urls:
                    print(f"  failed (part {p.part}): {shown(url)}  ({shown(e.error, limit=300)})")


def _batch_limit(value: str) -> int | str:
    if value == "advice":
        return value
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of items per job, got '{value}'") from None
    if not 1 <= number <= MAX_ITEMS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_ITEMS:,} (Encord's limit per job)")
    return number


def _folder_exists(backend: Backend, ref: str) -> bool:
    from annotrain_tui.core.errors import NotFound
    from annotrain_tui.core.lookup import find_folder

    try:
        find_folder(backend, ref)
    except NotFound:
        return False
    return True


def _register_batch(args: argparse.Namespace, ws, integration, manifest: dict) -> int:
    store = reg.JobStore(ws.paths)
    limit = None if args.batch == "advice" else args.batch
    quiet = args.json

    def event(kind: str, plan: reg.BatchPlan, record: reg.JobRecord | None) -> None:
        if quiet:
            return
        if kind == "plan":
            size = (f"at most {plan.limit:,} item(s)" if plan.limit is not None else
                    "the seed's advice (100 videos or 1,000 images)")
            if plan.resumed:
                done = len(plan.started)
                print(f"Continuing batch {shown(plan.id)}: {done} of {plan.parts} part(s) were started before"
                      + ("; nothing left to start (add --new-batch to register these files again)"
                         if plan.complete and all(r.finished for r in plan.started.values()) else ""), flush=True)
                if plan.limit_ignored is not None:
                    sys.stderr.write(f"annotrain: note: --batch {plan.limit_ignored} ignored: batch {shown(plan.id)} "
                                     f"was planned with {size} per job\n")
            else:
                print(f"Batch {shown(plan.id)}: {plan.urls:,} URL(s) as {plan.parts} job(s) of {size} each, "
                      f"one at a time, into {shown(plan.folder_path)}", flush=True)
        elif kind in ("started", "followed") and record is not None and record.batch is not None:
            verb = "started" if kind == "started" else "following (started before)"
            print(f"  part {record.batch.part}/{record.batch.parts}: job {shown(record.id)} {verb}, "
                  f"{record.urls:,} URL(s)", flush=True)
        elif kind == "finished" and record is not None and record.batch is not None:
            print(f"  part {record.batch.part}/{record.batch.parts}: {_describe(record)}", flush=True)

    try:
        status = reg.register_batch(ws.backend, store, manifest, manifest_path=args.manifest,
                                    integration_ref=integration.id, folder_ref=args.folder,
                                    create_folder=args.create_folder, ignore_errors=not args.no_ignore_errors,
                                    limit=limit, new=args.new_batch, on_event=event)
    except KeyboardInterrupt:
        sys.stderr.write("annotrain: note: the batch was interrupted; the parts already started keep running "
                         "on the server. Run the same command again to continue with the parts not yet started.\n")
        raise
    if args.json:
        emit_json(_batch_json(status))
    else:
        print(_describe_batch(status))
        _print_batch_failures(status)
    return 1 if status.status == "failed" or status.failed_urls else 0


def _register(args: argparse.Namespace) -> int:
    if args.new_batch and args.batch is None:
        raise UsageError("--new-batch goes with --batch", hint="e.g. annotrain register M --batch --new-batch …")
    ws = workspace_from_args(args)
    try:
        integration = reg.find_integration(ws.backend, args.integration)
        manifest, warnings = reg.load_for_registration(args.manifest, provider=integration.provider.value,
                                                       batched=args.batch is not None)
        for w in warnings[:20]:
            sys.stderr.write(f"{shown(diagnostic_line(w, args.manifest))}\n")
        # --create-folder says when it made one (and which), never silently
        made_folder = bool(args.create_folder) and not _folder_exists(ws.backend, args.folder)
        if made_folder:
            from annotrain_tui.core.registration import create_folder_path

            reg.JobStore(ws.paths).check_writable()  # first: a folder no job is recorded for helps nobody
            folder = create_folder_path(ws.backend, args.folder)
            sys.stderr.write(f"annotrain: created folder '{shown(folder.path)}' ({shown(folder.id)})\n")
        if args.batch is not None:
            return _register_batch(args, ws, integration, manifest)
        # the validator's batch-size warning (printed above) says it already; older rules may not
        note = None if any(w.code == "batch-size" for w in warnings) else reg.advice(manifest)
        if note:
            sys.stderr.write(f"annotrain: warning: {shown(note)}\n")
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
        if args.retry is not None and reg.is_batch_ref(args.retry):
            return _retry_batch(args, ws, store)
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
    batches, singles = reg.group_batches(records)
    if args.json:
        emit_json({"workspace": split.key, "jobs": [_record_json(r) for r in records], "other_workspaces_jobs": hidden,
                   "unpolled_jobs": unpolled, "batches": [_batch_json(b) for b in batches]})
        if note:
            sys.stderr.write(f"annotrain: note: {note}\n")
        return 1 if unpolled else 0
    if not records:
        print("No registration jobs in this workspace yet. Start one with "
              "'annotrain register MANIFEST --integration … --folder …'.")
    else:
        print(table(_job_rows(batches, singles),
                    ["JOB", "STATUS", "REGISTERED", "FAILED", "FOLDER", "STARTED", "RETRY OF"]))
        for b in batches:
            if b.status == "incomplete":
                print(f"batch {shown(b.id)}: {len(b.not_started)} of {b.parts} part(s) not started: run "
                      f"'annotrain register {shown(shell_word(b.manifest_path))} --batch …' again (same folder) to continue")
    if note:
        print(note)
    return 1 if unpolled else 0


def _job_row(r: reg.JobRecord, label: str) -> list[str]:
    return [label, r.status.value, f"{r.items_created}/{r.urls}", str(len(r.failed_urls)), r.folder_path,
            r.created_at.strftime("%Y-%m-%d %H:%M"), (r.retry_of or "")[:8]]


def _job_rows(batches: list[reg.BatchStatus], singles: list[reg.JobRecord]) -> list[list[str]]:
    """One line per job that is no batch's part; per batch one line (its overall progress) then its parts."""
    entries: list[tuple] = [(r.created_at, "job", r) for r in singles] + [(b.created_at, "batch", b) for b in batches]
    rows: list[list[str]] = []
    for _, kind, item in sorted(entries, key=lambda e: e[0], reverse=True):
        if kind == "job":
            rows.append(_job_row(item, item.id[:8]))
            continue
        b = item
        rows.append([b.id, f"{b.status} {b.finished_parts}/{b.parts}", f"{b.items_created}/{b.urls}",
                     str(len(b.failed_urls)), b.folder_path, b.created_at.strftime("%Y-%m-%d %H:%M"), ""])
        for p in b.part_status:
            for a in p.attempts:
                rows.append(_job_row(a, f"  {p.part}/{b.parts} {a.id[:8]}"))
    return rows


def _retry_batch(args: argparse.Namespace, ws, store: reg.JobStore) -> int:
    batch = reg.find_batch(ws.backend, store, args.retry)
    for r in batch.jobs:  # the latest state of every part before deciding what failed
        if not r.finished:
            reg.poll(ws.backend, store, r)
    batch = reg.find_batch(ws.backend, store, batch.id)
    retries = reg.retry_batch(ws.backend, store, batch)
    if not args.json:
        print(f"Retrying {len(batch.failed_urls):,} failed URL(s) of batch {shown(batch.id)} as "
              f"{len(retries)} job(s), one per part with failures")
    if args.watch:
        retries = [reg.wait(ws.backend, store, r) for r in retries]
    after = reg.find_batch(ws.backend, store, batch.id)
    if args.json:
        emit_json({**_batch_json(after), "retries": [_record_json(r) for r in retries]})
    else:
        for r in retries:
            print(_describe(r))
        print(_describe_batch(after))
        if args.watch:
            _print_batch_failures(after)
    finished = all(r.finished for r in retries)
    return 0 if not finished or (after.status == "done" and not after.failed_urls) else 1


def _list_all(args: argparse.Namespace, split: reg.WorkspaceJobs) -> int:
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
    p.add_argument("--batch", nargs="?", const="advice", type=_batch_limit, metavar="N",
                   help="register as a sequence of jobs, one at a time (each followed to its end before the next "
                        "starts), grouped as one batch in 'annotrain jobs': at most N items per job (an image group "
                        "or DICOM series is one item); without N the seed's advice, 100 videos or 1,000 images per "
                        "job, where every file of an image group, image sequence or DICOM series counts as an image "
                        "and an audio, PDF, text or NIfTI file counts like an image. A manifest over Encord's "
                        "limits (500,000 items, 1,000,000 URLs) is accepted this way. Interrupted, the same command "
                        "again continues with the parts not yet started")
    p.add_argument("--new-batch", action="store_true",
                   help="with --batch: start a new batch even when this manifest was registered into this folder "
                        "before (default: continue that batch, starting only the parts not yet started)")
    add_json_flag(p)
    p = add_command(sub, "jobs", "registration jobs: status, failed URLs, retry", _jobs)
    p.add_argument("--watch", action="store_true", help="follow pending jobs to the end")
    p.add_argument("--all", action="store_true", help="list the jobs of every workspace, as last recorded "
                   "(not polled), each with its workspace")
    p.add_argument("--retry", metavar="JOB", help="re-register only the failed URLs of JOB (id or an unambiguous "
                   "prefix); a job already retried is not retried again (its retry job is shown). A batch id "
                   "(batch-…) retries the failed URLs of every part of the batch")
    add_json_flag(p)
