// The annotation screen: one record at a time from the labeler queue (nextRecords leases it),
// drafts saved as you go, submit / discard / skip, back and forward through your answers.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { ApiError, type Api } from "./api";
import { FieldView } from "./fields";
import { renderMarkdown } from "./markdown";
import {
  ANSWERED, type AnsweredData, DATASET, type DatasetData, LIVE_PROGRESS, type MyProgress, NEXT, type Progress,
  RECORD_BY_ID, type RecordData, RELEASE, SUBMIT,
} from "./ops";
import { Mine, ProgressBar } from "./progress";
import { QuestionInput } from "./questions";

type Answers = Record<string, unknown>;
type Status = "SUBMITTED" | "DRAFT" | "DISCARDED";
const DRAFT_DELAY_MS = 800;
const FOCUSABLE = "button, textarea, input, select, li[tabindex]";

function mine(record: RecordData, meId: string) {
  return record.responses.find((r) => r.user.id === meId) ?? null;
}

export function Annotate({ api, datasetId }: { api: Api; datasetId: string }) {
  const [meta, setMeta] = useState<DatasetData | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [myProgress, setMyProgress] = useState<MyProgress | null>(null);
  const [record, setRecord] = useState<RecordData | null>(null);
  const [done, setDone] = useState(false);
  const [answers, setAnswers] = useState<Answers>({});
  const [responseStatus, setResponseStatus] = useState<Status | null>(null);
  const [saveState, setSaveState] = useState<"" | "saving" | "saved" | "unsaved">("");
  const [notice, setNotice] = useState<{ kind: "error" | "conflict" | "info"; text: string } | null>(null);
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const [busy, setBusyState] = useState(false);
  // A ref as well: a key pressed right after the next record appears must not meet a stale "busy".
  const busyRef = useRef(false);
  const setBusy = (value: boolean) => { busyRef.current = value; setBusyState(value); };
  const [history, setHistory] = useState<string[]>([]);
  const [position, setPosition] = useState(-1); // index in history; -1: the queue's record
  const version = useRef(0);
  const chain = useRef<Promise<unknown>>(Promise.resolve());
  const timer = useRef<number | undefined>(undefined);
  const questionRefs = useRef<(HTMLElement | null)[]>([]);
  const submitRef = useRef<HTMLButtonElement>(null);
  const answersRef = useRef(answers);
  answersRef.current = answers;

  const meId = meta?.me.id ?? "";
  const focusQuestion = (index: number) => {
    const el = questionRefs.current[index];
    const target = el?.querySelector<HTMLElement>(FOCUSABLE) ?? submitRef.current;
    target?.focus();
  };

  const show = useCallback((next: RecordData | null, me: string) => {
    window.clearTimeout(timer.current);
    setRecord(next);
    setNotice(null);
    setInvalid({});
    setSaveState("");
    if (!next) { setAnswers({}); return; }
    const response = mine(next, me);
    version.current = response?.version ?? 0;
    setResponseStatus(response?.status ?? null);
    const values: Answers = {};
    if (response) for (const v of response.values) values[v.question] = v.json;
    else for (const s of next.suggestions) values[s.question] = s.json;
    setAnswers(values);
    requestAnimationFrame(() => focusQuestion(0));
  }, []);

  const nextFromQueue = useCallback(async (me: string) => {
    const data = await api.request<{ nextRecords: RecordData[] }>(NEXT, { id: datasetId, first: 1 });
    setPosition(-1);
    setDone(data.nextRecords.length === 0);
    show(data.nextRecords[0] ?? null, me);
  }, [api, datasetId, show]);

  useEffect(() => {
    let stop = () => undefined as void;
    api.request<DatasetData>(DATASET, { id: datasetId }).then(async (data) => {
      setMeta(data);
      setProgress(data.dataset.progress);
      setMyProgress(data.dataset.myProgress);
      stop = api.subscribe<{ datasetProgress: Progress }>(LIVE_PROGRESS, { id: datasetId },
        (d) => setProgress(d.datasetProgress));
      await nextFromQueue(data.me.id);
    }).catch((e) => setNotice({ kind: "error", text: String(e) }));
    return () => stop();
  }, [api, datasetId]);

  function valuesFor(current: Answers) {
    const kinds = new Map(meta!.dataset.questions.map((q) => [q.name, q.kind]));
    return Object.entries(current)
      .filter(([question, value]) => kinds.has(question) && value !== null && value !== undefined)
      .map(([question, value]) => ({ question, value: { [kinds.get(question)!]: value } }));
  }

  /** Writes the response; a CONFLICT keeps the person's input and takes the current version. */
  function write(status: Status, current: Answers): Promise<boolean> {
    const target = record!;
    const run = async () => {
      try {
        const result = await api.request<{ submitResponse: { version: number; status: Status } }>(SUBMIT, {
          input: { recordId: target.id, status, values: valuesFor(current), expectedVersion: version.current },
        });
        version.current = result.submitResponse.version;
        setResponseStatus(result.submitResponse.status);
        return true;
      } catch (error) {
        if (error instanceof ApiError && error.code === "CONFLICT") {
          const fresh = await api.request<{ record: RecordData }>(RECORD_BY_ID, { id: target.id });
          const theirs = mine(fresh.record, meId);
          version.current = theirs?.version ?? 0;
          setNotice({ kind: "conflict", text: `Your answer to this record was changed elsewhere (now ${theirs
            ? `a ${theirs.status.toLowerCase()} response, version ${theirs.version}` : "deleted"}). Your input is kept: `
            + "submit again to replace it." });
        } else {
          const messages = error instanceof ApiError ? error.errors.map((e) => e.message) : [String(error)];
          setNotice({ kind: "error", text: messages.join(" · ") });
          if (error instanceof ApiError && error.code === "VALIDATION") setInvalid(blame(error));
        }
        return false;
      }
    };
    const result = chain.current.then(run, run);
    chain.current = result;
    return result;
  }

  /** The questions a VALIDATION error names (in its path or its message), with the message. */
  function blame(error: ApiError): Record<string, string> {
    const names = meta!.dataset.questions.map((q) => q.name);
    const found: Record<string, string> = {};
    for (const e of error.errors) {
      const path = [...(e.path ?? []), ...((e.extensions?.path as unknown[] | undefined) ?? [])].map(String);
      for (const name of names) {
        if (path.includes(name) || e.extensions?.question === name || e.message.includes(`'${name}'`)) found[name] = e.message;
      }
    }
    return found;
  }

  function change(question: string, value: unknown) {
    if (invalid[question]) setInvalid(({ [question]: _, ...rest }) => rest);
    const next = { ...answersRef.current, [question]: value };
    setAnswers(next);
    if (responseStatus === "SUBMITTED" || responseStatus === "DISCARDED") { setSaveState("unsaved"); return; }
    setSaveState("unsaved");
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(async () => {
      setSaveState("saving");
      if (await write("DRAFT", answersRef.current)) setSaveState("saved");
    }, DRAFT_DELAY_MS);
  }

  async function finish(status: "SUBMITTED" | "DISCARDED") {
    if (!record || busyRef.current) return;
    window.clearTimeout(timer.current);
    setBusy(true);
    const wasNew = responseStatus !== "SUBMITTED" && responseStatus !== "DISCARDED";
    try {
      if (!await write(status, answersRef.current)) { setBusy(false); return; }
      const answered = record.id;
      setHistory((h) => (h.includes(answered) ? h : [...h, answered]));
      if (wasNew) {
        setMyProgress((mine) => mine && { ...mine, available: Math.max(0, mine.available - 1),
          submitted: mine.submitted + (status === "SUBMITTED" ? 1 : 0),
          discarded: mine.discarded + (status === "DISCARDED" ? 1 : 0) });
      }
      // Showing the next record clears "busy" (see the layout effect below).
      if (position >= 0) await go(position + 1); else await nextFromQueue(meId);
    } catch (e) {
      setNotice({ kind: "error", text: String(e) });
      setBusy(false);
    }
  }

  async function skip() {
    if (!record || busyRef.current || position >= 0) return;
    setBusy(true);
    try {
      window.clearTimeout(timer.current);
      // Take the following record before giving this one back, so that it is not handed straight back.
      const data = await api.request<{ nextRecords: RecordData[] }>(NEXT, { id: datasetId, first: 2 });
      await api.request(RELEASE, { id: record.id });
      const other = data.nextRecords.find((r) => r.id !== record.id) ?? null;
      setDone(other === null);
      show(other, meId);
      if (!other) setNotice({ kind: "info", text: "Skipped. No other record is waiting for you right now." });
    } catch (e) {
      setNotice({ kind: "error", text: String(e) });
      setBusy(false);
    }
  }

  /** Moves through my answered records: history[index], or the queue past the end. */
  async function go(index: number) {
    let list = history;
    if (index < 0) {
      // Older answers than this tab's: ask the server for the records I answered.
      const data = await api.request<AnsweredData>(ANSWERED, { id: datasetId });
      const ids = data.records.edges.map((e) => e.node.id).filter((id) => !list.includes(id));
      list = [...ids, ...list];
      setHistory(list);
      index = index + ids.length;
      if (index < 0) return;
    }
    if (index >= list.length) { await nextFromQueue(meId); return; }
    const data = await api.request<{ record: RecordData }>(RECORD_BY_ID, { id: list[index] });
    setPosition(index);
    setDone(false);
    show(data.record, meId);
  }
  const back = () => go((position === -1 ? history.length : position) - 1);
  const forward = () => (position >= 0 ? go(position + 1) : undefined);

  // Layout effects run as the new record is committed: the key handler sees it before any
  // key can, and only then is the screen ready for the next Ctrl+Enter.
  useLayoutEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && event.key === "Enter") { event.preventDefault(); void finish("SUBMITTED"); }
      else if (event.altKey && event.code === "KeyD") { event.preventDefault(); void finish("DISCARDED"); }
      else if (event.altKey && event.code === "KeyS") { event.preventDefault(); void skip(); }
      else if (event.altKey && event.code === "KeyB") { event.preventDefault(); void back(); }
      else if (event.altKey && event.code === "KeyN") { event.preventDefault(); void forward(); }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });
  useLayoutEffect(() => setBusy(false), [record, done]);

  if (!meta) return <main aria-busy="true">{notice ? <p class="error" role="alert">{notice.text}</p> : <p>Loading…</p>}</main>;
  const { dataset } = meta;
  const kinds = new Map(meta.questionTypes.map((k) => [k.name, k]));
  const suggestions = new Map(record?.suggestions.map((s) => [s.question, s]) ?? []);
  const reviewing = position >= 0;
  return (
    <main class="annotate">
      <div class="heading">
        <h1>{dataset.name}</h1>
        {meta.me.role !== "ANNOTATOR" && <a href={`#/d/${dataset.id}/manage`}>Overview</a>}
        {progress && <ProgressBar progress={progress} label="Dataset progress" />}
        {myProgress && <Mine mine={myProgress} />}
      </div>
      {dataset.guidelines && (
        <details class="guidelines" open={history.length === 0}>
          <summary>Guidelines</summary>
          <div class="markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(dataset.guidelines) }} />
        </details>
      )}
      {notice && <p class={`notice ${notice.kind}`} role="alert" data-testid={`notice-${notice.kind}`}>{notice.text}</p>}
      {done && !record && (
        <section class="done"><h2>Nothing left for you here</h2>
          <p>Every record you could answer is answered or held by someone else.</p>
          <button type="button" onClick={back} disabled={busy}>Review my answers (Alt+B)</button></section>
      )}
      {record && (
        <div class="workspace" data-record={record.id}>
          <div class="record">
            <p class="meta">{reviewing ? `Reviewing your answer (${responseStatus?.toLowerCase()})` : "From your queue"}
              {record.externalId && <> · <code>{record.externalId}</code></>}</p>
            {record.readError && <p class="error" role="alert" data-testid="read-error">
              This record could not be read: {record.readError}</p>}
            {dataset.fields.map((f) => <FieldView key={f.name} field={f} value={record.fields[f.name]} />)}
          </div>
          <form class="questions" onSubmit={(e) => { e.preventDefault(); void finish("SUBMITTED"); }}>
            {dataset.questions.map((q, i) => {
              const s = suggestions.get(q.name);
              return (
                <fieldset key={`${record.id}-${q.name}`} class={invalid[q.name] ? "question invalid" : "question"}
                  data-question={q.name} aria-invalid={invalid[q.name] ? "true" : undefined}
                  aria-describedby={invalid[q.name] ? `q-${q.name}-error` : undefined}
                  ref={(el) => { questionRefs.current[i] = el; }}>
                  <legend id={`q-${q.name}-label`}>{q.title}{q.required && <span class="req" aria-label="required"> *</span>}</legend>
                  {q.description && <p class="desc">{q.description}</p>}
                  {invalid[q.name] && <p class="error" id={`q-${q.name}-error`} data-testid={`invalid-${q.name}`}>
                    {invalid[q.name]}</p>}
                  {!q.available ? <p class="error">This question's plugin is not available; it is read-only.</p>
                    : <QuestionInput q={q} kind={kinds.get(q.kind)} value={answers[q.name] ?? null} id={`q-${q.name}`}
                      onChange={(v) => change(q.name, v)} onDone={() => focusQuestion(i + 1)} />}
                  {s && (
                    <p class="suggestion" data-testid={`suggestion-${q.name}`}>
                      Suggested by <b>{s.agent ?? "an unnamed agent"}</b>
                      {s.score !== null && s.score !== undefined && <> · score {s.score.toFixed(2)}</>}
                    </p>
                  )}
                </fieldset>
              );
            })}
            <div class="actions">
              <button type="submit" ref={submitRef} disabled={busy} class="primary">Submit <kbd>Ctrl+Enter</kbd></button>
              <button type="button" onClick={() => finish("DISCARDED")} disabled={busy}>Discard <kbd>Alt+D</kbd></button>
              {!reviewing && <button type="button" onClick={skip} disabled={busy}>Skip <kbd>Alt+S</kbd></button>}
              <button type="button" onClick={back} disabled={busy}>Back <kbd>Alt+B</kbd></button>
              {reviewing && <button type="button" onClick={forward} disabled={busy}>Forward <kbd>Alt+N</kbd></button>}
              <span class="save" aria-live="polite" data-testid="save-state">
                {saveState === "saving" ? "Saving draft…" : saveState === "saved" ? "Draft saved" : saveState === "unsaved" ? "Not saved yet" : ""}
              </span>
            </div>
          </form>
        </div>
      )}
    </main>
  );
}
