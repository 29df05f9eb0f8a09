// Managers' overview: live progress, progress per annotator, live agreement per question, who
// answered what, the completion threshold, publishing, members, downloads.
import { useEffect, useRef, useState } from "preact/hooks";
import type { Api } from "./api";
import { AnsweredRecords } from "./answers";
import {
  AGREEMENT, DATASET, type DatasetData, LIVE_PROGRESS, MANAGE, type Progress, TRAINING_TASKS, type TrainingTaskInfo,
} from "./ops";
import type * as G from "./generated/graphql";
import { describeError, ProgressBar, Threshold } from "./progress";
import { DraftEditor } from "./draftedit";
import { CopyDataset, Members, Publish } from "./team";

/** Figures that follow answers are fetched again at most this often while answers come in. */
const REFRESH_MS = 1000;

/** Calls `run` now, then at most once per `ms` however often it is asked (the last ask is never lost). */
function useThrottle(run: () => void, ms: number): () => void {
  const last = useRef(0);
  const timer = useRef<number | undefined>(undefined);
  const latest = useRef(run);
  latest.current = run;
  useEffect(() => () => window.clearTimeout(timer.current), []);
  return () => {
    if (timer.current !== undefined) return;
    const wait = Math.max(0, last.current + ms - Date.now());
    timer.current = window.setTimeout(() => { timer.current = undefined; last.current = Date.now(); latest.current(); }, wait);
  };
}

/** The training downloads a question offers: every installed task that accepts its kind
 * (trainingTasks.questionKinds), with the options the task gives one-click downloads. */
function taskDownloads(tasks: TrainingTaskInfo[], question: { name: string; kind: string }) {
  return tasks.filter((t) => t.questionKinds.includes(question.kind)).map((t) => {
    const options = new URLSearchParams({ question: question.name });
    for (const [key, value] of Object.entries(t.uiOptions ?? {})) options.set(key, String(value));
    const extra = Object.entries(t.uiOptions ?? {}).map(([k, v]) => `${k} ${v}`).join(", ");
    return { task: t.name, title: t.description, query: options.toString(),
      label: `${t.name}${extra ? ` (${extra})` : ""}: ${question.name}` };
  });
}

export function Manage({ api, datasetId }: { api: Api; datasetId: string }) {
  const [meta, setMeta] = useState<DatasetData | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [people, setPeople] = useState<G.ManageQuery["annotatorProgress"]>([]);
  const [agreement, setAgreement] = useState<G.AgreementQuery["agreement"][]>([]);
  const [error, setError] = useState<string | null>(null);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const [tasks, setTasks] = useState<TrainingTaskInfo[]>([]);
  useEffect(() => {
    api.request(TRAINING_TASKS).then((d) => setTasks(d.trainingTasks), (e) => setError(String(e)));
  }, [api]);
  const [answersVersion, setAnswersVersion] = useState(0);
  const [loads, setLoads] = useState(0);
  const metaRef = useRef(meta);
  metaRef.current = meta;
  /** Agreement and the per-annotator figures again: answers came in. */
  const refresh = useThrottle(() => {
    const data = metaRef.current;
    if (!data) return;
    api.request(MANAGE, { id: datasetId }).then((m) => setPeople(m.annotatorProgress), () => undefined);
    const levels = new Map(data.questionTypes.map((k) => [k.name, k.agreement]));
    const measured = data.dataset.questions.filter((q) => q.available && levels.get(q.kind) !== "NONE");
    Promise.all(measured.map(async (q) => (await api.request(AGREEMENT, { id: datasetId, q: q.name })).agreement))
      .then(setAgreement, () => undefined);
    setAnswersVersion((n) => n + 1);
  }, REFRESH_MS);
  useEffect(() => {
    let stop = () => undefined as void;
    (async () => {
      const data = await api.request(DATASET, { id: datasetId });
      setMeta(data);
      metaRef.current = data;
      setProgress(data.dataset.progress);
      refresh();
      stop = api.subscribe(LIVE_PROGRESS, { id: datasetId }, (d) => {
        setProgress(d.datasetProgress);
        refresh();
      });
    })().catch((e) => setError(describeError(e)));
    return () => stop();
  }, [api, datasetId, loads]);
  if (error) return <main><p class="error" role="alert">{error}</p></main>;
  if (!meta || !progress) return <main aria-busy="true"><p>Loading…</p></main>;
  const { dataset } = meta;
  if (meta.me.role === "ANNOTATOR") {
    // The service refuses every overview call to an annotator; say so instead of showing controls that fail.
    return (
      <main class="manage">
        <h1>{dataset.name}</h1>
        <p class="error" role="alert" data-testid="overview-refused">The overview is for the workspace's owners and admins.</p>
        {dataset.status === "READY" && <p><a href={`#/d/${dataset.id}`}>Annotate this dataset</a></p>}
      </main>
    );
  }
  // A refused or failed download is said next to the buttons; the overview stays.
  const download = (path: string, name: string) => api.download(path, name).then(() => setDownloadError(null),
    (e) => setDownloadError(describeError(e)));
  const base = `/datasets/${encodeURIComponent(dataset.id)}`;
  return (
    <main class="manage">
      <div class="heading">
        <h1>{dataset.name} <span class="tag">{dataset.status.toLowerCase()}</span></h1>
        {dataset.status === "READY" && <a href={`#/d/${dataset.id}`}>Annotate</a>}
        <a href={`#/d/${dataset.id}/records`}>Records</a>
        <a href={`#/d/${dataset.id}/duplicates`}>Near-duplicates</a>
      </div>
      {dataset.status === "DRAFT" && <Publish api={api} datasetId={dataset.id} onPublished={() => setLoads((n) => n + 1)} />}
      {dataset.status === "DRAFT" && <DraftEditor api={api} datasetId={dataset.id} guidelines={dataset.guidelines}
        fields={dataset.fields} questions={dataset.questions} onChanged={() => setLoads((n) => n + 1)} />}
      <section aria-labelledby="h-progress">
        <h2 id="h-progress">Progress</h2>
        <ProgressBar progress={progress} label="Dataset progress" />
        <p>{progress.pending} pending · {progress.responses.draft} drafts · {progress.responses.discarded} discarded</p>
        <Threshold api={api} datasetId={dataset.id} value={dataset.distribution.minSubmitted}
          onSaved={(n) => setMeta({ ...meta, dataset: { ...dataset, distribution: { minSubmitted: n } } })} />
      </section>
      <section aria-labelledby="h-people">
        <h2 id="h-people">Annotators</h2>
        <table>
          <thead><tr><th scope="col">User</th><th scope="col">Submitted</th><th scope="col">Drafts</th>
            <th scope="col">Discarded</th><th scope="col">Left for them</th></tr></thead>
          <tbody>
            {people.map((p) => (
              <tr key={p.userId}><th scope="row">{p.username}</th><td>{p.submitted}</td><td>{p.draft}</td>
                <td>{p.discarded}</td><td>{p.available}</td></tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="h-agreement">
        <h2 id="h-agreement">Agreement (Krippendorff's alpha)</h2>
        <p class="hint">Measured again as answers come in.</p>
        <table>
          <thead><tr><th scope="col">Question</th><th scope="col">Level</th><th scope="col">Alpha</th>
            <th scope="col">Records</th><th scope="col">Pairs</th></tr></thead>
          <tbody>
            {agreement.map((a) => (
              <tr key={a.question} data-agreement={a.question}><th scope="row">{a.question}</th><td>{a.level.toLowerCase()}</td>
                <td>{a.alpha === null || a.alpha === undefined ? "—" : a.alpha.toFixed(3)}</td><td>{a.records}</td><td>{a.pairs}</td></tr>
            ))}
          </tbody>
        </table>
      </section>
      <AnsweredRecords api={api} datasetId={dataset.id} fields={dataset.fields} questions={dataset.questions}
        unifiable={dataset.questions.filter((q) => q.available
          && meta.questionTypes.find((k) => k.name === q.kind)?.strategies.length).map((q) => q.name)}
        version={answersVersion} />
      <Members api={api} datasetId={dataset.id} />
      <section aria-labelledby="h-copy">
        <h2 id="h-copy">A new dataset</h2>
        <CopyDataset api={api} datasetId={dataset.id} fields={dataset.fields} questions={dataset.questions} />
      </section>
      <section aria-labelledby="h-export">
        <h2 id="h-export">Downloads</h2>
        <div class="downloads">
          <button type="button" onClick={() => download(`${base}/export?format=jsonl`, `${dataset.name}.jsonl`)}>Records (JSONL)</button>
          <button type="button" onClick={() => download(`${base}/export?format=csv`, `${dataset.name}.csv`)}>Records (CSV)</button>
          {dataset.questions.filter((q) => q.available).flatMap((q) => taskDownloads(tasks, q).map((t) => (
            <button type="button" key={`${q.name}-${t.task}`} title={t.title} data-task={t.task}
              onClick={() => download(`${base}/training/${t.task}?${t.query}`, `${dataset.name}-${t.task}-${q.name}.jsonl`)}>
              {t.label}
            </button>
          )))}
        </div>
        {downloadError && <p class="error" role="alert" data-testid="download-error">{downloadError}</p>}
      </section>
    </main>
  );
}
