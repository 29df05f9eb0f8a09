// Managers' overview: live progress, progress per annotator, agreement per question, downloads.
import { useEffect, useState } from "preact/hooks";
import type { Api } from "./api";
import {
  AGREEMENT, type AgreementData, DATASET, type DatasetData, LIVE_PROGRESS, MANAGE, type ManageData, type Progress,
  TRAINING_TASKS, type TrainingTaskInfo, type TrainingTasksData,
} from "./ops";
import { ProgressBar } from "./progress";

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
  const [people, setPeople] = useState<ManageData["annotatorProgress"]>([]);
  const [agreement, setAgreement] = useState<AgreementData["agreement"][]>([]);
  const [error, setError] = useState<string | null>(null);
  const [tasks, setTasks] = useState<TrainingTaskInfo[]>([]);
  useEffect(() => {
    api.request<TrainingTasksData>(TRAINING_TASKS).then((d) => setTasks(d.trainingTasks), (e) => setError(String(e)));
  }, [api]);
  useEffect(() => {
    let stop = () => undefined as void;
    (async () => {
      const data = await api.request<DatasetData>(DATASET, { id: datasetId });
      setMeta(data);
      setProgress(data.dataset.progress);
      stop = api.subscribe<{ datasetProgress: Progress }>(LIVE_PROGRESS, { id: datasetId }, (d) => {
        setProgress(d.datasetProgress);
        api.request<ManageData>(MANAGE, { id: datasetId }).then((m) => setPeople(m.annotatorProgress), () => undefined);
      });
      setPeople((await api.request<ManageData>(MANAGE, { id: datasetId })).annotatorProgress);
      const levels = new Map(data.questionTypes.map((k) => [k.name, k.agreement]));
      const measured = data.dataset.questions.filter((q) => q.available && levels.get(q.kind) !== "NONE");
      setAgreement(await Promise.all(measured.map(async (q) =>
        (await api.request<AgreementData>(AGREEMENT, { id: datasetId, q: q.name })).agreement)));
    })().catch((e) => setError(String(e)));
    return () => stop();
  }, [api, datasetId]);
  if (error) return <main><p class="error" role="alert">{error}</p></main>;
  if (!meta || !progress) return <main aria-busy="true"><p>Loading…</p></main>;
  const { dataset } = meta;
  const download = (path: string, name: string) => api.download(path, name).catch((e) => setError(String(e)));
  const base = `/datasets/${encodeURIComponent(dataset.id)}`;
  return (
    <main class="manage">
      <div class="heading">
        <h1>{dataset.name} <span class="tag">{dataset.status.toLowerCase()}</span></h1>
        {dataset.status === "READY" && <a href={`#/d/${dataset.id}`}>Annotate</a>}
      </div>
      <section aria-labelledby="h-progress">
        <h2 id="h-progress">Progress</h2>
        <ProgressBar progress={progress} label="Dataset progress" />
        <p>{progress.pending} pending · {progress.responses.draft} drafts · {progress.responses.discarded} discarded
          · {dataset.distribution.minSubmitted} submitted answer(s) complete a record</p>
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
        <table>
          <thead><tr><th scope="col">Question</th><th scope="col">Level</th><th scope="col">Alpha</th>
            <th scope="col">Records</th><th scope="col">Pairs</th></tr></thead>
          <tbody>
            {agreement.map((a) => (
              <tr key={a.question}><th scope="row">{a.question}</th><td>{a.level.toLowerCase()}</td>
                <td>{a.alpha === null || a.alpha === undefined ? "—" : a.alpha.toFixed(3)}</td><td>{a.records}</td><td>{a.pairs}</td></tr>
            ))}
          </tbody>
        </table>
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
      </section>
    </main>
  );
}
