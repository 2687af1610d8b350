"""``flowscribe mcp``: the workspace's runs, failures and their stories for AI agents, over
the Model Context Protocol (docs/agents.md).

The answers are computed by plain functions that need no SDK (:mod:`.tools`,
:mod:`.verify`, formatted as data by :mod:`.results`, from a :class:`.workspace.Workspace`);
only :mod:`.server` imports the official ``mcp`` SDK (``pip install 'flowscribe[mcp]'``,
Python >= 3.10), and nothing imports it from ``import flowscribe``. :mod:`.agents` is the
section ``flowscribe init --agents`` adds to a project's agent instructions.
"""

from __future__ import annotations

__all__ = ["INSTALL_HINT"]

#: What to tell someone who runs ``flowscribe mcp`` without the SDK.
INSTALL_HINT = "pip install 'flowscribe[mcp]' (the MCP SDK; it needs Python >= 3.10)"
