"""The manifest editor on a 50,000-image manifest, headless with Pilot, against a 100-image baseline.

For each file the real app opens the editor screen (``annotrain tui --screen manifest --manifest``)
on an empty sandbox workspace and measures:

- first paint: from opening the screen until the first frame with the text is drawn;
- first diagnostics: until the first validation result is shown;
- keystroke: a key typed while a validation of the whole text runs in its worker (they share the
  GIL), median and worst — "applied" is until the edit is in the document (TextArea.Changed
  handled), "round trip" until Pilot sees the app idle again (edit applied, frame redrawn; about
  100 ms of it is Pilot's own settling, see the 100-image column); and, for comparison, a key
  typed with no validation running;
- page down: one PageDown, median (scrolling and redrawing a new screenful);
- type → panel: after a burst of keys, until the debounced validation has updated the panel;
- max stall: the longest gap between the beats of a 5 ms ``set_interval`` heartbeat, minus 5 ms,
  while typing and validating (and, separately, over the whole session including opening, where
  the editor takes the text on the UI thread); next to it the longest CPython garbage collection
  of the session, which stalls the loop whatever the file (the app's heap, ~150,000 objects).

With ``--stock`` (default on) the 50,000-image file is also run with the stock TextArea code paths
(``ManifestTextArea.FAST = False``) to show what the editor's workarounds buy.

    python bench/bench_editor.py [--items 50000] [--baseline 100] [--mid 7500] [--keys 20] [--no-stock]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def generate(path: Path, items: int) -> int:
    """Like bench_manifest: objectUrl for every image, a title on every 10th; 2-space indent."""
    host = "https://encord-integration.s3.eu-west-2.amazonaws.com/images"
    entries = []
    for i in range(items):
        entry = {"objectUrl": f"{host}/batch-{i // 1000:04d}/image-{i:07d}.jpg"}
        if i % 10 == 0:
            entry["title"] = f"image-{i:07d}.jpg"
        entries.append(entry)
    text = json.dumps({"images": entries, "skip_duplicate_urls": True}, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")
    return len(text.encode())


async def until(pilot, condition, limit: float = 120.0) -> None:
    deadline = time.perf_counter() + limit
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the editor did not get there in time")
        await pilot.pause()


async def measure(path: Path, keys: int, fast: bool) -> dict:
    from annotrain_tui.core.backends.sandbox import SandboxBackend
    from annotrain_tui.core.config import Paths, Settings
    from annotrain_tui.core.workspace import open_workspace
    from annotrain_tui.tui.app import AnnotrainApp
    from annotrain_tui.tui.screens.manifest_editor import ManifestEditorScreen
    from annotrain_tui.tui.widgets.manifest_text_area import ManifestTextArea

    ManifestTextArea.FAST = fast
    db = path.with_suffix(".db")
    SandboxBackend(db).close()
    ws = open_workspace(Paths.default(), Settings(sandbox_path=db))
    app = AnnotrainApp(ws)
    beats: list[float] = []
    out: dict = {}
    gc_pauses: list[float] = []

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            on_gc.started = time.perf_counter()  # type: ignore[attr-defined]
        else:
            gc_pauses.append(time.perf_counter() - on_gc.started)  # type: ignore[attr-defined]

    gc.callbacks.append(on_gc)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            app.set_interval(0.005, lambda: beats.append(time.perf_counter()))
            await pilot.pause()
            start = time.perf_counter()
            app.open_flow("manifest", manifest=str(path))
            await until(pilot, lambda: isinstance(app.screen, ManifestEditorScreen)
                        and app.screen.painted_at is not None)
            screen: ManifestEditorScreen = app.screen  # type: ignore[assignment]
            out["first paint"] = screen.painted_at - start
            await until(pilot, lambda: screen.validations >= 1)
            out["first diagnostics"] = time.perf_counter() - start
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert screen.result is not None and screen.result.valid, screen.result
            out["lines"] = screen.editor.document.line_count
            out["highlighting"] = screen.highlighting

            # Into the middle of a URL string: the JSON stays valid, validation runs every rule.
            editor = screen.editor
            row = editor.document.line_count // 2
            while '"objectUrl"' not in editor.document.get_line(row):
                row += 1
            editor.move_cursor((row, editor.document.get_line(row).index("image-") + 6))
            await pilot.pause()
            typing_from = time.perf_counter()
            applied, round_trip = [], []
            for _ in range(keys):
                screen.action_validate()  # a whole-text validation is now running in its worker
                t = time.perf_counter()
                await pilot.press("x")
                round_trip.append(time.perf_counter() - t)
                applied.append(screen.last_change_at - t)
                await app.workers.wait_for_complete()
            out["key applied"] = applied
            out["key round trip"] = round_trip

            screen.DEBOUNCE = 3600.0  # no validation while these keys are typed
            quiet = []
            for _ in range(keys):
                t = time.perf_counter()
                await pilot.press("y")
                quiet.append(screen.last_change_at - t)
            out["key applied, idle"] = quiet
            screen.DEBOUNCE = ManifestEditorScreen.DEBOUNCE
            screen.action_validate()
            await app.workers.wait_for_complete()

            pages = []
            for _ in range(5):
                t = time.perf_counter()
                await pilot.press("pagedown")
                pages.append(time.perf_counter() - t)
            out["page down"] = pages

            before = screen.validations
            await pilot.press(*"abc")
            t = time.perf_counter()
            await until(pilot, lambda: screen.validations > before)
            out["type → panel"] = time.perf_counter() - t
            await app.workers.wait_for_complete()
            typing_to = time.perf_counter()

            def max_gap(lo: float, hi: float) -> float:
                window = [b for b in beats if lo <= b <= hi]
                gaps = [b - a for a, b in zip(window, window[1:])]
                return max(gaps, default=0.0) - 0.005

            out["max stall typing"] = max_gap(typing_from, typing_to)
            out["max stall session"] = max_gap(start, typing_to)
            out["longest gc"] = max(gc_pauses, default=0.0)
            screen._discard()  # leave no draft behind
    finally:
        gc.callbacks.remove(on_gc)
        ws.close()
        ManifestTextArea.FAST = True
    return out


def ms(value: float) -> str:
    return f"{value * 1000:,.0f} ms"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--baseline", type=int, default=100)
    ap.add_argument("--mid", type=int, default=7_500, help="a file just under the highlighting threshold")
    ap.add_argument("--keys", type=int, default=20)
    ap.add_argument("--no-stock", action="store_true", help="skip the stock-TextArea run of the big file")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            (root / var).mkdir()
            os.environ[var] = str(root / var)
        warm = root / "warm-up.json"
        generate(warm, args.baseline)
        asyncio.run(measure(warm, 2, True))  # imports, grammar and CSS caches: not measured
        runs = []
        for items, fast, keys in [(args.baseline, True, args.keys), (args.mid, True, args.keys),
                                  (args.items, True, args.keys)] + (
                                     [] if args.no_stock else [(args.items, False, max(3, args.keys // 4))]):
            path = root / f"images-{items}.json"
            size = generate(path, items) if not path.exists() else path.stat().st_size
            label = f"{items:,} images" + ("" if fast else ", stock TextArea")
            runs.append((label, size, asyncio.run(measure(path, keys, fast))))

    print("Manifest editor, headless (100×30), Pilot; keystrokes typed while a full validation runs.\n")
    header = "| | " + " | ".join(label for label, _, _ in runs) + " |"
    print(header)
    print("|---|" + "---:|" * len(runs))

    def row(name: str, cell) -> None:
        print(f"| {name} | " + " | ".join(cell(size, r) for _, size, r in runs) + " |")

    row("file", lambda size, r: f"{size / 1e6:.2f} MB, {r['lines']:,} lines")
    row("JSON highlighting", lambda size, r: "on" if r["highlighting"] else "off")
    row("first paint", lambda size, r: ms(r["first paint"]))
    row("first diagnostics", lambda size, r: ms(r["first diagnostics"]))
    row("keystroke applied, median / worst",
        lambda size, r: f"{ms(statistics.median(r['key applied']))} / {ms(max(r['key applied']))}")
    row("keystroke applied, no validation running, median",
        lambda size, r: ms(statistics.median(r["key applied, idle"])))
    row("keystroke round trip, median / worst",
        lambda size, r: f"{ms(statistics.median(r['key round trip']))} / {ms(max(r['key round trip']))}")
    row("page down, median", lambda size, r: ms(statistics.median(r["page down"])))
    row("type → panel updated (debounce 300 ms)", lambda size, r: ms(r["type → panel"]))
    row("max event-loop stall, typing + validating", lambda size, r: ms(r["max stall typing"]))
    row("max event-loop stall, whole session", lambda size, r: ms(r["max stall session"]))
    row("longest garbage collection in the session", lambda size, r: ms(r["longest gc"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
