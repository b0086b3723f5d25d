"""Issue 11 §8: numeric options reject NaN, infinity and out-of-range numbers (exit 2, one line)."""

from __future__ import annotations

import pytest

from annotrain_tui.cli import main

CASES = [
    ["sandbox", "simulate", "--rate", "nan"],
    ["sandbox", "simulate", "--rate", "-1"],
    ["sandbox", "simulate", "--for", "nan"],
    ["sandbox", "simulate", "--for", "inf"],
    ["sandbox", "simulate", "--for", "1e400"],
    ["evaluate", "--iou-threshold", "nan", "x.json"],
    ["evaluate", "--pass-f1", "-inf", "x.json"],
    ["evaluate", "--low-overlap", "NaN", "x.json"],
    ["provision", "--concurrency", "0", "r.csv"],
    ["provision", "--concurrency", "9" * 5000, "r.csv"],
]


@pytest.mark.parametrize("argv", CASES, ids=[" ".join(a)[:40] for a in CASES])
def test_non_finite_numbers_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("annotrain: usage error: argument --")
    assert "Traceback" not in err
