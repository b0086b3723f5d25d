"""Similarities of points, skeletons, polylines and bitmasks, vectorised over pairs.

Each function takes *paired* arrays (element ``i`` of the annotator's against element ``i`` of the
benchmark's) and returns one finite similarity in [0, 1] per pair. The definitions are issue 15's
("Build: every shape and answer Encord has"); coordinates are normalised 0..1 and scaled to pixels
with the data unit's ``width``/``height`` (a size that is NaN, not finite or not positive counts 1):

* Points: ``exp(−d² / (2·σ²·A))``, ``d`` the distance in pixels, ``A = width·height`` (σ = 0.05).
* Skeletons, COCO's object keypoint similarity (cocodataset.org/#keypoints-eval, ``computeOks`` in
  pycocotools): ``Σᵢ vᵢ·exp(−dᵢ² / (2·σ²·Aₒ)) / Σᵢ vᵢ`` over the template's keypoints; ``vᵢ = 1``
  where the benchmark's keypoint is present (not ``Visibility.INVISIBLE``), ``Aₒ = max(area, 1)`` of
  the pixel bounding box of the benchmark's present keypoints; a keypoint the annotator left out
  counts 0; no present benchmark keypoint: 0.
* Polylines: IoU of the two lines each buffered by ``r = 0.01·max(width, height)`` pixels (round
  caps and joins, shapely 2, vectorised); one vertex (or all vertices equal): a disc; none: 0.
* Bitmasks: IoU in pixels of the decoded masks, computed on run intervals (never dense masks).
  The encoding is the encord SDK's (``encord/common/bitmask_operations/bitmask_operations.py``,
  ``_string_to_rle`` / ``_rle_to_mask``): see :func:`decode_rle`.
"""

from __future__ import annotations

import numpy as np

from annotrain_tui.core.errors import InvalidInput

__all__ = ["decode_rle"]

#: the longest value in an rleString, in characters (5 bits each: ±2**39, far beyond any mask)
_MAX_VALUE_CHARS = 8


def _rle_error(where: str, why: str) -> InvalidInput:
    return InvalidInput(f"{where}: the bitmask's rleString {why}; it cannot be compared")


def decode_rle(rle: str, size: int | None = None, *, where: str = "bitmask") -> np.ndarray:
    """The run lengths (int64) of an Encord ``rleString``, checked; numpy over the characters.

    Encord's format (``_string_to_rle`` / ``_rle_to_mask`` in the SDK's
    ``encord/common/bitmask_operations/bitmask_operations.py``) is COCO's compressed RLE string
    *applied to the row-major mask* (COCO's own is column-major; the SDK's
    ``encord_rle_to_coco_rle`` transposes): each character is ``48 + c``, ``c`` a 6-bit group;
    its low 5 bits are the value's next bits (least significant first), bit ``0x20`` says "more
    follow"; the last group's bit ``0x10`` is the sign (the value is sign-extended). From the fourth
    value on (index ≥ 3), a value is the difference to the value two before it. The runs alternate
    0s and 1s and the first run is 0s (0 long when the mask starts with a 1).

    Raises :class:`~annotrain_tui.core.errors.InvalidInput` (message starts with ``where``) for a
    character outside ``'0'``..``'o'``, a string ending inside a value, a value over
    ``_MAX_VALUE_CHARS`` characters, a negative run, or (``size`` given) runs not summing to
    ``size`` (``height·width``). The SDK itself is laxer (it pads a short mask with 0s).
    """
    if not isinstance(rle, str):
        raise _rle_error(where, f"is not a string ({type(rle).__name__})")
    try:
        raw = rle.encode("ascii")
    except UnicodeEncodeError:
        raise _rle_error(where, "has a character that is not ASCII") from None
    c = np.frombuffer(raw, dtype=np.uint8).astype(np.int64) - 48
    if c.size == 0:
        counts = np.zeros(0, dtype=np.int64)
    else:
        bad = (c < 0) | (c > 63)
        if bad.any():
            at = int(np.flatnonzero(bad)[0])
            raise _rle_error(where, f"has a character {rle[at]!r} at {at} that is not in '0'..'o'")
        more = (c & 0x20) != 0
        if more[-1]:
            raise _rle_error(where, "ends inside a value (its last character says more follow)")
        ends = np.flatnonzero(~more)  # the last character of each value
        starts = np.empty_like(ends)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        lengths = ends - starts + 1
        if int(lengths.max()) > _MAX_VALUE_CHARS:
            raise _rle_error(where, f"has a value longer than {_MAX_VALUE_CHARS} characters")
        value_of = np.repeat(np.arange(ends.size), lengths)
        k = np.arange(c.size) - starts[value_of]  # the group's place in its value
        values = np.zeros(ends.size, dtype=np.int64)
        np.add.at(values, value_of, (c & 0x1F) << (5 * k))
        negative = (c[ends] & 0x10) != 0
        values[negative] -= np.left_shift(np.int64(1), 5 * lengths[negative])
        # index >= 3 is a difference to index - 2: cumulative sums along the odd and even chains
        counts = values.copy()
        if counts.size > 3:
            counts[1::2] = np.cumsum(values[1::2])
            counts[2::2] = np.cumsum(values[2::2])
        if counts.size and int(counts.min()) < 0:
            at = int(np.flatnonzero(counts < 0)[0])
            raise _rle_error(where, f"has a negative run ({int(counts[at])} at run {at})")
    if size is not None and int(counts.sum()) != int(size):
        raise _rle_error(where, f"covers {int(counts.sum())} pixels, not height × width = {int(size)}")
    return counts
