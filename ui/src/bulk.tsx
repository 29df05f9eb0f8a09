// Bulk labelling: the dataset's questions answered once (the labeling view's own question
// components) and sent for every selected record through `submitResponses`. A refusal names its
// input and how many before it were stored (`extensions.input`, `extensions.written`), so each
// record gets its own result: the refused one is set aside and the rest sent again. Answers about
// the form itself (a required question left empty) refuse them all and are shown on the form.
// The selection keeps every record that was not stored; the answers stay on screen.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, byKind, NETWORK, type Api } from "./api";
import { forgetBulk, keepBulk, keptBulk } from "./bulkkeep";
import { explain } from "./messages";
import { type RecordsMetaData, SUBMIT_MANY } from "./ops";
import type { ResponseValueInput, ValueInput } from "./generated/graphql";
import { QuestionInput } from "./questions";

/** A selected record, with my answer to it as the list showed it (sent as expectedVersion). */
export interface Selected { id: string; label: string; version: number; answered: boolean }
type Outcome = { id: string; label: string; stored: boolean; text: string };
type Status = "SUBMITTED" | "DRAFT";
/** submitResponses' limit per call (the server's maxRecordsPerCall default): also the most
 * "select all matching" selects, so that one bulk answer is one call. */
export const BATCH = 1000;

function reasonOf(error: ApiError, meta: RecordsMetaData): string {
  const first = error.errors[0];
  if (error.code === "CONFLICT") {
    const now = first.extensions?.currentResponse as { status: string; version: number } | null | undefined;
    return `your answer to it was changed elsewhere meanwhile (now ${now ? `a ${now.status.toLowerCase()} response`
      : "no response"}); your input is kept: submit again to replace it`;
  }
  if (error.code === "NOT_FOUND") return "the record was deleted";
  if (error.code === "VALIDATION") return explain(error, meta.dataset.questions).summary;
  return error.errors.map((e) => e.message.replace(/^inputs\.\d+(\.\S+)?: /, "")).join(" · ");
}

/** True when the refusal is about the answers themselves: every record would meet it alike. */
function aboutTheAnswers(error: ApiError): boolean {
  if (error.code !== "VALIDATION") return false;
  const listed = (error.errors[0].extensions?.errors as { question?: string }[] | undefined) ?? [];
  return listed.some((e) => e.question) || Boolean(error.errors[0].extensions?.question);
}

type Current = Pick<Selected, "version" | "answered">;
interface Sent { outcomes: Outcome[]; current: Map<string, Current>; formError: ApiError | null }

/** Sends `items` until each is stored or refused; a failure of the whole call refuses what is left. */
async function sendAll(api: Api, meta: RecordsMetaData, items: Selected[], status: Status,
  values: ResponseValueInput[]): Promise<Sent> {
  const outcomes: Outcome[] = [], current = new Map<string, Current>();
  let pending = items;
  const done = (list: Selected[], stored: boolean, text: string) =>
    list.forEach((i) => outcomes.push({ id: i.id, label: i.label, stored, text }));
  while (pending.length) {
    const batch = pending.slice(0, BATCH);
    try {
      const data = await api.request(SUBMIT_MANY, { inputs: batch.map((i) =>
        ({ recordId: i.id, status, values, expectedVersion: i.version })) });
      data.submitResponses.forEach((r, k) => done([batch[k]], true, `stored (${r.status.toLowerCase()})`));
      pending = pending.slice(batch.length);
      continue;
    } catch (error) {
      const index = error instanceof ApiError ? error.errors[0]?.extensions?.input as number | undefined : undefined;
      if (!(error instanceof ApiError) || index === undefined || aboutTheAnswers(error)) {
        const unsure = error instanceof ApiError && [NETWORK, "TIMEOUT", "UNAVAILABLE"].includes(error.code);
        done(pending, false, !(error instanceof ApiError) ? String(error) : aboutTheAnswers(error) ? "not sent: the answers were refused (see the questions)"
          : unsure ? "not confirmed (the service could not be reached); send again" : reasonOf(error, meta));
        return { outcomes, current, formError: error instanceof ApiError && aboutTheAnswers(error) ? error : null };
      }
      const written = Number(error.errors[0].extensions?.written ?? 0);
      done(batch.slice(0, written), true, `stored (${status.toLowerCase()})`);
      done([batch[index]], false, reasonOf(error, meta));
      const now = error.errors[0].extensions?.currentResponse as { status: string; version: number } | null | undefined;
      if (error.code === "CONFLICT") {
        current.set(batch[index].id, { version: now?.version ?? 0, answered: Boolean(now && now.status !== "DRAFT") });
      }
      pending = [...batch.slice(written).filter((i) => i !== batch[index]), ...pending.slice(batch.length)];
    }
  }
  return { outcomes, current, formError: null };
}

interface Props {
  api: Api;
  meta: RecordsMetaData;
  selected: Map<string, Selected>;
  onSelect: (next: Map<string, Selected>) => void;
  onStored: () => void;
}

export function BulkPanel({ api, meta, selected, onSelect, onStored }: Props) {
  const [answers, setAnswers] = useState<Record<string, unknown>>(() => keptBulk(meta.me.id, meta.dataset.id)?.answers ?? {});
  const allStored = useRef<string | null>(null); // the answers every selected record has: nothing left to keep
  useEffect(() => {
    if (selected.size === 0 && allStored.current === JSON.stringify(answers)) forgetBulk(meta.me.id, meta.dataset.id);
    else keepBulk(meta.me.id, meta.dataset.id, answers, selected.values());
  }, [answers, selected]);
  const [outcomes, setOutcomes] = useState<Outcome[]>([]);
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { dataset } = meta;
  const kinds = new Map(meta.questionTypes.map((k) => [k.name, k]));
  const values = () => dataset.questions.filter((q) => answers[q.name] !== null && answers[q.name] !== undefined)
    .map((q) => ({ question: q.name, value: byKind<ValueInput>(q.kind, answers[q.name]) }));

  /** An answer changed: its question's refusal no longer applies (as in the labeling view). */
  function change(question: string, value: unknown) {
    setAnswers((a) => ({ ...a, [question]: value }));
    if (invalid[question]) { setInvalid(({ [question]: _, ...rest }) => rest); setNotice(null); }
  }

  async function send(status: Status) {
    setBusy(true);
    setNotice(null);
    setInvalid({});
    // A draft would replace an answer already given (and reopen its record): those are left alone.
    const items = [...selected.values()];
    const kept = status === "DRAFT" ? items.filter((i) => i.answered) : [];
    const result = await sendAll(api, meta, items.filter((i) => !kept.includes(i)), status, values());
    result.outcomes.push(...kept.map((i) => ({ id: i.id, label: i.label, stored: false,
      text: "not saved as a draft: you have answered it, and a draft would replace your answer (submit to change it)" })));
    const next = new Map(selected);
    for (const o of result.outcomes) if (o.stored) next.delete(o.id);
    for (const [id, now] of result.current) { const s = next.get(id); if (s) next.set(id, { ...s, ...now }); }
    if (result.formError) {
      const said = explain(result.formError, dataset.questions);
      setInvalid(said.byQuestion);
      setNotice(said.summary);
    }
    const stored = result.outcomes.filter((o) => o.stored).length;
    setOutcomes([...result.outcomes.filter((o) => !o.stored), ...result.outcomes.filter((o) => o.stored)]);
    setBusy(false);
    allStored.current = next.size === 0 ? JSON.stringify(answers) : null;
    onSelect(next);
    if (stored) onStored();
  }

  const stored = outcomes.filter((o) => o.stored).length;
  if (selected.size === 0 && outcomes.length === 0) return null;
  return (
    <section class="bulk" aria-labelledby="bulk-title" data-testid="bulk">
      <h2 id="bulk-title">{selected.size ? `Answer ${selected.size} selected ${selected.size === 1 ? "record" : "records"} at once`
        : "Bulk answers"}</h2>
      {selected.size > 0 && <button type="button" class="link" onClick={() => onSelect(new Map())}>Clear selection</button>}
      {selected.size > 0 && <form class="questions" onSubmit={(e) => { e.preventDefault(); void send("SUBMITTED"); }}>
        {dataset.questions.filter((q) => q.available).map((q) => (
          <fieldset key={q.name} class={invalid[q.name] ? "question invalid" : "question"} data-question={q.name}
            aria-describedby={invalid[q.name] ? `bulk-${q.name}-error` : undefined}>
            <legend id={`bulk-q-${q.name}-label`}>{q.title}{q.required && <span class="req" aria-label="required"> *</span>}</legend>
            {invalid[q.name] && <p class="error" id={`bulk-${q.name}-error`}>{invalid[q.name]}</p>}
            <QuestionInput q={q} kind={kinds.get(q.kind)} value={answers[q.name] ?? null} id={`bulk-q-${q.name}`}
              onChange={(v) => change(q.name, v)} onDone={() => undefined} />
          </fieldset>
        ))}
        {notice && <p class="notice error" role="alert" data-testid="bulk-notice">{notice}</p>}
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>Submit for {selected.size}</button>
          <button type="button" disabled={busy} onClick={() => void send("DRAFT")}>Save as drafts</button>
          {busy && <span aria-live="polite">Sending…</span>}
        </div>
      </form>}
      {outcomes.length > 0 && (
        <div class="bulk-results" data-testid="bulk-results">
          <p role="status">{stored} stored, {outcomes.length - stored} not stored.</p>
          <ul>
            {outcomes.map((o) => (
              <li key={o.id} data-record={o.id} data-stored={String(o.stored)} class={o.stored ? "stored" : "refused"}>
                <b>{o.label}</b>: {o.text}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
