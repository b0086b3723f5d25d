"""The private scipy layout annotrain relies on (pinned in pyproject.toml: scipy <1.18): the
assignment solver is the compiled ``scipy/optimize/_lsap`` extension, loaded by itself."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from annotrain_tui.core.evaluation.matching import assignment_solver


def test_the_solver_is_loaded_without_scipy_optimize_and_is_scipys_own():
    code = ("import sys\nfrom annotrain_tui.core.evaluation.matching import assignment_solver\n"
            "f = assignment_solver()\nprint(f.__name__, 'scipy.optimize' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["linear_sum_assignment", "False"]  # the fast path, not the fallback
    from scipy.optimize import linear_sum_assignment

    rng = np.random.default_rng(3)
    for shape in ((1, 1), (3, 5), (6, 4), (20, 20)):
        cost = rng.random(shape)
        got, want = assignment_solver()(cost), linear_sum_assignment(cost)
        assert all(np.array_equal(a, b) for a, b in zip(got, want))
