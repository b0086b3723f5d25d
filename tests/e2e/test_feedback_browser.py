"""The feedback pack's HTML in a real browser (issue 16, item 5): headless Chromium renders the
file and its screenshot shows the drawings, in the benchmark's and the annotator's colours, inside
the first drawing; a pack without worst items shows none. Skipped (with the reason) where Debian's
Chromium is not installed (``.ci/run`` installs it where it can)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from annotrain_tui.core.evaluation import evaluate
from annotrain_tui.core.feedback import write_packs
from annotrain_tui.core.feedback_html import IMAGE_BACKGROUND, annotator_colour
from tests.synth import SynthClass, box, make_label_row, make_object

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no headless browser: /usr/bin/chromium is not "
                                "installed (Debian package 'chromium'; .ci/run installs it where it can)")
Image = pytest.importorskip("PIL.Image", reason="Pillow reads the screenshot (pip install -e '.[test]')")

#: a class colour of the canvas palette; its faded form is the annotator's
CAR = SynthClass("Car", "c4rF3a7u", "bounding_box", "#E6194B")
WHO = "trainee@example.com"


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _programme(*, perfect: bool):
    """One item: a benchmark Car and the trainee's, matched loosely (or exactly), and a Car missed."""
    bench = [make_label_row(data_hash="D1", data_title="street.jpg", label_hash="B1", objects=[
        make_object(CAR, box(0.10, 0.10, 0.40, 0.50), object_hash="b1", created_by="gold@x.org"),
        make_object(CAR, box(0.65, 0.55, 0.25, 0.30), object_hash="b2", created_by="gold@x.org")])]
    theirs = [make_object(CAR, box(0.10, 0.10, 0.40, 0.50) if perfect else box(0.18, 0.16, 0.40, 0.50),
                          object_hash="t1", created_by=WHO)]
    if perfect:
        theirs.append(make_object(CAR, box(0.65, 0.55, 0.25, 0.30), object_hash="t2", created_by=WHO))
    mine = [make_label_row(data_hash="D1", data_title="street.jpg", label_hash="T1", objects=theirs)]
    result = evaluate(bench, [("Training", mine)], keep_objects=True)

    def rows_of(data_hash, annotator):
        return bench[0], mine[0]

    return result, rows_of


def _screenshot(page: Path, tmp_path: Path) -> np.ndarray:
    png = tmp_path / "shot.png"
    profile = tmp_path / "profile"
    argv = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--force-color-profile=srgb", f"--user-data-dir={profile}", f"--screenshot={png}",
            "--window-size=1200,2000", page.resolve().as_uri()]
    env = {**os.environ, "HOME": str(tmp_path)}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=180, env=env, check=False)
    assert png.is_file(), f"chromium wrote no screenshot (exit {done.returncode}): {done.stderr[-2000:]}"
    with Image.open(png) as im:
        return np.asarray(im.convert("RGB"))


def _mask(pixels: np.ndarray, colour: str) -> np.ndarray:
    return (pixels == np.array(_rgb(colour), dtype=pixels.dtype)).all(axis=2)


def _first_drawing(pixels: np.ndarray) -> tuple[slice, slice] | None:
    """The box of the first drawing: the first run of rows holding the image background's colour
    (a colour nothing else on the page uses), and the columns it spans there."""
    bg = _mask(pixels, IMAGE_BACKGROUND)
    rows = np.flatnonzero(bg.any(axis=1))
    if not len(rows):
        return None
    end = rows[0]
    while end + 1 < len(bg) and bg[end + 1].any():
        end += 1
    cols = np.flatnonzero(bg[rows[0]:end + 1].any(axis=0))
    return slice(rows[0], end + 1), slice(cols[0], cols[-1] + 1)


def test_the_screenshot_shows_both_sides_drawn_in_the_first_drawing(tmp_path):
    result, rows_of = _programme(perfect=False)
    html_path, _md = write_packs(result, rows_of, tmp_path / "packs")
    pixels = _screenshot(html_path, tmp_path)
    region = _first_drawing(pixels)
    assert region is not None, "no drawing on the page"
    rows, cols = region
    assert rows.stop - rows.start > 100 and cols.stop - cols.start > 300  # a drawing, not a stray pixel
    inside = pixels[rows, cols]
    bench = _mask(inside, CAR.color).sum()
    mine = _mask(inside, annotator_colour(CAR.color)).sum()
    assert bench > 100, f"the benchmark's outline is not drawn ({bench} pixels of {CAR.color})"
    assert mine > 50, f"the annotator's outline is not drawn ({mine} pixels of {annotator_colour(CAR.color)})"
    # the outlines are inside the drawing: the benchmark's colour elsewhere is only the legend's swatch
    outside = _mask(pixels, CAR.color).sum() - bench
    assert outside < bench


def test_a_pack_without_worst_items_draws_nothing(tmp_path):
    result, rows_of = _programme(perfect=True)
    html_path, _md = write_packs(result, rows_of, tmp_path / "packs")
    assert "nothing to draw" in html_path.read_text()
    pixels = _screenshot(html_path, tmp_path)
    assert _first_drawing(pixels) is None
    assert not _mask(pixels, CAR.color).any() and not _mask(pixels, annotator_colour(CAR.color)).any()
    assert (pixels != 255).any()  # the page itself did render (text)
