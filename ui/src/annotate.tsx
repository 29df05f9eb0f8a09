// The annotation screen: one record at a time from the labeler queue (nextRecords leases it),
// drafts saved as you go, submit / discard / skip, back and forward through your answers.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { ApiError, byKind, NETWORK, type Api } from "./api";
import type { ValueInput } from "./generated/graphql";
import { FieldView } from "./fields";
import { renderMarkdown } from "./markdown";
import {
  ANSWERED, DATASET, type DatasetData, LIVE_PROGRESS, type MyProgress, NEXT, type Progress,
  RECORD_BY_ID, type RecordData, RELEASE, SUBMIT,
} from "./ops";
import { Mine, ProgressBar } from "./progress";
import { explain } from "./messages";
import { keep, kept, sent, unsentRecords, type Answers } from "./keep";
import { QuestionInput } from "./questions";
import { widgetProblems } from "./widgets";
import { FindSimilar } from "./similar";

type Status = "SUBMITTED" | "DRAFT" | "DISCARDED";
const DRAFT_DELAY_MS = 800;
const FOCUSABLE = "button, textarea, input, select, li[tabindex], .widget[data-family=question]";
const SKIP_MINUTES = 10;
const KEPT = "your answer is kept on this device";
/** Codes worth retrying as they are: the request may never have reached the service. */
const TRANSIENT: Record<string, string> = {
  [NETWORK]: `Cannot reach the service — ${KEPT}.`,
  UNAVAILABLE: `The service cannot reach its database right now — ${KEPT}.`,
  TIMEOUT: `The service did not answer in time — ${KEPT}.`,
};
type Notice = { kind: "error" | "conflict" | "info"; text: string; retry?: () => void };
type SaveState = "" | "saving" | "saved" | "unsaved" | "failed";
const SAVE_TEXT: Record<SaveState, string> = {
  "": "", saving: "Saving draft…", saved: "Draft saved", unsaved: "Not saved yet",
  failed: "Not saved on the server — kept on this device",
};

/** Wide enough for the guidelines beside the record and the questions (style.css docks them there). */
const DOCKED = "(min-width: 1200px)";
const SHORTCUT_HELP: [string, string][] = [
  ["Ctrl+Enter", "submit"], ["Alt+D", "discard"], ["Alt+S", "skip"], ["Alt+B / Alt+N", "back / forward"],
  ["Alt+G", "guidelines"], ["Esc", "close the guidelines"],
];

/** The screen's keyboard shortcuts (each question says its own keys). */
function Keys() {
  return (
    <details class="keys">
      <summary>Keys</summary>
      <dl>{SHORTCUT_HELP.map(([key, what]) => <div key={key}><dt><kbd>{key}</kbd></dt><dd>{what}</dd></div>)}</dl>
    </details>
  );
}

/** An error in words (a network failure is already "Cannot reach the service"); writes say more (TRANSIENT). */
function describe(error: unknown): string {
  if (!(error instanceof ApiError)) return String(error);
  return error.errors.map((e) => e.message).join(" · ");
}

function mine(record: RecordData, meId: string) {
  return record.responses.find((r) => r.user.id === meId) ?? null;
}

/** Puts the record in the address, so a reload opens this record again (a draft, not a new one). */
function remember(datasetId: string, recordId: string | null) {
  history.replaceState(null, "", `#/d/${datasetId}${recordId ? `/r/${recordId}` : ""}`);
}

/** The figures of "me" after a response went from one status to another. */
function moved(mine: MyProgress, from: Status | null, to: Status): MyProgress {
  const count = (s: Status | null) => (s === "SUBMITTED" ? "submitted" : s === "DRAFT" ? "draft" : s === "DISCARDED" ? "discarded" : null);
  const next = { ...mine };
  const before = count(from), after = count(to);
  if (before) next[before] = Math.max(0, next[before] - 1);
  if (after) next[after] += 1;
  if ((from === null || from === "DRAFT") && to !== "DRAFT") next.available = Math.max(0, next.available - 1);
  return next;
}

export function Annotate({ api, datasetId, recordId }: { api: Api; datasetId: string; recordId?: string }) {
  const [meta, setMeta] = useState<DatasetData | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [myProgress, setMyProgress] = useState<MyProgress | null>(null);
  const [record, setRecord] = useState<RecordData | null>(null);
  const [done, setDone] = useState(false);
  const [answers, setAnswers] = useState<Answers>({});
  const [responseStatus, setResponseStatus] = useState<Status | null>(null);
  const [saveState, setSaveState] = useState<SaveState>("");
  const [notice, setNotice] = useState<Notice | null>(null);
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const [busy, setBusyState] = useState(false);
  // A ref as well: a key pressed right after the next record appears must not meet a stale "busy".
  const busyRef = useRef(false);
  const setBusy = (value: boolean) => { busyRef.current = value; setBusyState(value); };
  const [history, setHistory] = useState<string[]>([]);
  const [position, setPosition] = useState(-1); // index in history; -1: the queue's record
  const [guidelinesOpen, setGuidelinesOpen] = useState(false);
  const guidelinesRef = useRef<HTMLElement>(null);
  const version = useRef(0);
  const chain = useRef<Promise<unknown>>(Promise.resolve());
  const timer = useRef<number | undefined>(undefined);
  const questionRefs = useRef<(HTMLElement | null)[]>([]);
  const submitRef = useRef<HTMLButtonElement>(null);
  const answersRef = useRef(answers);
  answersRef.current = answers;
  const statusRef = useRef(responseStatus);
  statusRef.current = responseStatus;
  useEffect(() => () => window.clearTimeout(timer.current), []);
  const latest = useRef((_targetId: string) => Promise.resolve());

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
    remember(datasetId, next?.id ?? null);
    if (!next) { setAnswers({}); return; }
    const response = mine(next, me);
    version.current = response?.version ?? 0;
    setResponseStatus(response?.status ?? null);
    statusRef.current = response?.status ?? null;
    const values: Answers = {};
    if (response) for (const v of response.values) values[v.question] = v.json;
    else for (const s of next.suggestions) values[s.question] = s.json;
    const local = kept(me, next.id);
    setAnswers(local?.answers ?? values);
    answersRef.current = local?.answers ?? values;
    if (local) {
      setNotice({ kind: "info", text: "Restored what you typed on this device; it is not on the server yet." });
      scheduleDraft(next.id);
    }
    requestAnimationFrame(() => focusQuestion(0));
  }, [datasetId]);

  const nextFromQueue = useCallback(async (me: string) => {
    const data = await api.request(NEXT, { id: datasetId, first: 1 });
    setPosition(-1);
    setDone(data.nextRecords.length === 0);
    show(data.nextRecords[0] ?? null, me);
  }, [api, datasetId, show]);

  /** A record picked from "find similar": shown in place, and put in the address. */
  async function openRecord(id: string) {
    const data = await api.request(RECORD_BY_ID, { id }).catch(() => null);
    if (data?.record) { setPosition(-1); show(data.record, meId); }
  }

  /** The record in the address, else one with unsent input on this device, else the queue's. */
  async function openFirst(me: string) {
    const wanted = recordId ?? unsentRecords(me, datasetId)[0]?.recordId;
    if (wanted) {
      const data = await api.request(RECORD_BY_ID, { id: wanted }).catch(() => null);
      if (data?.record) { setPosition(-1); show(data.record, me); return; }
    }
    await nextFromQueue(me);
  }

  useEffect(() => {
    let stop = () => undefined as void;
    api.request(DATASET, { id: datasetId }).then(async (data) => {
      setMeta(data);
      setProgress(data.dataset.progress);
      setMyProgress(data.dataset.myProgress);
      // Before my first answer the guidelines open beside the record where there is room for them.
      const mine = data.dataset.myProgress;
      if (data.dataset.guidelines && mine.submitted + mine.draft + mine.discarded === 0 && window.matchMedia(DOCKED).matches) {
        setGuidelinesOpen(true);
      }
      stop = api.subscribe(LIVE_PROGRESS, { id: datasetId },
        (d) => setProgress(d.datasetProgress));
      await openFirst(data.me.id);
    }).catch((e) => setNotice({ kind: "error", text: describe(e) }));
    return () => stop();
  }, [api, datasetId]);

  function valuesFor(current: Answers) {
    // An unavailable question is read-only: its pre-filled suggestion is never sent.
    const kinds = new Map(meta!.dataset.questions.filter((q) => q.available).map((q) => [q.name, q.kind]));
    return Object.entries(current)
      .filter(([question, value]) => kinds.has(question) && value !== null && value !== undefined)
      .map(([question, value]) => ({ question, value: byKind<ValueInput>(kinds.get(question)!, value) }));
  }

  /** Writes the response; a CONFLICT keeps the person's input and takes the current version; a
   * failure that may pass (network, outage) offers `retry`. The local copy goes once the server has it. */
  function write(status: Status, current: Answers, retry: () => void, targetId = record!.id): Promise<boolean> {
    const run = async () => {
      try {
        const result = await api.request(SUBMIT, {
          input: { recordId: targetId, status, values: valuesFor(current), expectedVersion: version.current },
        });
        version.current = result.submitResponse.version;
        const from = statusRef.current;
        statusRef.current = result.submitResponse.status;
        setResponseStatus(result.submitResponse.status);
        setMyProgress((m) => m && moved(m, from, result.submitResponse.status));
        sent(meId, targetId, current);
        setNotice((n) => (n?.retry || n?.kind === "info" ? null : n));
        return true;
      } catch (error) {
        if (error instanceof ApiError && TRANSIENT[error.code]) {
          setNotice({ kind: "error", text: TRANSIENT[error.code], retry });
        } else if (error instanceof ApiError && error.code === "CONFLICT") {
          const fresh = await api.request(RECORD_BY_ID, { id: targetId });
          const theirs = mine(fresh.record, meId);
          version.current = theirs?.version ?? 0;
          setNotice({ kind: "conflict", text: `Your answer to this record was changed elsewhere (now ${theirs
            ? `a ${theirs.status.toLowerCase()} response, version ${theirs.version}` : "deleted"}). Your input is kept: `
            + "submit again to replace it." });
        } else if (error instanceof ApiError && error.code === "VALIDATION") {
          const said = explain(error, meta!.dataset.questions);
          setNotice({ kind: "error", text: said.summary });
          setInvalid(said.byQuestion);
        } else {
          setNotice({ kind: "error", text: describe(error) });
        }
        return false;
      }
    };
    const result = chain.current.then(run, run);
    chain.current = result;
    return result;
  }

  function change(question: string, value: unknown) {
    if (invalid[question]) setInvalid(({ [question]: _, ...rest }) => rest);
    const next = { ...answersRef.current, [question]: value };
    answersRef.current = next;
    setAnswers(next);
    keep(meId, datasetId, record!.id, next);
    scheduleDraft(record!.id);
  }

  /** A draft save after a pause; an answered record is only marked unsaved (a draft would demote it). */
  function scheduleDraft(targetId: string) {
    setSaveState("unsaved");
    window.clearTimeout(timer.current);
    if (statusRef.current === "SUBMITTED" || statusRef.current === "DISCARDED") return;
    // The latest render's saveDraft: the one that scheduled it may predate the dataset's layout.
    timer.current = window.setTimeout(() => void latest.current(targetId), DRAFT_DELAY_MS);
  }

  /** "Draft saved" only when the server has what is on screen; anything else says it is not saved. */
  async function saveDraft(targetId: string) {
    const sending = answersRef.current;
    setSaveState("saving");
    const ok = await write("DRAFT", sending, () => void latest.current(targetId), targetId);
    setSaveState(!ok ? "failed" : answersRef.current === sending ? "saved" : "unsaved");
  }

  latest.current = saveDraft;

  async function finish(status: "SUBMITTED" | "DISCARDED") {
    if (!record || busyRef.current) return;
    const blocked = status === "SUBMITTED" ? widgetProblems() : [];
    if (blocked.length) { setNotice({ kind: "error", text: blocked.join(" · ") }); return; }
    window.clearTimeout(timer.current);
    setBusy(true);
    try {
      if (!await write(status, answersRef.current, () => void finish(status))) {
        setSaveState("failed");
        setBusy(false);
        return;
      }
      const answered = record.id;
      setHistory((h) => (h.includes(answered) ? h : [...h, answered]));
      // Showing the next record clears "busy" (see the layout effect below).
      if (position >= 0) await go(position + 1); else await nextFromQueue(meId);
    } catch (e) {
      setNotice({ kind: "error", text: describe(e) });
      setBusy(false);
    }
  }

  /** Skips the record for SKIP_MINUTES (the server offers it to me last till then); what I typed
   * on it is saved as a draft first, so skipping never loses it. */
  async function skip() {
    if (!record || busyRef.current || position >= 0) return;
    setBusy(true);
    window.clearTimeout(timer.current);
    try {
      if (kept(meId, record.id) && !await write("DRAFT", answersRef.current, () => void skip())) {
        setSaveState("failed");
        setBusy(false);
        return;
      }
      await api.request(RELEASE, { id: record.id, skipMinutes: SKIP_MINUTES });
      const data = await api.request(NEXT, { id: datasetId, first: 1 });
      const next = data.nextRecords[0] ?? null;
      setDone(next === null);
      show(next, meId);
      setNotice({ kind: "info", text: next?.id === record.id
        ? "Skipped, but nothing else is waiting for you: here it is again."
        : `Skipped: it comes back to you in ${SKIP_MINUTES} minutes, or sooner if nothing else is waiting.` });
    } catch (e) {
      setNotice({ kind: "error", text: describe(e) });
      setBusy(false);
    }
  }

  /** Moves through my answered records: history[index], or the queue past the end. */
  async function go(index: number) {
    let list = history;
    if (index < 0) {
      // Older answers than this tab's: ask the server for the records I answered.
      const data = await api.request(ANSWERED, { id: datasetId });
      const ids = data.records.edges.map((e) => e.node.id).filter((id) => !list.includes(id));
      list = [...ids, ...list];
      setHistory(list);
      index = index + ids.length;
      if (index < 0) return;
    }
    if (index >= list.length) { await nextFromQueue(meId); return; }
    const data = await api.request(RECORD_BY_ID, { id: list[index] });
    setPosition(index);
    setDone(false);
    show(data.record, meId);
  }
  const back = () => go((position === -1 ? history.length : position) - 1);
  const forward = () => (position >= 0 ? go(position + 1) : undefined);
  /** Opens the guidelines panel (focus moves into it) or closes it (focus back to the questions). */
  function toggleGuidelines() {
    const open = !guidelinesOpen;
    setGuidelinesOpen(open);
    requestAnimationFrame(() => (open ? guidelinesRef.current?.focus() : focusQuestion(0)));
  }

  // Layout effects run as the new record is committed: the key handler sees it before any
  // key can, and only then is the screen ready for the next Ctrl+Enter.
  useLayoutEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && event.key === "Enter") { event.preventDefault(); void finish("SUBMITTED"); }
      else if (event.altKey && event.code === "KeyD") { event.preventDefault(); void finish("DISCARDED"); }
      else if (event.altKey && event.code === "KeyS") { event.preventDefault(); void skip(); }
      else if (event.altKey && event.code === "KeyB") { event.preventDefault(); void back(); }
      else if (event.altKey && event.code === "KeyN") { event.preventDefault(); void forward(); }
      else if (event.altKey && event.code === "KeyG") { event.preventDefault(); toggleGuidelines(); }
      else if (event.key === "Escape" && guidelinesOpen) { event.preventDefault(); toggleGuidelines(); }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });
  useLayoutEffect(() => setBusy(false), [record, done]);

  if (!meta) return <main aria-busy="true">{notice ? <p class="error" role="alert">{notice.text}</p> : <p>Loading…</p>}</main>;
  const { dataset } = meta;
  const kinds = new Map(meta.questionTypes.map((k) => [k.name, k]));
  const fieldWidgets = new Map(meta.fieldTypes.map((k) => [k.name, k.widgetUrl]));
  const suggestions = new Map(record?.suggestions.map((s) => [s.question, s]) ?? []);
  const reviewing = position >= 0;
  return (
    <main class="annotate">
      <div class="heading">
        <h1>{dataset.name}</h1>
        {meta.me.role !== "ANNOTATOR" && <a href={`#/d/${dataset.id}/manage`}>Overview</a>}
        <a href={`#/d/${dataset.id}/drafts`} data-testid="drafts-link">Drafts ({myProgress?.draft ?? 0})</a>
        <a href={`#/d/${dataset.id}/records`} data-testid="records-link">Records</a>
        {progress && <ProgressBar progress={progress} label="Dataset progress" />}
        {myProgress && <Mine mine={myProgress} />}
        {dataset.guidelines && (
          <button type="button" class="guidelines-toggle" aria-expanded={guidelinesOpen} aria-controls="guidelines"
            onClick={toggleGuidelines}>Guidelines <kbd>Alt+G</kbd></button>
        )}
        <Keys />
      </div>
      {notice && (
        <p class={`notice ${notice.kind}`} role="alert" data-testid={`notice-${notice.kind}`}>{notice.text}
          {notice.retry && <> <button type="button" onClick={notice.retry}>Retry</button></>}</p>
      )}
      {done && !record && (
        <section class="done"><h2>Nothing left for you here</h2>
          <p>Every record you could answer is answered or held by someone else.</p>
          <button type="button" onClick={back} disabled={busy}>Review my answers (Alt+B)</button></section>
      )}
      <div class={guidelinesOpen ? "desk with-guidelines" : "desk"}>
      {record && (
        <div class="workspace" data-record={record.id}>
          <div class="record">
            <p class="meta">{reviewing ? `Reviewing your answer (${responseStatus?.toLowerCase()})` : "From your queue"}
              {record.externalId && <> · <code>{record.externalId}</code></>}</p>
            {record.readError && <p class="error" role="alert" data-testid="read-error">
              This record could not be read: {record.readError}</p>}
            {dataset.fields.map((f) => <FieldView key={f.name} field={f} value={record.fields[f.name]}
              widgetUrl={fieldWidgets.get(f.kind)} fields={record.fields} />)}
            <FindSimilar api={api} datasetId={dataset.id} recordId={record.id} onOpen={(id) => void openRecord(id)} />
          </div>
          <form class="questions" onSubmit={(e) => { e.preventDefault(); void finish("SUBMITTED"); }}>
            {dataset.questions.map((q, i) => {
              const s = suggestions.get(q.name);
              return (
                <fieldset key={`${record.id}-${q.name}`} disabled={!q.available}
                  class={`question${invalid[q.name] ? " invalid" : ""}${q.available ? "" : " unavailable"}`}
                  data-question={q.name} aria-invalid={invalid[q.name] ? "true" : undefined}
                  aria-describedby={invalid[q.name] ? `q-${q.name}-error` : undefined}
                  ref={(el) => { questionRefs.current[i] = el; }}>
                  <legend id={`q-${q.name}-label`}>{q.title}{q.required && <span class="req" aria-label="required"> *</span>}</legend>
                  {q.description && <p class="desc">{q.description}</p>}
                  {invalid[q.name] && <p class="error" id={`q-${q.name}-error`} data-testid={`invalid-${q.name}`}>
                    {invalid[q.name]}</p>}
                  {!q.available ? <p class="note" data-testid={`unavailable-${q.name}`}>This question's plugin ({q.kind}) is
                    not available: it is read-only and not sent; the other questions can be answered.</p>
                    : <QuestionInput q={q} kind={kinds.get(q.kind)} value={answers[q.name] ?? null} id={`q-${q.name}`}
                      fields={record.fields}
                      onChange={(v) => change(q.name, v)} onDone={() => focusQuestion(i + 1)} suggested={s?.json} />}
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
              {!reviewing && <button type="button" onClick={skip} disabled={busy}
                title={`Offered to you again after your other records, or in ${SKIP_MINUTES} minutes`}>
                Skip <kbd>Alt+S</kbd></button>}
              <button type="button" onClick={back} disabled={busy}>Back <kbd>Alt+B</kbd></button>
              {reviewing && <button type="button" onClick={forward} disabled={busy}>Forward <kbd>Alt+N</kbd></button>}
              <span class="save" aria-live="polite" data-testid="save-state">
                {SAVE_TEXT[saveState]}
              </span>
            </div>
          </form>
        </div>
      )}
      {dataset.guidelines && (
        <aside id="guidelines" class="guidelines" hidden={!guidelinesOpen} aria-labelledby="guidelines-title"
          ref={guidelinesRef} tabIndex={-1} data-testid="guidelines">
          <div class="guidelines-head">
            <h2 id="guidelines-title">Guidelines</h2>
            <button type="button" onClick={toggleGuidelines}>Close <kbd>Esc</kbd></button>
          </div>
          <div class="markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(dataset.guidelines) }} />
        </aside>
      )}
      </div>
    </main>
  );
}
