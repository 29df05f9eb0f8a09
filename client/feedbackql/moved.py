"""Old import paths of the plugin API, kept working for a stated time (docs/plugins.md, "API
stability").

In 0.1 the server and the SDK were one package, ``feedbackql``: plugins imported
``feedbackql.kinds`` and reused ``feedbackql.plugins.*``. Those now live in
``feedbackql_server.kinds`` and ``feedbackql_plugins``, and ``feedbackql`` is the SDK, which must
install and import without the server. So the old names resolve lazily: only an access
imports the server (never ``import feedbackql``), it warns with a ``MovedAPIWarning`` naming the
new import, and without the server it fails with an ``ImportError`` that says what to install.
Old and new names give the very same objects, so a kind is never registered twice.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

REMOVED_IN = "0.4"
MOVES = {"feedbackql.kinds": "feedbackql_server.kinds", "feedbackql.plugins": "feedbackql_plugins"}


class MovedAPIWarning(DeprecationWarning):
    """A plugin imported a name from where it was in FeedbackQL 0.1."""


def new_name(old: str) -> str:
    for prefix, target in MOVES.items():
        if old == prefix or old.startswith(prefix + "."):
            return target + old[len(prefix):]
    raise KeyError(old)


def warn(old: str, *, stacklevel: int = 3) -> None:
    warnings.warn(f"{old} moved to {new_name(old)} in FeedbackQL 0.2; import it from there (the old name "
                  f"keeps working until {REMOVED_IN})", MovedAPIWarning, stacklevel=stacklevel)


def load(old: str) -> ModuleType:
    """The module ``old`` now is, imported on first use."""
    target = new_name(old)
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as exc:
        if exc.name is None or not target.startswith(exc.name):
            raise
        raise ImportError(f"{old} is part of the FeedbackQL server's plugin API ({target}), which is not "
                          "installed: pip install feedbackql-server", name=old) from exc


def forward(old: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` for the package ``old``: its attributes are the new module's,
    and its submodules resolve to the new ones (``MovedFinder``)."""
    if not any(isinstance(finder, MovedFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, MovedFinder())

    def __getattr__(name: str) -> Any:  # noqa: N807  # a module's __getattr__
        if name.startswith("__"):
            raise AttributeError(name)
        warn(old)
        return getattr(load(old), name)

    return __getattr__


class MovedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves ``feedbackql.kinds.base`` and the like to the module under its new name (the
    same module object, so classes keep their identity)."""

    def __init__(self) -> None:
        self._specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname in MOVES or not any(fullname.startswith(prefix + ".") for prefix in MOVES):
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        warn(spec.name, stacklevel=4)
        module = load(spec.name)
        self._specs[spec.name] = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system gave the module the old name's spec; give it its own back.
        module.__spec__ = self._specs.pop(module.__spec__.name if module.__spec__ else "", module.__spec__)
