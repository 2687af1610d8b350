"""Where an event was recorded, in words (``flowscribe.sites``): places that are not files
say what they were, so summary.md and ask.md never send anyone to ``<stdin>`` on disk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from _project import write_config

from flowscribe.sites import UNKNOWN, location, not_a_file


@pytest.mark.parametrize(("file", "said"), [
    ("<stdin>", "typed at the prompt"),
    ("<python-input-3>", "typed at the prompt"),
    ("<console>", "typed at the prompt"),
    ("<ipython-input-4-1a2b3c>", "typed at the prompt"),
    ("<string>", "run from a string (python -c or exec)"),
    ("<doctest mod.f[0]>", "in a doctest example"),
    ("<made-up>", "not a file"),
    ("/tmp/ipykernel_4242/1234567.py", "in a notebook cell"),
    ("app/orders.py", None),
    ("/home/me/ipykernel_notes.py", None),
    (None, None),
])
def test_places_that_are_not_files_say_what_they_were(file: object, said: str | None) -> None:
    assert not_a_file(file) == said


def test_a_location_is_file_and_line_or_what_is_known() -> None:
    assert location("app.py", 12) == "app.py:12"
    assert location("app.py", None) == "app.py"
    assert location("app.py", True) == "app.py"
    assert location(None, 3) == UNKNOWN


def test_a_failure_typed_at_the_prompt_says_so_in_summary_and_ask(project: Path) -> None:
    write_config(project, "version: 1\nprofile: all\n")
    typed = (
        "import flowscribe\n"
        "flowscribe.init(app_name='repl')\n"
        "with flowscribe.flow('orders/submit') as f: f.failure('DATA.EMPTY', 'no rows')\n"
        "\n"
    )
    done = subprocess.run([sys.executable, "-i"], input=typed, cwd=project, text=True,
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    summary = (project / ".autodev" / "summary.md").read_text()
    ask = (project / ".autodev" / "ask.md").read_text()
    assert "`<stdin>:1` (typed at the prompt)" in summary
    assert "typed at the prompt" in ask
