"""TUI messages do not name CLI flags (the rule: core hints never name CLI commands or flags; each
front says its own "how", core.remedies). The latest trial found Doctor's `(registration names one
with --integration)` and Evaluate's `…or name projects with --training`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import annotrain_tui
from annotrain_tui.tui.screens.evaluation import EvaluationScreen
from tests.source_strings import shown_strings
from tests.tui.helpers import make_app, screen_text, settle

FLAG = re.compile(r"(?<![\w-])--[a-z]")
ROOT = Path(annotrain_tui.__file__).parent
#: the modules of this task whose every shown string is held to the rule (others are listed in its report)
CHECKED = ["core/doctor.py", "core/evaluation/session.py", "core/evaluation/views.py", "tui/screens/doctor.py",
           "tui/screens/help.py", "tui/widgets/shape_canvas.py", *(
               str(p.relative_to(ROOT)) for p in sorted((ROOT / "tui/screens/evaluation").glob("*.py")))]


def test_no_string_of_these_modules_names_a_cli_flag():
    found = [f"{rel}:{node.lineno}: {node.value}" for rel in CHECKED
             for node in shown_strings(ast.parse((ROOT / rel).read_text(encoding="utf-8")))
             if FLAG.search(node.value)]
    assert found == []


def test_the_check_finds_a_flag_in_a_hint():
    tree = ast.parse('raise X("m", hint="name projects with --training")\n')
    assert [n.value for n in shown_strings(tree) if FLAG.search(n.value)] == ["name projects with --training"]


async def test_doctor_says_how_registration_picks_an_integration_in_words(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="doctor")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        text = " ".join(screen_text(app).split())
        assert "integration" in text and "a registration uses the one you pick" in text
        assert not FLAG.search(text)


async def test_evaluate_without_training_projects_says_what_helps_in_the_tuis_words(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation")
    raw = app.workspace.raw
    bench = next(p for p in raw.list_projects() if p.title == "Benchmark Labels")
    raw.create_project("Cohort 3 Benchmark", description="", dataset_ids=bench.dataset_ids,
                       ontology_id=bench.ontology_id)
    app.screen_options = {"benchmark": "Cohort 3 Benchmark"}
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, EvaluationScreen)
        said = screen.error_text
        assert "has no training projects to evaluate" in said and "provision annotators first" in said
        assert "on Provision (4 on Home) to provision the roster" in said  # the TUI's way, its key
        assert not FLAG.search(said) and not FLAG.search(screen_text(app))
        assert not any(FLAG.search(n.message) for n in app._notifications)
