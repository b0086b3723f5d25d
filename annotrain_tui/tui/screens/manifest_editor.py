"""The manifest editor: a text editor for registration manifests (JSON or CSV) that validates as you
type, lists every problem with its position, jumps to it, offers the core's quick fixes as one
undoable edit, saves atomically and never loses an edit (a draft is kept until the file is saved).

The screen shows and asks; the work is elsewhere. ``widgets/manifest_text_area.py`` is the text area
(a fork of Textual's TextArea, on Textual internals, that stays responsive on a 50,000-item manifest
of 150,000 lines; JSON highlighting is switched off above bounds on the size, the nesting depth and
the tokens per line or per query, from ``core/manifest/text_cost.py``). ``core/manifest/drafts.py``
reads a file and its draft for editing and turns a fixed text into one small edit;
``core/manifest/templates.template_text`` builds a template; ``manifest_dialogs.py`` holds the dialogs.

Everything slow runs in thread workers: reading the file, validating (debounced, 300 ms after the
last keystroke; the worker posts ``Validated``, older results are ignored), quick fixes, templates,
drafts and saving. The open file changes only when a save succeeds: a failed save or "Save as" (F12)
leaves the target as it was, says why once (in the save dialog when the path is bad), and keeps the
edits in the draft. Results and errors go to a status line in the panel, not to toasts over it.

A hostile file cannot hang it: the file is stat'ed before it is read (FIFOs, devices and huge files
are refused), tree-sitter never sees a text over the bounds, and a validation that recurses too deep
becomes one diagnostic. Everything shown from the file or its name goes through core.text.shown.
Saving never replaces a non-regular file or one of the editor's inputs, and asks before replacing a
file it did not read or write itself (core.files.check_output).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Label, Static, TextArea
from textual.widgets.data_table import ColumnKey
from textual.worker import Worker, get_current_worker

from annotrain_tui.core.errors import AnnotrainError, OutputExists
from annotrain_tui.core.files import atomic_write_text, check_output, disk_identity, display_path, file_identity, user_path
from annotrain_tui.core.manifest.diagnostics import Diagnostic, ValidationResult
from annotrain_tui.core.manifest.drafts import (
    Opened,
    draft_path_for,
    location_of,
    minimal_edit,
    read_for_editing,
    save_target_problem,
)
from annotrain_tui.core.manifest.fixes import Fix, batch_fixes, fixes_for
from annotrain_tui.core.manifest.text_cost import HighlightLimits, too_deep_result
from annotrain_tui.core.manifest.validate import detect_format, validate_text
from annotrain_tui.core.remedies import about
from annotrain_tui.core.text import shown
from annotrain_tui.tui.remedies import remedy_text
from annotrain_tui.tui.screens.base import AppScreen, failure_line
from annotrain_tui.tui.screens.manifest_dialogs import (
    FixPicker,
    MessageDialog,
    SaveAsDialog,
    TemplateDialog,
    UnsavedDialog,
)
from annotrain_tui.tui.text import typed_path
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog, FormDialog
from annotrain_tui.tui.widgets.inputs import SafeInput
from annotrain_tui.tui.widgets.manifest_text_area import ManifestTextArea, drawn, highlighting_problem
from annotrain_tui.tui.widgets.tables import SafeDataTable


def sort_key(d: Diagnostic) -> tuple[int, int]:
    return (d.line or 0, d.column or 0)


def _text(value: object, style: str = "") -> Text:
    """Untrusted text (from the file, its name, the user) as a one-line rich Text, never markup:
    escaped by the one policy, :func:`annotrain_tui.core.text.shown`."""
    return Text(shown(value), style=style, no_wrap=True, overflow="ellipsis")


# -------------------------------------------------------------------------------------------------
# The screen.

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow"}


# Workers get a fixed ``description``: without one, Textual builds it from repr() of every argument,
# and repr() of a 6 MB manifest blocks the UI thread for ~100 ms.


class ManifestEditorScreen(AppScreen):
    TITLE = "Manifest editor"
    PALETTE_PREFIX = "Manifest"
    SCREEN_HELP = (
        "Write or fix a registration manifest (Encord's JSON or CSV upload file). It is validated as you type "
        "(300 ms after the last key) with the provider of the picked integration; problems are listed below "
        "with line:column. F8 / Shift+F8 (Ctrl+N / Ctrl+B) move the cursor to the next / previous problem; "
        "Enter on a problem jumps to it; F3 shows its whole message; F4 offers a quick fix (one undoable "
        "edit, Ctrl+Z). Ctrl+S saves (atomically), F12 saves as another file (the open file stays the "
        "target until a save succeeds), Ctrl+O goes to the path field to open another file, Ctrl+T "
        "starts from a template or a file of URLs (asking first when the editor holds text), F5 saves "
        "and opens registration. Every edit is kept in a draft until the file is saved: after a crash, "
        "opening the file again offers the draft back. The last manifest opened is offered in the path "
        "field (Enter opens it). Tab moves between the path, the editor and the problem list."
    )
    WIDGET_HELP = {
        "me-path": "The manifest file to edit. Enter opens it (a missing file can be created from a template). "
                   "Ctrl+O comes back here from anywhere on the screen.",
        "me-editor": ManifestTextArea.HELP,
        "me-diagnostics": "The problems of the manifest, in file order: severity, line:column, code and message. "
                          "Enter (or Ctrl+G) moves the editor's cursor to the highlighted one; F3 shows its whole "
                          "message; i shows the whole row; F4 offers a quick fix for it; Home/End go to the first/"
                          "last problem.",
    }
    BINDINGS = [
        Binding("f8,ctrl+n", "next_diagnostic", "Next problem", key_display="F8", id="manifest.next"),
        Binding("shift+f8,ctrl+b", "previous_diagnostic", "Previous problem", show=False,
                id="manifest.previous"),
        Binding("ctrl+g", "jump", "Go to problem", show=False, id="manifest.jump"),
        Binding("f4,ctrl+full_stop", "quick_fix", "Fix", key_display="F4", id="manifest.fix"),
        Binding("ctrl+s", "save", "Save", id="manifest.save"),
        Binding("f12", "save_as", "Save as", key_display="F12", id="manifest.save_as"),
        Binding("f3", "show_message", "Whole message", key_display="F3", show=False, id="manifest.message"),
        Binding("ctrl+t", "template", "Template", id="manifest.template"),
        Binding("f5", "register", "Register", id="manifest.register"),
        Binding("ctrl+o", "focus_path", "Open", id="manifest.open"),
        Binding("escape", "back", "Back", id="manifest.back"),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (140, "-wide")]
    DEFAULT_CSS = """
    #me-status { height: 1; padding: 0 1; display: none; }
    #me-status.-shown { display: block; }
    """

    DEBOUNCE = 0.3                    # seconds after the last keystroke before validating / drafting
    HIGHLIGHT_MAX_CHARS = 1_000_000   # JSON highlighting above this costs too much per keystroke
    HIGHLIGHT_MAX_DEPTH = 256         # tree-sitter's highlight query grows with the nesting depth
    HIGHLIGHT_MAX_LINE_TOKENS = 2_000  # tokens on one line: each is styled whenever the line is drawn
    HIGHLIGHT_MAX_WINDOW_TOKENS = 50_000  # tokens in the rows one highlight query covers
    MAX_ROWS = 500                    # diagnostics listed (navigation covers all of them)
    POS_WIDTH = 9                     # the Line:Col column, widened for longer positions

    def __init__(self, manifest: str | None = None) -> None:
        super().__init__()
        self.initial = manifest
        self.path: Path | None = None
        self.saved_text = ""
        self.format: str = "json"
        self.generation = 0
        self.result: ValidationResult | None = None
        self.provider: str | None = None
        self.diagnostics: list[Diagnostic] = []
        self.highlighting = False
        self.note = ""                 # about highlighting (shown in the panel)
        self.validations = 0           # finished validations (tests and the bench read it)
        self.painted_at: float | None = None
        self.last_change_at: float | None = None
        self.draft_saved_at: datetime | None = None  # app.now() when the draft was last written
        self._dirty_shown = False
        self._validating = False
        self._timer: Timer | None = None
        self._skip_change_for: object | None = None
        self._validate_on_change = False   # a fix or template: validate at once, not after the debounce
        self._shown_rows: list[tuple] | None = None
        self._discarded = False
        self._draft_lock = threading.Lock()
        self._draft_generation = -1    # newest generation written to (or deleted from) the draft
        self._stale_drafts: set[Path] = set()
        self._path_alias: tuple[str, str] | None = None  # (what the path field shows, the real path)
        self._disk: tuple[int, ...] | None = None  # the file at self.path as last read or written
        self._read_from: set[Path] = set()           # files of URLs templates were made from
        self.status = ""                            # the status line (what just happened)
        self.last_offered: str | None = None        # the remembered manifest put in the path field

    class Validated(Message):
        """A validation finished (posted by its worker thread, handled on the UI thread).
        ``generation``: the text generation it validated (a result for an older one is ignored)."""

        bubble = False  # the screen's own: the app has nothing to do with it

        def __init__(self, generation: int, result: ValidationResult, provider: str | None) -> None:
            super().__init__()
            self.generation, self.result, self.provider = generation, result, provider

    # -- layout ---------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="form-row", id="me-open"):
            yield Label("Manifest ")
            yield SafeInput(placeholder="path to manifest.json or .csv — Enter opens; Ctrl+T: template", id="me-path")
        with Container(id="me-body"):
            self._editor = ManifestTextArea(id="me-editor", soft_wrap=False, show_line_numbers=True,
                                            tab_behavior="focus")
            yield self._editor
            with Vertical(id="me-panel"):
                yield Static(Text(""), id="me-summary")
                yield Static(Text(""), id="me-status")
                yield SafeDataTable(id="me-diagnostics", cursor_type="row", zebra_stripes=True)
                yield Static(Text(""), id="me-detail")
        yield Footer()

    @property
    def editor(self) -> ManifestTextArea:
        return self._editor  # kept: on unmount the widget tree is already gone

    @property
    def table(self) -> SafeDataTable:
        return self.query_one("#me-diagnostics", SafeDataTable)

    def on_mount(self) -> None:
        self.table.add_column("Sev", key="sev", width=4)
        self.table.add_column("Line:Col", key="pos", width=self.POS_WIDTH)
        self.table.add_column("Code", key="code", width=18)
        self.table.add_column("Message", key="message")
        if self.initial:
            self._show_path(self.initial)
            self.open_path(self.initial)
        else:
            self._offer_last_manifest()
            self._show_summary()
            self.query_one("#me-path", Input).focus()
            self._offer_untitled_draft()

    def _offer_last_manifest(self) -> None:
        """No file asked for: put the last manifest opened in the path field (Enter opens it). A
        remembered file that is gone (or a store that cannot be read) is quietly not offered."""
        last = self.app.workspace.recent().get("manifest")  # never raises: a bad store is no memory
        try:
            there = bool(last) and Path(str(last)).is_file()
        except (OSError, ValueError):
            there = False
        if last and there:
            self._show_path(last)
            self.last_offered = last

    def _remember(self, **values: str | Path | None) -> None:
        """Keep picks across launches (the last manifest, the last folder saved to); a store that
        cannot be written is dropped by core.recent, never an error."""
        self.app.workspace.recent().set(**values)

    def set_status(self, message: str, severity: str = "information") -> None:
        """One line in the panel for what just happened (saved, fixed, no fix here, failed): it stays
        until the next one, and never covers the problem list as a toast would."""
        style = {"error": "bold red", "warning": "yellow"}.get(severity, "green")
        self.status = message
        line = self.query_one("#me-status", Static)
        line.update(_text(message, style) if message else Text(""))
        line.set_class(bool(message), "-shown")
        self._show_summary()  # its notes line gives the status line its room

    # -- opening --------------------------------------------------------------------------------
    @property
    def drafts_dir(self) -> Path:
        return self.app.workspace.paths.drafts_dir

    @property
    def draft_path(self) -> Path:
        return draft_path_for(self.drafts_dir, self.path)

    def action_focus_path(self) -> None:
        self.query_one("#me-path", Input).focus()

    def _show_path(self, raw: str) -> None:
        """Put a path in the path field, escaped by the one policy when it holds control, bidi or
        format characters (an Input draws its value as it is); Enter on it opens the real path."""
        value = shown(raw)
        self._path_alias = (value, raw) if value != raw else None
        self.query_one("#me-path", Input).value = value

    @on(Input.Submitted, "#me-path")
    def _path_entered(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if self._path_alias is not None and event.value == self._path_alias[0]:
            value = self._path_alias[1]  # the escaped name of a real path, unchanged
        if not value:
            self.set_status("Type the path of a manifest file (.json or .csv).", "warning")
            return
        self._confirm_unsaved("Open another manifest", lambda: self.open_path(value))

    def open_path(self, raw: str) -> None:
        path = typed_path(self, raw)
        if path is None:
            return
        try:
            path = path.resolve()
        except (OSError, RuntimeError):
            path = path.absolute()
        self._read(path, draft_path_for(self.drafts_dir, path))

    @work(thread=True, exclusive=True, exit_on_error=False, group="manifest-open", description="manifest-open")
    def _read(self, path: Path, draft: Path) -> None:
        opened = read_for_editing(path, draft)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._opened, opened)

    def _opened(self, opened: Opened) -> None:
        path = opened.path
        if opened.error:  # said once, in the error bar, until a file opens (not a toast over the panel)
            how = remedy_text(getattr(opened.error, "see", ()), self.app, self)
            self.show_error("manifest-file", f"Cannot open: {opened.error}" + (f" ({how})" if how else ""))
            return
        if opened.missing:
            if opened.draft is not None:
                self._offer_draft(opened, saved_text="")
                return
            body = Text()
            body.append_text(_text(str(path), "bold"))
            body.append(" does not exist. Start a new manifest there from a template? Nothing is written "
                        "until you save (Ctrl+S).")
            self.app.push_screen(ConfirmDialog("No such file", body, yes="New from template"),
                                 lambda yes: self._create_missing(path) if yes else None)
            return
        if opened.draft is not None:
            self._offer_draft(opened, saved_text=opened.text or "")
            return
        self._install(path, opened.text or "", identity=opened.identity)

    def _offer_draft(self, opened: Opened, saved_text: str) -> None:
        body = Text("An unsaved draft of ")
        body.append_text(_text(str(opened.path), "bold"))
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(opened.draft_mtime or 0))
        if opened.missing:
            body.append(f" from {stamp} was kept (the file does not exist).\n")
        elif opened.draft_older:
            body.append(f" from {stamp} differs from the file, which was changed after it (by another "
                        "program?). Restoring shows the draft instead of the file's newer content.\n")
        else:
            body.append(f" from {stamp} is newer than the file.\n")
        body.append("Yes restores it (save to keep it); No opens the file as saved and deletes the draft.")

        def answer(yes: bool | None) -> None:
            if yes:
                self._install(opened.path, saved_text, text=opened.draft, identity=opened.identity)
            else:
                self._delete_draft_file(draft_path_for(self.drafts_dir, opened.path))
                if opened.missing:
                    self._create_missing(opened.path)
                else:
                    self._install(opened.path, saved_text, identity=opened.identity)

        self.app.push_screen(ConfirmDialog("Restore the draft?", body, yes="Restore"), answer)

    def _offer_untitled_draft(self) -> None:
        draft = draft_path_for(self.drafts_dir, None)
        try:
            text = draft.read_text(encoding="utf-8")
            mtime = draft.stat().st_mtime
        except (OSError, UnicodeDecodeError):
            return
        if not text:
            return
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(mtime))
        body = Text(f"An unsaved, untitled manifest from {stamp} was kept as a draft. Restore it? "
                    "(No deletes it.)")

        def answer(yes: bool | None) -> None:
            if yes:
                self._install(None, "", text=text)
            else:
                self._delete_draft_file(draft)

        self.app.push_screen(ConfirmDialog("Restore the draft?", body, yes="Restore"), answer)

    def _create_missing(self, path: Path) -> None:
        self._install(path, "")
        self.action_template()

    def _install(self, path: Path | None, saved_text: str, text: str | None = None,
                 identity: tuple[int, ...] | None = None) -> None:
        """Show a manifest in the editor: ``saved_text`` is what is on disk (``identity``: which file
        that is, None when there is none), ``text`` what to edit."""
        body = saved_text if text is None else text
        self.path = path
        self._disk = identity
        self.saved_text = saved_text
        self._discarded = False
        self.clear_error("manifest-file")
        if path is not None and identity is not None:  # a file that is there: offered at the next launch
            self._remember(manifest=str(path))
        self.format = detect_format(body[:4096], path) if (path is not None or body) else "json"
        editor = self.editor
        language = None
        self.note = ""
        if self.format == "json":
            if highlighting_problem():
                self.note = highlighting_problem() or ""
            else:
                language = "json"
        # The editor checks these before it parses anything, and on every edit.
        editor.highlight_limits = HighlightLimits(self.HIGHLIGHT_MAX_CHARS, self.HIGHLIGHT_MAX_DEPTH,
                                                  self.HIGHLIGHT_MAX_LINE_TOKENS, self.HIGHLIGHT_MAX_WINDOW_TOKENS)
        editor.set_reactive(TextArea.language, language)
        editor.load_text(body)
        if editor.highlight_off_reason:
            self.note = f"syntax colours off: {editor.highlight_off_reason}"
        self.highlighting = editor.language is not None
        self._skip_change_for = editor.document
        self.generation += 1
        if path is not None:
            self._show_path(str(path))
        self._show_dirty(body != saved_text)
        self.draft_saved_at = None
        self.painted_at = None
        self.call_after_refresh(self._mark_painted)
        editor.focus()
        self.action_validate()

    def _mark_painted(self) -> None:
        self.painted_at = time.perf_counter()

    @on(ManifestTextArea.HighlightingOff, "#me-editor")
    def _highlighting_off(self, event: ManifestTextArea.HighlightingOff) -> None:
        self.highlighting = False
        self.note = f"syntax colours off: {event.reason}"
        self._show_summary()

    # -- typing ---------------------------------------------------------------------------------
    @on(TextArea.Changed, "#me-editor")
    def _changed(self, event: TextArea.Changed) -> None:
        if self._skip_change_for is not None and event.text_area.document is self._skip_change_for:
            self._skip_change_for = None  # the load itself, already validated
            return
        self._skip_change_for = None
        self.generation += 1
        self.last_change_at = time.perf_counter()
        self._show_dirty(True)
        if self._timer is not None:
            self._timer.stop()
        if self._validate_on_change:
            self._validate_on_change = False
            self.action_validate()
            return
        if self.status:  # typing on: what happened before is old news (and gives its room back)
            self.set_status("")
        self._timer = self.set_timer(self.DEBOUNCE, self._debounced)

    def _debounced(self) -> None:
        self._timer = None
        self.action_validate()

    @property
    def validating(self) -> bool:
        """A validation runs now (its ``Validated`` message has not been handled yet)."""
        return self._validating

    @property
    def debounce_pending(self) -> bool:
        """Typing started the debounce timer: a validation follows ``DEBOUNCE`` seconds after the last key."""
        return self._timer is not None

    def is_dirty(self) -> bool:
        """True when the editor's text differs from the file as last read or saved."""
        return self.editor.text != self.saved_text

    def _show_dirty(self, dirty: bool) -> None:
        self._dirty_shown = dirty
        name = shown(str(self.path)) if self.path is not None else "untitled"
        self.sub_title = name + (" (modified)" if dirty else "")

    # -- validation -----------------------------------------------------------------------------
    def action_refresh(self) -> None:
        """Ctrl+R (the app's refresh): validate now."""
        self.action_validate()

    def action_validate(self) -> None:
        """Validate the text now (in a worker) and keep the draft up to date."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        text = self.editor.text
        generation = self.generation
        dirty = text != self.saved_text
        self._show_dirty(dirty)
        sel = self.app.selection
        provider = sel.integration.provider.value if sel.integration else None
        self._validating = True
        self._show_summary()
        self.run_validation(text, generation, str(self.path) if self.path else None, provider)
        if dirty:
            self.write_draft(text, generation, self.draft_path)
        else:
            self.drop_draft(generation, self.draft_path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="manifest-validate", description="manifest-validate")
    def run_validation(self, text: str, generation: int, path: str | None, provider: str | None) -> None:
        try:
            result = validate_text(text, path=path, provider=provider)  # format: by suffix, else by content
        except RecursionError:  # a reader that recurses per nesting level: one diagnostic, not a failure
            result = too_deep_result(text, path, self.HIGHLIGHT_MAX_DEPTH)
        if not get_current_worker().is_cancelled:
            self.post_message(self.Validated(generation, result, provider))

    @on(Validated)
    def _validated(self, event: Validated) -> None:
        self._show_result(event.generation, event.result, event.provider)

    def _show_result(self, generation: int, result: ValidationResult, provider: str | None) -> None:
        if generation != self.generation:
            return  # the text changed meanwhile: a newer run is on its way
        self.validations += 1
        self._validating = False
        self.result = result
        self.provider = provider
        self.diagnostics = sorted(result.diagnostics, key=sort_key)
        rows = [(d.severity, d.line, d.column, d.code, d.message) for d in self.diagnostics[:self.MAX_ROWS]]
        if rows != self._shown_rows:
            self._fill_table()
            self._shown_rows = rows
        self._show_summary()
        self._show_detail()

    def worker_failed(self, worker: Worker, error: BaseException | None) -> None:
        """The app shows the failure once (a toast) and the error bar keeps it until that work
        succeeds; here it says what to do next. A failed save leaves the editor's target as it was
        (nothing to undo), a failed validation says how to try again."""
        if worker.group == "manifest-validate":
            self._validating = False
            self._show_summary(problem="validation failed: see the message; edit or Ctrl+R to try again")
        elif worker.group == "manifest-save":
            self.show_error("manifest-save", f"Not saved: {failure_line(error, self)} (Ctrl+S tries again, F12 saves "
                                             "elsewhere; the edits stay in the draft)")

    def _fill_table(self) -> None:
        table = self.table
        keep = table.cursor_row if table.row_count else 0
        table.clear()
        shown_rows = self.diagnostics[:self.MAX_ROWS]
        wheres = [f"{d.line}:{d.column or 1}" if d.line is not None else "—" for d in shown_rows]
        pos = table.columns[ColumnKey("pos")]
        width = max([self.POS_WIDTH, *map(len, wheres)])  # 1:16801728 in a one-line file: never cut
        if pos.width != width:
            pos.width = width
            table.refresh(layout=True)
        for index, (d, where) in enumerate(zip(shown_rows, wheres, strict=True)):
            style = SEVERITY_STYLE.get(d.severity, "")
            table.add_row(Text("err" if d.severity == "error" else "warn", style=style), Text(where),
                          _text(d.code, style), _text(d.said(self._how(d))), key=str(index))
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1), scroll=False)

    def _how(self, d: Diagnostic) -> str:
        """How to do here what helps with ``d`` (its ``see``), or '' (core.remedies, tui.remedies)."""
        return remedy_text(about(d.see, path=self.path), self.app, self) if d.see else ""

    def _show_summary(self, problem: str | None = None) -> None:
        t = Text()
        result = self.result
        if problem:
            t.append_text(_text(problem, "bold red"))
        elif self.path is None and not self.editor.text and result is None:
            t.append("Type a manifest path above and press Enter, or Ctrl+T to start from a template.",
                     style="dim")
        elif result is not None:
            n_err, n_warn = len(result.errors), len(result.warnings)
            t.append("✓ valid" if result.valid else "✗ invalid", style="bold green" if result.valid else "bold red")
            t.append(f" · {n_err} error{'s' if n_err != 1 else ''}", style="red" if n_err else "")
            t.append(f", {n_warn} warning{'s' if n_warn != 1 else ''}", style="yellow" if n_warn else "")
            t.append(f" · {result.items:,} item{'s' if result.items != 1 else ''}, "
                     f"{result.urls:,} URL{'s' if result.urls != 1 else ''} · {result.format.upper()}")
        if self._validating:
            t.append(" · validating…", style="cyan")
        notes = []
        if result is not None:
            notes.append(f"provider {self.provider}" if self.provider else "no integration picked: URLs not "
                         "checked against a provider")
            if len(self.diagnostics) > self.MAX_ROWS:
                notes.append(f"first {self.MAX_ROWS} listed, F8 visits all {len(self.diagnostics):,}")
        if self.draft_saved_at is not None and self._dirty_shown:
            notes.append("draft kept " + self.draft_saved_at.astimezone().strftime("%H:%M:%S"))
        if self.note:
            notes.append(self.note)
        if notes and not self.status:  # the status line takes this line's place while it is shown
            t.append("\n")
            t.append(" · ".join(notes), style="dim")
        self.query_one("#me-summary", Static).update(t)

    @on(DataTable.RowHighlighted, "#me-diagnostics")
    def _show_detail(self, event: DataTable.RowHighlighted | None = None) -> None:
        """The whole message of the highlighted problem (the list cuts it at the column's width)."""
        table, detail = self.table, self.query_one("#me-detail", Static)
        index = table.cursor_row
        if not table.row_count or not 0 <= index < len(self.diagnostics):
            detail.update(Text(""))
            return
        d = self.diagnostics[index]
        t = Text(f"{d.line}:{d.column or 1} " if d.line is not None else "", style="dim")
        t.append_text(_text(d.code, SEVERITY_STYLE.get(d.severity, "")))
        t.append(": ")
        t.append_text(_text(d.said(self._how(d))))
        t.no_wrap, t.overflow = False, "fold"
        detail.update(t)

    # -- drafts ---------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="manifest-draft", description="manifest-draft")
    def write_draft(self, text: str, generation: int, draft: Path) -> None:
        if self._store_draft(text, generation, draft):
            self.app.call_from_thread(self._draft_written)

    def _store_draft(self, text: str, generation: int, draft: Path) -> bool:
        """Write the draft atomically unless a newer generation was written or saved already."""
        with self._draft_lock:
            if generation <= self._draft_generation:
                return False
            if not draft.parent.is_dir():  # manifests can hold signed URLs: the folder is the user's only
                draft.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            atomic_write_text(draft, text)
            self._draft_generation = generation
            return True

    def _draft_written(self) -> None:
        self.draft_saved_at = self.app.now()
        self._show_summary()

    @work(thread=True, exclusive=True, exit_on_error=False, group="manifest-draft", description="manifest-draft")
    def drop_draft(self, generation: int, draft: Path) -> None:
        with self._draft_lock:
            if generation < self._draft_generation:
                return
            self._draft_generation = generation
            self._delete_draft_file(draft)

    @staticmethod
    def _delete_draft_file(draft: Path) -> None:
        try:
            draft.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            pass  # a draft that cannot be removed is offered again next time: nothing is lost

    def on_unmount(self) -> None:
        """Leaving (or the app quitting): the last keystrokes go to the draft, synchronously."""
        if self._timer is not None:
            self._timer.stop()
        if self._discarded:
            return
        text = self.editor.document.text
        if text != self.saved_text:
            try:
                self._store_draft(text, self.generation, self.draft_path)
            except (AnnotrainError, OSError):
                pass

    # -- saving ---------------------------------------------------------------------------------
    # Saving writes the open file (atomically). It asks first when that would replace a file the
    # editor did not read or write itself: another file named in "Save as", or the open path when
    # what is there now is not what was read (another program replaced it, or it did not exist).
    # It never replaces a non-regular file (a device, a FIFO, a directory) nor one of the files the
    # editor reads from (a draft, the file of URLs a template came from): core.files.check_output.

    # The editor's target (``self.path``) changes only when a save succeeds (``_saved``): a failed
    # "Save as" leaves the open file the target, and F12 always offers another path.

    def action_save(self, then: Callable[[], None] | None = None) -> None:
        typed = self._typed_target()
        if self.path is None or typed is not None:
            self._ask_path(then, typed)
            return
        self.run_save(self.path, self.editor.text, self.generation, then, self._disk)

    def action_save_as(self) -> None:
        self._ask_path(None, None)

    def _typed_target(self) -> str | None:
        """A path typed into the path field but not opened (no Enter): Ctrl+S then asks where to save,
        prefilled with it, rather than saving silently to the open file (None: nothing typed)."""
        value = self.query_one("#me-path", Input).value.strip()
        if self._path_alias is not None and value == self._path_alias[0]:
            value = self._path_alias[1]
        if not value or (self.path is not None and value == str(self.path)):
            return None
        if self.path is None and value == self.last_offered:
            return None  # the remembered file, offered for opening: not a place to save to
        return value

    def _ask_path(self, then: Callable[[], None] | None, typed: str | None = None) -> None:
        typed_path: Path | None = None
        if typed:
            try:
                typed_path = user_path(typed)
            except AnnotrainError:
                typed_path = None  # the dialog starts where it would, and says what is wrong when typed again

        def done(chosen: Path | None) -> None:
            if chosen is None:
                return
            target = chosen.resolve() if not chosen.is_absolute() else chosen  # checked by the dialog
            # The open file under another name is the open file; anything else that exists is asked about.
            known = self._disk if self.path is not None and file_identity(target) == file_identity(self.path) else None
            self.run_save(target, self.editor.text, self.generation, then, known)

        self.app.push_screen(SaveAsDialog(typed=typed_path, name=self.path.name if self.path is not None else "",
                                          start_dir=self.path.parent if self.path is not None else None,
                                          check=save_target_problem), done)

    def _inputs(self) -> list[Path]:
        """Files the editor reads from, which a save must never replace."""
        drafts = [self.draft_path, draft_path_for(self.drafts_dir, None), *self._stale_drafts]
        return [*drafts, *self._read_from]

    @work(thread=True, exclusive=True, exit_on_error=False, group="manifest-save", description="manifest-save")
    def run_save(self, path: Path, text: str, generation: int, then: Callable[[], None] | None,
                 known: tuple[int, ...] | None = None, force: bool = False) -> None:
        """Write ``text`` to ``path``; ``known``: the identity of the file the editor last read or wrote
        there (replacing that one is the point of saving); ``force``: the user said to replace it."""
        try:
            check_output(path, inputs=self._inputs(), force=force or (known is not None and disk_identity(path) == known))
        except OutputExists:
            self.app.call_from_thread(self._confirm_replace, path, then)
            return
        old_draft = self.draft_path
        with self._draft_lock:
            atomic_write_text(path, text)  # InvalidInput (no such directory, …) is reported by the app
            identity = disk_identity(path)
            self._draft_generation = max(self._draft_generation, generation)
            for draft in {draft_path_for(self.drafts_dir, path), old_draft, *self._stale_drafts}:
                self._delete_draft_file(draft)
        self.app.call_from_thread(self._saved, path, text, then, identity)

    def _confirm_replace(self, path: Path, then: Callable[[], None] | None) -> None:
        body = Text()
        body.append_text(_text(str(path), "bold"))
        if self.path is not None and path == self.path:
            body.append(" was changed or replaced by another program since it was opened (or created since). "
                        "Replace it with the editor's text?")
        else:
            body.append(" already exists. Replace it with the editor's text?")
        body.append(" No keeps it (and your edits, in the draft).")

        def answer(yes: bool | None) -> None:
            if yes:
                self.run_save(path, self.editor.text, self.generation, then, None, True)

        self.app.push_screen(ConfirmDialog("Replace the file?", body, yes="Replace"), answer)

    def _saved(self, path: Path, text: str, then: Callable[[], None] | None,
               identity: tuple[int, ...] | None = None) -> None:
        self._stale_drafts.clear()
        if path != self.path:  # saved as another file: that is the file now
            self.path = path
        self._show_path(str(path))
        self._disk = identity
        self.saved_text = text
        self.draft_saved_at = None
        self._show_dirty(self.editor.text != text)
        self._remember(manifest=str(path), save_dir=str(path.parent))
        result = self.result
        n_err = len(result.errors) if result is not None else 0
        self.set_status(f"Saved {display_path(path)}" + (f" ({n_err} error{'s' if n_err != 1 else ''} left)"
                                                         if n_err else ""), "warning" if n_err else "information")
        self._show_summary()
        if then is not None:
            then()

    # -- leaving --------------------------------------------------------------------------------
    def _confirm_unsaved(self, title: str, then: Callable[[], None]) -> None:
        if not self.is_dirty():
            then()
            return
        body = Text("The changes to ")
        body.append_text(_text(str(self.path) if self.path else "the untitled manifest", "bold"))
        body.append(" are not saved. A draft is kept until you save or discard them.")

        def answer(choice: str | None) -> None:
            if choice == "save":
                self.action_save(then=then)
            elif choice == "save_as":
                self._ask_path(then)
            elif choice == "discard":
                self._discard()
                then()

        self.app.push_screen(UnsavedDialog(title, body), answer)

    def _discard(self) -> None:
        self._discarded = True
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        with self._draft_lock:
            self._draft_generation = max(self._draft_generation, self.generation)
            self._delete_draft_file(self.draft_path)

    def action_back(self) -> None:
        self._confirm_unsaved("Leave the editor", self._leave)

    def _leave(self) -> None:
        if self.app.screen is self:
            self.app.pop_screen()

    def confirm_quit(self, quit: Callable[[], None]) -> bool:
        """For the app's quit action: True when there are unsaved edits and a dialog now asks."""
        if not self.is_dirty():
            return False
        self._confirm_unsaved("Quit annotrain", quit)
        return True

    # -- problems -------------------------------------------------------------------------------
    def action_next_diagnostic(self) -> None:
        self._step(1)

    def action_previous_diagnostic(self) -> None:
        self._step(-1)

    def _step(self, direction: int) -> None:
        placed = [i for i, d in enumerate(self.diagnostics) if d.line is not None]
        if not placed:
            self.set_status("No problems with a position." if self.diagnostics else "No problems.")
            return
        row, col = self.editor.cursor_location
        here = (row + 1, col + 1)
        if direction > 0:
            after = [i for i in placed if sort_key(self.diagnostics[i]) > here]
            index = after[0] if after else placed[0]
        else:
            before = [i for i in placed if sort_key(self.diagnostics[i]) < here]
            index = before[-1] if before else placed[-1]
        self.jump_to(index)

    def action_jump(self) -> None:
        table = self.table
        if table.row_count:
            self.jump_to(table.cursor_row)

    @on(DataTable.RowSelected, "#me-diagnostics")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.jump_to(event.cursor_row)

    def jump_to(self, index: int) -> None:
        """Move the editor's cursor to diagnostic ``index`` and focus the editor."""
        if not 0 <= index < len(self.diagnostics):
            return
        d = self.diagnostics[index]
        editor = self.editor
        if d.line is not None:
            row = min(max(0, d.line - 1), editor.document.line_count - 1)
            line = editor.document.get_line(row)
            col = min(max(0, (d.column or 1) - 1), len(line))
            editor.move_cursor((row, col), center=True)
            self.call_after_refresh(self._keep_left)
        if index < self.table.row_count:
            self.table.move_cursor(row=index)
        editor.focus()

    def _diagnostic_here(self) -> Diagnostic | None:
        """The diagnostic the user means: the highlighted row when the list has the focus, else the one
        at the editor's cursor (the nearest one before it on that line), else the highlighted row."""
        table = self.table
        highlighted = self.diagnostics[table.cursor_row] if (
            table.row_count and table.cursor_row < len(self.diagnostics)) else None
        if self.focused is table:
            return highlighted
        row, col = self.editor.cursor_location
        on_line = [d for d in self.diagnostics if d.line == row + 1]
        if on_line:
            before = [d for d in on_line if (d.column or 1) <= col + 1]
            return before[-1] if before else on_line[0]
        whole_file = [d for d in self.diagnostics if d.line is None]
        return highlighted or (whole_file[0] if whole_file else None)

    def action_show_message(self) -> None:
        """F3: the whole message of the problem meant (highlighted or at the cursor), wrapped, in a dialog."""
        d = self._diagnostic_here()
        if d is None:
            self.set_status("No problem here: F8 goes to the next one.", "warning")
            return
        self.app.push_screen(MessageDialog(d, self._how(d)))

    def action_quick_fix(self) -> None:
        d = self._diagnostic_here()
        if d is None:  # still a dialog: an Enter typed after F4 closes it, never lands in the file
            message = "No problem here: F8 goes to the next one."
            self.set_status(message, "warning")
            self.app.push_screen(FixPicker(None, none=message))
            return
        text, generation = self.editor.text, self.generation
        picker = FixPicker(d)  # at once: keys pressed from now on go to the dialog, not to the file

        def picked(fix_id: str | None) -> None:
            fix = picker.fix(fix_id)
            if fix is not None:
                self.apply_fix(fix, text, generation)

        self.app.push_screen(picker, picked)
        self.find_fixes(d, text, generation, picker, str(self.path) if self.path else None, self.provider)

    def _format(self, text: str, path: str | None) -> str:
        from annotrain_tui.core.manifest.validate import detect_format

        return detect_format(text, path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="manifest-fix", description="manifest-fix")
    def find_fixes(self, diagnostic: Diagnostic, text: str, generation: int, picker: FixPicker | None = None,
                   path: str | None = None, provider: str | None = None) -> None:
        fmt = self._format(text, path)
        try:
            fixes = fixes_for(diagnostic, text, format=fmt)
        except RecursionError:
            fixes = []  # nested too deeply to be read: the message says what to change
        if fixes:  # the same loop as `annotrain manifest fix --code CODE` / `--all`
            fixes += batch_fixes(diagnostic, path=path, provider=provider, format=fmt)
        self.app.call_from_thread(self._offer_fixes, diagnostic, fixes, text, generation, picker)

    def _offer_fixes(self, diagnostic: Diagnostic, fixes: list[Fix], text: str, generation: int,
                     picker: FixPicker | None = None) -> None:
        if picker is not None and picker is not self.app.screen:
            return  # cancelled meanwhile
        if generation != self.generation:
            if picker is not None:
                picker.dismiss(None)
            self.set_status("The text changed meanwhile: press F4 again.", "warning")
            return
        if not fixes:
            message = f"No quick fix for {shown(diagnostic.code)} here: the message says what to change."
            self.set_status(message, "warning")
            if picker is not None:  # it stays open (Enter or Esc closes it): no keystroke falls into the file
                picker.show_none(message)
            return
        if picker is not None:
            picker.show_fixes(fixes)
            return
        by_id = {f.id: f for f in fixes}

        def picked(fix_id: str | None) -> None:
            if fix_id in by_id:
                self.apply_fix(by_id[fix_id], text, generation)

        self.app.push_screen(FixPicker(diagnostic, fixes), picked)

    @work(thread=True, exclusive=True, exit_on_error=False, group="manifest-fix", description="manifest-fix")
    def apply_fix(self, fix: Fix, text: str, generation: int) -> None:
        new = fix.apply(text)
        change = minimal_edit(text, new)
        if change is None:
            self.app.call_from_thread(self.set_status, "The fix changes nothing here.", "warning")
            return
        start, end, insert = change
        self.app.call_from_thread(self._apply_edit, location_of(text, start), location_of(text, end), insert,
                                  generation, fix.title)

    def _apply_edit(self, start: tuple[int, int], end: tuple[int, int], insert: str, generation: int,
                    title: str) -> None:
        if generation != self.generation:
            self.set_status("The text changed meanwhile; the fix was not applied. Press F4 again.", "warning")
            return
        self.replace_as_one_edit(start, end, insert, validate=True)
        self.set_status(f"Fixed: {shown(title)} (Ctrl+Z undoes it)")

    def replace_as_one_edit(self, start: tuple[int, int], end: tuple[int, int], insert: str, *,
                            validate: bool = False) -> None:
        """One edit, one undo step (checkpoints on both sides keep it out of typing batches);
        ``validate``: validate as soon as the edit is in (not after the typing debounce)."""
        editor = self.editor
        self._validate_on_change = validate
        editor.history.checkpoint()
        editor.replace(insert, start, end, maintain_selection_offset=False)
        editor.history.checkpoint()
        editor.move_cursor(start, center=True)
        self.call_after_refresh(self._keep_left)
        editor.focus()

    def _keep_left(self) -> None:
        """Centering the cursor scrolls sideways too: on a long URL line the whole view moved right
        and the short lines around looked empty (trial item 25). When the cursor fits in the view from
        column 0, the view goes back to column 0; when it does not, the view scrolls only as far as
        the cursor needs (near the right edge), so most of every line's start stays in view. Only x
        changes: the cursor's line stays where centering put it."""
        editor = self.editor
        row, col = editor.cursor_location
        width = editor.scrollable_content_region.width - editor.gutter_width - 1
        if width <= 0:
            return
        cells = cell_len(drawn(editor.document.get_line(row)[:col]).expandtabs(editor.indent_width))
        x = 0 if cells < width else cells - width + min(8, width // 4)
        if editor.scroll_x != x:
            editor.scroll_to(x=x, animate=False, immediate=True)

    # -- templates ------------------------------------------------------------------------------
    # A template never replaces text without asking: with text in the editor, Ctrl+T first asks
    # whether to replace it (one undoable edit), start a new untitled manifest, or cancel.

    def action_template(self) -> None:
        if not self.editor.text.strip():
            self._ask_template("replace")
            return
        body = Text("The editor holds ")
        body.append_text(_text(str(self.path) if self.path else "an untitled manifest", "bold"))
        body.append(". Replace its text with the template (one edit: Ctrl+Z undoes it), or start a new, "
                    "untitled manifest from the template (unsaved changes are asked about first)?")
        self.app.push_screen(TemplateDialog(body),
                             lambda choice: self._ask_template(choice) if choice in ("replace", "new") else None)

    def _ask_template(self, mode: str) -> None:
        from annotrain_tui.core.manifest.templates import normalise_type
        from annotrain_tui.core.manifest.urls import PROVIDERS

        sel = self.app.selection
        provider = sel.integration.provider.value if sel.integration else "aws"

        def check(values: dict[str, str]) -> str | None:
            kind, prov, urls = (values[k].strip() for k in ("type", "provider", "urls"))
            if kind or not urls:
                try:
                    normalise_type(kind)
                except AnnotrainError as err:
                    return str(err)
            if not urls and prov not in PROVIDERS:
                return f"Unknown provider '{shown(prov)}': choose one of {', '.join(PROVIDERS)}."
            try:
                if urls and not user_path(urls).is_file():
                    return f"{shown(urls)}: no such file."
            except AnnotrainError as err:
                return str(err)
            return None

        def done(values: dict[str, str] | None) -> None:
            if values:
                csv = self.format == "csv" or (self.path is not None and self.path.suffix.lower() == ".csv")
                self.build_template(values["type"].strip(), values["provider"].strip(), values["urls"].strip(),
                                    csv, mode)

        self.app.push_screen(FormDialog(
            "New manifest from a template" if mode == "new" else "Template into this manifest",
            [("type", "Data type (images, videos, image_groups, dicom_series, …)", "images"),
             ("provider", "Provider (aws, gcp, azure, otc, wasabi, oracle, direct)", provider),
             ("urls", "Or a file of URLs, one per line (optional)", "")],
            validate=check, submit="Create"), done)

    @work(thread=True, exclusive=True, exit_on_error=False, group="manifest-template", description="manifest-template")
    def build_template(self, kind: str, provider: str, urls: str, csv: bool, mode: str = "replace") -> None:
        from annotrain_tui.core.manifest.templates import template_text

        made = template_text(kind, provider, urls, csv=csv)  # reads, decodes, converts: the core's work
        if made.source is not None:
            self._read_from.add(made.source)  # a save must never replace the file the URLs came from
        self.app.call_from_thread(self._template_ready, made.text, bool(urls), mode)

    def _template_ready(self, text: str, from_url_list: bool, mode: str = "replace") -> None:
        editor = self.editor
        if mode == "new":
            def fresh() -> None:
                self._show_path("")
                self.last_offered = None
                self._install(None, "", text=text)
                self._template_note(from_url_list)

            self._confirm_unsaved("Start a new manifest", fresh)
            return
        if not editor.text and self.saved_text == "" and not editor.history.undo_stack:
            self._install(self.path, self.saved_text, text=text, identity=self._disk)
        else:
            old = editor.text
            change = minimal_edit(old, text)
            if change is not None:
                start, end, insert = change
                self.replace_as_one_edit(location_of(old, start), location_of(old, end), insert, validate=True)
        self._template_note(from_url_list)

    def _template_note(self, from_url_list: bool) -> None:
        if not from_url_list:
            self.set_status("Template in: replace every <placeholder> (flagged until you do); Ctrl+Z undoes it.",
                            "warning")

    # -- registration ---------------------------------------------------------------------------
    def action_register(self) -> None:
        def go() -> None:
            self.app.open_flow("register", manifest=str(self.path))

        if self.path is None or self.is_dirty() or not self.path.exists():
            self.action_save(then=go)
        else:
            go()
