"""A throw-away code-server (a real VS Code served to a browser) for the end-to-end tests.

Everything it writes (user data, extensions, config, XDG folders) goes under one temp
folder, it listens on loopback only, and `stop()` ends its whole process tree by PID: the
extension host and the language server it starts must not outlive the test session.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

# The user settings of a clean, quiet, trusted workbench (see ../shared/vscode-e2e.md).
SETTINGS = {
    "security.workspace.trust.enabled": False,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoUpdate": False,
    "extensions.autoCheckUpdates": False,
    "extensions.ignoreRecommendations": True,
    "workbench.startupEditor": "none",
    "workbench.welcomePage.walkthroughs.openOnInstall": False,
    "workbench.tips.enabled": False,
    "workbench.enableExperiments": False,
    "git.enabled": False,
    "editor.hover.delay": 200,
}


@dataclass(frozen=True)
class Tools:
    """Where .ci/setup-e2e.sh installed Node 24, code-server and mermaid."""

    node: Path
    code_server: Path
    chromium: Path
    mermaid: Path  # mermaid.min.js


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "flowscribe-e2e"
    return Path(os.environ.get("FLOWSCRIBE_E2E_CACHE") or default)


def find_tools() -> Tools | None:
    """The tools recorded by the setup script, or None when it has not completed here."""
    try:
        recorded = json.loads((cache_dir() / "tools.json").read_text())
        tools = Tools(Path(recorded["node"]), Path(recorded["code_server"]),
                      Path(recorded["chromium"]), Path(recorded["mermaid"]))
    except (OSError, ValueError, KeyError):
        return None
    if all(p.is_file() for p in (tools.node, tools.code_server, tools.chromium, tools.mermaid)):
        return tools
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CodeServer:
    """One code-server with its own user-data and extensions folders under `home`.

    `settings` are added to the user settings (SETTINGS) and `env` to its environment.
    """

    def __init__(self, tools: Tools, home: Path, log_path: Path,
                 settings: dict[str, object] | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.tools = tools
        self.home = home
        self.user_data = home / "user-data"
        self.extensions = home / "extensions"
        self.log_path = log_path
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._extra_env = dict(env or {})
        settings_file = self.user_data / "User" / "settings.json"
        settings_file.parent.mkdir(parents=True, exist_ok=True)
        settings_file.write_text(json.dumps({**SETTINGS, **(settings or {})}, indent=2))
        self.extensions.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        # A VS Code terminal's variables would make code-server talk to that VS Code.
        env = {k: v for k, v in os.environ.items() if not k.startswith("VSCODE_")}
        for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
            folder = self.home / name.lower()
            folder.mkdir(exist_ok=True)
            env[name] = str(folder)
        env.update(self._extra_env)
        return env

    def _base_args(self) -> list[str]:
        return [str(self.tools.node), str(self.tools.code_server),
                "--config", str(self.home / "config.yaml"),
                "--user-data-dir", str(self.user_data),
                "--extensions-dir", str(self.extensions)]

    def install_extension(self, vsix: Path) -> str:
        """Install a .vsix; returns code-server's output, raises with it on failure."""
        done = subprocess.run([*self._base_args(), "--install-extension", str(vsix)],
                              env=self._env(), capture_output=True, text=True, timeout=180,
                              check=False)
        output = done.stdout + done.stderr
        if done.returncode != 0 or "successfully installed" not in output:
            raise RuntimeError(f"installing {vsix.name} failed ({done.returncode}):\n{output}")
        return output

    def start(self, workspace: Path, timeout: float = 60.0) -> None:
        """Serve `workspace` on a free loopback port; returns once the server answers."""
        self.port = free_port()
        self._log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            [*self._base_args(), "--auth", "none", "--bind-addr", f"127.0.0.1:{self.port}",
             "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
             "--disable-getting-started-override", "--ignore-last-opened", str(workspace)],
            env=self._env(), stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"code-server exited with {self._proc.returncode}; "
                                   f"see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.25)
        raise RuntimeError(f"code-server did not answer within {timeout:.0f} s; "
                           f"see {self.log_path}")

    def stop(self) -> None:
        """End code-server and every process it started, by PID."""
        if self._proc is not None:
            stop_process_tree(self._proc.pid)
            self._proc.wait(timeout=10)
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_files(self) -> list[Path]:
        """The workbench's own logs (extension host, output channels) of this session."""
        logs = self.user_data / "logs"
        return sorted(p for p in logs.rglob("*.log") if p.is_file()) if logs.is_dir() else []

    @contextlib.contextmanager
    def serving(self, vsix: Path, workspace: Path, logs_to: Path) -> Iterator[CodeServer]:
        """Install ``vsix``, serve ``workspace`` until the block ends, then stop by PID and
        keep the workbench's logs under ``logs_to`` (test artifacts)."""
        self.install_extension(vsix)
        try:
            self.start(workspace)
            yield self
        finally:
            self.stop()
            for log in self.log_files():
                target = logs_to / log.relative_to(self.user_data / "logs")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(log, target)


def _start_time(pid: int) -> str | None:
    """The kernel's start time of a live `pid`, to tell it from a later process given its PID.

    None when it is gone or a zombie (dead, only waiting for its parent to reap it).
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == "Z" else fields[19]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def stop_process_tree(root: int, grace: float = 5.0) -> None:
    """SIGTERM `root` and all its descendants (found before any dies), then SIGKILL stragglers.

    Descendants are collected first because once their parent is gone they are reparented
    and can no longer be told apart from unrelated processes.
    """
    tree = _children()
    pids, stack = [], [root]
    while stack:
        pid = stack.pop()
        pids.append(pid)
        stack.extend(tree.get(pid, []))
    started = {pid: _start_time(pid) for pid in pids}
    for pid in pids:
        _signal(pid, signal.SIGTERM, started[pid])
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(
            started[p] is not None and _start_time(p) == started[p] for p in pids):
        time.sleep(0.1)
    for pid in pids:
        _signal(pid, signal.SIGKILL, started[pid])


def _signal(pid: int, sig: signal.Signals, started: str | None) -> None:
    if started is None or _start_time(pid) != started:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)
