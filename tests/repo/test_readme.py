"""Every shell and Python block of the README runs as written, pasted by a newcomer into a
fresh clone after ``npm run main`` (so ``.venv`` exists). A block the tests must not run is
preceded by ``<!-- not run by tests/repo/test_readme.py: <why> -->``, visibly."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_packaging import REPO, _tracked_copy

SKIP = re.compile(r"<!-- not run by tests/repo/test_readme\.py: (.+?) -->\s*$")
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)


def readme_blocks() -> list[tuple[str, str, int, str | None]]:
    """(language, code, line, skip reason) of every fenced block with a language."""
    text = (REPO / "README.md").read_text()
    out = []
    for m in BLOCK.finditer(text):
        lang = m.group(1)
        if lang not in ("bash", "sh", "python"):
            continue
        line = text.count("\n", 0, m.start()) + 1
        before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip = SKIP.search(before)
        out.append((lang, m.group(2), line, skip.group(1) if skip else None))
    return out


BLOCKS = readme_blocks()


def test_most_blocks_are_run_and_every_skip_says_why() -> None:
    run = [b for b in BLOCKS if b[3] is None]
    assert len(run) >= 2, "the README's runnable blocks went missing"
    assert all(b[3].strip() for b in BLOCKS if b[3] is not None)


@pytest.mark.slow
@pytest.mark.parametrize(("lang", "code", "line"),
                         [(b[0], b[1], b[2]) for b in BLOCKS if b[3] is None],
                         ids=[f"README.md:{b[2]}" for b in BLOCKS if b[3] is None])
def test_readme_block_runs_as_written(tmp_path: Path, lang: str, code: str, line: int) -> None:
    clone = _tracked_copy(tmp_path / "clone")
    venv = Path(sys.prefix)
    (clone / ".venv").symlink_to(venv, target_is_directory=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FLOWSCRIBE_", "RA_", "VIRTUAL_ENV"))}
    # A newcomer's PATH: no venv on it until the block activates one.
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(str(venv)))
    if lang == "python":
        cmd = [str(venv / "bin" / "python"), "-c", code]
        cwd = tmp_path
    else:
        # As pasted into an interactive shell: no -e (the example exits 1 on purpose and
        # says so), so every line's own complaints are checked below.
        cmd = ["bash", "-o", "pipefail", "-c", code]
        cwd = clone
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, f"README.md:{line}:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
    for complaint in ("command not found", "No module named", "No such file", "error:"):
        assert complaint not in out.stderr, f"README.md:{line}: {out.stderr[-3000:]}"


def test_the_readme_documents_every_command_and_flag() -> None:
    import argparse

    from flowscribe.cli import build_parser

    text = (REPO / "README.md").read_text()
    cli = text.split("## CLI", 1)[1].split("\n## ", 1)[0]
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = []
    for name, command in sub.choices.items():
        if f"flowscribe {name}" not in cli:
            missing.append(name)
        for action in command._actions:
            if action.help == argparse.SUPPRESS or "--help" in action.option_strings:
                continue
            if action.option_strings and not any(o in cli for o in action.option_strings):
                missing.append(f"{name} {action.option_strings[0]}")
    for top in ("-C DIR", "--version"):
        if top not in cli:
            missing.append(top)
    assert not missing, f"not in the README's CLI section: {missing}"
