"""Start-up (issue 14, first three rows of its goals): each command against a baseline run alongside.

Rows, each the ratio of two medians over ``--runs`` alternating runs (baseline, then the command,
then the baseline again, ...), so both see the same machine load:

* ``annotrain --help`` against ``python -c pass`` (goal <= 2x);
* ``annotrain status`` on a sandbox workspace, and ``annotrain manifest validate`` of a 100-item
  JSON manifest, against ``python -c pass`` (goal <= 4x);
* the TUI's first paint of Home against a Textual hello-world in the same venv (goal <= 1.5x): each
  is started in a detached tmux window (``tmux new -d -x 80 -y 24``) and ``capture-pane -p`` is
  polled until its text is on screen (Home's list of flows; "Hello, world"); the time is from the
  ``tmux new`` to the poll that sees it, the same for both.

``python`` is the interpreter running this script (the venv's: the one ``annotrain`` runs on), not
a ``python3`` shim, whose own start-up would flatter every ratio. The commands run with a private
config/data/state directory (XDG_*), so nothing of the user's is read or changed, and with
PYTHONDONTWRITEBYTECODE unset (one warm-up run of each writes the bytecode, as an install has it;
otherwise every changed module is compiled on every run). The CLI rows run
the ``annotrain`` console script beside the interpreter (``python -m annotrain_tui`` if there is
none). To measure another checkout of the package with the same venv, put it first on PYTHONPATH.

    python bench/bench_startup.py [--runs 15] [--rows help,status,validate,tui] [--breakdown]

``--breakdown`` also says where a start-up's import time goes (``python -X importtime``, each
module's own time summed by library): ``annotrain status``, and what the TUI imports and opens before
its app runs (the CLI, settings, workspace, app and Home), against the Textual hello-world's imports.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _process import annotrain_command, bench_env  # bench/: the script's own folder

HELLO = r"""
from textual.app import App
from textual.widgets import Static


class Hello(App):
    def compose(self):
        yield Static("Hello, world")


Hello().run()
"""

#: what each TUI row waits for on screen
HOME_TEXT = "Evaluate"  # the last of Home's numbered flows, drawn by its first paint
HELLO_TEXT = "Hello, world"


def run_once(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    took = time.perf_counter() - start
    if done.returncode not in (0, 1):  # validate/status may report problems (1); 2 is a broken set-up
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.decode()[-300:]}")
    return took


class Tmux:
    """A private tmux server (its own socket), kept up across runs so its start is in no run."""

    def __init__(self, env: dict[str, str]) -> None:
        if shutil.which("tmux") is None:
            raise SystemExit("tmux is not installed: the TUI row needs it (or leave it out: --rows help,status,validate)")
        self.socket = f"annotrain-bench-{os.getpid()}"
        self.env = env
        self._tmux("new-session", "-d", "-s", "keep", "-x", "80", "-y", "24", "sleep 100000")

    def _tmux(self, *args: str, capture: bool = False) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], env=self.env, check=True,
                              stdout=subprocess.PIPE if capture else subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return done.stdout.decode("utf-8", "replace") if capture else ""

    def first_paint(self, cmd: list[str], text: str, timeout: float = 60.0) -> float:
        """Seconds from starting ``cmd`` in a fresh 80x24 window until ``text`` is on its screen."""
        command = " ".join(_quote(c) for c in cmd)
        start = time.perf_counter()
        self._tmux("new-session", "-d", "-s", "run", "-x", "80", "-y", "24", command)
        try:
            while True:
                screen = self._tmux("capture-pane", "-p", "-t", "run", capture=True)
                took = time.perf_counter() - start
                if text in screen:
                    return took
                if took > timeout:
                    raise SystemExit(f"{command}: {text!r} not on screen after {timeout:.0f} s:\n{screen}")
        finally:
            subprocess.run(["tmux", "-L", self.socket, "kill-session", "-t", "run"], env=self.env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], env=self.env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def _quote(word: str) -> str:
    import shlex

    return shlex.quote(word)


def alternate(runs: int, baseline: Callable[[], float], measured: Callable[[], float]) -> tuple[float, float]:
    """Medians of ``runs`` runs of each, alternated (one warm-up of each first, not counted)."""
    baseline(), measured()
    base, meas = [], []
    for _ in range(runs):
        base.append(baseline())
        meas.append(measured())
    return statistics.median(base), statistics.median(meas)


def manifest_100(path: Path) -> None:
    host = "https://encord-integration.s3.eu-west-2.amazonaws.com/images"
    images = [{"objectUrl": f"{host}/batch-0000/image-{i:07d}.jpg", **({"title": f"image-{i:07d}.jpg"}
                                                                       if i % 10 == 0 else {})}
              for i in range(100)]
    path.write_text(json.dumps({"images": images, "skip_duplicate_urls": True}, indent=2), encoding="utf-8")


#: how --breakdown groups modules (by the first part of their name); everything else is "python stdlib",
#: whoever imports it (the stdlib modules pydantic pulls in count there)
GROUPS = {
    "pydantic": "pydantic", "pydantic_core": "pydantic", "annotated_types": "pydantic",
    "typing_inspection": "pydantic", "typing_extensions": "typing_extensions",
    "textual": "textual + rich", "rich": "textual + rich", "markdown_it": "textual + rich",
    "mdurl": "textual + rich", "pygments": "textual + rich", "tree_sitter": "textual + rich",
    "platformdirs": "platformdirs", "annotrain_tui": "annotrain_tui",
}

#: what the TUI imports and does before its app runs (cli/tui_cmd.py), for --breakdown
TUI_START = """
import argparse, sys
import annotrain_tui.cli.tui_cmd
from annotrain_tui.cli.context import workspace_from_args
from annotrain_tui.tui.app import AnnotrainApp
from annotrain_tui.tui.screens.home import HomeScreen
ws = workspace_from_args(argparse.Namespace(sandbox=sys.argv[1], backend=None, ssh_key=None, domain=None))
ws.close()
"""


def import_times(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    """Seconds of import time by group (each module's own time, ``-X importtime``), and "total"."""
    done = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False)
    groups: dict[str, float] = {}
    for line in done.stderr.decode("utf-8", "replace").splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, _cumulative, name = line.removeprefix("import time:").split("|", 2)
        group = GROUPS.get(name.strip().split(".")[0], "python stdlib")
        groups[group] = groups.get(group, 0.0) + int(own) / 1e6
    groups["total"] = sum(groups.values())
    return groups


def breakdown(rows: dict[str, dict[str, float]]) -> None:
    names = list(rows)
    groups = sorted({g for r in rows.values() for g in r if g != "total"},
                    key=lambda g: -max(r.get(g, 0.0) for r in rows.values()))
    print("\nimport time by library (ms; each module's own time, the median of 5 runs)")
    print(f"{'':16}" + "".join(f"{n:>24}" for n in names))
    for group in [*groups, "total"]:
        print(f"{group:16}" + "".join(f"{rows[n].get(group, 0.0) * 1000:24.1f}" for n in names))


def median_times(runs: int, cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    samples = [import_times(cmd, env) for _ in range(runs)]
    keys = {k for s in samples for k in s}
    return {k: statistics.median(s.get(k, 0.0) for s in samples) for k in keys}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--rows", default="help,status,validate,tui")
    ap.add_argument("--breakdown", action="store_true", help="also: where the import time goes, by library")
    args = ap.parse_args()
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    py = sys.executable
    annotrain = annotrain_command()
    with tempfile.TemporaryDirectory(prefix="annotrain-bench-") as tmp:
        root = Path(tmp)
        # as an installed package runs: with its bytecode cached (the warm-up run writes it), not
        # compiling every changed module on every run
        env = bench_env(root)
        env.setdefault("TERM", "xterm-256color")
        sandbox = root / "sandbox.db"
        manifest = root / "manifest.json"
        manifest_100(manifest)
        subprocess.run([*annotrain, "sandbox", "init", "--demo", "--sandbox", str(sandbox)], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        (root / "hello.py").write_text(HELLO, encoding="utf-8")

        def cli_row(cmd: list[str]) -> tuple[float, float]:
            return alternate(args.runs, lambda: run_once([py, "-c", "pass"], env), lambda: run_once(cmd, env))

        table: list[tuple[str, str, float, float, float]] = []
        print(f"python: {py}; {args.runs} runs of each, alternated; medians", flush=True)
        if "help" in rows:
            table.append(("annotrain --help", "python -c pass", *cli_row([*annotrain, "--help"]), 2.0))
        if "status" in rows:
            table.append(("annotrain status (sandbox)", "python -c pass",
                          *cli_row([*annotrain, "status", "--sandbox", str(sandbox)]), 4.0))
        if "validate" in rows:
            table.append(("annotrain manifest validate (100 items)", "python -c pass",
                          *cli_row([*annotrain, "manifest", "validate", str(manifest)]), 4.0))
        if "tui" in rows:
            tmux = Tmux(env)
            try:
                home = [*annotrain, "tui", "--sandbox", str(sandbox)]
                hello = [py, str(root / "hello.py")]
                base, meas = alternate(max(5, args.runs // 2), lambda: tmux.first_paint(hello, HELLO_TEXT),
                                       lambda: tmux.first_paint(home, HOME_TEXT))
                table.append(("TUI first paint of Home (tmux, polled)", "Textual hello-world", base, meas, 1.5))
            finally:
                tmux.close()
        if args.breakdown:
            entry = [py, "-c", "import sys; sys.argv[0] = 'annotrain'; from annotrain_tui.__main__ import entry; "
                               "sys.exit(entry())"]
            (root / "tui_start.py").write_text(TUI_START, encoding="utf-8")
            by_row = {"python -c pass": median_times(5, [py, "-c", "pass"], env),
                      "annotrain status": median_times(5, [*entry, "status", "--sandbox", str(sandbox)], env),
                      "hello-world imports": median_times(5, [py, "-c", "import textual.app, textual.widgets; "
                                                                          "from textual.widgets import Static"], env),
                      "TUI before its app runs": median_times(5, [py, str(root / "tui_start.py"), str(sandbox)], env)}
    print(f"{'what':42} {'baseline':22} {'base ms':>8} {'ms':>8} {'ratio':>7} {'goal':>6}  met")
    for what, baseline, base, meas, goal in table:
        ratio = meas / base
        print(f"{what:42} {baseline:22} {base * 1000:8.1f} {meas * 1000:8.1f} {ratio:6.2f}x {goal:5.1f}x  "
              f"{'yes' if ratio <= goal else 'NO'}")
    if args.breakdown:
        breakdown(by_row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
