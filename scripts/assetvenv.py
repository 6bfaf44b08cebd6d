"""Run an asset script inside a private virtual environment with pinned packages.

The asset scripts (code lists, the SIPAS form) need a few PyPI packages that the app
itself never uses. Rather than asking people to set up Python by hand, each script calls
`ensure()` first: it creates the venv on first use (under ~/.cache/fieldpost/pyvenv-assets,
or $FIELDPOST_ASSET_VENV), installs scripts/requirements-assets.txt into it only when a
pinned version is missing, and re-executes the script with the venv's interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
REQUIREMENTS = SCRIPTS / "requirements-assets.txt"
DEFAULT_VENV = Path.home() / ".cache" / "fieldpost" / "pyvenv-assets"


def venv_dir() -> Path:
    return Path(os.environ.get("FIELDPOST_ASSET_VENV", DEFAULT_VENV))


def pinned() -> dict[str, str]:
    """The name==version pairs in the requirements file."""
    pins = {}
    for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    return pins


def _missing_pins(python: Path) -> list[str]:
    probe = (
        "import importlib.metadata as m, json, sys\n"
        "pins = json.loads(sys.argv[1])\n"
        "bad = []\n"
        "for n, v in pins.items():\n"
        "    try:\n"
        "        if m.version(n) != v: bad.append(n)\n"
        "    except m.PackageNotFoundError: bad.append(n)\n"
        "print(' '.join(bad))\n"
    )
    import json

    out = subprocess.run(
        [str(python), "-c", probe, json.dumps(pinned())],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.split()


def ensure() -> None:
    """Make sure we run inside the asset venv with every pinned package installed."""
    venv = venv_dir()
    python = venv / "bin" / "python"
    if Path(sys.prefix).resolve() == venv.resolve():
        return
    if not python.exists():
        print(f"creating Python venv {venv}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    missing = _missing_pins(python)
    if missing:
        print(f"installing {', '.join(missing)} into {venv}", file=sys.stderr)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)],
            check=True,
        )
    os.execv(str(python), [str(python), *sys.argv])
