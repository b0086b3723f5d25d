"""--json prints one JSON document even when a file or server string holds a lone surrogate."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.synth import DEFAULT_CLASSES, box, make_label_row, make_object


def test_lone_surrogate_in_an_email_is_valid_json(tmp_path):
    car = DEFAULT_CLASSES[0]
    bm = make_label_row(data_hash="d", data_title="t", label_hash="B",
                        objects=[make_object(car, box(0.2, 0.2, 0.2, 0.2), object_hash="A", created_by="r")])
    tr = make_label_row(data_hash="d", data_title="t", label_hash="T",
                        objects=[make_object(car, box(0.2, 0.2, 0.2, 0.2), object_hash="a",
                                             created_by="ev\udc80il@example.com")])
    # json.dumps writes the lone surrogate as \udc80, as a server or another tool could.
    (tmp_path / "b.json").write_text(json.dumps([bm]))
    (tmp_path / "t.json").write_text(json.dumps([tr]))
    # A real process: its stdout is a UTF-8 pipe, which cannot carry a lone surrogate.
    proc = subprocess.run([sys.executable, "-m", "annotrain_tui", "evaluate", "--benchmark-labels",
                           str(tmp_path / "b.json"), "--training-labels", str(tmp_path / "t.json"), "--json"],
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode("utf-8")
    doc = json.loads(out)
    assert "ev\udc80il@example.com" in json.dumps(doc, ensure_ascii=False)


def test_json_outputs_carry_no_raw_bidi_or_c1(tmp_path):
    """Found by a trial: every --json output wrote U+202E and U+009B raw (only surrogates were escaped)."""
    import sqlite3

    ws = tmp_path / "h.db"
    run = lambda *a: subprocess.run([sys.executable, "-m", "annotrain_tui", "--sandbox", str(ws), *a],  # noqa: E731
                                    capture_output=True, timeout=120)
    assert run("sandbox", "init", "--demo").returncode == 0
    with sqlite3.connect(ws) as c:
        c.execute("UPDATE datasets SET title = 'a\u202eRTL\u009b31m'")
    for argv in (["datasets", "list", "--json"], ["status", "--json"], ["projects", "list", "--json"]):
        proc = run(*argv)
        assert proc.returncode == 0, proc.stderr
        text = proc.stdout.decode("utf-8")
        assert "\u202e" not in text and "\u009b" not in text, argv
        if argv[0] == "datasets":
            assert "a\u202eRTL\u009b31m" in json.dumps(json.loads(text), ensure_ascii=False)
