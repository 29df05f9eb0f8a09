"""Files a kind ships next to its Python module (its browser widget), found and checked when
the kind is registered, so that a missing file fails that plugin at start-up with the real
cause, in ``serve``, ``schema`` and ``plugins`` alike."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

WIDGET_SUFFIXES = (".js", ".mjs")
PACKAGE_DATA_HINT = ("ship it inside the package as package data (a package folder with "
                     "[tool.setuptools.package-data] your_package = [\"*.js\"]; a `py-modules` "
                     "layout leaves it out of the wheel)")


def widget_problem(kind_cls: Any) -> str | None:
    """Why the widget a kind class declares cannot be served, or None (also when it declares none)."""
    widget = getattr(kind_cls, "widget", None)
    if widget is None:
        return None
    if not isinstance(widget, str) or not widget.endswith(WIDGET_SUFFIXES):
        return f"declares a `widget` that is not the name of a .js or .mjs file: {widget!r}"
    path = widget_file(kind_cls)
    if path is None:
        return "declares a widget, but its module has no file to find the widget next to"
    if not path.is_file():
        return f"declares the widget {widget!r}, but the file is missing: {path}; {PACKAGE_DATA_HINT}"
    return None


def widget_file(kind_cls: Any) -> Path | None:
    """The widget file a kind class declares, next to the module that defines the class."""
    module = sys.modules.get(getattr(kind_cls, "__module__", ""))
    origin = getattr(module, "__file__", None)
    widget = getattr(kind_cls, "widget", None)
    if origin is None or widget is None:
        return None
    return Path(str(origin)).resolve().parent / str(widget)
