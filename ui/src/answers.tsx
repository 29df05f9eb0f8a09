// The managers' view of who answered what: records with answers, a page at a time, and one
// record with every labeler's answer to every question (and the suggestions) side by side.
import { useEffect, useState } from "preact/hooks";
import { operation, type Api, type Operation } from "./api";
import type * as G from "./generated/graphql";
import { describeError } from "./progress";
import { FieldView } from "./fields";
import type { FieldT, QuestionT } from "./ops";

const ANSWERED_RECORDS = operation<G.AnsweredRecordsQuery, G.AnsweredRecordsQueryVariables>(
  /* GraphQL */ `query AnsweredRecords($id: ID!, $after: String) {
  records(datasetId: $id, first: 20, after: $after, filter: { responseStatus: [SUBMITTED, DRAFT, DISCARDED] }) {
    edges { node { id externalId status responses { status } } } pageInfo { hasNextPage endCursor }
  }
}`);
type Row = G.AnsweredRecordsQuery["records"]["edges"][number]["node"];

const RECORD_ANSWERS = operation<G.RecordAnswersQuery, G.RecordAnswersQueryVariables>(
  /* GraphQL */ `query RecordAnswers($id: ID!) {
  record(id: $id) {
    id externalId status fields
    suggestions { question json agent score }
    responses { id status updatedAt user { id username } values { question json } }
  }
}`);

const UNIFIED_CELL = /* GraphQL */ `fragment UnifiedCell on UnifiedAnswer { value tie }`;
type UnifiedCell = G.UnifiedCellFragment;
/** Every unifiable question's unified answer on one record, in one request (names as variables).
 * The one operation built at run time (one alias per question): what it asks of each is the typed
 * fragment UnifiedCell (tests/test_ui_operations.py allows it by name). */
function unifiedQuery(count: number): Operation<Record<string, UnifiedCell>, Record<string, string>> {
  const slots = Array.from({ length: count }, (_, i) => i);
  return operation(`query Unified($id: ID!${slots.map((i) => `, $q${i}: String!`).join("")}) {
  ${slots.map((i) => `u${i}: unifiedAnswer(recordId: $id, question: $q${i}) { ...UnifiedCell }`).join("\n  ")}
}
${UNIFIED_CELL}`);
}

/** A value of any kind in a few words: scalars as they are, lists joined, anything else as JSON. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value !== "object") return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v !== "object" || v === null)) return value.map(String).join(", ");
  return JSON.stringify(value);
}

/** Where the overview keeps the open record: #/d/<dataset>/manage/r/<record>. */
const recordInAddress = () => /\/manage\/r\/([^/]+)$/.exec(window.location.hash)?.[1] ?? null;
function putInAddress(datasetId: string, recordId: string | null) {
  history.replaceState(null, "", `#/d/${datasetId}/manage${recordId ? `/r/${recordId}` : ""}`);
}

export function AnsweredRecords({ api, datasetId, fields, questions, unifiable, version }: {
  api: Api; datasetId: string; fields: FieldT[]; questions: QuestionT[]; unifiable: string[]; version: number;
}) {
  const [rows, setRows] = useState<Row[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(recordInAddress());
  const [error, setError] = useState<string | null>(null);
  const load = async (after: string | null) => {
    const data = await api.request(ANSWERED_RECORDS, { id: datasetId, after });
    const page = data.records.edges.map((e) => e.node);
    setRows((old) => (after ? [...old, ...page] : page));
    setNext(data.records.pageInfo.hasNextPage ? data.records.pageInfo.endCursor : null);
  };
  // The first page again whenever answers come in (version moves with live progress).
  useEffect(() => { load(null).then(() => setError(null), (e) => setError(describeError(e))); }, [api, datasetId, version]);
  const show = (id: string | null) => { setOpen(id); putInAddress(datasetId, id); };
  return (
    <section aria-labelledby="h-answers">
      <h2 id="h-answers">Answers by record</h2>
      {error && <p class="error" role="alert">{error}</p>}
      {open && <RecordAnswers api={api} recordId={open} fields={fields} questions={questions} unifiable={unifiable}
        version={version} onClose={() => show(null)} />}
      {/* No totalCount: on a large dataset a filtered count reads every record and is refused. */}
      <p class="hint">{rows.length} record(s) with answers shown{next ? "; more below" : ""}.</p>
      {rows.length > 0 && <table class="answered">
        <thead><tr><th scope="col">Record</th><th scope="col">Status</th><th scope="col">Answers</th><th scope="col"><span class="sr">Open</span></th></tr></thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id} class={r.id === open ? "open" : ""}>
              <th scope="row">{r.externalId ? <code>{r.externalId}</code> : r.id}</th>
              <td>{r.status.toLowerCase()}</td>
              <td>{["SUBMITTED", "DRAFT", "DISCARDED"].map((s) => `${r.responses.filter((x) => x.status === s).length} ${s.toLowerCase()}`).join(" · ")}</td>
              <td><button type="button" onClick={() => show(r.id)}>Answers<span class="sr"> to {r.externalId ?? r.id}</span></button></td>
            </tr>
          ))}
        </tbody>
      </table>}
      {next && <button type="button" onClick={() => load(next).catch((e) => setError(describeError(e)))}>More records</button>}
    </section>
  );
}

function RecordAnswers({ api, recordId, fields, questions, unifiable, version, onClose }: {
  api: Api; recordId: string; fields: FieldT[]; questions: QuestionT[]; unifiable: string[]; version: number;
  onClose: () => void;
}) {
  const [data, setData] = useState<G.RecordAnswersQuery["record"] | null>(null);
  const [unified, setUnified] = useState<Map<string, UnifiedCell>>(new Map());
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.request(RECORD_ANSWERS, { id: recordId }).then((d) => { setData(d.record); setError(null); },
      (e) => setError(describeError(e)));
    if (!unifiable.length) return;
    const names = Object.fromEntries(unifiable.map((q, i) => [`q${i}`, q]));
    api.request(unifiedQuery(unifiable.length), { id: recordId, ...names })
      .then((d) => setUnified(new Map(unifiable.map((q, i) => [q, d[`u${i}`]]))), (e) => setError(describeError(e)));
  }, [api, recordId, version, unifiable.join("\n")]);
  const suggestions = new Map(data?.suggestions.map((s) => [s.question, s]) ?? []);
  return (
    <div class="record-answers" data-testid="record-answers" aria-labelledby="h-record-answers">
      <div class="guidelines-head">
        <h3 id="h-record-answers">Record {data?.externalId ? <code>{data.externalId}</code> : recordId}
          {data && <span class="tag">{data.status.toLowerCase()}</span>}</h3>
        <button type="button" onClick={onClose}>Close</button>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {data && (
        <>
          <details class="record-fields"><summary>Fields</summary>
            {fields.map((f) => <FieldView key={f.name} field={f} value={data.fields[f.name]} />)}</details>
          <div class="table-scroll">
            <table>
              <thead><tr><th scope="col">Labeler</th><th scope="col">Status</th>
                {questions.map((q) => <th scope="col" key={q.name}>{q.title}</th>)}</tr></thead>
              <tbody>
                {data.responses.map((r) => {
                  const values = new Map(r.values.map((v) => [v.question, v.json]));
                  return (
                    <tr key={r.id} data-user={r.user.username}>
                      <th scope="row">{r.user.username}</th>
                      <td>{r.status.toLowerCase()}</td>
                      {questions.map((q) => <td key={q.name}>{formatValue(values.get(q.name))}</td>)}
                    </tr>
                  );
                })}
                {unified.size > 0 && (
                  <tr class="unified-row" data-testid="unified-row">
                    <th scope="row">unified</th><td>{data.responses.filter((r) => r.status === "SUBMITTED").length} submitted</td>
                    {questions.map((q) => {
                      const cell = unified.get(q.name);
                      return <td key={q.name}>{cell ? `${formatValue(cell.value)}${cell.tie ? " (tie)" : ""}` : "—"}</td>;
                    })}
                  </tr>
                )}
                {suggestions.size > 0 && (
                  <tr class="suggested-row">
                    <th scope="row">suggestion</th><td />
                    {questions.map((q) => <td key={q.name}>{suggestions.has(q.name)
                      ? `${formatValue(suggestions.get(q.name)!.json)} (${suggestions.get(q.name)!.agent ?? "unnamed agent"})` : "—"}</td>)}
                  </tr>
                )}
              </tbody>
            </table>
          </div>
          {data.responses.length === 0 && <p>No answers yet.</p>}
        </>
      )}
    </div>
  );
}
