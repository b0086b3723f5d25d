"""Classification answers and object attributes of label rows: reading them, and scoring them.

What a label row holds (``LabelRowV2.to_encord_dict()``, SDK 0.1.211):

* ``classification_answers``: classification hash → ``{"classificationHash", "featureHash",
  "classifications": [attribute, …], "range": [[start, end], …], "createdBy", "spaces", …}``
  (``ontology_labels_impl.py`` ``_to_classification_answers``; ``types.py`` ``ClassificationAnswer``).
  The frames a classification is on are its ``range`` (inclusive ``[start, end]`` pairs; images:
  ``[[0, 0]]``; image groups: the images' ``data_sequence`` numbers; videos: frame numbers). The
  SDK writes ``[]`` into every frame's ``labels["classifications"]``; rows the backend serves (and
  ``classification_expansion.expand_classification_answers_into_frame_labels``) carry a reference
  ``{"classificationHash", "featureHash", "createdBy"?, …}`` in the labels of each frame instead:
  both are read, and their frames united (:func:`labels.frame_classification_refs` walks the
  frame labels; this module never walks a row's data units itself).
  A *global* classification (``OntologyClassificationLevel.GLOBAL``, ``classification.py``) is
  range-only and written with ``"range": []`` and no frame reference
  (``classification_instance.py``: ``_range_only = range_only or self.is_global()``; a non-global
  one with no frame is dropped by the SDK's reader, ``_parse_root_classifications_from_answers``):
  so a classification with no frame at all is read as global, frame :data:`GLOBAL`.
  One held by a space (a non-root ``spaces`` entry: multilayer images, scenes) is not read here,
  and is counted in :attr:`RowAnswers.not_compared`.
* ``object_answers``: object hash → ``{"objectHash", "classifications": [attribute, …]}``: the
  object's static attributes (``_to_object_answers``). Dynamic attributes (per frame, in
  ``object_actions``) are not read.
* an *attribute* (``answers.py`` ``_to_encord_dict_impl``) is ``{"name", "value", "featureHash",
  "answers", "manualAnnotation"}``: ``answers`` a list of options ``{"name", "value",
  "featureHash"}`` (radio: exactly one; checklist: the checked ones, maybe none) or a string
  (text). The ``featureHash`` is the question's (the ontology attribute's). Nested attributes (a
  radio option's ``nested_options``) are further entries of the same flat list: each is its own
  question. Numeric answers (a number) are not compared (counted in ``not_compared``).

Radio or checklist cannot be told from a row without its ontology: a question is ``"checklist"``
when any answer to it has other than one option, else ``"radio"`` (see :func:`names_and_kinds` for
several rows). The score does not depend on it: for one-option answers the Jaccard index of the
checklist rule is 1 for the same option and 0 otherwise, the radio rule (issue 15).

Every string read here is untrusted (names are shown through ``shown()``/``lit()`` only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.evaluation.labels import frame_classification_refs, safe_text, type_name

__all__ = [
    "GLOBAL", "Answer", "RowAnswers", "read_answers", "answer_score",
    "score_classifications", "score_attributes", "names_and_kinds",
]

#: the frame of a global classification (one answer for the whole data unit)
GLOBAL = -1
_MAX_FRAME = 2**31 - 1
#: at most this many (frame, question) answers are expanded from the ranges of one row (a range
#: [0, 2**31] would otherwise take all memory); more is an error (strict) or left out (tolerant)
MAX_FRAMES_PER_ROW = 2_000_000

_FIX = "fix the classification in the source project and export again (LabelRowV2.to_encord_dict())"


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer: ``kind`` ``"options"`` with ``value`` the frozenset of chosen option feature
    hashes (radio: one; checklist: any number), or ``"text"`` with ``value`` the text as written."""

    kind: Literal["options", "text"]
    value: frozenset[str] | str


@dataclass(slots=True)
class RowAnswers:
    """The answers of one label row.

    ``classifications``: (frame, question feature hash) → answer, frame :data:`GLOBAL` for global
    classifications; ``created_by``: the same keys → who answered (the instance's ``createdBy``, a
    frame reference's when it has one), None when unknown; ``objects``: object hash → question
    feature hash → answer (static attributes); ``names``: question feature hash → the question's
    name as written (untrusted); ``kinds``: question → ``"radio"`` | ``"checklist"`` | ``"text"``;
    ``not_compared``: what was valid but is not compared (numeric answers, classifications held by
    a space, dynamic attributes), and, tolerant, what was skipped as malformed, counted by reason.
    """

    classifications: dict[tuple[int, str], Answer] = field(default_factory=dict)
    created_by: dict[tuple[int, str], str | None] = field(default_factory=dict)
    objects: dict[str, dict[str, Answer]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    not_compared: dict[str, int] = field(default_factory=dict)


class _Reader:
    """State of one :func:`read_answers` call (strict raises, tolerant counts)."""

    __slots__ = ("where", "strict", "out", "budget")

    def __init__(self, where: Any, strict: bool) -> None:
        self.where = where
        self.strict = strict
        self.out = RowAnswers()
        self.budget = MAX_FRAMES_PER_ROW

    def bad(self, what: str, wrong: str, reason: str) -> None:
        """A malformed item: strict raises (located: row, item, what is wrong, how to fix), tolerant counts."""
        if self.strict:
            raise InvalidInput(f"{self.where}: {what}: {wrong}", hint=_FIX)
        self.skip(reason)

    def skip(self, reason: str) -> None:
        self.out.not_compared[reason] = self.out.not_compared.get(reason, 0) + 1

    def attributes(self, entries: Any, what: str) -> list[tuple[str, Answer]] | None:
        """(question, answer) of a ``classifications`` list, in its order; None if unreadable (tolerant)."""
        if entries is None:
            return []
        if type(entries) is not list:
            self.bad(what, f"'classifications' must be a list of answers, got {type_name(entries)}",
                     "malformed answers")
            return None
        out: list[tuple[str, Answer]] = []
        names = self.out.names
        kinds = self.out.kinds
        for i, entry in enumerate(entries):
            if type(entry) is not dict:
                self.bad(what, f"answer {i} must be an object, got {type_name(entry)}", "malformed answers")
                continue
            question = entry.get("featureHash")
            if type(question) is not str or not question:
                self.bad(what, f"answer {i} has no 'featureHash' (the question's)", "malformed answers")
                continue
            if entry.get("dynamic") is True:  # a per-frame object attribute: object_actions' business
                self.skip("dynamic attribute")
                continue
            raw = entry.get("answers")
            kind: str
            if type(raw) is str:
                answer = Answer("text", raw)
                kind = "text"
            elif type(raw) is list:
                options: list[str] = []
                for j, option in enumerate(raw):
                    fh = option.get("featureHash") if type(option) is dict else None
                    if type(fh) is not str or not fh:
                        self.bad(what, f"answer {i} ({safe_text(question, 40)}) option {j} has no 'featureHash'",
                                 "malformed answers")
                        break
                    options.append(fh)
                if len(options) != len(raw):
                    continue
                answer = Answer("options", frozenset(options))
                kind = "radio" if len(options) == 1 else "checklist"
            elif type(raw) in (int, float):
                self.skip("numeric answer")
                continue
            elif raw is None:  # a question left unanswered (null): no answer, as if it were not listed
                continue
            else:
                self.bad(what, f"answer {i} ({safe_text(question, 40)}) 'answers' must be a list of options or "
                               f"a text, got {type_name(raw)}", "malformed answers")
                continue
            seen = kinds.get(question)
            if seen is None or (seen == "radio" and kind == "checklist"):
                kinds[question] = kind
            elif (seen == "text") != (kind == "text"):
                self.bad(what, f"question {safe_text(question, 40)} is answered with a text in one place and "
                               "with options in another", "malformed answers")
                continue
            if question not in names:
                name = entry.get("name")
                names[question] = name if type(name) is str else question
            out.append((question, answer))
        return out

    def frames(self, ranges: Any, what: str) -> list[int] | None:
        """The frames of a ``range`` list (``[[start, end], …]``, inclusive), in order; None if unreadable."""
        if ranges is None:
            return []
        if type(ranges) is not list:
            self.bad(what, f"'range' must be a list of [start, end] pairs, got {type_name(ranges)}",
                     "malformed classification")
            return None
        out: list[int] = []
        for r in ranges:
            if (type(r) is not list or len(r) != 2 or type(r[0]) is not int or type(r[1]) is not int
                    or not 0 <= r[0] <= r[1] <= _MAX_FRAME):
                beyond = (type(r) is list and len(r) == 2 and all(type(v) is int for v in r)
                          and 0 <= r[0] <= r[1])
                why = (f"ends beyond the last frame number there can be ({_MAX_FRAME:,})" if beyond else
                       "is not a [start, end] pair of frame numbers (0 ≤ start ≤ end)")
                self.bad(what, f"'range' entry {safe_text(r, 40)} {why}", "malformed classification")
                return None
            n = r[1] - r[0] + 1
            if n > self.budget:
                self.bad(what, f"'range' {r[0]}..{r[1]} spans {n:,} frames, more than the "
                               f"{MAX_FRAMES_PER_ROW:,} one row may answer", "range too long")
                return None
            self.budget -= n
            out.extend(range(r[0], r[1] + 1))
        return out


def _created_by(value: Any) -> str | None:
    return value if type(value) is str and value else None


def read_answers(row: Mapping[str, Any], where: Any = "label row", *, strict: bool) -> RowAnswers:
    """The classification answers and static object attributes of one label row (module docstring).

    Strict: malformed data (answers that are not a list or a text, an option or answer without
    ``featureHash``, a bad ``range``, a frame reference to a classification hash missing from
    ``classification_answers``, two different answers to one question on one frame, …) raises
    :class:`InvalidInput` naming ``where`` (the row), the classification or object, what is wrong
    and how to fix it. Tolerant: such items are skipped and counted in ``not_compared``. A row
    without ``classification_answers``/``object_answers`` has no answers. Nothing is copied: the
    answers of one classification instance are read once and shared by all its frames."""
    rd = _Reader(where, strict)
    out = rd.out
    if not isinstance(row, dict):
        rd.bad("label row", f"expected a label row (JSON object), got {type_name(row)}", "not a label row")
        return out
    answers = row.get("classification_answers")
    if answers is not None and type(answers) is not dict:
        rd.bad("classification_answers", f"must be an object (classification hash → answer), got "
                                          f"{type_name(answers)}", "malformed classification")
        answers = None
    # frame references (backend form): classification hash → [(frame, createdBy)], in file order
    refs: dict[str, list[tuple[int, str | None]]] = {}
    for frame, listed in frame_classification_refs(row, strict=strict, where=where):
        if type(listed) is not list:
            rd.bad(f"frame {frame}", f"'classifications' must be a list, got {type_name(listed)}",
                   "malformed classification")
            continue
        for ref in listed:
            ch = ref.get("classificationHash") if type(ref) is dict else None
            if type(ch) is not str or not ch:
                rd.bad(f"frame {frame}", "a classification reference has no 'classificationHash'",
                       "malformed classification")
                continue
            if answers is None or ch not in answers:
                rd.bad(f"frame {frame} classification {safe_text(ch, 40)}",
                       "the frame refers to a classification that 'classification_answers' does not hold",
                       "classification without answers")
                continue
            refs.setdefault(ch, []).append((frame, _created_by(ref.get("createdBy"))))
    for ch, entry in (answers or {}).items():
        what = f"classification {safe_text(ch, 40)}"
        if type(entry) is not dict:
            rd.bad(what, f"must be an object, got {type_name(entry)}", "malformed classification")
            continue
        spaces = entry.get("spaces")
        if type(spaces) is dict and any(k != "root" and v for k, v in spaces.items()):
            rd.skip("classification on a space")  # held by a space (resolve_classification_ranges)
            continue
        read = rd.attributes(entry.get("classifications"), what)
        frames = rd.frames(entry.get("range"), what)
        if read is None or frames is None or not read:
            continue
        who = _created_by(entry.get("createdBy"))
        placed: list[tuple[int, str | None]] = [(f, who) for f in frames]
        if ch in refs:
            in_range = set(frames)
            placed += [(f, by or who) for f, by in refs[ch] if f not in in_range or by is not None]
        if not placed:
            placed = [(GLOBAL, who)]
        cls = out.classifications
        created = out.created_by
        for frame, by in placed:
            for question, answer in read:
                key = (frame, question)
                had = cls.get(key)
                if had is not None and had != answer:
                    rd.bad(what, f"question {safe_text(question, 40)} has two different answers on "
                                 f"{'the whole unit' if frame == GLOBAL else f'frame {frame}'}",
                           "two answers to one question")
                    continue  # tolerant: the first answer stays
                cls[key] = answer
                if by is not None or key not in created:
                    created[key] = by
    objects = row.get("object_answers")
    if objects is not None and type(objects) is not dict:
        rd.bad("object_answers", f"must be an object (object hash → answers), got {type_name(objects)}",
               "malformed object answers")
        objects = None
    for oh, entry in (objects or {}).items():
        what = f"object {safe_text(oh, 40)}"
        if type(entry) is not dict:
            rd.bad(what, f"its answers must be an object, got {type_name(entry)}", "malformed object answers")
            continue
        read = rd.attributes(entry.get("classifications"), what)
        if not read:
            continue
        mine: dict[str, Answer] = {}
        for question, answer in read:
            had = mine.get(question)
            if had is not None and had != answer:
                rd.bad(what, f"attribute {safe_text(question, 40)} has two different answers",
                       "two answers to one question")
                continue
            mine[question] = answer
        out.objects[oh] = mine
    return out


# --- scoring -------------------------------------------------------------------------------------

def answer_score(train: Answer | None, bench: Answer) -> float:
    """The annotator's answer against the benchmark's (issue 15): options, the Jaccard index of the
    chosen sets (1.0 when both are empty; radio: 1 for the same option, else 0); text, 1.0 when
    equal after ``strip().casefold()``; no answer, or an answer of the other kind, 0.0."""
    if train is None or train.kind != bench.kind:
        return 0.0
    if bench.kind == "text":
        assert isinstance(train.value, str) and isinstance(bench.value, str)
        return 1.0 if train.value.strip().casefold() == bench.value.strip().casefold() else 0.0
    assert isinstance(train.value, frozenset) and isinstance(bench.value, frozenset)
    union = len(train.value | bench.value)
    return len(train.value & bench.value) / union if union else 1.0


Totals = dict[tuple[str, str], tuple[int, float]]


def _add(totals: Totals, key: tuple[str, str], score: float) -> None:
    n, s = totals.get(key, (0, 0.0))
    totals[key] = (n + 1, s + score)


def score_classifications(pairs: Iterable[tuple[str, RowAnswers, RowAnswers]]) -> Totals:
    """(annotator, question) → (comparisons, sum of scores), from ``(annotator, benchmark row
    answers, training row answers)`` per paired label row: each (frame, question) the benchmark
    answered is one comparison (a global one: one per row), scored by :func:`answer_score` against
    the annotator's answer on the same frame (none: 0). Sums are added in input order."""
    totals: Totals = {}
    for annotator, bench, train in pairs:
        got = train.classifications
        for key, answer in bench.classifications.items():
            _add(totals, (annotator, key[1]), answer_score(got.get(key), answer))
    return totals


def score_attributes(pairs: Iterable[tuple[str, Mapping[str, Answer], Mapping[str, Answer] | None]]) -> Totals:
    """(annotator, attribute question) → (comparisons, sum of scores), from ``(annotator, the
    benchmark object's attributes, the matched training object's attributes or None)`` per matched
    object pair: each attribute the benchmark object answered is one comparison."""
    totals: Totals = {}
    for annotator, bench, train in pairs:
        for question, answer in bench.items():
            _add(totals, (annotator, question), answer_score(train.get(question) if train else None, answer))
    return totals


def names_and_kinds(rows: Iterable[RowAnswers]) -> tuple[dict[str, str], dict[str, str]]:
    """(names, kinds) of the questions of several rows: the first name seen (pass benchmark rows
    first), and ``"checklist"`` over ``"radio"`` (any answer with other than one option), else the
    first kind seen."""
    names: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for r in rows:
        for q, name in r.names.items():
            names.setdefault(q, name)
        for q, kind in r.kinds.items():
            seen = kinds.get(q)
            if seen is None or (seen == "radio" and kind == "checklist"):
                kinds[q] = kind
    return names, kinds
