"""The default titles are each one constant: a second literal copy (a screen's field, a help text, a
check) would drift from it the day the default changes."""

from __future__ import annotations

import ast
from pathlib import Path

import annotrain_tui
from annotrain_tui.core.benchmark import DEFAULT_BENCHMARK_TITLE, DEFAULT_TEMPLATE_TITLE
from annotrain_tui.core.roster import DEFAULT_TRAINING_TITLE

ROOT = Path(annotrain_tui.__file__).parent
HOMES = {DEFAULT_BENCHMARK_TITLE: ("core/benchmark.py", "DEFAULT_BENCHMARK_TITLE"),
         DEFAULT_TEMPLATE_TITLE: ("core/benchmark.py", "DEFAULT_TEMPLATE_TITLE"),
         DEFAULT_TRAINING_TITLE: ("core/roster.py", "DEFAULT_TRAINING_TITLE")}


def copies() -> list[str]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(), rel)
        homes = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Assign)
                 and any(isinstance(t, ast.Name) and HOMES.get(getattr(node.value, "value", None)) == (rel, t.id)
                         for t in node.targets)}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in homes:
                continue
            if node.value in HOMES or "Annotator Training - " in node.value:
                found.append(f"{rel}:{node.lineno} {node.value!r}")
    return found


def test_each_default_title_is_written_once_in_the_package():
    assert copies() == []


def test_the_check_sees_a_copy(tmp_path, monkeypatch):
    """The scan is not vacuous: a module holding a copy is reported."""
    fake = tmp_path / "annotrain_tui"
    (fake / "core").mkdir(parents=True)
    (fake / "core" / "benchmark.py").write_text(f"DEFAULT_BENCHMARK_TITLE = {DEFAULT_BENCHMARK_TITLE!r}\n")
    (fake / "screen.py").write_text(f"value = {DEFAULT_BENCHMARK_TITLE!r}\nhelp = 'e.g. Annotator Training - x'\n")
    monkeypatch.setitem(globals(), "ROOT", fake)
    assert copies() == ["screen.py:1 'Benchmark Labels'", "screen.py:2 'e.g. Annotator Training - x'"]
