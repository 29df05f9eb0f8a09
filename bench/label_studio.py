"""FeedbackQL side by side with Label Studio 1.23.2 (SQLite) on this machine, same data, same client.

Both run here as subprocesses on 127.0.0.1 in one run: `feedbackql serve` on its embedded default
database (FerretDB on PostgreSQL, a temporary data dir, rate limit off) and `label-studio start`
(SQLite in a temporary data dir; analytics, Sentry and the version check off; no browser). One
synchronous httpx client measures, for each system:

- ingest: DATASETS datasets (projects) of RECORDS records each, `bench.common.record(i)` (a prompt,
  two responses, metadata and a model's suggestion); FeedbackQL through its bulk NDJSON endpoint,
  Label Studio through `/api/projects/{id}/import`, one request per dataset: records/s;
- listing: one dataset in pages of 100 (FeedbackQL `records(first: 100, after)` with fields,
  metadata, status, suggestions and responses; Label Studio `/api/tasks?project=&page=&page_size=100`):
  records/s and page p50;
- answering: ANSWERS records one after another (`submitResponse` with the ranking; POST
  `/api/tasks/{id}/annotations` with a choice), answers/s and p50; then ANSWERS other records with
  WORKERS threads;
- export: the answered dataset, every record with its answers (FeedbackQL `GET /datasets/{id}/export`,
  JSON lines; Label Studio `/api/projects/{id}/export?exportType=JSON&download_all_tasks=true`): rows/s.

Every request of a workload opens a fresh HTTP connection (as the outside team measured); listing and
answering are measured a second time on kept-alive connections (as real clients run). The table gives
both systems and FeedbackQL / Label Studio for throughput (> 1: FeedbackQL is faster).

    bench/label_studio_setup.sh        # once: Label Studio into .venv-labelstudio/ (ignored by git)
    .venv-test/bin/python -m bench.label_studio [RECORDS] [DATASETS]
                                       # default 10000 3; also ANSWERS=1000 WORKERS=8, and
                                       # BENCH_LOGS=DIR to keep both servers' logs
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.common import record
from tests.served import KEY, service

ROOT = Path(__file__).resolve().parent.parent
LABEL_STUDIO = ROOT / ".venv-labelstudio" / "bin" / "label-studio"
ANSWERS = int(os.environ.get("ANSWERS", "1000"))
WORKERS = int(os.environ.get("WORKERS", "8"))
PAGE = 100
TIMEOUT = 600.0

LS_CONFIG = """<View>
  <Text name="prompt" value="$prompt"/>
  <Text name="response-1" value="$response-1"/>
  <Text name="response-2" value="$response-2"/>
  <Choices name="preference" toName="prompt" choice="single" showInline="true">
    <Choice value="response-1"/>
    <Choice value="response-2"/>
  </Choices>
</View>"""

FQL_DATASET = """mutation($ws: ID!, $name: String!) { createDataset(input: {
  workspaceId: $ws, name: $name,
  fields: [{ name: "prompt", settings: { text: {} } }, { name: "response-1", settings: { text: {} } },
           { name: "response-2", settings: { text: {} } }],
  questions: [{ name: "preference", settings: { ranking: { options: [
    { value: "response-1", text: "1" }, { value: "response-2", text: "2" }] } } }] }) { id } }"""
FQL_PAGE = """query($id: ID!, $after: String) { records(datasetId: $id, first: 100, after: $after) {
  pageInfo { hasNextPage endCursor }
  edges { node { id externalId fields metadata status
    suggestions { question score agent value { ... on RankingValue { ranking { value rank } } } }
    responses { status values { question json } } } } } }"""
FQL_SUBMIT = "mutation($input: ResponseInput!) { submitResponse(input: $input) { id version } }"
RANKING = [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]
LS_CHOICE = [{"from_name": "preference", "to_name": "prompt", "type": "choices",
              "value": {"choices": ["response-1"]}}]


def client(base_url: str, headers: dict[str, str], fresh: bool) -> httpx.Client:
    """``fresh``: no connection is kept, so every request opens its own."""
    limits = httpx.Limits(max_keepalive_connections=0) if fresh else httpx.Limits()
    return httpx.Client(base_url=base_url, headers=headers, timeout=TIMEOUT, limits=limits)


def ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} "
                           f"{response.text[:2000]}")
    return response.json()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FeedbackQL:
    name = "FeedbackQL"

    def __init__(self, url: str) -> None:
        self.url, self.headers = url, {"Authorization": f"Bearer {KEY}"}

    def gql(self, http: httpx.Client, query: str, variables: dict[str, Any]) -> Any:
        body = ok(http.post("/graphql", json={"query": query, "variables": variables}))
        if body.get("errors"):
            raise RuntimeError(f"FeedbackQL errors for {query.split('{')[0].strip()} {variables}: {body['errors']}")
        return body["data"]

    def create(self, http: httpx.Client, name: str) -> str:
        ws = self.gql(http, "mutation($n: String!) { createWorkspace(name: $n) { id } }", {"n": name})
        dataset = self.gql(http, FQL_DATASET, {"ws": ws["createWorkspace"]["id"], "name": name})
        dataset_id = str(dataset["createDataset"]["id"])
        self.gql(http, "mutation($id: ID!) { publishDataset(id: $id) { id } }", {"id": dataset_id})
        return dataset_id

    def ingest(self, http: httpx.Client, dataset: str, records: int) -> None:
        body = "\n".join(json.dumps(record(i)) for i in range(records))
        answer = ok(http.post(f"/datasets/{dataset}/records", content=body.encode(),
                              headers={"Content-Type": "application/x-ndjson"}))
        if answer["created"] != records or answer["errors"]:
            raise RuntimeError(f"FeedbackQL upload: {str(answer)[:2000]}")

    def pages(self, http: httpx.Client, dataset: str) -> Iterator[list[str]]:
        after = None
        while True:
            page = self.gql(http, FQL_PAGE, {"id": dataset, "after": after})["records"]
            yield [edge["node"]["id"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return
            after = page["pageInfo"]["endCursor"]

    def answer(self, http: httpx.Client, record_id: str) -> None:
        self.gql(http, FQL_SUBMIT, {"input": {"recordId": record_id, "status": "SUBMITTED",
                                              "values": [{"question": "preference", "value": {"ranking": RANKING}}]}})

    def export(self, http: httpx.Client, dataset: str) -> int:
        with http.stream("GET", f"/datasets/{dataset}/export") as response:
            if response.status_code != 200:
                raise RuntimeError(f"FeedbackQL export: {response.status_code} {response.read()[:2000]!r}")
            return sum(1 for line in response.iter_lines() if line.strip())


class LabelStudio:
    name = "Label Studio"

    def __init__(self, url: str, token: str) -> None:
        self.url, self.headers = url, {"Authorization": f"Token {token}"}

    def create(self, http: httpx.Client, name: str) -> str:
        return str(ok(http.post("/api/projects", json={"title": name, "label_config": LS_CONFIG}))["id"])

    def ingest(self, http: httpx.Client, project: str, records: int) -> None:
        tasks = []
        for i in range(records):
            made = record(i)
            suggestion = made["suggestions"][0]
            tasks.append({"data": made["fields"], "meta": {**made["metadata"], "external_id": made["externalId"]},
                          "predictions": [{"model_version": suggestion["agent"], "score": suggestion["score"],
                                           "result": LS_CHOICE}]})
        ok(http.post(f"/api/projects/{project}/import", json=tasks))
        count = ok(http.get(f"/api/projects/{project}"))["task_number"]
        if count != records:
            raise RuntimeError(f"Label Studio import: {count} tasks of {records}")

    def pages(self, http: httpx.Client, project: str) -> Iterator[list[str]]:
        number = 1
        while True:
            page = ok(http.get("/api/tasks", params={"project": project, "page": number, "page_size": PAGE}))
            yield [str(task["id"]) for task in page["tasks"]]
            if number * PAGE >= page["total"]:
                return
            number += 1

    def answer(self, http: httpx.Client, task: str) -> None:
        ok(http.post(f"/api/tasks/{task}/annotations", json={"result": LS_CHOICE}))

    def export(self, http: httpx.Client, project: str) -> int:
        everything = {"exportType": "JSON", "download_all_tasks": "true"}
        return len(ok(http.get(f"/api/projects/{project}/export", params=everything)))


System = FeedbackQL | LabelStudio


@contextlib.contextmanager
def label_studio(folder: Path) -> Iterator[LabelStudio]:
    if not LABEL_STUDIO.exists():
        raise SystemExit(f"{LABEL_STUDIO} is missing: run bench/label_studio_setup.sh")
    port, token = free_port(), secrets.token_hex(20)
    env = {**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": str(folder), "DJANGO_DB": "sqlite",
           "LABEL_STUDIO_USERNAME": "bench@example.com", "LABEL_STUDIO_PASSWORD": secrets.token_hex(12),
           "LABEL_STUDIO_USER_TOKEN": token, "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
           "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
           "COLLECT_ANALYTICS": "false", "SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": "",
           "LATEST_VERSION_CHECK": "false", "LOG_LEVEL": "WARNING", "DEBUG": "false"}
    log = (folder / "label-studio.log").open("ab")
    process = subprocess.Popen([str(LABEL_STUDIO), "start", "--no-browser", "--internal-host", "127.0.0.1",
                                "--port", str(port), "--data-dir", str(folder),
                                "--enable-legacy-api-token"],
                               env=env, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    running = LabelStudio(f"http://127.0.0.1:{port}", token)
    try:
        deadline = time.monotonic() + 600
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Label Studio did not start:\n{(folder / 'label-studio.log').read_text()[-3000:]}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{running.url}/api/projects", headers=running.headers, timeout=5).status_code == 200:
                    break
            time.sleep(1)
        print(f"Label Studio pid {process.pid} on {running.url}", flush=True)
        WATCH.pids.append(process.pid)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


class Watch(threading.Thread):
    """Every connection the servers' process trees hold to an address other than loopback
    (sampled twice a second): the run must contact nothing outside 127.0.0.1."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.pids: list[int] = []
        self.seen: set[str] = set()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            for pid in list(self.pids):
                with contextlib.suppress(psutil.Error):
                    root = psutil.Process(pid)
                    for process in [root, *root.children(recursive=True)]:
                        for conn in process.net_connections(kind="inet"):
                            if conn.raddr and conn.raddr.ip not in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
                                self.seen.add(f"{process.name()} -> {conn.raddr.ip}:{conn.raddr.port}")


WATCH = Watch()


@dataclass
class Figures:
    values: dict[str, float] = field(default_factory=dict)

    def timed(self, what: str, count: int, action: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = action()
        self.values[what] = count / (time.perf_counter() - started)
        return result


def p50_ms(latencies: list[float]) -> float:
    return statistics.median(latencies) * 1000


def one_by_one(system: System, fresh: bool, items: list[str], act: Callable[[httpx.Client, str], Any]
               ) -> tuple[float, float]:
    """Throughput and p50 (ms) of ``act`` on each item in turn."""
    latencies = []
    with client(system.url, system.headers, fresh) as http:
        started = time.perf_counter()
        for item in items:
            begun = time.perf_counter()
            act(http, item)
            latencies.append(time.perf_counter() - begun)
        elapsed = time.perf_counter() - started
    return len(items) / elapsed, p50_ms(latencies)


def with_workers(system: System, fresh: bool, items: list[str]) -> tuple[float, float]:
    latencies: list[float] = []

    def work(share: list[str]) -> None:
        with client(system.url, system.headers, fresh) as http:
            for item in share:
                begun = time.perf_counter()
                system.answer(http, item)
                latencies.append(time.perf_counter() - begun)

    started = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(work, [items[i::WORKERS] for i in range(WORKERS)]))
    return len(items) / (time.perf_counter() - started), p50_ms(latencies)


def listing(system: System, fresh: bool, dataset: str, records: int) -> tuple[float, float, list[str]]:
    latencies, ids = [], []
    with client(system.url, system.headers, fresh) as http:
        pages = system.pages(http, dataset)
        started = begun = time.perf_counter()
        for page in pages:
            latencies.append(time.perf_counter() - begun)
            ids.extend(page)
            begun = time.perf_counter()
        elapsed = time.perf_counter() - started
    if len(ids) != records or len(set(ids)) != records:
        raise RuntimeError(f"{system.name} listing: {len(ids)} ids, {len(set(ids))} distinct, of {records}")
    return records / elapsed, p50_ms(latencies), ids


def measure(system: System, records: int, datasets: int) -> dict[str, float]:
    figures = Figures()
    with client(system.url, system.headers, fresh=True) as http:
        made = [system.create(http, f"bench-{n}") for n in range(datasets)]
        figures.timed("ingest records/s", records * datasets,
                      lambda: [system.ingest(http, dataset, records) for dataset in made])
    print(f"{system.name}: ingested", flush=True)
    out = figures.values
    out["listing records/s"], out["listing page p50 ms"], ids = listing(system, True, made[0], records)
    out["listing records/s, kept-alive"], out["listing page p50 ms, kept-alive"], _ = \
        listing(system, False, made[-1], records)
    print(f"{system.name}: listed", flush=True)
    batches = [ids[n * ANSWERS:(n + 1) * ANSWERS] for n in range(4)]
    out["answer 1-by-1 /s"], out["answer p50 ms"] = one_by_one(system, True, batches[0], system.answer)
    out[f"answer {WORKERS} threads /s"], out[f"answer {WORKERS} threads p50 ms"] = \
        with_workers(system, True, batches[1])
    out["answer 1-by-1 /s, kept-alive"], out["answer p50 ms, kept-alive"] = \
        one_by_one(system, False, batches[2], system.answer)
    out[f"answer {WORKERS} threads /s, kept-alive"], out[f"answer {WORKERS} threads p50 ms, kept-alive"] = \
        with_workers(system, False, batches[3])
    print(f"{system.name}: answered", flush=True)
    with client(system.url, system.headers, fresh=True) as http:
        rows = figures.timed("export rows/s", records, lambda: system.export(http, made[0]))
    if rows != records:
        raise RuntimeError(f"{system.name} export: {rows} rows of {records}")
    return out


def table(fql: dict[str, float], ls: dict[str, float], records: int, datasets: int) -> str:
    lines = [f"{datasets} datasets x {records:,} records; answers {ANSWERS:,} (and {WORKERS} threads); "
             "fresh connection per request unless 'kept-alive'",
             f"{'':40} {'FeedbackQL':>12} {'Label Studio':>13} {'FQL / LS':>9}"]
    for what, value in fql.items():
        other = ls[what]
        ratio = (value / other if "/s" in what else other / value) if value and other else float("nan")
        lines.append(f"{what:40} {value:12,.1f} {other:13,.1f} {ratio:9.2f}")
    lines.append("FQL / LS: throughput ratio, or LS p50 / FQL p50 for latencies; > 1 means FeedbackQL is faster")
    return "\n".join(lines)


def main(records: int, datasets: int) -> None:
    assert records >= 4 * ANSWERS, "listing gives the records answered: RECORDS >= 4 x ANSWERS"
    print(f"start: {time.strftime('%H:%M:%S')} load {os.getloadavg()}", flush=True)
    WATCH.start()
    with tempfile.TemporaryDirectory(prefix="fql-ls-bench-") as folder:
        with service(Path(folder) / "feedbackql", request_timeout_seconds=TIMEOUT) as served:
            assert served.process is not None
            print(f"FeedbackQL pid {served.process.pid} on {served.url}", flush=True)
            WATCH.pids.append(served.process.pid)
            fql = measure(FeedbackQL(served.url), records, datasets)
        print(f"FeedbackQL done: load {os.getloadavg()}", flush=True)
        (Path(folder) / "label-studio").mkdir()
        with label_studio(Path(folder) / "label-studio") as running:
            ls = measure(running, records, datasets)
        print(f"Label Studio done: load {os.getloadavg()}", flush=True)
        if os.environ.get("BENCH_LOGS"):
            for log in ["feedbackql/service.log", "label-studio/label-studio.log"]:
                shutil.copy(Path(folder) / log, Path(os.environ["BENCH_LOGS"]))
    WATCH.done.set()
    print(table(fql, ls, records, datasets))
    print("connections outside 127.0.0.1:", ", ".join(sorted(WATCH.seen)) or "none seen")


if __name__ == "__main__":
    arguments = [int(a) for a in sys.argv[1:]]
    chosen = arguments + [10_000, 3][len(arguments):]
    main(*chosen)
