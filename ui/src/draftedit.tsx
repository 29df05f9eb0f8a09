// Building a draft dataset from the overview: its guidelines, and fields and questions of any
// installed kind (the kind's settings as JSON, checked by the server, with the kind's settings
// schema as the guide). Published datasets keep their fields and questions (the API's rule).
import { useEffect, useState } from "preact/hooks";
import { byKind, operation, type Api } from "./api";
import type * as G from "./generated/graphql";
import { describeError } from "./progress";
import type { FieldT, JsonSchema, QuestionT } from "./ops";

const KINDS = operation<G.KindsQuery, G.KindsQueryVariables>(
  /* GraphQL */ `query Kinds { fieldTypes { name description settingsSchema } questionTypes { name description settingsSchema } }`);
type Kind = Omit<G.KindsQuery["fieldTypes"][number], "settingsSchema"> & { settingsSchema: JsonSchema };
const ADD_FIELD = operation<G.AddFieldMutation, G.AddFieldMutationVariables>(
  /* GraphQL */ `mutation AddField($id: ID!, $field: FieldInput!) { addField(datasetId: $id, field: $field) { id } }`);
const ADD_QUESTION = operation<G.AddQuestionMutation, G.AddQuestionMutationVariables>(
  /* GraphQL */ `mutation AddQuestion($id: ID!, $question: QuestionInput!) { addQuestion(datasetId: $id, question: $question) { id } }`);
const GUIDELINES = operation<G.GuidelinesMutation, G.GuidelinesMutationVariables>(
  /* GraphQL */ `mutation Guidelines($id: ID!, $text: String!) { updateDataset(id: $id, input: { guidelines: $text }) { id } }`);

/** The settings a kind takes, in a line: "options* (Options), allowOverlapping (Allow overlapping spans)". */
function settingsHint(schema: JsonSchema): string {
  const names = Object.entries(schema.properties ?? {});
  if (!names.length) return "No settings: {}";
  return "Settings: " + names.map(([name, s]) =>
    `${name}${schema.required?.includes(name) ? "*" : ""}${s.title && s.title !== name ? ` (${s.title})` : ""}`).join(", ");
}

function AddItem({ api, datasetId, family, kinds, onAdded }: {
  api: Api; datasetId: string; family: "field" | "question"; kinds: Kind[]; onAdded: () => void;
}) {
  const [kind, setKind] = useState(kinds[0]?.name ?? "");
  const [name, setName] = useState("");
  const [title, setTitle] = useState("");
  const [required, setRequired] = useState(true);
  const [settings, setSettings] = useState("{}");
  const [error, setError] = useState<string | null>(null);
  const chosen = kinds.find((k) => k.name === kind);
  const id = `add-${family}`;
  const add = async (event: Event) => {
    event.preventDefault();
    let parsed: unknown;
    try { parsed = JSON.parse(settings || "{}"); } catch { setError("The settings are not valid JSON."); return; }
    const item = { name: name.trim(), title: title.trim() || null, required };
    try {
      if (family === "field") {
        await api.request(ADD_FIELD, { id: datasetId, field: { ...item, settings: byKind<G.FieldSettingsInput>(kind, parsed) } });
      } else {
        await api.request(ADD_QUESTION, { id: datasetId, question: { ...item, settings: byKind<G.QuestionSettingsInput>(kind, parsed) } });
      }
      setName(""); setTitle(""); setSettings("{}"); setError(null);
      onAdded();
    } catch (e) { setError(describeError(e)); }
  };
  return (
    <form class="add-item" onSubmit={add} aria-labelledby={`${id}-title`} data-testid={id}>
      <h3 id={`${id}-title`}>Add a {family}</h3>
      <label for={`${id}-kind`}>Kind</label>
      <select id={`${id}-kind`} value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)}>
        {kinds.map((k) => <option key={k.name} value={k.name}>{k.name}</option>)}
      </select>
      <label for={`${id}-name`}>Name</label>
      <input id={`${id}-name`} value={name} required onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      <label for={`${id}-title-input`}>Title</label>
      <input id={`${id}-title-input`} value={title} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />
      <label class="gen check"><input type="checkbox" checked={required}
        onChange={(e) => setRequired((e.target as HTMLInputElement).checked)} /> Required</label>
      <label for={`${id}-settings`}>Settings (JSON)</label>
      <textarea id={`${id}-settings`} rows={3} value={settings} aria-describedby={`${id}-hint`}
        onInput={(e) => setSettings((e.target as HTMLTextAreaElement).value)} />
      <p class="hint" id={`${id}-hint`}>{chosen ? `${chosen.description} ${settingsHint(chosen.settingsSchema)}` : ""}</p>
      <button type="submit" disabled={!name.trim() || !kind}>Add {family}</button>
      {error && <p class="error" role="alert">{error}</p>}
    </form>
  );
}

export function DraftEditor({ api, datasetId, guidelines, fields, questions, onChanged }: {
  api: Api; datasetId: string; guidelines: string | null; fields: FieldT[]; questions: QuestionT[]; onChanged: () => void;
}) {
  const [kinds, setKinds] = useState<G.KindsQuery | null>(null);
  const [text, setText] = useState(guidelines ?? "");
  const [state, setState] = useState<{ error?: string; saved?: boolean }>({});
  useEffect(() => { api.request(KINDS).then(setKinds, (e) => setState({ error: describeError(e) })); }, [api]);
  useEffect(() => setText(guidelines ?? ""), [guidelines]);
  const saveGuidelines = async (event: Event) => {
    event.preventDefault();
    try { await api.request(GUIDELINES, { id: datasetId, text }); setState({ saved: true }); onChanged(); }
    catch (e) { setState({ error: describeError(e) }); }
  };
  return (
    <section aria-labelledby="h-draft">
      <h2 id="h-draft">Fields and questions</h2>
      <table>
        <thead><tr><th scope="col">Name</th><th scope="col">Is a</th><th scope="col">Kind</th><th scope="col">Title</th></tr></thead>
        <tbody>
          {fields.map((f) => <tr key={`f-${f.name}`}><th scope="row">{f.name}</th><td>field</td><td>{f.kind}</td><td>{f.title}</td></tr>)}
          {questions.map((q) => <tr key={`q-${q.name}`}><th scope="row">{q.name}</th><td>question</td><td>{q.kind}</td><td>{q.title}</td></tr>)}
        </tbody>
      </table>
      <form class="add-item" onSubmit={saveGuidelines}>
        <label for="draft-guidelines">Guidelines (markdown)</label>
        <textarea id="draft-guidelines" rows={4} value={text}
          onInput={(e) => { setText((e.target as HTMLTextAreaElement).value); setState({}); }} />
        <button type="submit">Save guidelines</button>
        {state.saved && <span class="hint" role="status">Saved.</span>}
        {state.error && <p class="error" role="alert">{state.error}</p>}
      </form>
      {kinds && (
        <div class="add-items">
          <AddItem api={api} datasetId={datasetId} family="field" kinds={kinds.fieldTypes} onAdded={onChanged} />
          <AddItem api={api} datasetId={datasetId} family="question" kinds={kinds.questionTypes} onAdded={onChanged} />
        </div>
      )}
    </section>
  );
}
