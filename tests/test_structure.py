"""The package boundaries that keep the house livable, checked from the source."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER_ONLY = ("feedbackql_server", "feedbackql_plugins", "strawberry", "starlette", "uvicorn", "pymongo",
               "pluggy", "pydantic")


def imported_modules(folder: Path) -> Iterator[tuple[Path, str]]:
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, alias.name
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield path, node.module


def test_the_client_imports_no_server_module() -> None:
    offending = [(path.name, module) for path, module in imported_modules(ROOT / "client" / "feedbackql")
                 if module.split(".")[0] in SERVER_ONLY]
    assert offending == []


def test_the_checker_sees_imports() -> None:
    """Guards the boundary test above from passing on an empty walk."""
    modules = {module for _, module in imported_modules(ROOT / "client" / "feedbackql")}
    assert "httpx" in modules


SERVER = ROOT / "service" / "feedbackql_server"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT / "service").with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path) -> Iterator[str]:
    """Imports that run when the module is imported: not those inside functions, nor those
    under ``if TYPE_CHECKING``."""
    tree = ast.parse(path.read_text(), str(path))
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for child in ast.walk(node) if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) \
                else []:
            if isinstance(child, ast.Import):
                yield from (alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                yield child.module
                yield from (f"{child.module}.{alias.name}" for alias in child.names)


def _reaches_storage(folder: Path) -> list[tuple[str, str]]:
    imports = [(path.name, module) for path, module in imported_modules(folder)
               if module.startswith("feedbackql_server.storage")]
    uses = [(path.name, line.strip()) for path in folder.rglob("*.py")
            for line in path.read_text().splitlines() if "storage." in line or ".storage" in line]
    return imports + uses


def test_the_api_layer_never_reaches_storage() -> None:
    assert _reaches_storage(SERVER / "api") == []


def _module_path(module: str) -> Path | None:
    base = ROOT / "service" / Path(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.exists():
            return path
    return None


def defined_in(module: str, name: str, seen: frozenset[str] = frozenset()) -> str:
    """The server module where ``name``, as imported from ``module``, is defined: re-exports
    (``from x import name`` in ``module``) are followed to their source."""
    path = _module_path(module)
    if path is None or module in seen:
        return module
    if _module_path(f"{module}.{name}") is not None:
        return f"{module}.{name}"
    for node in ast.parse(path.read_text(), str(path)).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if (alias.asname or alias.name) == name and node.module.startswith("feedbackql_server"):
                    return defined_in(node.module, alias.name, seen | {module})
    return module


def server_names_used(folder: Path) -> Iterator[tuple[str, str, str]]:
    """(file, module, name) for every server name a module of ``folder`` imports, or reaches
    as an attribute of a server module it imports (``listing.RecordOrder``)."""
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        modules: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("feedbackql_server"):
                for alias in node.names:
                    yield path.name, node.module, alias.name
                    if _module_path(f"{node.module}.{alias.name}") is not None:
                        modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                modules.update({alias.asname: alias.name for alias in node.names
                                if alias.asname and alias.name.startswith("feedbackql_server")})
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
                yield path.name, modules[node.value.id], node.attr


def _storage_names(folder: Path) -> list[tuple[str, str, str]]:
    return sorted({(file, f"{module}.{name}", source) for file, module, name in server_names_used(folder)
                   if (source := defined_in(module, name)).startswith("feedbackql_server.storage")})


def test_the_api_layer_and_the_edge_name_nothing_storage_defines() -> None:
    """Not even through a re-export: a type they need lives in the domain or in a neutral
    module (``documents.py``, ``paging.py``) that storage imports too."""
    assert _storage_names(SERVER / "api") + _storage_names(SERVER / "edge") == []


def test_the_name_walk_follows_re_exports() -> None:
    """Guards the test above from passing because it cannot see a re-export."""
    assert defined_in("feedbackql_server.storage", "Storage").startswith("feedbackql_server.storage.")
    assert defined_in("feedbackql_server.domain.listing", "MetadataCondition") == "feedbackql_server.storage.records"
    assert ("session.py", "feedbackql_server.domain.listing.page", "feedbackql_server.domain.listing") in {
        (file, f"{module}.{name}", defined_in(module, name)) for file, module, name in
        server_names_used(SERVER / "domain")}


def test_the_api_layer_never_imports_the_http_edge() -> None:
    """The edge wraps the API, not the other way round: what both need (the rate limits,
    whether the database is unreachable, a widget's URL) lives below them both."""
    edge = [(file, f"{module}.{name}") for file, module, name in server_names_used(SERVER / "api")
            if defined_in(module, name).startswith("feedbackql_server.edge")]
    imports = [(path.name, module) for path, module in imported_modules(SERVER / "api")
               if module.startswith("feedbackql_server.edge")]
    assert edge + imports == []


PER_PROCESS = {"Storage", "KindRegistry", "Broker", "QueuePools", "Limits"}
"""What ``domain/session.py`` ``Services`` holds, one of each per process."""


def _dependencies(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    arguments = [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]
    return [a.arg for a in arguments if a.annotation is not None and ast.unparse(a.annotation) in PER_PROCESS]


def test_no_domain_function_takes_the_services_apart() -> None:
    """A domain function that needs more than one per-process dependency takes ``Services``,
    not a positional list of them (``submit_responses(storage, registry, events, pools, ...)``)."""
    spread = [(path.name, node.name, _dependencies(node)) for path in sorted((SERVER / "domain").glob("*.py"))
              if path.name != "session.py" for node in ast.walk(ast.parse(path.read_text()))
              if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and len(_dependencies(node)) > 1]
    assert spread == []


def test_the_session_hands_every_domain_operation_the_services() -> None:
    """One calling convention: ``module.operation(services, [caller,] arguments)``."""
    path = SERVER / "domain" / "session.py"
    tree = ast.parse(path.read_text())
    domain_modules = {alias.asname or alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
                      and node.module == "feedbackql_server.domain" for alias in node.names}
    operations = [node.value for node in ast.walk(tree) if isinstance(node, ast.Await)
                  and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute)
                  and isinstance(node.value.func.value, ast.Name) and node.value.func.value.id in domain_modules]
    assert len(operations) > 20, "the walk saw no domain call"
    other = [ast.unparse(call) for call in operations
             if not call.args or ast.unparse(call.args[0]) not in ("self.services", "self")]
    assert other == []


def test_one_place_tells_mongodb_from_ferretdb() -> None:
    """``storage/paths.py`` asks the server what it is and reads the setting that forces
    MongoDB's paths (handed over by the start-up, ``app.py``); every other module asks
    ``storage.paths``."""
    decides = SERVER / "storage" / "paths.py"
    asking = sorted((str(path.relative_to(SERVER)), word) for path in SERVER.rglob("*.py") if path != decides
                    for word in ("buildInfo", "ferretdbVersion", "storage_paths", "compare_and_set =")
                    if word in path.read_text() and not (word == "storage_paths" and path.name in (
                        "settings.py", "app.py")))
    assert asking == []
    assert "buildInfo" in decides.read_text()


def test_the_http_edge_acts_only_through_the_session() -> None:
    """Routes and middleware (``edge/``) reach the domain through ``Session`` (and the
    per-process ``Services`` that opens it), never storage: one path for every caller."""
    assert _reaches_storage(SERVER / "edge") == []


def test_the_package_root_holds_no_http_middleware() -> None:
    """The ASGI edge lives in ``edge/`` (as starlette keeps middleware in ``middleware/``)."""
    root = {path.stem for path in SERVER.glob("*.py")}
    moved = {"body_limit", "rate_limit", "request_timeout", "outage", "slow_clients", "graphql_response_media",
             "http_errors", "idempotency", "upload", "webui"}
    assert root & moved == set()


def test_the_server_has_no_import_cycle() -> None:
    modules = {module_name(path): path for path in SERVER.rglob("*.py")}
    graph = {name: {m for m in top_level_imports(path) if m in modules and m != name}
             for name, path in modules.items()}
    assert graph["feedbackql_server.api.schema"], "the walk saw no imports"
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        assert name not in visiting, " -> ".join([*visiting[visiting.index(name):], name])
        visiting.append(name)
        for imported in sorted(graph[name]):
            visit(imported)
        visiting.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)


def test_no_function_is_longer_than_60_lines() -> None:
    long = [(path.name, node.name, node.end_lineno - node.lineno + 1)
            for path in SERVER.rglob("*.py")
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno
            and node.end_lineno - node.lineno + 1 > 60]
    assert long == []


def test_type_ignores_stay_rare() -> None:
    count = sum(path.read_text().count("# type: ignore") for path in SERVER.rglob("*.py"))
    assert count <= 5


KEYED_BY_ID = re.compile(r"^(dict|OrderedDict|defaultdict|set|frozenset|Counter|Mapping|MutableMapping"
                         r"|WeakValueDictionary|WeakKeyDictionary)\[(tuple\[)?ObjectId\b")
FORGET_DATASETS = {"QueuePools", "VectorIndexes", "CommonWords", "MetadataBands", "InProcessBroker"}
"""The holders ``domain/dataset_memory.py`` names: each forgets a deleted dataset (``forget``)."""
KEYED_BY_OTHER_IDS = {
    "Pool": "a pool's records by id: the pool goes with its dataset (QueuePools)",
    "SpaceIndex": "a space's rows by record id: the index goes with its dataset (VectorIndexes)",
    "LiveSessions": "open WebSockets by user, removed as they close",
    "Usernames": "one export's user names",
    "Caller": "one request's caller: the workspaces they belong to",
    "IntentRepo": "intents (by their own id) this process could not end, retried until they are",
    "Matches": "one query's matching record ids, a value returned to its caller: nothing keeps it",
}


def _containers_keyed_by_id() -> Iterator[tuple[str, str]]:
    """(class, attribute) of every container annotated as keyed by an ``ObjectId``; the class is
    ``<module>`` for one at module level."""
    for path in sorted(SERVER.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.AnnAssign) and KEYED_BY_ID.match(ast.unparse(node.annotation)):
                yield f"{path.stem}.<module>", ast.unparse(node.target)
        for cls in (node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)):
            for node in ast.walk(cls):
                if (isinstance(node, ast.AnnAssign) and KEYED_BY_ID.match(ast.unparse(node.annotation))
                        and _kept(cls, node)):
                    yield cls.name, ast.unparse(node.target)


def _kept(cls: ast.ClassDef, node: ast.AnnAssign) -> bool:
    """Whether the annotated name outlives a call: a class-level field or a ``self.`` attribute,
    not a method's local variable."""
    return node in cls.body or ast.unparse(node.target).startswith("self.")


def test_what_is_kept_per_dataset_is_forgotten_with_it() -> None:
    """A cache keyed by dataset that ``domain/dataset_memory.py`` does not name outlives deleted
    datasets (issue 22: pools and locks did). Name it there, with a ``forget``, or here, with why it
    is not per dataset; tests/test_dataset_memory.py checks the named ones hold nothing after."""
    unnamed = [f"{owner}.{attribute}" for owner, attribute in _containers_keyed_by_id()
               if owner not in FORGET_DATASETS and owner not in KEYED_BY_OTHER_IDS]
    assert unnamed == []
    forgetting = {cls.name for path in SERVER.rglob("*.py") for cls in ast.walk(ast.parse(path.read_text()))
                  if isinstance(cls, ast.ClassDef) and any(
                      isinstance(node, ast.AsyncFunctionDef) and node.name == "forget"
                      and [a.arg for a in node.args.args[:2]] == ["self", "dataset_id"] for node in cls.body)}
    assert forgetting >= FORGET_DATASETS
