"""Development mode: the plugin modules in one folder, loaded without installing them.

``feedbackql serve --plugins-dir DIR`` (and ``schema``/``plugins``) registers every module of
DIR (``name.py`` or a package folder ``name/__init__.py``) in-process, after the installed
plugins, with the same checks; an author edits and restarts without ``pip install``.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

from feedbackql_server.kinds.registry import PluginError


def plugin_modules(folder: Path) -> list[ModuleType]:
    """The modules of ``folder``, imported in order of name (the folder goes first on
    ``sys.path`` so that their own imports and package data resolve)."""
    if not folder.is_dir():
        raise PluginError(f"--plugins-dir {folder}: no such folder")
    names = sorted(_module_name(child) for child in folder.iterdir() if _module_name(child))
    sys.path.insert(0, str(folder.resolve()))
    modules = []
    for name in names:
        try:
            modules.append(importlib.import_module(name))
        except Exception as exc:
            raise PluginError(f"plugin {name!r} (in {folder}) failed to import: {type(exc).__name__}: {exc}") from exc
    return modules


def _module_name(path: Path) -> str:
    if path.name.startswith(("_", ".")):
        return ""
    if path.suffix == ".py" and path.is_file():
        return path.stem
    if path.is_dir() and (path / "__init__.py").is_file():
        return path.name
    return ""
