"""Throwaway installed distributions: a module and a dist-info folder on a path of their own,
so that plugins are found through real entry points (put the folder on sys.path or PYTHONPATH)."""

from __future__ import annotations

import textwrap
from pathlib import Path


def fake_distribution(root: Path, dist: str, version: str, entry_points: dict[str, str],
                      modules: dict[str, str]) -> Path:
    """Write ``modules`` (name -> source) and a ``dist`` distribution declaring
    ``entry_points`` (name -> module) in the ``feedbackql`` group under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = "".join(f"{name} = {module}\n" for name, module in entry_points.items())
    (info / "entry_points.txt").write_text(f"[feedbackql]\n{lines}")
    return root
