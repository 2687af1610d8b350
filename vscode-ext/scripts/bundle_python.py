"""Fill vscode-ext/bundled/ with the language server and its pure-Python dependencies.

    python scripts/bundle_python.py [--pip-python PYTHON]

Result (shipped inside the .vsix):
  bundled/tool/lsp_server.py   the entry script the extension runs with ``python -I -S``
  bundled/libs/                flowscribe, flowscribe_lsp (copied from py_server/) and the
                               pinned wheels of scripts/bundled-requirements.txt, installed
                               with ``pip --target --no-deps --no-compile``
  schemas/                     ra.schema.json, flows.schema.json for ``yamlValidation``

Only pure Python is kept (no ``.so``/``.pyd``, no PyYAML ``_yaml`` extension, no ``__pycache__``,
no tests), so the server runs on any Python >= 3.9 on any platform without pip.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

EXT = Path(__file__).resolve().parents[1]
REPO = EXT.parent
PY_SERVER = REPO / "py_server"
BUNDLED = EXT / "bundled"
LIBS = BUNDLED / "libs"
TOOL = BUNDLED / "tool"
SCHEMAS = EXT / "schemas"
REQUIREMENTS = EXT / "scripts" / "bundled-requirements.txt"
ENTRY = EXT / "python" / "lsp_server.py"

OUR_PACKAGES = ("flowscribe", "flowscribe_lsp")
SCHEMA_FILES = ("ra.schema.json", "flows.schema.json")
STRIP_DIRS = {"__pycache__", "tests", "test", "bin"}
STRIP_SUFFIXES = (".so", ".pyd", ".pyc", ".pyo", ".dylib", ".dll", ".c", ".h", ".pyx", ".pxd")
# PyYAML's wheel has a top-level `_yaml` shim for its compiled extension; pure `yaml` needs none.
STRIP_TOP_LEVEL = {"_yaml"}


def pip_install(python: str) -> None:
    cmd = [
        python, "-m", "pip", "install",
        "--target", str(LIBS),
        "--no-deps", "--no-compile", "--only-binary=:all:",
        "--disable-pip-version-check", "--no-warn-script-location", "--quiet",
        "-r", str(REQUIREMENTS),
    ]  # fmt: skip
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def copy_our_packages() -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "tests")
    for name in OUR_PACKAGES:
        src = PY_SERVER / name
        if not (src / "__init__.py").is_file():
            raise SystemExit(f"bundle_python: {src} is not a package")
        shutil.copytree(src, LIBS / name, ignore=ignore)
    # A small dist-info, so importlib.metadata.version("flowscribe") answers as when pip-installed.
    version = project_version()
    info = LIBS / f"flowscribe-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: flowscribe\nVersion: {version}\n", encoding="utf-8"
    )
    (info / "top_level.txt").write_text("\n".join(OUR_PACKAGES) + "\n", encoding="utf-8")


def project_version() -> str:
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'^version\s*=\s*"([^"]+)"', text, re.MULTILINE)
    return match.group(1) if match else "0.0.0"


def strip_binaries_and_caches() -> int:
    removed = 0
    for name in STRIP_TOP_LEVEL:
        target = LIBS / name
        if target.exists():
            shutil.rmtree(target)
            removed += 1
    for path in sorted(LIBS.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and path.name in STRIP_DIRS:
            shutil.rmtree(path)
            removed += 1
        elif path.is_file() and path.name.endswith(STRIP_SUFFIXES):
            path.unlink()
            removed += 1
    return removed


def copy_schemas(strict: bool) -> list[str]:
    SCHEMAS.mkdir()
    missing = []
    for name in SCHEMA_FILES:
        src = PY_SERVER / "flowscribe" / "schema" / name
        if src.is_file():
            shutil.copy2(src, SCHEMAS / name)
        else:
            missing.append(str(src.relative_to(REPO)))
    if missing and strict:
        raise SystemExit(f"bundle_python: missing JSON Schemas: {', '.join(missing)}")
    return missing


def size_of(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pip-python", default=sys.executable, help="interpreter whose pip installs the wheels"
    )
    parser.add_argument(
        "--allow-missing-schemas",
        action="store_true",
        help="warn instead of failing when a schema is missing",
    )
    args = parser.parse_args(argv)

    for folder in (BUNDLED, SCHEMAS):
        if folder.exists():
            shutil.rmtree(folder)
    LIBS.mkdir(parents=True)
    TOOL.mkdir(parents=True)

    pip_install(args.pip_python)
    copy_our_packages()
    removed = strip_binaries_and_caches()
    shutil.copy2(ENTRY, TOOL / ENTRY.name)
    missing = copy_schemas(strict=not args.allow_missing_schemas)

    count, size = size_of(BUNDLED)
    print(f"bundled/: {count} files, {size / 1024:.0f} KiB ({removed} binaries/caches/tests cut)")
    for name in missing:
        print(f"WARNING: {name} is missing; yamlValidation has no schema for it", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
