"""The conventional deployment: ``pip install -r requirements.txt`` then ``streamlit run dashboard/app.py``
from the repo root (what Streamlit Community Cloud and most hosts do; see the README's "Deploying").

``streamlit run`` puts the script's folder (dashboard/) on sys.path, not the repo root, so
``from dashboard import ...`` in app.py works only where the project itself is installed. A fresh
venv install takes minutes (torch), so these tests check the two halves of that instead: the
requirements file installs the project, and an environment made from it imports this checkout's
packages from any folder with no PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines pip reads from ``path``, following ``-r`` includes (relative to the
    including file, as pip resolves them), comments and blank lines dropped."""
    lines = []
    for raw in path.read_text().splitlines():
        line = re.sub(r"(^|\s+)#.*$", "", raw).strip()  # pip's comment rule
        if not line:
            continue
        include = re.fullmatch(r"(?:-r|--requirement)[\s=]+(\S+)", line)
        if include:
            lines += requirement_lines(path.parent / include.group(1))
        else:
            lines.append(line)
    return lines


def installs_the_project_editable(line: str) -> bool:
    # pip resolves "." against the current folder: the repo root, where Community Cloud and `make setup` run pip
    return re.fullmatch(r"(?:-e|--editable)[\s=]+(?:file:)?\.(?:/)?", line) is not None


def test_requirements_install_the_project_editable():
    # Fails if the `-e .` line is removed from requirements.txt (then `streamlit run dashboard/app.py`
    # in an environment made by `pip install -r requirements.txt` stops at "No module named 'dashboard'"),
    # or if requirements-dev.txt stops including requirements.txt (`make setup` installs the project
    # only through it). Editable, not a copy: the pages, the icon and dashboard/static are read from the
    # checkout, so a copied package would mix stale modules with current scripts.
    for name in ("requirements.txt", "requirements-dev.txt"):
        lines = requirement_lines(REPO / name)
        assert any(installs_the_project_editable(line) for line in lines), f"{name} does not install the project (-e .)"


def test_this_checkout_imports_from_any_folder(tmp_path):
    # What `streamlit run` needs of the environment: from a folder outside the repo, with no PYTHONPATH
    # and no current folder on sys.path (python -I), `dashboard` and `core` are importable and are this
    # checkout's files. Fails in an environment where the project is not installed (e.g. a fresh
    # `make setup` after the requirements line is removed), or installed as a copy or from another clone.
    code = ("import json, importlib.util, core, dashboard; "
            "print(json.dumps([core.__file__, dashboard.__file__, importlib.util.find_spec('dashboard.ui').origin]))")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-I", "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"the project is not installed in {sys.prefix}: {done.stderr.strip().splitlines()[-1:]}"
    files = [Path(f).resolve() for f in json.loads(done.stdout)]
    assert files == [REPO / "core" / "__init__.py", REPO / "dashboard" / "__init__.py", REPO / "dashboard" / "ui.py"]
