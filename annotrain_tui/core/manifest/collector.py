"""Collecting diagnostics before their positions are known, then resolving them in one pass."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from annotrain_tui.core.manifest.diagnostics import Code, Diagnostic, Severity
from annotrain_tui.core.manifest.positions import LineIndex, Path, locate, pointer
from annotrain_tui.core.remedies import See, SeeLike, refs

DEFAULT_MAX_PER_CODE = 1000


@dataclass
class _Pending:
    severity: Severity
    code: Code
    message: str
    path: Path | None = None        # JSON path; None = no position (or offset given)
    at_key: bool = False            # point at the key rather than the value
    offset: int | None = None       # a known character offset
    related: Path | None = None     # "{related}" in the message → that path's line
    data: dict[str, Any] | None = None
    line: int | None = None         # known line/column (CSV)
    column: int | None = None
    report_path: Path | None = None  # a pointer to report, not to locate (a known line/column is given)
    see: tuple[See, ...] = ()       # the actions that help (core.remedies)


@dataclass
class Collector:
    """Accumulates diagnostics, keeping at most ``max_per_code`` of each code."""

    max_per_code: int | None = DEFAULT_MAX_PER_CODE
    pending: list[_Pending] = field(default_factory=list)
    counts: dict[Code, int] = field(default_factory=dict)
    dropped_severity: dict[Code, Severity] = field(default_factory=dict)

    def add(self, severity: Severity, code: Code, message: str, *, see: SeeLike = None, **kw: Any) -> None:
        """One finding; ``see`` names the actions that help (an id, a ``See`` or several)."""
        n = self.counts.get(code, 0) + 1
        self.counts[code] = n
        if self.max_per_code is not None and n > self.max_per_code:
            if severity == "error" or code not in self.dropped_severity:
                self.dropped_severity[code] = severity
            return
        self.pending.append(_Pending(severity, code, message, see=refs(see), **kw))

    def bump(self, code: Code, severity: Severity, count: int) -> None:
        """Count ``count`` more findings of ``code`` that are not reported one by one."""
        if count <= 0:
            return
        self.counts[code] = self.counts.get(code, 0) + count
        if self.max_per_code is not None and self.counts[code] > self.max_per_code and (
                severity == "error" or code not in self.dropped_severity):
                self.dropped_severity[code] = severity

    def full(self, code: Code) -> bool:
        return self.max_per_code is not None and self.counts.get(code, 0) >= self.max_per_code

    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.pending)

    def finish(self, text: str | None, *, resolver: Callable[[Path, bool], tuple[int, int] | None] | None = None,
               pointers: bool = True) -> list[Diagnostic]:
        """Resolve positions and build the diagnostics, sorted by position.

        JSON: one walk over ``text`` finds every path. CSV: ``resolver(path, at_key)`` maps the path
        in the converted document back to (line, column) of the CSV cell; pointers are then omitted.
        """
        spans: dict[Path, Any] = {}
        wanted: set[Path] = set()
        for p in self.pending:
            if p.path is not None:
                wanted.add(p.path)
            if p.related is not None:
                wanted.add(p.related)
        if text is not None and wanted:
            targets = {t[:i] for t in wanted for i in range(len(t) + 1)}
            spans = locate(text, targets).spans
        index = LineIndex(text) if text is not None else None
        offsets: dict[int, int] = {}  # pending idx → offset
        related_offsets: dict[int, int] = {}
        for i, p in enumerate(self.pending):
            if p.offset is not None:
                offsets[i] = p.offset
            elif p.path is not None:
                span = _nearest(spans, p.path)
                if span is not None:
                    exact = span[1]
                    offsets[i] = (span[0].key_start if (p.at_key and exact and span[0].key_start is not None)
                                  else span[0].value_start)
            if p.related is not None:
                span = _nearest(spans, p.related)
                if span is not None:
                    related_offsets[i] = span[0].key_start if span[0].key_start is not None else span[0].value_start
        positions = index.positions(list(offsets.values()) + list(related_offsets.values())) if index else {}
        out: list[tuple[tuple[Any, ...], Diagnostic]] = []
        for i, p in enumerate(self.pending):
            line, column = p.line, p.column
            related_line: int | None = None
            if i in offsets:
                line, column = positions[offsets[i]]
            elif resolver is not None and p.path is not None and line is None:
                found = resolver(p.path, p.at_key)
                if found is not None:
                    line, column = found
            if i in related_offsets:
                related_line = positions[related_offsets[i]][0]
            elif resolver is not None and p.related is not None:
                found = resolver(p.related, False)
                related_line = found[0] if found else None
            message = p.message
            if "{related}" in message:
                if related_line is not None:
                    message = message.replace("{related}", f"line {related_line}")
                else:
                    message = message.replace("{related}", pointer(p.related or ()) or "the top level")
            shown_path = p.path if p.path is not None else p.report_path
            ptr = pointer(shown_path) if (shown_path is not None and pointers) else None
            diag = Diagnostic(severity=p.severity, code=p.code, message=message, line=line, column=column,
                              pointer=ptr, data=p.data, see=p.see)
            key = (line is None, line or 0, column or 0, i)
            out.append((key, diag))
        out.sort(key=lambda kv: kv[0])
        result = [d for _, d in out]
        for code, severity in self.dropped_severity.items():
            extra = self.counts[code] - (self.max_per_code or 0)
            result.append(Diagnostic(
                severity=severity, code="more-diagnostics",
                message=f"{extra:,} more [{code}] {severity}{'s' if extra != 1 else ''} not shown "
                        "(fix the ones above and validate again)"))
        return result


def _nearest(spans: dict[Path, Any], path: Path) -> tuple[Any, bool] | None:
    """The span of ``path`` or, when it is not in the text (an alias, a missing key), of its parent."""
    for cut in range(len(path), -1, -1):
        span = spans.get(path[:cut])
        if span is not None:
            return span, cut == len(path)
    return None
