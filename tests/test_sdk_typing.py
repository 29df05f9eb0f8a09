"""The SDK is typed for its users: a script's type checker sees each method's real result
(``AddRecordsReport``, ``list[RemoteRecord]`` ...), not ``Any``, bound to either client."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parent / "fixtures" / "typed_sdk" / "example.py"
CLIENT = Path(__file__).resolve().parent.parent / "client"
CONFIG = """[mypy]
strict = True
python_version = 3.11
mypy_path = {client}

[mypy-example]
disallow_any_expr = True

[mypy-pandas,datasets,pyarrow,pyarrow.*]
ignore_missing_imports = True
"""
"""The SDK is found by its source, as an installed copy would be (an editable install's import
hook is invisible to mypy); only the user's script is checked for ``Any`` expressions."""


def _mypy(tmp_path: Path) -> list[str]:
    config = tmp_path / "mypy.ini"
    config.write_text(CONFIG.format(client=CLIENT))
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir", str(tmp_path / "cache"),
         str(EXAMPLE)], capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False)
    assert "error:" in checked.stdout or checked.returncode == 0, checked.stdout + checked.stderr
    return [line for line in checked.stdout.splitlines() if "error:" in line]


def test_a_users_script_sees_every_methods_real_result(tmp_path: Path) -> None:
    """``assert_type`` pins each result in the script to its real type, and no expression of
    the script is plain ``Any`` (``disallow_any_expr``; types that merely contain ``Any``, such
    as a record's ``dict[str, Any]`` fields, are what the SDK's data is)."""
    errors = [line for line in _mypy(tmp_path) if 'Expression type contains "Any"' not in line]
    assert errors == []
