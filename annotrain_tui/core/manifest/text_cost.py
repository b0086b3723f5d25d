"""What syntax-highlighting a manifest's text would cost, measured without Textual (numpy passes).

Textual's TextArea parses the whole document with tree-sitter on load and on every edit, runs its
highlight query over the rows around the viewport and styles each captured token of a drawn line,
all on the UI thread. The parse is linear in the size. The query grows with the nesting depth
(quadratically: 16,000 nested brackets take 1.7 s per query, 100,000 over a minute) and with the
tokens in the rows it covers; drawing grows with the tokens on a line (20 KB of brackets on one
line: 0.4 s per keystroke). Each is bounded before highlighting is turned on, and kept bounded on
every edit (``CachedSyntaxDocument``).

The editor (tui/widgets/manifest_text_area.py) checks these bounds before it highlights a text and
on every edit; a validation that recursed too deep is reported through ``too_deep_result``.
"""

from __future__ import annotations

from dataclasses import dataclass

from annotrain_tui.core.manifest.diagnostics import Diagnostic, ValidationResult

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


def _tables():
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


def _depths(data: bytes):
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
        return f"{size_text(cost.chars)} is over {size_text(limits.chars)}"
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


def size_text(n: int) -> str:
    """A size in bytes for a message: 1.2 MB, 340 KB, 12 B."""
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} KB" if n >= 1e3 else f"{n} B"

