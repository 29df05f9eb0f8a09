"""Loads plugins through pluggy and checks every kind they register.

A broken plugin (duplicate kind name, missing parts, a bad model) stops start-up with a
``PluginError`` that names the plugin and the problem.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any, Generic, TypeVar

import pluggy
from pydantic import BaseModel

from feedbackql_server.kinds import hookspecs
from feedbackql_server.kinds.base import Agreement, FieldKind, Kind, QuestionKind
from feedbackql_server.kinds.tasks import TrainingTask

BUILTIN_DISTRIBUTION = "feedbackql-server"
KIND_NAME = re.compile(r"^[a-z][A-Za-z0-9]{0,49}$")
TASK_NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")

K = TypeVar("K", bound=Kind)


class PluginError(RuntimeError):
    """A plugin registered something the core cannot use."""


@dataclass(frozen=True)
class RegisteredKind(Generic[K]):
    kind: K
    plugin: str
    version: str


@dataclass(frozen=True)
class RegisteredTask:
    task: type[TrainingTask]
    plugin: str
    version: str


@dataclass
class KindRegistry:
    """The field and question kinds and the training tasks available to this process, in
    registration order."""

    fields: dict[str, RegisteredKind[FieldKind]] = field(default_factory=dict)
    questions: dict[str, RegisteredKind[QuestionKind]] = field(default_factory=dict)
    tasks: dict[str, RegisteredTask] = field(default_factory=dict)

    def field_kind(self, name: str) -> FieldKind | None:
        entry = self.fields.get(name)
        return entry.kind if entry else None

    def question_kind(self, name: str) -> QuestionKind | None:
        entry = self.questions.get(name)
        return entry.kind if entry else None


def get_plugin_manager(
    *, builtin_only: bool = False, extra_plugins: Iterable[ModuleType | object] = ()
) -> tuple[pluggy.PluginManager, dict[str, str]]:
    """A plugin manager with the ``feedbackql`` entry points loaded.

    ``builtin_only`` keeps just the kinds that ship with FeedbackQL (used for the committed
    schema and for tests that must not see locally installed plugins). Returns the manager
    and each plugin's version keyed by plugin name.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    versions: dict[str, str] = {}
    for ep in sorted(metadata.entry_points(group=hookspecs.PROJECT), key=lambda e: e.name):
        dist = ep.dist
        dist_name = dist.metadata["Name"] if dist is not None else "unknown"
        if builtin_only and dist_name != BUILTIN_DISTRIBUTION:
            continue
        if pm.get_plugin(ep.name) is not None:
            continue
        try:
            plugin = ep.load()
        except Exception as exc:
            raise PluginError(f"plugin {ep.name!r} ({dist_name}) failed to import: {exc}") from exc
        pm.register(plugin, name=ep.name)
        versions[ep.name] = dist.version if dist is not None else "unknown"
    for plugin in extra_plugins:
        name = getattr(plugin, "__name__", type(plugin).__name__)
        pm.register(plugin, name=name)
        versions[name] = str(getattr(plugin, "__version__", "unknown"))
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {exc.plugin!r} implements an unknown hook: {exc}") from exc
    return pm, versions


def load_registry(
    *, builtin_only: bool = False, extra_plugins: Iterable[ModuleType | object] = ()
) -> KindRegistry:
    """Collect and check every kind registered by the installed plugins."""
    pm, versions = get_plugin_manager(builtin_only=builtin_only, extra_plugins=extra_plugins)
    registry = KindRegistry()
    for plugin_name, kind_cls in _collect(pm.hook.feedbackql_field_types, FieldKind):
        _add(registry.fields, "field", plugin_name, versions, kind_cls)
    for plugin_name, kind_cls in _collect(pm.hook.feedbackql_question_types, QuestionKind):
        _add(registry.questions, "question", plugin_name, versions, kind_cls)
    for plugin_name, task_cls in _collect(pm.hook.feedbackql_training_tasks, TrainingTask):
        _add_task(registry.tasks, plugin_name, versions, task_cls)
    return registry


def _add_task(target: dict[str, RegisteredTask], plugin: str, versions: dict[str, str], task_cls: Any) -> None:
    if not (isinstance(task_cls, type) and issubclass(task_cls, TrainingTask)):
        raise PluginError(f"plugin {plugin!r}: training task {task_cls!r} is not a subclass of TrainingTask")
    name = getattr(task_cls, "name", None)
    if not isinstance(name, str) or not TASK_NAME.match(name):
        raise PluginError(f"plugin {plugin!r}: training task {task_cls!r} needs a `name` of lowercase "
                          "letters, digits and '_' (^[a-z][a-z0-9_]*$)")
    if not task_cls.columns:
        raise PluginError(f"plugin {plugin!r}: training task {name!r} declares no `columns`")
    if name in target:
        raise PluginError(f"plugin {plugin!r}: training task {name!r} is already registered by plugin "
                          f"{target[name].plugin!r}")
    target[name] = RegisteredTask(task=task_cls, plugin=plugin, version=versions.get(plugin, "unknown"))


def _collect(hook: Any, base: type[Any]) -> Iterable[tuple[str, type[Any]]]:
    for impl in hook.get_hookimpls():
        result: Any = impl.function()
        if not isinstance(result, Sequence) or isinstance(result, str):
            raise PluginError(
                f"plugin {impl.plugin_name!r}: {hook.name}() must return a list of "
                f"{base.__name__} subclasses, got {type(result).__name__}"
            )
        for kind_cls in result:
            yield impl.plugin_name, kind_cls


def _add(
    target: dict[str, RegisteredKind[Any]],
    category: str,
    plugin: str,
    versions: dict[str, str],
    kind_cls: type[Any],
) -> None:
    base = FieldKind if category == "field" else QuestionKind
    problem = _problem(kind_cls, base)
    if problem:
        raise PluginError(f"plugin {plugin!r}: {category} kind {kind_cls!r} {problem}")
    name = kind_cls.name
    if name in target:
        other = target[name].plugin
        raise PluginError(
            f"plugin {plugin!r}: {category} kind {name!r} is already registered by plugin {other!r}"
        )
    try:
        kind = kind_cls()
        kind.settings_schema()
        kind.value_schema()
    except Exception as exc:
        raise PluginError(f"plugin {plugin!r}: {category} kind {name!r} is unusable: {exc}") from exc
    target[name] = RegisteredKind(kind=kind, plugin=plugin, version=versions.get(plugin, "unknown"))


def _problem(kind_cls: Any, base: type[Kind]) -> str | None:
    checks: list[tuple[Callable[[], bool], str]] = [
        (lambda: isinstance(kind_cls, type) and issubclass(kind_cls, base),
         f"is not a subclass of {base.__name__}"),
        (lambda: isinstance(getattr(kind_cls, "name", None), str),
         "has no `name` string"),
        (lambda: bool(KIND_NAME.match(kind_cls.name)) and not keyword.iskeyword(kind_cls.name),
         "has a `name` that is not a camelCase identifier (^[a-z][A-Za-z0-9]*$)"),
        (lambda: isinstance(getattr(kind_cls, "settings_model", None), type)
         and issubclass(kind_cls.settings_model, BaseModel),
         "has no `settings_model` (a pydantic model)"),
        (lambda: bool(kind_cls.settings_model.model_fields),
         "has a `settings_model` without fields (GraphQL inputs need at least one)"),
        (lambda: hasattr(kind_cls, "value_type"), "has no `value_type`"),
    ]
    if base is QuestionKind:
        checks.append((lambda: isinstance(kind_cls.agreement, Agreement),
                       "has an `agreement` that is not an Agreement member"))
        checks.append((lambda: all(isinstance(s, str) for s in kind_cls.strategies),
                       "has `strategies` that are not strings"))
    for check, message in checks:
        if not check():
            return message
    return None
