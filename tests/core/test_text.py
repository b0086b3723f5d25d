"""The one untrusted-text policy (core/text.py)."""

import pytest

from annotrain_tui.core.text import is_clean, shown, shown_lines, truncate

HOSTILE = "a\x1b]0;pwned\x07\x1b]52;c;ZWNobyBoaQ==\x07\x9b31m\x00\r\n\t\u202e\u2066\u200f\udc80[b]x[/b]"


def test_every_family_is_escaped_visibly():
    out = shown(HOSTILE)
    for raw, esc in [("\x1b", "\\x1b"), ("\x07", "\\x07"), ("\x9b", "\\x9b"), ("\x00", "\\x00"),
                     ("\r", "\\x0d"), ("\n", "\\x0a"), ("\t", "\\x09"), ("\u202e", "\\u202e"),
                     ("\u2066", "\\u2066"), ("\u200f", "\\u200f"), ("\udc80", "\\udc80")]:
        assert raw not in out
        assert esc in out
    assert "[b]x[/b]" in out  # markup is left literal, not stripped or interpreted
    assert out.isprintable()
    out.encode("utf-8")  # no lone surrogate survives


def test_clean_text_is_unchanged_and_spaces_kept():
    for text in ["plain", "José Ñandú", "名前", "a\u00a0b", "emoji 🙂"]:
        assert shown(text) == text
        assert is_clean(text)


def test_multiline_keeps_lf_only():
    assert shown("a\nb", multiline=True) == "a\nb"
    assert shown_lines("a\r\nb\rc\x1b") == "a\nb\nc\\x1b"


def test_non_strings_and_limits():
    assert shown(None) == ""
    assert shown(3.5) == "3.5"
    assert shown(b"\xffok") == "\\udcffok"
    assert shown("abcdef", limit=4) == "abc…"
    assert truncate("abc", 3) == "abc"

    class Bad:
        def __str__(self):
            raise RuntimeError("no")

    assert shown(Bad()) == "<Bad>"


def test_json_text_escapes_what_a_terminal_acts_on_and_means_the_same():
    import json

    from annotrain_tui.core.text import json_text

    doc = {"t": "x\u202ey\x9b31m\udc80\U000e0001\x7f José 🙂 名前", "n": [1, "\n\t\x1b"]}
    text = json_text(json.dumps(doc, ensure_ascii=False, indent=2))
    assert json.loads(text) == doc
    text.encode("utf-8")
    for raw in ("\u202e", "\x9b", "\udc80", "\U000e0001", "\x7f", "\x1b"):
        assert raw not in text
    assert "José 🙂 名前" in text  # ordinary text stays readable


@pytest.mark.parametrize("limit", range(1, 30))
def test_a_cut_never_splits_an_escape(limit):
    """Trial (issue 12): a long hostile title was cut inside an escape ('\\x0…')."""
    import re

    from annotrain_tui.core.text import shown

    out = shown("ab\x01\u202e" * 5 + "tail", limit=limit)
    assert len(out) <= limit
    body = out[:-1] if out.endswith("…") else out
    assert not re.search(r"\\(x[0-9a-f]?|u[0-9a-f]{0,3})$", body), out
