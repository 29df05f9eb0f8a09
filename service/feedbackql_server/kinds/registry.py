"""Loads plugins through pluggy and checks every kind they register.

A broken plugin (duplicate kind name, missing parts, a bad model, a hook that does not match
its specification, a GraphQL type name the core or another plugin uses) stops start-up with a
``PluginError`` that names the entry point, its distribution and the problem.
"""

from __future__ import annotations

import keyword
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any, Generic, TypeVar

import pluggy
from pydantic import BaseModel

from feedbackql.moved import MovedAPIWarning
from feedbackql_server.kinds import assets, hook_checks, hookspecs, model_checks, names
from feedbackql_server.kinds.base import Agreement, FieldKind, Kind, QuestionKind
from feedbackql_server.kinds.tasks import TrainingTask
from feedbackql_server.kinds.vector_indexes import ApproximateIndex

BUILTIN_DISTRIBUTION = "feedbackql-server"
IN_PROCESS = "in-process"
KIND_NAME = re.compile(r"^[a-z][A-Za-z0-9]{0,49}$")
TASK_NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")

K = TypeVar("K", bound=Kind)


class PluginError(RuntimeError):
    """A plugin registered something the core cannot use."""


@dataclass(frozen=True)
class PluginSource:
    """Where a plugin came from: its entry point and the distribution that declares it."""

    name: str
    distribution: str
    version: str | None
    installed_at: float | None = field(default=None, compare=False)
    """When the distribution was installed (its metadata's mtime), None when unknown."""

    def __str__(self) -> str:
        if self.distribution == IN_PROCESS:
            return f"plugin {self.name!r} (registered in-process)"
        return f"plugin {self.name!r} (distribution {self.distribution} {self.version})"


@dataclass(frozen=True)
class RegisteredKind(Generic[K]):
    kind: K
    plugin: str
    version: str | None
    source: PluginSource
    widget_file: Path | None = None
    """The kind's widget module, checked to exist at registration (None: it has none)."""


WIDGET_ROUTE = "/widgets/{family}/{name}.js"
"""Where the service serves a kind's widget module (``edge/webui.py``); the API gives clients
the URL (``widget_url``)."""


def widget_url(family: str, entry: RegisteredKind[Any]) -> str | None:
    """Where the service serves a kind's widget module (the version busts browser caches)."""
    if entry.kind.widget is None:
        return None
    return WIDGET_ROUTE.format(family=family, name=entry.kind.name) + f"?v={entry.version or 0}"


@dataclass(frozen=True)
class RegisteredTask:
    task: type[TrainingTask]
    plugin: str
    version: str | None
    source: PluginSource
    question_kinds: tuple[str, ...] = ()
    """The installed question kinds the task accepts (``TrainingTask.accepts``), in registration order."""


@dataclass
class KindRegistry:
    """The field and question kinds and the training tasks available to this process, in
    registration order."""

    fields: dict[str, RegisteredKind[FieldKind]] = field(default_factory=dict)
    questions: dict[str, RegisteredKind[QuestionKind]] = field(default_factory=dict)
    tasks: dict[str, RegisteredTask] = field(default_factory=dict)
    vector_indexes: list[type[ApproximateIndex]] = field(default_factory=list)
    """Approximate vector indexes, in registration order (the service uses the first)."""

    def field_kind(self, name: str) -> FieldKind | None:
        entry = self.fields.get(name)
        return entry.kind if entry else None

    def question_kind(self, name: str) -> QuestionKind | None:
        entry = self.questions.get(name)
        return entry.kind if entry else None


def get_plugin_manager(
    *, builtin_only: bool = False, extra_plugins: Iterable[ModuleType | object] = ()
) -> tuple[pluggy.PluginManager, dict[str, PluginSource]]:
    """A plugin manager with the ``feedbackql`` entry points loaded.

    ``builtin_only`` keeps just the kinds that ship with FeedbackQL (used for the committed
    schema and for tests that must not see locally installed plugins); ``extra_plugins`` are
    registered in-process after them. Built-ins are registered first, so that a plugin that
    repeats a built-in kind is the one blamed. Returns the manager and each plugin's source.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    sources: dict[str, PluginSource] = {}
    for ep, source in _entry_points(builtin_only):
        known = sources.get(source.name)
        if known is not None:
            if known.distribution == source.distribution:
                continue  # one distribution seen twice on sys.path
            raise PluginError(f"{source}: entry point name {source.name!r} is already used by {known}"
                              f"{which_is_new(source, known)}")
        plugin = _import(ep, source)
        _register(pm, plugin, source, sources)
    for plugin in extra_plugins:
        _register(pm, plugin, in_process_source(plugin), sources)
    _check_hook_names(pm, sources)
    return pm, sources


def _import(ep: metadata.EntryPoint, source: PluginSource) -> object:
    """The plugin an entry point names; an import from a 0.1 path (``feedbackql.kinds``) works
    and is reported as a ``PluginWarning`` naming the plugin, which operators see by default
    (Python hides a plain DeprecationWarning)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MovedAPIWarning)
        try:
            plugin = ep.load()
        except Exception as exc:
            raise PluginError(f"{source} failed to import: {exc}") from exc
    moved = sorted({str(w.message) for w in caught if issubclass(w.category, MovedAPIWarning)})
    for message in moved:
        warnings.warn(f"{source}: {message}", hook_checks.PluginWarning, stacklevel=2)
    for other in caught:
        if not issubclass(other.category, MovedAPIWarning):
            warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
    return plugin


def in_process_source(plugin: object) -> PluginSource:
    """Where a plugin registered in-process (by the testing plugin) comes from, told as
    ``serve`` would tell it, so that what a kind stores in tests (plugin name and version) is
    what it stores in production: the entry point and distribution that declare the module when
    one is installed; else its ``__version__``; else None (unknown, as for data stored before
    versions were)."""
    name = getattr(plugin, "__name__", type(plugin).__name__)
    for ep in metadata.entry_points(group=hookspecs.PROJECT):
        if ep.value == name and ep.dist is not None:
            return PluginSource(ep.name, ep.dist.metadata["Name"], ep.dist.version)
    version = getattr(plugin, "__version__", None)
    return PluginSource(name, IN_PROCESS, version if isinstance(version, str) else None)


def _entry_points(builtin_only: bool) -> list[tuple[metadata.EntryPoint, PluginSource]]:
    found = []
    for ep in metadata.entry_points(group=hookspecs.PROJECT):
        dist = ep.dist
        dist_name = dist.metadata["Name"] if dist is not None else "an unknown distribution"
        if builtin_only and dist_name != BUILTIN_DISTRIBUTION:
            continue
        found.append((ep, PluginSource(ep.name, dist_name, dist.version if dist is not None else None,
                                       _installed_at(dist))))
    # Built-ins first, then in order of installation: whoever came last is the one a clash blames.
    found.sort(key=lambda pair: (pair[1].distribution != BUILTIN_DISTRIBUTION, pair[1].installed_at or 0.0,
                                 pair[1].name))
    return found


def _installed_at(dist: metadata.Distribution | None) -> float | None:
    """The mtime of the distribution's METADATA file, written when it was installed.
    importlib.metadata has no public accessor for the metadata folder; ``_path`` is how its
    path-based distributions (every installer's) keep it."""
    folder = getattr(dist, "_path", None)
    if folder is None:
        return None
    try:
        return (Path(str(folder)) / "METADATA").stat().st_mtime
    except OSError:
        return None


def which_is_new(new: PluginSource, old: PluginSource) -> str:
    """Which of two clashing plugins is the newcomer, said so the person can choose."""
    if old.distribution == BUILTIN_DISTRIBUTION:
        return "; built-in kinds are registered first, so the other plugin is refused: rename its kind"
    if new.installed_at is not None and old.installed_at is not None and new.distribution != old.distribution:
        when = datetime.fromtimestamp(new.installed_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
        return (f"; {new.distribution} is the newer install ({when}), so it is the one refused: uninstall "
                f"one of the two distributions, or ask for a rename")
    return "; it was registered later, so it is the one refused: remove one of the two, or rename a kind"


def _register(pm: pluggy.PluginManager, plugin: object, source: PluginSource,
              sources: dict[str, PluginSource]) -> None:
    if source.name in sources:
        raise PluginError(f"{source}: the name {source.name!r} is already used by {sources[source.name]}")
    try:
        pm.register(plugin, name=source.name)
    except pluggy.PluginValidationError as exc:
        detail = " ".join(str(exc).split())
        raise PluginError(f"{source}: a hook function does not match its specification: {detail}") from exc
    sources[source.name] = source
    hook_checks.warn_unmarked(plugin, str(source))


def _check_hook_names(pm: pluggy.PluginManager, sources: dict[str, PluginSource]) -> None:
    for hook_name, caller in vars(pm.hook).items():
        if getattr(caller, "spec", True) is None:
            for impl in caller.get_hookimpls():
                raise PluginError(f"{sources[impl.plugin_name]}: {hook_name}() is not a FeedbackQL hook"
                                  f"{hook_checks.did_you_mean(hook_name)}")
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {pm.get_name(exc.plugin)!r} implements an unknown hook: {exc}") from exc


def load_registry(
    *, builtin_only: bool = False, extra_plugins: Iterable[ModuleType | object] = ()
) -> KindRegistry:
    """Collect and check every kind registered by the installed plugins."""
    pm, sources = get_plugin_manager(builtin_only=builtin_only, extra_plugins=extra_plugins)
    registry = KindRegistry()
    claims: dict[str, tuple[object, PluginSource]] = {}
    for source, kind_cls in _collect(pm.hook.feedbackql_field_types, FieldKind, sources):
        _add(registry.fields, "field", source, kind_cls, claims)
    for source, kind_cls in _collect(pm.hook.feedbackql_question_types, QuestionKind, sources):
        _add(registry.questions, "question", source, kind_cls, claims)
    for source, task_cls in _collect(pm.hook.feedbackql_training_tasks, TrainingTask, sources):
        _add_task(registry.tasks, source, task_cls, registry.questions)
    for source, index_cls in _collect(pm.hook.feedbackql_vector_indexes, ApproximateIndex, sources):
        if not (isinstance(index_cls, type) and issubclass(index_cls, ApproximateIndex)):
            raise PluginError(f"{source}: vector index {index_cls!r} is not a subclass of ApproximateIndex")
        registry.vector_indexes.append(index_cls)
    return registry


def _add_task(target: dict[str, RegisteredTask], source: PluginSource, task_cls: Any,
              questions: Mapping[str, RegisteredKind[QuestionKind]]) -> None:
    if not (isinstance(task_cls, type) and issubclass(task_cls, TrainingTask)):
        raise PluginError(f"{source}: training task {task_cls!r} is not a subclass of TrainingTask")
    name = getattr(task_cls, "name", None)
    if not isinstance(name, str) or not TASK_NAME.match(name):
        raise PluginError(f"{source}: training task {task_cls!r} needs a `name` of lowercase letters, digits "
                          "and '_' (^[a-z][a-z0-9_]*$)")
    if not task_cls.columns:
        raise PluginError(f"{source}: training task {name!r} declares no `columns`")
    if name in target:
        raise PluginError(f"{source}: training task {name!r} is already registered by {target[name].source}"
                          f"{which_is_new(source, target[name].source)}")
    if not isinstance(task_cls.ui_options, Mapping):
        raise PluginError(f"{source}: training task {name!r} has `ui_options` that are not a mapping of option "
                          "to value")
    target[name] = RegisteredTask(task=task_cls, plugin=source.name, version=source.version, source=source,
                                  question_kinds=_accepted_kinds(source, task_cls, questions))


def _accepted_kinds(source: PluginSource, task_cls: type[TrainingTask],
                    questions: Mapping[str, RegisteredKind[QuestionKind]]) -> tuple[str, ...]:
    """Asked once at start-up, so a failing ``accepts`` stops it naming the task, not a request."""
    accepted = []
    for kind_name, entry in questions.items():
        try:
            if task_cls.accepts(entry.kind):
                accepted.append(kind_name)
        except Exception as error:
            raise PluginError(f"{source}: training task {task_cls.name!r} raised {type(error).__name__} in "
                              f"accepts() for the question kind {kind_name!r}: {error}") from error
    return tuple(accepted)


def _collect(hook: Any, base: type[Any], sources: dict[str, PluginSource]
             ) -> Iterable[tuple[PluginSource, type[Any]]]:
    """Each registered class with the plugin that gave it.

    The hook is called through pluggy, so wrappers and ``tryfirst``/``trylast`` apply; pluggy
    returns the results in call order, the reverse of ``get_hookimpls()``. When that call fails
    or a result is missing (a hook returned None), the implementations are called one by one,
    only to name the plugin at fault.
    """
    impls = [impl for impl in hook.get_hookimpls() if not (impl.hookwrapper or impl.wrapper)]
    try:
        results: list[Any] = hook()
    except Exception:
        results = []
    if len(results) != len(impls):
        _blame(hook, base, sources, impls)
    for impl, result in zip(impls, reversed(results), strict=True):
        source = sources[impl.plugin_name]
        _check_result(hook, base, source, result)
        for kind_cls in result:
            yield source, kind_cls


def _blame(hook: Any, base: type[Any], sources: dict[str, PluginSource], impls: list[Any]) -> None:
    for impl in impls:
        source = sources[impl.plugin_name]
        try:
            result: Any = impl.function()
        except Exception as exc:
            raise PluginError(f"{source}: {hook.name}() raised {type(exc).__name__}: {exc}") from exc
        _check_result(hook, base, source, result)
    raise PluginError(f"{hook.name}(): a hook wrapper changed the plugins' results")


def _check_result(hook: Any, base: type[Any], source: PluginSource, result: Any) -> None:
    if not isinstance(result, Sequence) or isinstance(result, str):
        raise PluginError(
            f"{source}: {hook.name}() must return a list of "
            f"{base.__name__} subclasses, got {type(result).__name__}"
        )


def _add(
    target: dict[str, RegisteredKind[Any]],
    category: str,
    source: PluginSource,
    kind_cls: type[Any],
    claims: dict[str, tuple[object, PluginSource]],
) -> None:
    base = FieldKind if category == "field" else QuestionKind
    problem = _problem(kind_cls, base)
    if problem:
        raise PluginError(f"{source}: {category} kind {_label(kind_cls)} {problem}")
    name = kind_cls.name
    if name in target:
        raise PluginError(f"{source}: {category} kind {name!r} is already registered by {target[name].source}"
                          f"{which_is_new(source, target[name].source)}")
    _claim_type_names(category, kind_cls, source, claims)
    try:
        kind = kind_cls()
        kind.settings_schema()
        kind.value_schema()
    except Exception as exc:
        raise PluginError(f"{source}: {category} kind {name!r} is unusable: {exc}") from exc
    target[name] = RegisteredKind(kind=kind, plugin=source.name, version=source.version, source=source,
                                  widget_file=assets.widget_file(kind_cls))


def _claim_type_names(category: str, kind_cls: type[Any], source: PluginSource,
                      claims: dict[str, tuple[object, PluginSource]]) -> None:
    """Refuse a kind whose GraphQL type names are the core's or another model's, or whose
    settings model is another kind's (its GraphQL types would carry the other kind's name)."""
    model = kind_cls.settings_model
    first, first_source = claims.setdefault(f"settings model {id(model)}", (kind_cls, source))
    if first is not kind_cls:
        raise PluginError(f"{source}: {category} kind {kind_cls.name!r} has the settings model of kind "
                          f"{getattr(first, 'name', first)!r} ({first_source}); give each kind a settings "
                          "model of its own (a subclass will do)")
    owned: list[tuple[str, object]] = [(n, kind_cls) for n in names.kind_type_names(category, kind_cls.name)]
    nested = [m for f in kind_cls.settings_model.model_fields.values() for m in names.nested_models(f.annotation)]
    if category == "question":
        nested.extend(names.nested_models(kind_cls.value_type))
    owned.extend((n, model) for model in nested for n in names.model_type_names(model))
    for type_name, owner in owned:
        where = f"{category} kind {kind_cls.name!r} would add the GraphQL type {type_name!r}"
        if type_name in names.CORE_TYPE_NAMES:
            raise PluginError(f"{source}: {where}, which is a core type of the schema; rename the "
                              f"{'kind' if owner is kind_cls else 'model'}")
        other_owner, other_source = claims.setdefault(type_name, (owner, source))
        if other_owner is not owner:
            raise PluginError(f"{source}: {where}, which {other_source} already adds; rename the "
                              f"{'kind' if owner is kind_cls else 'model'}")


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
         "has a `settings_model` that is not a pydantic model (leave it out for a kind without settings)"),
        (lambda: hasattr(kind_cls, "value_type"), "has no `value_type`"),
        (lambda: kind_cls.name != "kind", "is named 'kind', which the schema reserves (the `kind` field "
                                          "of every value and settings type); rename the kind"),
        (lambda: "kind" not in _aliases(kind_cls.settings_model),
         "has a settings field named 'kind', which the settings interface reserves for the kind's "
         "name; rename the field"),
    ]
    if base is QuestionKind:
        checks.append((lambda: kind_cls.agreement in list(Agreement),
                       f"has an `agreement` that is none of {[a.value for a in Agreement]}"))
        checks.append((lambda: all(isinstance(s, str) for s in kind_cls.strategies),
                       "has `strategies` that are not strings"))
        checks.append((lambda: not kind_cls.strategies or kind_cls.unify is not QuestionKind.unify,
                       "declares `strategies` but does not implement `unify()`"))
    for check, message in checks:
        if not check():
            return message
    return model_checks.models_problem(kind_cls) or assets.widget_problem(kind_cls)


def _label(kind_cls: Any) -> str:
    """A kind as a message names it: its name when it has a usable one, else its class."""
    name = getattr(kind_cls, "name", None)
    if isinstance(name, str) and KIND_NAME.match(name):
        return f"{name!r} ({getattr(kind_cls, '__module__', '?')}.{getattr(kind_cls, '__qualname__', '?')})"
    return repr(kind_cls)


def _aliases(model: type[BaseModel]) -> set[str]:
    """The names a model's fields have in GraphQL and JSON."""
    return {info.alias or name for name, info in model.model_fields.items()}
