"""``flowscribe init --agents``: the agent-instructions section, appended once."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowscribe.cli import main
from flowscribe.mcp.agents import BEGIN


def test_appends_once_to_existing_files_and_keeps_their_text(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "AGENTS.md").write_text("# Our rules\nBe kind.", encoding="utf-8")
    gh = tmp_path / ".github"
    gh.mkdir()
    (gh / "copilot-instructions.md").write_text("Use tabs.\n", encoding="utf-8")
    assert main(["-C", str(tmp_path), "init", "--agents"]) == 0
    assert main(["-C", str(tmp_path), "init", "--agents"]) == 0  # initialised: kept, no dup
    for path in (tmp_path / "AGENTS.md", gh / "copilot-instructions.md"):
        text = path.read_text(encoding="utf-8")
        assert text.count(BEGIN) == 1
        assert "get_failures" in text and "verify_fix" in text
    assert (tmp_path / "AGENTS.md").read_text(encoding="utf-8").startswith(
        "# Our rules\nBe kind.\n\n")
    assert "already in AGENTS.md" in capsys.readouterr().out


def test_creates_agents_md_when_there_is_none_and_is_opt_in(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert main(["-C", str(plain), "init"]) == 0
    assert not (plain / "AGENTS.md").exists()
    assert main(["-C", str(tmp_path), "init", "--agents"]) == 0
    assert BEGIN in (tmp_path / "AGENTS.md").read_text(encoding="utf-8")


def test_a_linked_instructions_file_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text("theirs\n", encoding="utf-8")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "AGENTS.md").symlink_to(outside)
    assert main(["-C", str(proj), "init", "--agents"]) == 1
    assert outside.read_text(encoding="utf-8") == "theirs\n"
