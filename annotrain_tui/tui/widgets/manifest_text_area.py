"""The manifest editor's text area: a fork of Textual's TextArea that stays responsive on
150,000-line documents, built on Textual *private* internals (listed in ``TEXTUAL_PRIVATE_NAMES``).

The fork was written against Textual 8.2 (pyproject pins ``textual>=8.2,<8.3``);
tests/tui/test_textual_internals.py fails, naming the name, when one of them moves. Without the
internals the stock TextArea code paths are used (``FAST_EDITOR`` is False).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from rich.text import Text
from textual.message import Message
from textual.widgets import TextArea

from annotrain_tui.core.manifest.text_cost import HighlightLimits, TextCost, text_cost, tokens_in, too_costly
from annotrain_tui.core.text import is_clean

#: Every private Textual name the fork uses: ``module:Name`` (an import) or ``module:Class.attr`` (an
#: attribute of that class or of its instances: the fork reads, sets or overrides it).
TEXTUAL_PRIVATE_NAMES: tuple[str, ...] = (
    "textual._cells:cell_len",
    "textual._tree_sitter:TREE_SITTER",
    "textual._tree_sitter:get_language",
    "textual.expand_tabs:get_tab_widths",
    "textual.document._document:Document",
    "textual.document._document:Document.replace_range",
    "textual.document._document:Document.get_text_range",
    "textual.document._document:Document.line_count",
    "textual.document._document_navigator:DocumentNavigator",
    "textual.document._syntax_aware_document:SyntaxAwareDocument",
    "textual.document._syntax_aware_document:SyntaxAwareDocument.language",
    "textual.document._syntax_aware_document:SyntaxAwareDocument.query_syntax_tree",
    "textual.document._syntax_aware_document:SyntaxAwareDocument._syntax_tree",
    "textual.document._syntax_aware_document:SyntaxAwareDocument._parser",
    "textual.document._syntax_aware_document:SyntaxAwareDocument._read_callable",
    "textual.document._syntax_aware_document:SyntaxAwareDocument._location_to_byte_offset",
    "textual.document._syntax_aware_document:SyntaxAwareDocument._location_to_point",
    "textual.document._wrapped_document:WrappedDocument",
    "textual.document._wrapped_document:WrappedDocument.height",
    "textual.document._wrapped_document:WrappedDocument.wrap",
    "textual.document._wrapped_document:WrappedDocument.wrap_range",
    "textual.document._wrapped_document:WrappedDocument._width",
    "textual.document._wrapped_document:WrappedDocument._tab_width",
    "textual.document._wrapped_document:WrappedDocument._wrap_offsets",
    "textual.document._wrapped_document:WrappedDocument._offset_to_line_info",
    "textual.document._wrapped_document:WrappedDocument._line_index_to_offsets",
    "textual.document._wrapped_document:WrappedDocument._tab_width_cache",
    "textual.widgets._text_area:TextArea._set_document",
    "textual.widgets._text_area:TextArea._refresh_size",
    "textual.widgets._text_area:TextArea._build_highlight_map",
    "textual.widgets._text_area:TextArea._rewrap_and_refresh_virtual_size",
    "textual.widgets._text_area:TextArea._refresh_scrollbars",
    "textual.widgets._text_area:TextArea._highlights",
    "textual.widgets._text_area:TextArea._highlight_query",
    "textual.widgets._text_area:TextArea._line_cache",
    "textual.widgets._text_area:TextArea.wrapped_document",
    "textual.widgets._text_area:TextArea.navigator",
    "textual.widgets._text_area:TextArea.find_matching_bracket",
)

try:  # Textual internals the fast editor builds on; without them the stock TextArea is used.
    from textual._cells import cell_len
    from textual.document._document import Document
    from textual.document._document_navigator import DocumentNavigator
    from textual.document._syntax_aware_document import SyntaxAwareDocument
    from textual.document._wrapped_document import WrappedDocument
    from textual.expand_tabs import get_tab_widths
    from textual.geometry import Size

    FAST_EDITOR = True
except ImportError:  # pragma: no cover - a Textual that moved its internals
    FAST_EDITOR = False


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

    def __init__(self, document, make: Callable[[int], object]) -> None:
        self._document, self._make = document, make

    def __len__(self) -> int:
        return self._document.line_count

    def __getitem__(self, index):
        n = self._document.line_count
        if isinstance(index, slice):
            return [self._make(i) for i in range(*index.indices(n))]
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(index)
        return self._make(index)

    def __iter__(self):
        return (self._make(i) for i in range(self._document.line_count))


if FAST_EDITOR:

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

        def wrap_range(self, start, old_end, new_end) -> None:
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

        def replace_range(self, start, end, text):
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

        def replace_range(self, start, end, text):
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
            self._syntax_tree = self._parser.parse(self._read_callable, self._syntax_tree)
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
            "previous one, F4 offers a quick fix for the problem at the cursor, F3 shows its whole message. "
            "Ctrl+S saves, F12 saves as another file, Tab moves to the problem list.")

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
        return FAST_EDITOR and self.FAST

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

    def render_lines(self, crop):
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

