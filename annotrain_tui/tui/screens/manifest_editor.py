"""The manifest editor: a text editor for registration manifests (JSON or CSV) that validates as you
type, lists every problem with its position, jumps to it, offers the core's quick fixes as one
undoable edit, saves atomically and never loses an edit (a draft is kept until the file is saved).

Everything slow runs in thread workers: reading the file, validating (debounced, 300 ms after the
last keystroke, older runs ignored), quick fixes, drafts and saving. Big files (a 50,000-item
manifest is 150,000 lines) stay responsive: the editor below works around the parts of Textual's
TextArea that cost time proportional to the whole document on every keystroke or frame, and JSON
syntax highlighting is switched off above bounds on the size, the nesting depth and the tokens per
line or per query (checked before it is turned on and on every edit; the panel says which).

A hostile file cannot hang it: the file is stat'ed before it is read (FIFOs, devices and huge files
are refused), tree-sitter never sees a text over the bounds, and a validation that recurses too deep
becomes one diagnostic. Everything shown from the file or its name goes through core.text.shown.
Saving never replaces a non-regular file or one of the editor's inputs, and asks before replacing a
file it did not read or write itself (core.files.check_output).
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from annotrain_tui.core.errors import AnnotrainError, InvalidInput, OutputExists, UnreadableInput
from annotrain_tui.core.manifest.diagnostics import Diagnostic, ValidationResult
from annotrain_tui.core.manifest.fixes import Fix, batch_fixes, fixes_for
from annotrain_tui.core.files import atomic_write_text, check_output, display_path, file_identity, read_user_bytes, user_path
from annotrain_tui.core.manifest.validate import decode, detect_format, validate_text
from annotrain_tui.core.text import is_clean, shown
from annotrain_tui.tui.text import typed_path
from annotrain_tui.tui.screens.base import AppScreen
from annotrain_tui.tui.widgets.dialogs import DIALOG_CSS, ConfirmDialog, FormDialog

try:  # Textual internals the fast editor builds on; without them the stock TextArea is used.
    from textual._cells import cell_len
    from textual.document._document import Document
    from textual.document._document_navigator import DocumentNavigator
    from textual.document._syntax_aware_document import SyntaxAwareDocument
    from textual.document._wrapped_document import WrappedDocument
    from textual.expand_tabs import get_tab_widths
    from textual.geometry import Size

    _FAST_EDITOR = True
except ImportError:  # pragma: no cover - a Textual that moved its internals
    _FAST_EDITOR = False


# -------------------------------------------------------------------------------------------------
# The editor widget.

@lru_cache(maxsize=1)
def highlighting_problem() -> str | None:
    """Why JSON can't be highlighted here (None when it can): tree-sitter or its JSON grammar is
    missing, or it is a tree-sitter that crashes the process under Textual 8.2's TextArea (0.26.x
    segfaults on the first parse or query; 0.25.x is fine)."""
    try:
        from importlib.metadata import PackageNotFoundError, version

        from textual._tree_sitter import TREE_SITTER, get_language

        if not TREE_SITTER:
            return "plain text: JSON highlighting needs tree-sitter and tree-sitter-json"
        try:
            parts = tuple(int(p) for p in version("tree-sitter").split(".")[:2])
        except (PackageNotFoundError, ValueError):
            parts = (0, 0)
        if parts >= (0, 26):
            return "plain text: tree-sitter 0.26 crashes Textual's TextArea (install tree-sitter<0.26)"
        if get_language("json") is None:
            return "plain text: JSON highlighting needs tree-sitter-json"
    except Exception:  # noqa: BLE001 - any import or grammar problem means: plain text
        return "plain text: JSON highlighting is not available"
    return None


def _tab_widths(line: str, tab_width: int) -> list[int]:
    """What Textual's WrappedDocument caches per line: the expanded width of each tab."""
    if "\t" in line:
        return [width for _, width in get_tab_widths(line, tab_width)]
    return [0] if line else []  # what get_tab_widths gives for a line without tabs


# Control characters in the text are drawn as visible one-cell symbols (␛ for ESC, ␀ for NUL, …;
# � for C1 controls), never sent to the terminal; tabs stay tabs (the editor expands them).
VISIBLE_CONTROLS = {i: 0x2400 + i for i in range(32) if i != 9} | {0x7F: 0x2421} | {
    i: 0xFFFD for i in range(0x80, 0xA0)}


def drawn(line: str) -> str:
    """A line of the document as the editor draws it, one character for one: control characters as
    the symbols above; anything else the untrusted-text policy would escape (bidi controls, format
    characters, lone surrogates, …) as U+FFFD, so nothing reorders, hides or breaks the display."""
    if is_clean(line):
        return line
    line = line.translate(VISIBLE_CONTROLS)
    if is_clean(line.replace("\t", " ")):
        return line
    return "".join(ch if ch == "\t" or is_clean(ch) else "\ufffd" for ch in line)


class _LineView:
    """A read-only sequence with one item per document line, made on demand: what the stock
    WrappedDocument stores as lists (one small list or tuple per line) costs nothing here."""

    __slots__ = ("_document", "_make")

    def __init__(self, document, make: Callable[[int], object]) -> None:  # type: ignore[no-untyped-def]
        self._document, self._make = document, make

    def __len__(self) -> int:
        return self._document.line_count

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        n = self._document.line_count
        if isinstance(index, slice):
            return [self._make(i) for i in range(*index.indices(n))]
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(index)
        return self._make(index)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return (self._make(i) for i in range(self._document.line_count))


if _FAST_EDITOR:

    class FlatWrappedDocument(WrappedDocument):
        """Textual's WrappedDocument for soft wrap off: every line is one row, so its per-line tables
        are views computed from the document (O(1) to build, nothing to update on an edit) and
        ``height`` is O(1) (the stock one sums over every line, for every rendered line)."""

        @property
        def height(self) -> int:
            return len(self._offset_to_line_info)

        def wrap(self, width: int, tab_width: int | None = None) -> None:
            if width:
                super().wrap(width, tab_width)
                return
            self._width = 0
            if tab_width:
                self._tab_width = tab_width
            doc = self.document
            self._wrap_offsets = _LineView(doc, lambda i: [])  # type: ignore[assignment]
            self._offset_to_line_info = _LineView(doc, lambda i: (i, 0))  # type: ignore[assignment]
            self._line_index_to_offsets = _LineView(doc, lambda i: [i])  # type: ignore[assignment]
            self._tab_width_cache = _LineView(  # type: ignore[assignment]
                doc, lambda i: _tab_widths(doc[i], self._tab_width))

        def wrap_range(self, start, old_end, new_end) -> None:  # type: ignore[no-untyped-def]
            if self._width:
                super().wrap_range(start, old_end, new_end)
            # soft wrap off: the views follow the document by themselves

    class _CachedText:
        """``text`` joined once per change, not on every read (TextArea reads it for every rendered
        line, to decide whether to draw its placeholder)."""

        _text: str | None = None

        @property
        def text(self) -> str:
            if self._text is None:
                self._text = super().text  # type: ignore[misc]
            return self._text

        def replace_range(self, start, end, text):  # type: ignore[no-untyped-def]
            self._text = None  # the only way a Document changes
            return super().replace_range(start, end, text)  # type: ignore[misc]

    class CachedTextDocument(_CachedText, Document):
        pass

    class CachedSyntaxDocument(_CachedText, SyntaxAwareDocument):
        """The syntax-aware document, keeping what highlighting costs bounded on every edit.

        ``track`` gives it the limits and the exact cost of its text. Each edit then raises cheap
        upper bounds (an edit raises the nesting depth by at most the openers it inserts plus the
        closers it deletes; the tokens on a line or in a window of rows by at most the tokens it
        inserts, unless it joins lines); only
        when a bound passes its limit is the exact cost computed again. When the exact cost is over
        a limit (or the text can no longer be encoded, a lone surrogate), the syntax tree is no
        longer updated: ``off_reason`` says why, and the editor turns highlighting off.
        """

        limits: HighlightLimits | None = None  # None: not tracked
        off_reason: str | None = None
        _cost: TextCost  # upper bounds of the text's cost (exact after a recount)

        def track(self, cost: TextCost, limits: HighlightLimits) -> None:
            self.limits, self._cost = limits, cost

        def replace_range(self, start, end, text):  # type: ignore[no-untyped-def]
            if self.limits is None:
                return super().replace_range(start, end, text)
            self._text = None
            if self.off_reason is not None:  # the tree is dropped: a plain edit
                return Document.replace_range(self, start, end, text)
            top, bottom = sorted((start, end))
            deleted = self.get_text_range(top, bottom)
            start_byte = self._location_to_byte_offset(top)
            start_point = self._location_to_point(top)
            old_end_byte = self._location_to_byte_offset(bottom)
            old_end_point = self._location_to_point(bottom)
            result = Document.replace_range(self, start, end, text)
            try:
                inserted = text.encode("utf-8")
            except UnicodeEncodeError:
                self.off_reason = "the text holds a lone surrogate (not UTF-8)"
                return result
            limits, old = self.limits, self._cost
            added = tokens_in(text)
            joined = "\n" in deleted  # joining lines can put two lines' tokens on one
            bound = TextCost(
                old.chars + len(text) - len(deleted),
                old.depth + text.count("[") + text.count("{") + deleted.count("]") + deleted.count("}"),
                line_tokens=limits.line_tokens + 1 if joined else old.line_tokens + added,
                window_tokens=limits.window_tokens + 1 if joined else old.window_tokens + added)
            self._cost = bound
            if too_costly(bound, limits) is not None:  # a bound is over: count exactly
                self._cost = text_cost(self.text) if bound.chars <= limits.chars else bound
                self.off_reason = too_costly(self._cost, limits)
                if self.off_reason is not None:
                    return result
            self._syntax_tree.edit(
                start_byte=start_byte,
                old_end_byte=old_end_byte,
                new_end_byte=start_byte + len(inserted),
                start_point=start_point,
                old_end_point=old_end_point,
                new_end_point=self._location_to_point(result.end_location),
            )
            self._syntax_tree = self._parser.parse(self._read_callable, self._syntax_tree)  # type: ignore[arg-type]
            return result


class ManifestTextArea(TextArea):
    """A TextArea that stays responsive on 150,000-line documents.

    The stock widget, per keystroke or frame, sums the wrapped height over every line (for each
    rendered line), joins the whole text (for each rendered line), measures every line's width,
    rebuilds its wrap tables and syntax highlights for the whole document, and scans for the
    matching bracket as far as the end of the document. Here: height and wrap tables are O(1) (soft
    wrap is off), the text is joined once per change, the width is measured by C-level passes,
    highlights are computed for the rows around the viewport only, and bracket matching looks at
    most ``BRACKET_SCAN_LINES`` lines (``BRACKET_SCAN_CHARS`` characters) away.
    """

    BRACKET_SCAN_LINES = 2000
    BRACKET_SCAN_CHARS = 200_000  # and at most this many characters (one long line)
    HIGHLIGHT_MARGIN = 200  # rows highlighted above and below the viewport
    FAST = True  # False: the stock code paths (the bench compares both)
    HELP = ("The manifest. Type to edit; Ctrl+Z / Ctrl+Y undo and redo; F6 selects the line, F7 everything. "
            "Problems are listed below as you type: F8 / Shift+F8 (or Ctrl+N / Ctrl+B) go to the next or "
            "previous one, F4 offers a quick fix for the problem at the cursor. Ctrl+S saves, Tab moves to "
            "the problem list.")

    _highlight_window: tuple[int, int] = (0, -1)
    # (characters, nesting depth, bytes in a window of rows) above which highlighting is off; None:
    # no limits (a plain TextArea). Checked before a document is highlighted and on every edit.
    highlight_limits: HighlightLimits | None = None
    highlight_off_reason: str | None = None  # why the last text asked to be highlighted is not

    class HighlightingOff(Message):
        """Highlighting was turned off because of the text (``reason`` says what is over which limit)."""

        def __init__(self, text_area: ManifestTextArea, reason: str) -> None:
            super().__init__()
            self.text_area, self.reason = text_area, reason

        @property
        def control(self) -> ManifestTextArea:
            return self.text_area

    @property
    def _fast(self) -> bool:
        return _FAST_EDITOR and self.FAST

    def _gate(self, text: str) -> tuple[str | None, TextCost | None]:
        """(why ``text`` must not be highlighted or None, its cost) under ``highlight_limits``."""
        limits = self.highlight_limits
        assert limits is not None
        cost = TextCost(len(text)) if len(text) > limits.chars else text_cost(text)  # too big: look no further
        return too_costly(cost, limits), cost

    def _set_document(self, text: str, language: str | None) -> None:
        cost: TextCost | None = None
        self.highlight_off_reason = None
        if language and self.highlight_limits is not None:
            reason, cost = self._gate(text)
            if reason is not None:  # never parsed nor queried: opened as plain text
                self.highlight_off_reason = reason
                language = None
                self.set_reactive(TextArea.language, None)
        if not self._fast:
            super()._set_document(text, language)
            return
        document: Document
        if language:
            # The stock path on an empty text sets up the language and its highlight query; the
            # text itself then goes into the fast document classes.
            super()._set_document("", language)
            if isinstance(self.document, SyntaxAwareDocument):
                document = CachedSyntaxDocument(text, self.document.language)
                if cost is not None and self.highlight_limits is not None:
                    document.track(cost, self.highlight_limits)
            else:  # no parser for the language: the stock path fell back to plain text
                document = CachedTextDocument(text)
        else:
            self._highlight_query = None
            document = CachedTextDocument(text)
        # The stock steps, on the fast document classes.
        self.document = document
        self.wrapped_document = FlatWrappedDocument(self.document, tab_width=self.indent_width)
        self.navigator = DocumentNavigator(self.wrapped_document)
        self._build_highlight_map()
        self.move_cursor((0, 0))
        self._rewrap_and_refresh_virtual_size()

    def _refresh_size(self) -> None:
        if not self._fast or self.soft_wrap:
            super()._refresh_size()
            return
        lines = self.document.lines
        width = max(map(len, lines), default=0)
        text = self.document.text if isinstance(self.document, CachedTextDocument) else None
        if text is None or not text.isascii() or "\t" in text:
            tab = self.indent_width
            special = [line for line in lines if "\t" in line or not line.isascii()]
            if special:
                width = max(width, max(cell_len(line.expandtabs(tab)) for line in special))
        self.virtual_size = Size(width + self.gutter_width + 1, len(lines))
        self._refresh_scrollbars()

    def _build_highlight_map(self) -> None:
        """Highlights for the rows around the viewport only (the stock map covers the document)."""
        if not self._fast:
            super()._build_highlight_map()
            return
        self._line_cache.clear()
        highlights = self._highlights
        highlights.clear()
        if not self._highlight_query:
            return
        reason = getattr(self.document, "off_reason", None)
        if reason is not None:  # an edit took the text over a limit: never query it again
            self._highlight_query = None
            self.highlight_off_reason = reason
            self.call_later(self._drop_syntax, reason)
            return
        top = max(0, self.scroll_offset.y - self.HIGHLIGHT_MARGIN)
        bottom = self.scroll_offset.y + max(self.size.height, 1) + self.HIGHLIGHT_MARGIN
        self._highlight_window = (top, bottom)
        captures = self.document.query_syntax_tree(self._highlight_query, (top, 0), (bottom + 1, 0))
        for name, nodes in captures.items():
            for node in nodes:
                start_row, start_col = node.start_point
                end_row, end_col = node.end_point
                if start_row == end_row:
                    if top <= start_row <= bottom:
                        highlights[start_row].append((start_col, end_col, name))
                    continue
                if top <= start_row <= bottom:
                    highlights[start_row].append((start_col, None, name))
                for row in range(max(start_row + 1, top), min(end_row, bottom + 1)):
                    highlights[row].append((0, None, name))
                if top <= end_row <= bottom:
                    highlights[end_row].append((0, end_col, name))

    def _drop_syntax(self, reason: str) -> None:
        """Go on as plain text (same text, cursor, scroll and undo history), and say why."""
        if isinstance(self.document, SyntaxAwareDocument):
            selection, scroll = self.selection, self.scroll_offset
            self.set_reactive(TextArea.language, None)
            self._set_document(self.document.text, None)
            self.highlight_off_reason = reason
            self.selection = selection
            self.scroll_to(scroll.x, scroll.y, animate=False, immediate=True)
        self.post_message(self.HighlightingOff(self, reason))

    def get_line(self, line_index: int) -> Text:
        """The line as drawn: control characters made visible (a manifest is untrusted text)."""
        return Text(drawn(self.document.get_line(line_index)), end="", no_wrap=True)

    def render_lines(self, crop):  # type: ignore[no-untyped-def]
        if self._fast and self._highlight_query:
            top, bottom = self._highlight_window
            y = self.scroll_offset.y
            if y < top or y + self.size.height > bottom:
                self._build_highlight_map()  # scrolled out of the highlighted rows
        return super().render_lines(crop)

    def find_matching_bracket(self, bracket: str, search_from: tuple[int, int]) -> tuple[int, int] | None:
        """The stock search, bounded: a bracket whose partner is far away is simply not matched."""
        if not self._fast:
            return super().find_matching_bracket(bracket, search_from)
        pairs = {"{": "}", "[": "]", "(": ")"}
        closing = {v: k for k, v in pairs.items()}
        forward = bracket in pairs
        if not forward and bracket not in closing:
            return None
        lines = self.document.lines
        row, column = search_from
        stack: list[str] = []
        budget = self.BRACKET_SCAN_CHARS
        last_row = min(len(lines) - 1, row + self.BRACKET_SCAN_LINES) if forward else max(
            0, row - self.BRACKET_SCAN_LINES)
        while 0 <= row < len(lines):
            line = lines[row]
            if forward:
                indices = range(column, len(line))
            else:
                indices = range(min(column, len(line) - 1) if column != -1 else len(line) - 1, -1, -1)
            budget -= len(indices)
            if budget < 0:  # a long line: look only as far as the budget goes
                indices = indices[:len(indices) + budget]
            for col in indices:
                ch = line[col]
                if (ch in pairs) if forward else (ch in closing):
                    stack.append(ch)
                elif (ch in closing) if forward else (ch in pairs):
                    expected = closing[ch] if forward else pairs[ch]
                    if stack and stack[-1] == expected:
                        stack.pop()
                        if not stack:
                            return (row, col)
            if row == last_row or budget <= 0:
                return None
            row += 1 if forward else -1
            column = 0 if forward else -1
        return None


# -------------------------------------------------------------------------------------------------
# Pure helpers (tested on their own).

def draft_path_for(drafts_dir: Path, manifest: Path | None) -> Path:
    """Where the draft of ``manifest`` lives: one file per absolute path (a hash keeps names safe)."""
    key = str(manifest) if manifest is not None else "<untitled>"
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    if manifest is None:
        return drafts_dir / f"untitled-{digest}.draft"
    stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in manifest.name)[:60] or "manifest"
    return drafts_dir / f"{stem}-{digest}.draft"


@dataclass
class Opened:
    """What reading a manifest for editing found (read in a worker thread)."""

    path: Path
    text: str | None = None          # the file's text (None: missing or unreadable)
    error: str | None = None         # why it cannot be edited (a directory, not UTF-8, …)
    missing: bool = False
    draft: str | None = None         # a draft that differs from the file
    draft_mtime: float | None = None
    draft_older: bool = False        # the file changed after the draft was written
    identity: tuple[int, ...] | None = None  # disk_identity of the file read


def disk_identity(path: Path | str) -> tuple[int, ...] | None:
    """Which file, in which state, is at ``path`` now (device, inode, size, mtime); None: nothing."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def read_for_editing(path: Path, draft: Path, max_bytes: int = 64_000_000) -> Opened:
    """Read ``path`` as UTF-8 text, and its draft when that differs from the file (a draft older than
    the file is reported too, marked: the file changed after it, but it may hold unsaved edits).

    The file is stat'ed before it is opened: a FIFO (which would block), a device (``/dev/zero``
    never ends) or a file over ``max_bytes`` is reported, never read."""
    out = Opened(path)
    name = display_path(path)
    file_mtime: float | None = None
    try:
        st = os.stat(path)
    except FileNotFoundError:
        out.missing = True
        st = None
    except (OSError, ValueError):
        st = None  # reported by the reader below, in its words
    if st is not None and stat.S_ISREG(st.st_mode) and st.st_size > max_bytes:
        out.error = (f"{name} is {_size(st.st_size)}: too big to edit here (at most {_size(max_bytes)}); "
                     "check it with `annotrain manifest validate` or cut it with `annotrain manifest split`")
    elif not out.missing:
        try:
            data = read_user_bytes(path)  # regular files only
            file_mtime = st.st_mtime if st is not None else None
            out.identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) if st is not None else None
        except UnreadableInput as err:
            if not os.path.lexists(path):
                out.missing = True
            else:
                out.error = f"{err}: type the path of a .json or .csv manifest file"
        else:
            text, problem = decode(data)
            if text is None:
                where = f" (line {problem.line}, column {problem.column})" if problem and problem.line else ""
                detail = problem.message if problem else "not UTF-8 text"
                out.error = f"{name} cannot be edited as text{where}: {detail}"
            else:
                out.text = text
    if out.error is None:
        try:
            draft_mtime = draft.stat().st_mtime
            draft_text = draft.read_text(encoding="utf-8")
            if draft_text != out.text:
                out.draft, out.draft_mtime = draft_text, draft_mtime
                out.draft_older = file_mtime is not None and draft_mtime < file_mtime
        except (OSError, UnicodeDecodeError):
            pass
    return out


def _common_prefix(a: str, b: str) -> int:
    """Length of the common prefix, comparing 64K blocks in C before narrowing down."""
    n = min(len(a), len(b))
    i, step = 0, 1 << 16
    while i < n:
        j = min(n, i + step)
        if a[i:j] == b[i:j]:
            i = j
            continue
        lo, hi = i, j  # a[i:lo] == b[i:lo]; the first difference is in [lo, hi)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if a[lo:mid] == b[lo:mid]:
                lo = mid
            else:
                hi = mid
        return lo
    return n


def minimal_edit(old: str, new: str) -> tuple[int, int, str] | None:
    """The one replacement (start, end, insert) turning ``old`` into ``new`` (None when equal)."""
    if old == new:
        return None
    prefix = _common_prefix(old, new)
    limit = min(len(old), len(new)) - prefix
    suffix = min(_common_prefix(old[prefix:][::-1], new[prefix:][::-1]), limit)
    return prefix, len(old) - suffix, new[prefix:len(new) - suffix]


def location_of(text: str, offset: int) -> tuple[int, int]:
    """(row, column), 0-based, of a character offset (what TextArea calls a location)."""
    row = text.count("\n", 0, offset)
    return row, offset - (text.rfind("\n", 0, offset) + 1)


def sort_key(d: Diagnostic) -> tuple[int, int]:
    return (d.line or 0, d.column or 0)


def _text(value: object, style: str = "") -> Text:
    """Untrusted text (from the file, its name, the user) as a one-line rich Text, never markup:
    escaped by the one policy, :func:`annotrain_tui.core.text.shown`."""
    return Text(shown(value), style=style, no_wrap=True, overflow="ellipsis")


# -- what highlighting a text would cost -------------------------------------------------------------
# Textual's TextArea parses the whole document with tree-sitter on load and on every edit, runs its
# highlight query over the rows around the viewport and styles each captured token of a drawn line,
# all on the UI thread. The parse is linear in the size. The query grows with the nesting depth
# (quadratically: 16,000 nested brackets take 1.7 s per query, 100,000 over a minute) and with the
# tokens in the rows it covers; drawing grows with the tokens on a line (20 KB of brackets on one
# line: 0.4 s per keystroke). Each is bounded before highlighting is turned on, and kept bounded on
# every edit (``CachedSyntaxDocument``).

WINDOW_ROWS = 500  # rows one highlight query covers at most (the viewport and the margins around it)
_TOKEN_BYTES = b'[]{},:"'  # what the JSON highlight query captures, about one node each


@dataclass(frozen=True)
class HighlightLimits:
    chars: int          # characters in the document
    depth: int          # [ / { nesting
    line_tokens: int    # tokens on one line (drawn, and styled token by token, on every frame)
    window_tokens: int  # tokens in any WINDOW_ROWS consecutive rows (one highlight query)


@dataclass(frozen=True)
class TextCost:
    """What highlighting ``text`` would cost: its size, its deepest ``[``/``{`` nesting (brackets in
    strings count too: an over-estimate), the most tokens (``_TOKEN_BYTES``) on one line and in any
    ``WINDOW_ROWS`` consecutive rows."""

    chars: int
    depth: int = 0
    depth_at: int = 0   # byte offset of the first bracket that reaches ``depth``
    line_tokens: int = 0
    window_tokens: int = 0
    surrogate: bool = False  # holds a lone surrogate: tree-sitter reads UTF-8 and would fail


def _bytes_of(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


_TABLES = None  # numpy tables, made on first use: byte → bracket step (+1 / -1 / 0), byte → is a token


def _tables():  # type: ignore[no-untyped-def]
    import numpy as np

    global _TABLES
    if _TABLES is None:
        step = np.zeros(256, dtype=np.int8)
        step[[0x5B, 0x7B]] = 1
        step[[0x5D, 0x7D]] = -1
        token = np.zeros(256, dtype=np.int8)
        token[list(_TOKEN_BYTES)] = 1
        _TABLES = step, token
    return _TABLES


def _depths(data: bytes):  # type: ignore[no-untyped-def]
    """(offsets, depths) of every bracket byte (numpy): the nesting depth after each one, counting +1
    for ``[``/``{`` and -1 for ``]``/``}``, never below 0 (stray closers do not hide the openers after
    them). Brackets never occur inside a multi-byte UTF-8 sequence."""
    import numpy as np

    step = _tables()[0][np.frombuffer(data, dtype=np.uint8)]
    offsets = np.flatnonzero(step)
    level = np.cumsum(step[offsets], dtype=np.int64 if len(offsets) >= 2**31 else np.int32)
    return offsets, level - np.minimum(np.minimum.accumulate(level), 0)


def text_cost(text: str) -> TextCost:
    """The cost bounds of ``text`` (C-level passes: ~15 ms a megabyte)."""
    import numpy as np

    try:
        data, surrogate = text.encode("utf-8"), False
    except UnicodeEncodeError:
        data, surrogate = _bytes_of(text), True
    offsets, depths = _depths(data)
    depth = at = 0
    if len(depths):
        i = int(np.argmax(depths))
        depth, at = max(0, int(depths[i])), int(offsets[i])
    b = np.frombuffer(data, dtype=np.uint8)
    counted = np.cumsum(_tables()[1][b], dtype=np.int64 if len(b) >= 2**31 else np.int32)
    total = int(counted[-1]) if len(b) else 0
    ends = np.flatnonzero(b == 0x0A)
    # tokens up to each line's end, then per line, then per WINDOW_ROWS lines
    before = np.concatenate(([0], counted[ends], [total]))
    per_line = np.diff(before)
    line_tokens = int(per_line.max()) if len(per_line) else 0
    rows = len(per_line)
    window = total if rows <= WINDOW_ROWS else int((before[WINDOW_ROWS:] - before[:-WINDOW_ROWS]).max())
    return TextCost(len(text), depth, at, line_tokens, window, surrogate)


def tokens_in(text: str) -> int:
    """How many ``_TOKEN_BYTES`` ``text`` holds (str.count: C speed)."""
    return sum(text.count(ch) for ch in '[]{},:"')


def too_costly(cost: TextCost, limits: HighlightLimits) -> str | None:
    """Why highlighting is off for a text of this cost (None: it can be on)."""
    if cost.chars > limits.chars:
        return f"{_size(cost.chars)} is over {_size(limits.chars)}"
    if cost.surrogate:
        return "the text holds a lone surrogate (not UTF-8)"
    if cost.depth > limits.depth:
        return f"nesting depth {cost.depth} > {limits.depth}"
    if cost.line_tokens > limits.line_tokens:
        return f"{cost.line_tokens:,} tokens on one line > {limits.line_tokens:,}"
    if cost.window_tokens > limits.window_tokens:
        return f"{cost.window_tokens:,} tokens in {WINDOW_ROWS} rows > {limits.window_tokens:,}"
    return None


def first_deeper_than(text: str, limit: int) -> tuple[int, int, int] | None:
    """(line, column, deepest), 1-based, of the first bracket nested deeper than ``limit`` (None: none)."""
    import numpy as np

    data = _bytes_of(text)
    offsets, depths = _depths(data)
    over = np.flatnonzero(depths > limit)
    if not len(over):
        return None
    at = int(offsets[over[0]])
    line_start = data.rfind(b"\n", 0, at) + 1
    column = len(data[line_start:at].decode("utf-8", "surrogatepass")) + 1
    return data.count(b"\n", 0, at) + 1, column, int(depths.max())


def too_deep_result(text: str, path: str | None, limit: int) -> ValidationResult:
    """What a validation that hit Python's recursion limit reports: one diagnostic at the first
    bracket nested deeper than ``limit`` (a manifest nests four levels)."""
    where = first_deeper_than(text, limit)
    line = column = None
    if where is not None:
        line, column, deepest = where
        message = (f"nesting too deep at {line}:{column}: {deepest:,} levels of [ and {{ inside one another "
                   f"(a manifest needs four): remove the extra brackets")
    else:
        message = "nesting too deep to be read: remove the extra [ and { brackets"
    return ValidationResult(path=path, format="json", diagnostics=[
        Diagnostic(severity="error", code="json-depth", message=message, line=line, column=column)])


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} KB" if n >= 1e3 else f"{n} B"


# -------------------------------------------------------------------------------------------------
# Dialogs.

class UnsavedDialog(ModalScreen[str]):
    """Save / discard / cancel, for unsaved edits."""

    DEFAULT_CSS = DIALOG_CSS.format(cls="UnsavedDialog")
    BINDINGS = [
        Binding("s", "choose('save')", "Save", id="unsaved.save"),
        Binding("d", "choose('discard')", "Discard", id="unsaved.discard"),
        Binding("escape,c", "choose('cancel')", "Cancel", id="unsaved.cancel"),
    ]

    def __init__(self, title: str, body: Text) -> None:
        super().__init__()
        self._title, self._body = title, body

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self._title), classes="dialog-title")
            yield Static(self._body)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (esc)", id="cancel")
                yield Button("Discard (d)", id="discard", variant="error")
                yield Button("Save (s)", id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#save", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "cancel")

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)


class FixOptions(OptionList):
    """The fix list: Enter applies the highlighted fix, and the footer says so."""

    BINDINGS = [Binding("enter", "select", "Apply fix", id="fix.apply")]


class FixPicker(ModalScreen["str | None"]):
    """The quick fixes available for one diagnostic; Enter applies the highlighted one.

    Pushed at once on F4 (``fixes=None``: "looking…") and filled in when the fixes are found, so a
    key meant for the dialog (Enter above all) always reaches the dialog, never the file; while it
    looks, Enter does nothing. Its keys are written in it and shown by the footer.
    """

    DEFAULT_CSS = DIALOG_CSS.format(cls="FixPicker") + """
    FixPicker OptionList { height: auto; max-height: 10; margin-top: 1; }
    FixPicker .dialog-keys { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [
        Binding("enter", "apply", "Apply fix", show=False, id="fix.apply-waiting"),
        Binding("escape", "cancel", "Cancel", id="fix.cancel"),
    ]
    KEYS = "Enter applies the highlighted fix · ↑/↓ choose · Esc cancels · then Ctrl+Z undoes it"

    def __init__(self, diagnostic: Diagnostic, fixes: list[Fix] | None = None) -> None:
        super().__init__()
        self._diagnostic = diagnostic
        self._fixes: list[Fix] | None = None
        self._initial = fixes

    def compose(self) -> ComposeResult:
        d = self._diagnostic
        where = f" at {d.line}:{d.column or 1}" if d.line is not None else ""
        with Vertical():
            yield Static(Text(f"Quick fix: {shown(d.code)}{where}"), classes="dialog-title")
            message = _text(d.message)
            message.no_wrap, message.overflow = False, "fold"
            yield Static(message)
            yield Static(Text("Looking for fixes…"), id="fix-status")
            options = FixOptions(id="fix-options")
            options.HELP = "Up/Down pick a fix, Enter applies it (Ctrl+Z undoes it), Escape cancels."  # type: ignore[attr-defined]
            yield options
            yield Static(Text(self.KEYS), classes="dialog-keys", id="fix-keys")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        if self._initial is not None:
            self.show_fixes(self._initial)

    @property
    def fixes(self) -> list[Fix] | None:
        """The fixes shown (None while they are looked for)."""
        return self._fixes

    def show_fixes(self, fixes: list[Fix]) -> None:
        self._fixes = list(fixes)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(_text(f.title), id=f.id) for f in self._fixes])
        options.highlighted = 0 if self._fixes else None
        self.query_one("#fix-status", Static).display = False
        options.focus()

    def fix(self, fix_id: str | None) -> Fix | None:
        return next((f for f in self._fixes or [] if f.id == fix_id), None)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self._fixes is not None:
            self.dismiss(event.option.id)

    def action_apply(self) -> None:
        """Enter when the list does not take it (still looking): apply the highlighted fix, or nothing."""
        options = self.query_one(OptionList)
        if self._fixes and options.highlighted is not None:
            self.dismiss(self._fixes[options.highlighted].id)

    def action_cancel(self) -> None:
        self.dismiss(None)


# -------------------------------------------------------------------------------------------------
# The screen.

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow"}


# Workers get a fixed ``description``: without one, Textual builds it from repr() of every argument,
# and repr() of a 6 MB manifest blocks the UI thread for ~100 ms.


class ManifestEditorScreen(AppScreen):
    TITLE = "Manifest editor"
    SCREEN_HELP = (
        "Write or fix a registration manifest (Encord's JSON or CSV upload file). It is validated as you type "
        "(300 ms after the last key) with the provider of the picked integration; problems are listed below "
        "with line:column. F8 / Shift+F8 (Ctrl+N / Ctrl+B) move the cursor to the next / previous problem; "
        "Enter on a problem jumps to it; F4 offers a quick fix (one undoable edit, Ctrl+Z). Ctrl+S saves "
        "(atomically), Ctrl+T starts from a template or a file of URLs, F5 saves and opens registration. "
        "Every edit is kept in a draft until the file is saved: after a crash, opening the file again "
        "offers the draft back. Tab moves between the path, the editor and the problem list."
    )
    BINDINGS = [
        Binding("f8,ctrl+n", "next_diagnostic", "Next", key_display="F8", id="manifest.next"),
        Binding("shift+f8,ctrl+b", "previous_diagnostic", "Previous problem", show=False,
                id="manifest.previous"),
        Binding("ctrl+g", "jump", "Go to problem", show=False, id="manifest.jump"),
        Binding("f4,ctrl+full_stop", "quick_fix", "Fix", key_display="F4", id="manifest.fix"),
        Binding("ctrl+s", "save", "Save", id="manifest.save"),
        Binding("ctrl+t", "template", "Template", id="manifest.template"),
        Binding("f5", "register", "Register", id="manifest.register"),
        Binding("ctrl+o", "focus_path", "Open", show=False, id="manifest.open"),
        Binding("escape", "back", "Back", id="manifest.back"),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (140, "-wide")]

    DEBOUNCE = 0.3                    # seconds after the last keystroke before validating / drafting
    HIGHLIGHT_MAX_CHARS = 1_000_000   # JSON highlighting above this costs too much per keystroke
    HIGHLIGHT_MAX_DEPTH = 256         # tree-sitter's highlight query grows with the nesting depth
    HIGHLIGHT_MAX_LINE_TOKENS = 2_000  # tokens on one line: each is styled whenever the line is drawn
    HIGHLIGHT_MAX_WINDOW_TOKENS = 50_000  # tokens in the rows one highlight query covers
    MAX_ROWS = 500                    # diagnostics listed (navigation covers all of them)

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
        self.draft_saved_at: float | None = None
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

    # -- layout ---------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="form-row", id="me-open"):
            yield Label("Manifest ")
            path_input = Input(placeholder="path to manifest.json or .csv — Enter opens; Ctrl+T: template",
                               id="me-path")
            path_input.HELP = ("The manifest file to edit. Enter opens it (a missing file can be created from a "  # type: ignore[attr-defined]
                               "template). Ctrl+O comes back here from anywhere on the screen.")
            yield path_input
        with Container(id="me-body"):
            self._editor = ManifestTextArea(id="me-editor", soft_wrap=False, show_line_numbers=True,
                                            tab_behavior="focus")
            yield self._editor
            with Vertical(id="me-panel"):
                yield Static(Text(""), id="me-summary")
                table = DataTable(id="me-diagnostics", cursor_type="row", zebra_stripes=True)
                table.HELP = ("The problems of the manifest, in file order: severity, line:column, code and "  # type: ignore[attr-defined]
                              "message. Enter (or Ctrl+G) moves the editor's cursor to the highlighted one; "
                              "F4 offers a quick fix for it.")
                yield table
                yield Static(Text(""), id="me-detail")
        yield Footer()

    @property
    def editor(self) -> ManifestTextArea:
        return self._editor  # kept: on unmount the widget tree is already gone

    @property
    def table(self) -> DataTable:
        return self.query_one("#me-diagnostics", DataTable)

    def on_mount(self) -> None:
        self.table.add_column("Sev", key="sev", width=4)
        self.table.add_column("Line:Col", key="pos", width=9)
        self.table.add_column("Code", key="code", width=18)
        self.table.add_column("Message", key="message")
        if self.initial:
            self._show_path(self.initial)
            self.open_path(self.initial)
        else:
            self._show_summary()
            self.query_one("#me-path", Input).focus()
            self._offer_untitled_draft()

    # -- opening --------------------------------------------------------------------------------
    @property
    def drafts_dir(self) -> Path:
        return self.app.workspace.paths.drafts_dir  # type: ignore[attr-defined]

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
            self.notify("Type the path of a manifest file (.json or .csv).", severity="warning", markup=False)
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
        if opened.error:
            self.notify(shown(opened.error), title="Cannot open", severity="error", timeout=10, markup=False)
            self._show_summary(problem=opened.error)
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
        self._timer = self.set_timer(self.DEBOUNCE, self._debounced)

    def _debounced(self) -> None:
        self._timer = None
        self.action_validate()

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
        sel = self.app.selection  # type: ignore[attr-defined]
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
            self.app.call_from_thread(self._show_result, generation, result, provider)

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

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        super().on_worker_state_changed(event)  # the app reports the failure
        if event.state == WorkerState.ERROR and event.worker.group == "manifest-validate":
            self._validating = False
            self._show_summary(problem="validation failed: see the message; edit or Ctrl+R to try again")

    def _fill_table(self) -> None:
        table = self.table
        keep = table.cursor_row if table.row_count else 0
        table.clear()
        for index, d in enumerate(self.diagnostics[:self.MAX_ROWS]):
            style = SEVERITY_STYLE.get(d.severity, "")
            where = f"{d.line}:{d.column or 1}" if d.line is not None else "—"
            table.add_row(Text("err" if d.severity == "error" else "warn", style=style), Text(where),
                          _text(d.code, style), _text(d.message), key=str(index))
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1), scroll=False)

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
            notes.append("draft kept " + time.strftime("%H:%M:%S", time.localtime(self.draft_saved_at)))
        if self.note:
            notes.append(self.note)
        if notes:
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
        message = _text(d.message)
        t.append_text(message)
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
        self.draft_saved_at = time.time()
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

    def action_save(self, then: Callable[[], None] | None = None) -> None:
        if self.path is None:
            self._ask_path(then)
            return
        self.run_save(self.path, self.editor.text, self.generation, then, self._disk)

    def _ask_path(self, then: Callable[[], None] | None) -> None:
        def check(values: dict[str, str]) -> str | None:
            raw = values["path"].strip()
            if not raw:
                return "Type a file path (ending in .json or .csv)."
            try:
                if user_path(raw).is_dir():
                    return f"{shown(raw)} is a directory: add a file name."
            except AnnotrainError as err:
                return str(err)
            return None

        def done(values: dict[str, str] | None) -> None:
            if not values:
                return
            new = user_path(values["path"].strip())  # checked above
            target = new.resolve() if not new.is_absolute() else new
            # The open file under another name is the open file; anything else that exists is asked about.
            known = self._disk if self.path is not None and file_identity(target) == file_identity(self.path) else None
            self.run_save(target, self.editor.text, self.generation, then, known)

        self.app.push_screen(FormDialog("Save the manifest as", [("path", "File (.json or .csv)", "")],
                                        validate=check, submit="Save"), done)

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
        result = self.result
        n_err = len(result.errors) if result is not None else 0
        self.notify(f"Saved {display_path(path)}" + (f" ({n_err} error{'s' if n_err != 1 else ''} left)" if n_err else ""),
                    title="Manifest", severity="warning" if n_err else "information", markup=False)
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
            self.notify("No problems with a position." if self.diagnostics else "No problems.", markup=False)
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

    def action_quick_fix(self) -> None:
        d = self._diagnostic_here()
        if d is None:
            self.notify("No problem here: F8 goes to the next one.", markup=False)
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
            self.notify("The text changed meanwhile: press F4 again.", markup=False)
            return
        if not fixes:
            if picker is not None:
                picker.dismiss(None)
            self.notify(f"No quick fix for {shown(diagnostic.code)}; the message says what to change.",
                        title="Quick fix", markup=False)
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
            self.app.call_from_thread(self.notify, "The fix changes nothing here.", markup=False)
            return
        start, end, insert = change
        self.app.call_from_thread(self._apply_edit, location_of(text, start), location_of(text, end), insert,
                                  generation, fix.title)

    def _apply_edit(self, start: tuple[int, int], end: tuple[int, int], insert: str, generation: int,
                    title: str) -> None:
        if generation != self.generation:
            self.notify("The text changed meanwhile; the fix was not applied. Press F4 again.", markup=False)
            return
        self.replace_as_one_edit(start, end, insert, validate=True)
        self.notify(f"{shown(title)} (Ctrl+Z undoes it)", title="Quick fix", markup=False)

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
        editor.focus()

    # -- templates ------------------------------------------------------------------------------
    def action_template(self) -> None:
        from annotrain_tui.core.manifest.templates import normalise_type
        from annotrain_tui.core.manifest.urls import PROVIDERS

        sel = self.app.selection  # type: ignore[attr-defined]
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
                self.build_template(values["type"].strip(), values["provider"].strip(), values["urls"].strip(),
                                    self.format == "csv" or (self.path is not None and
                                                             self.path.suffix.lower() == ".csv"))

        self.app.push_screen(FormDialog(
            "New manifest from a template",
            [("type", "Data type (images, videos, image_groups, dicom_series, …)", "images"),
             ("provider", "Provider (aws, gcp, azure, otc, wasabi, oracle, direct)", provider),
             ("urls", "Or a file of URLs, one per line (optional)", "")],
            validate=check, submit="Create"), done)

    @work(thread=True, exclusive=True, exit_on_error=False, group="manifest-template", description="manifest-template")
    def build_template(self, kind: str, provider: str, urls: str, csv: bool) -> None:
        from annotrain_tui.core.manifest.convert import dump_json
        from annotrain_tui.core.manifest.templates import from_urls, new_template

        if urls:
            source = user_path(urls)
            data = read_user_bytes(source)  # a FIFO or device is refused, not read
            self._read_from.add(source)
            text, problem = decode(data)
            if text is None:
                raise InvalidInput(f"{display_path(urls)}: {problem.message if problem else 'not UTF-8 text'}")
            manifest = from_urls(text, kind or None)
        else:
            manifest = new_template(kind, provider)
        if csv:
            from annotrain_tui.core.manifest.csv import to_csv

            output, _ = to_csv(manifest)
        else:
            output = dump_json(manifest)
        self.app.call_from_thread(self._template_ready, output, bool(urls))

    def _template_ready(self, text: str, from_url_list: bool) -> None:
        editor = self.editor
        if not editor.text and self.saved_text == "" and not editor.history.undo_stack:
            self._install(self.path, self.saved_text, text=text, identity=self._disk)
        else:
            old = editor.text
            change = minimal_edit(old, text)
            if change is not None:
                start, end, insert = change
                self.replace_as_one_edit(location_of(old, start), location_of(old, end), insert, validate=True)
        if not from_url_list:
            self.notify("Replace every <placeholder> (they are flagged until you do). Ctrl+Z undoes the template.",
                        title="Template", markup=False)

    # -- registration ---------------------------------------------------------------------------
    def action_register(self) -> None:
        def go() -> None:
            self.app.open_flow("register", manifest=str(self.path))  # type: ignore[attr-defined]

        if self.path is None or self.is_dirty() or not self.path.exists():
            self.action_save(then=go)
        else:
            go()
