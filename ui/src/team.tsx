// The managers' dataset administration: publish a draft, start a new dataset from this one's
// settings, and the workspace's members (add, remove, or create an annotator with a key).
import { useEffect, useState } from "preact/hooks";
import { byKind, operation, type Api } from "./api";
import type * as G from "./generated/graphql";
import { describeError } from "./progress";
import type { FieldT, QuestionT } from "./ops";

const PUBLISH = operation<G.PublishMutation, G.PublishMutationVariables>(
  /* GraphQL */ `mutation Publish($id: ID!) { publishDataset(id: $id) { id status } }`);

export function Publish({ api, datasetId, onPublished }: { api: Api; datasetId: string; onPublished: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const publish = async () => {
    setBusy(true);
    try {
      await api.request(PUBLISH, { id: datasetId });
      setError(null);
      onPublished();
    } catch (e) { setError(describeError(e)); } finally { setBusy(false); }
  };
  return (
    <p class="publish">
      This dataset is a draft: fields and questions can still change, and labelers do not see it yet.{" "}
      <button type="button" class="primary" onClick={publish} disabled={busy}>Publish</button>
      {error && <span class="error" role="alert"> {error}</span>}
    </p>
  );
}

const SOURCE = operation<G.SourceQuery, G.SourceQueryVariables>(/* GraphQL */ `query Source($id: ID!) {
  dataset(id: $id) {
    workspace { id } guidelines allowExtraMetadata distribution { minSubmitted }
    metadataProperties { name title kind values min max visibleForAnnotators }
  }
}`);
const CREATE = operation<G.CopyMutation, G.CopyMutationVariables>(
  /* GraphQL */ `mutation Copy($input: CreateDatasetInput!) { createDataset(input: $input) { id } }`);

/** A new draft dataset in this one's workspace: empty (built in its own overview), or with this
 * one's guidelines, fields, questions (settings as stored), metadata properties and distribution. */
export function CopyDataset({ api, datasetId, fields, questions }: {
  api: Api; datasetId: string; fields: FieldT[]; questions: QuestionT[];
}) {
  const [name, setName] = useState("");
  const [same, setSame] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const create = async (event: Event) => {
    event.preventDefault();
    try {
      const { dataset } = await api.request(SOURCE, { id: datasetId });
      const empty = { workspaceId: dataset.workspace.id, name: name.trim(), distribution: dataset.distribution };
      const input = !same ? empty : {
        ...empty, guidelines: dataset.guidelines, allowExtraMetadata: dataset.allowExtraMetadata,
        metadataProperties: dataset.metadataProperties,
        fields: fields.map((f) => ({ name: f.name, title: f.title, required: f.required,
          settings: byKind<G.FieldSettingsInput>(f.kind, f.settingsJson) })),
        questions: questions.map((q) => ({ name: q.name, title: q.title, description: q.description, required: q.required,
          settings: byKind<G.QuestionSettingsInput>(q.kind, q.settingsJson) })),
      };
      const created = await api.request(CREATE, { input });
      window.location.hash = `#/d/${created.createDataset.id}/manage`;
    } catch (e) { setError(describeError(e)); }
  };
  return (
    <form class="inline-form" onSubmit={create}>
      <label for="copy-name">New draft dataset, named</label>
      <input id="copy-name" value={name} required onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      <label class="gen check"><input type="checkbox" checked={same} onChange={(e) => setSame((e.target as HTMLInputElement).checked)} />
        with this one's guidelines, fields, questions and metadata properties</label>
      <button type="submit" disabled={!name.trim()}>Create</button>
      {error && <p class="error" role="alert">{error}</p>}
    </form>
  );
}

const MEMBERS = operation<G.MembersQuery, G.MembersQueryVariables>(/* GraphQL */ `query Members($id: ID!) {
  dataset(id: $id) { workspace { id name } }
  users { id username role workspaces { id } }
}`);
const ADD = operation<G.AddMutation, G.AddMutationVariables>(
  /* GraphQL */ `mutation Add($ws: ID!, $user: ID!) { addWorkspaceMember(workspaceId: $ws, userId: $user) { id } }`);
const REMOVE = operation<G.RemoveMutation, G.RemoveMutationVariables>(
  /* GraphQL */ `mutation Remove($ws: ID!, $user: ID!) { removeWorkspaceMember(workspaceId: $ws, userId: $user) { id } }`);
const NEW_USER = operation<G.NewUserMutation, G.NewUserMutationVariables>(
  /* GraphQL */ `mutation NewUser($input: CreateUserInput!) { createUser(input: $input) { user { id username } apiKey } }`);

export function Members({ api, datasetId }: { api: Api; datasetId: string }) {
  const [data, setData] = useState<G.MembersQuery | null>(null);
  const [pick, setPick] = useState("");
  const [username, setUsername] = useState("");
  const [created, setCreated] = useState<{ username: string; apiKey: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () => api.request(MEMBERS, { id: datasetId }).then(setData, (e) => setError(describeError(e)));
  useEffect(() => { void load(); }, [api, datasetId]);
  const act = async (change: () => Promise<unknown>) => {
    try { await change(); setError(null); await load(); } catch (e) { setError(describeError(e)); }
  };
  if (!data) return error ? <p class="error" role="alert">{error}</p> : null;
  const ws = data.dataset.workspace;
  const members = data.users.filter((u) => u.workspaces.some((w) => w.id === ws.id));
  const others = data.users.filter((u) => !members.includes(u));
  const createUser = async (event: Event) => {
    event.preventDefault();
    try {
      const result = await api.request(NEW_USER,
        { input: { username: username.trim(), role: "ANNOTATOR", workspaceIds: [ws.id] } });
      setCreated({ username: result.createUser.user.username, apiKey: result.createUser.apiKey });
      setUsername("");
      setError(null);
      await load();
    } catch (e) { setError(describeError(e)); }
  };
  return (
    <section aria-labelledby="h-members">
      <h2 id="h-members">Members of workspace “{ws.name}”</h2>
      {error && <p class="error" role="alert">{error}</p>}
      <table>
        <thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col"><span class="sr">Remove</span></th></tr></thead>
        <tbody>
          {members.map((u) => (
            <tr key={u.id} data-member={u.username}><th scope="row">{u.username}</th><td>{u.role.toLowerCase()}</td>
              <td><button type="button" onClick={() => act(() => api.request(REMOVE, { ws: ws.id, user: u.id }))}>
                Remove<span class="sr"> {u.username}</span></button></td></tr>
          ))}
        </tbody>
      </table>
      {others.length > 0 && (
        <form class="inline-form" onSubmit={(e) => { e.preventDefault(); if (pick) void act(() => api.request(ADD, { ws: ws.id, user: pick })); }}>
          <label for="add-member">Add a user</label>
          <select id="add-member" value={pick} onChange={(e) => setPick((e.target as HTMLSelectElement).value)}>
            <option value="">Choose…</option>
            {others.map((u) => <option key={u.id} value={u.id}>{u.username} ({u.role.toLowerCase()})</option>)}
          </select>
          <button type="submit" disabled={!pick}>Add</button>
        </form>
      )}
      <form class="inline-form" onSubmit={createUser}>
        <label for="new-annotator">New annotator</label>
        <input id="new-annotator" value={username} required autocomplete="off"
          onInput={(e) => setUsername((e.target as HTMLInputElement).value)} />
        <button type="submit" disabled={!username.trim()}>Create</button>
      </form>
      {created && (
        <p class="notice" role="status" data-testid="new-key">API key of {created.username}, shown only now: <code>{created.apiKey}</code></p>
      )}
    </section>
  );
}
