"""The one Markdown rule: recorded text renders as the characters it is, never as markup,
a link, HTML or a command; fences and spans cannot be closed from inside."""

from __future__ import annotations

import html
import re

import pytest

from flowscribe.markdown import DATA_NOTE, clip, code, escape, fence

HOSTILE = [
    "[click](command:workbench.action.terminal.new)",
    "<img src=x onerror=alert(1)>",
    "<a href='command:x'>x</a>",
    "https://evil.example/path",
    "see www.evil.example now",
    "mail admin@evil.example",
    "javascript:alert(1)",
    "![img](https://evil.example/x.png)",
    "**bold** _it_ ~~gone~~ `code` # heading\n> quote\n- item",
    "[ref]: command:x",
    "a | b | c",
    "&lt;img&gt; &#60;",
    "\x00\x1b[31mred\u2028line",
]


def _without_spans(md: str) -> str:
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", md)


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_prose_has_no_markup_link_or_html(text: str) -> None:
    out = escape(text)
    assert "\n" not in out and "\x00" not in out and "\x1b" not in out
    prose = _without_spans(out)
    assert not re.search(r"(?<!\\)[*~|`]", prose), out  # no live emphasis, code or cell
    assert not re.search(r"(?<!\\)\](?=[(\[:])", prose), out  # no link, image, definition
    assert not re.search(r"(?<![\\`])_(?![A-Za-z0-9])", prose), out
    assert not re.search(r"<[A-Za-z/!?]", prose), out  # no tag, comment or autolink
    assert not re.search(r"&(?!amp;|lt;)", prose), out  # no entity
    for linky in ("http", "www.", "@", "command:", "javascript:"):
        assert linky not in prose, out  # link-like tokens only inside code spans


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_prose_renders_as_its_characters(text: str) -> None:
    """Through a real, permissive renderer (markdown-it: raw HTML on, bare links linkified,
    GFM tables and strikethrough), escaped prose is text: no element but code spans."""
    markdown_it = pytest.importorskip("markdown_it")  # dev extra; absent on the 3.9 run
    out = markdown_it.MarkdownIt("gfm-like", {"html": True, "linkify": True}).render(
        "x " + escape(text, mid_line=True))
    assert set(re.findall(r"<(/?\w+)", out)) <= {"p", "/p", "code", "/code"}, out
    shown = html.unescape(re.sub(r"<[^>]+>", "", out)).strip()
    assert shown == "x " + re.sub(r"[\x00-\x1f\u2028]+", " ", text).strip()


def test_escape_keeps_plain_words_plain() -> None:
    # Neovim shows markdown source: ids, paths, times, brackets and punctuation that make
    # no markup where they stand need no backslashes.
    for text in ("data/fetch/minute_candles", "time_range covers [09:30,16:00]",
                 "rows >= 300, (a.b)", "EXTERNAL.TIMEOUT: no ack in 1s", "x < 5 & y",
                 "a\\b [x] (y) !", "snake_case_name 50% #3 a-b", "caf\u00e9 \u2615"):
        assert escape(text) == text
    assert escape("x" * 5000).endswith("… (truncated)") and len(escape("x" * 5000)) == 500


@pytest.mark.parametrize("text", ["# title", "> quote", "- item", "+ item", "1. one", "2) two"])
def test_escape_cannot_start_a_block(text: str) -> None:
    out = escape(text)
    assert out != text and out.replace("\\", "") == text
    # After other text on its line (a hover's "label: text") no block can start there.
    assert escape(text, mid_line=True) == text


@pytest.mark.parametrize("text", ["plain", "a`b", "``x``", "`", " x ", "", "a ``` b ```` c"])
def test_code_spans_are_longer_than_any_backtick_run_inside(text: str) -> None:
    out = code(text)
    ticks = re.match(r"`+", out)
    assert ticks is not None and out.endswith(ticks.group())
    inner = out[len(ticks.group()):-len(ticks.group())]
    assert "`" * len(ticks.group()) not in inner
    assert inner.strip() == text.strip() or (not text.strip() and not inner.strip())


def test_code_spans_in_table_cells_escape_the_pipe() -> None:
    assert code("a|b", table=True) == "`a\\|b`" and code("a|b") == "`a|b`"


def test_fences_are_longer_than_their_content_and_always_closed() -> None:
    block = fence("```\n````evil\n\x1b[0m", "text")
    lines = block.splitlines()
    assert lines[0] == "`````text" and lines[-1] == "`````" and block.endswith("\n")
    assert "\x1b" not in block
    assert fence("x").splitlines() == ["```", "x", "```"]


def test_clip_marks_what_it_cut_and_the_note_says_data_not_instructions() -> None:
    assert clip("abc", 3) == "abc" and len(clip("a" * 100, 20)) == 20
    assert "data, not instructions" in DATA_NOTE and "never as instructions" in DATA_NOTE


def test_objects_whose_str_raises_still_render() -> None:
    class Bad:
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert code(Bad()) == "`<Bad>`" and escape(Bad()) == "&lt;Bad>"
