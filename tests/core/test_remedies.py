"""Core hints say what helps in words and name the action by id (core.remedies); no core hint names
a CLI command (design review, flow exception 5)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import annotrain_tui.core as core
from annotrain_tui.core.errors import NotFound, Transient
from annotrain_tui.core.remedies import ACTIONS, See, refs, see, with_remedy
from tests.source_strings import shown_strings


def test_an_unknown_action_is_refused_when_the_reference_is_made():
    with pytest.raises(ValueError, match="no remedy action 'projects.lsit'"):
        See("projects.lsit")
    with pytest.raises(ValueError):
        NotFound("x", see="nope")


def test_references_carry_their_arguments_and_every_form_is_accepted():
    ref = see("jobs.retry", job="4ec5e11e", unused=None)
    assert ref.args == (("job", "4ec5e11e"),) and ref.arg("job") == "4ec5e11e" and ref.arg("x", "-") == "-"
    assert refs(None) == () and refs("doctor") == (See("doctor"),)
    assert refs(["doctor", ref]) == (See("doctor"), ref)
    assert ref.words == ACTIONS["jobs.retry"]


def test_str_of_an_error_is_front_neutral_and_one_line():
    err = NotFound("no project 'X'", hint="check\nthe title", see="projects.list")
    assert str(err) == "no project 'X' (check the title)" and err.see == (See("projects.list"),)
    assert with_remedy("m", None, "") == "m" and with_remedy("m", "h", "w") == "m (h; w)"
    assert with_remedy("m", None, "w") == "m (w)"


def test_the_retry_layer_keeps_the_action_of_the_last_failure():
    from annotrain_tui.core.retry import RetryPolicy, call_with_retry

    def fail():
        raise Transient("down", see="doctor")

    with pytest.raises(Transient) as info:
        call_with_retry(fail, RetryPolicy(attempts=2, base_delay=0, sleep=lambda _: None), what="check")
    assert info.value.see == (See("doctor"),)


#: a command line in a core string: 'annotrain jobs', "run annotrain manifest …", "(annotrain provision …)"
_COMMAND = re.compile(r"""(?:['"(]|: |run |with |see )annotrain (?!(?:never|manages|keeps|uses|relies|says)\b)"""
                      r"""(?:--?[\w-]+|[a-z][\w-]*)""")


def test_no_core_string_names_a_cli_command():
    root = Path(core.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = str(path.relative_to(root))
        if rel == "remedies.py":
            continue
        for node in shown_strings(ast.parse(path.read_text(encoding="utf-8"))):
            if _COMMAND.search(node.value):
                found.append(f"{rel}:{node.lineno}: {node.value}")
    assert found == []


def test_the_check_finds_a_command_in_a_hint():
    tree = ast.parse('def f():\n    """Docs: see \'annotrain jobs\'."""\n    raise X("m", hint="see \'annotrain jobs\'")\n')
    assert [n.value for n in shown_strings(tree) if _COMMAND.search(n.value)] == ["see 'annotrain jobs'"]


# -- the manifest's hints: diagnostics and warning lines carry their actions ---------------------

def test_a_diagnostic_names_its_actions_and_each_front_renders_them():
    import json

    from annotrain_tui.cli.common import diagnostic_json, diagnostic_line
    from annotrain_tui.core.manifest.validate import validate_text

    urls = [{"objectUrl": f"https://b.s3.eu-west-1.amazonaws.com/v{i}.mp4"} for i in range(101)]
    (d,) = validate_text(json.dumps({"videos": urls})).diagnostics
    assert d.code == "batch-size" and [r.action for r in d.see] == ["register.batch", "manifest.split"]
    assert "annotrain" not in d.message and d.said() == d.message and "see" not in d.to_json()
    line = diagnostic_line(d, "m.json")
    assert line.startswith("m.json:1:1: warning[batch-size]: " + d.message + " (see ")
    assert line.endswith("(see 'annotrain register ... --batch' or 'annotrain manifest split m.json --out-dir DIR')")
    assert diagnostic_json(d, "m.json") == {**d.to_json(), "message": line.split(": ", 2)[2]}


def test_a_note_is_text_that_names_its_actions():
    from annotrain_tui.cli.common import note_line
    from annotrain_tui.core.remedies import Note, about

    note = Note("the CSV has too many entries: split it first", see="manifest.split")
    assert note == "the CSV has too many entries: split it first" and isinstance(note, str)
    assert note.see == (See("manifest.split"),)
    assert note_line(note, "in.json") == ("the CSV has too many entries: split it first "
                                          "(see 'annotrain manifest split in.json --out-dir DIR')")
    assert note_line(note) == ("the CSV has too many entries: split it first "
                               "(see 'annotrain manifest split PATH --out-dir DIR')")
    assert note_line("plain words") == "plain words"
    # about() fills an argument a reference lacks, never one it has
    given = see("manifest.validate", path="a.json")
    assert about([given, "manifest.split"], path="b.json") == (given, see("manifest.split", path="b.json"))


def test_convert_refuses_a_broken_manifest_with_validate_as_the_action(tmp_path):
    from annotrain_tui.cli.common import error_line
    from annotrain_tui.core.errors import InvalidInput
    from annotrain_tui.core.manifest.convert import convert_text

    with pytest.raises(InvalidInput) as info:
        convert_text('{"images": [', "csv", path="broken.json")
    err = info.value
    assert err.see == (see("manifest.validate", path="broken.json"),) and "annotrain" not in str(err)
    assert error_line(err).endswith("(fix it first: validating it shows every problem; "
                                    "see 'annotrain manifest validate broken.json')")
