// "Find similar": the records nearest the one on screen in one of the dataset's vector spaces
// (similarRecords), each with its score and openable in place. Shown only when the dataset has
// a vector space and the record a vector in it. "Open in records view" lists more of them there,
// ready for bulk labelling (similarlist.tsx).
import { useEffect, useState } from "preact/hooks";
import { errorText, operation, type Api } from "./api";
import type * as G from "./generated/graphql";
import { hrefOf, listOf } from "./recordquery";

const SPACES = operation<G.VectorSpacesQuery, G.VectorSpacesQueryVariables>(
  /* GraphQL */ `query VectorSpaces($id: ID!) { vectorSpaces(datasetId: $id) { name metric } }`);
const SIMILAR = operation<G.SimilarQuery, G.SimilarQueryVariables>(
  /* GraphQL */ `query Similar($id: ID!, $space: String!, $record: ID!, $first: Int!) {
  similarRecords(datasetId: $id, space: $space, near: { recordId: $record }, first: $first) {
    exact items { score record { id externalId status fields } } } }`);
const SHOWN = 10;

type Space = G.VectorSpacesQuery["vectorSpaces"][number];
type Hit = G.SimilarQuery["similarRecords"]["items"][number];

/** The first text of a record's fields, cut short: enough to tell records apart in a list. */
function preview(fields: Record<string, unknown>): string {
  const text = Object.values(fields).find((v) => typeof v === "string") as string | undefined;
  const flat = (text ?? JSON.stringify(fields)).replace(/\s+/g, " ").trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}…` : flat;
}

export function FindSimilar({ api, datasetId, recordId, onOpen }: {
  api: Api; datasetId: string; recordId: string; onOpen: (recordId: string) => void;
}) {
  const [spaces, setSpaces] = useState<Space[]>([]);
  const [space, setSpace] = useState("");
  const [hits, setHits] = useState<Hit[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.request(SPACES, { id: datasetId })
      .then((d) => { setSpaces(d.vectorSpaces); setSpace(d.vectorSpaces[0]?.name ?? ""); })
      .catch(() => setSpaces([]));
  }, [api, datasetId]);
  useEffect(() => { setHits(null); setError(null); }, [recordId]);

  if (spaces.length === 0) return null;
  const metric = spaces.find((s) => s.name === space)?.metric;
  async function find() {
    setBusy(true);
    setError(null);
    try {
      const data = await api.request(SIMILAR,
        { id: datasetId, space, record: recordId, first: SHOWN });
      setHits(data.similarRecords.items);
    } catch (e) {
      setHits(null);
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="similar" data-testid="find-similar" aria-label="Similar records">
      <div class="similar-bar">
        <button type="button" onClick={find} disabled={busy}>Find similar</button>
        {spaces.length > 1 && (
          <label>in <select value={space} onChange={(e) => setSpace((e.target as HTMLSelectElement).value)}>
            {spaces.map((s) => <option key={s.name} value={s.name}>{s.name}</option>)}
          </select></label>
        )}
        <a href={hrefOf(datasetId, listOf(recordId, space))} data-testid="similar-in-records">Open in records view</a>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {hits && hits.length === 0 && <p>No other record has a vector in this space.</p>}
      {hits && hits.length > 0 && (
        <ol class="similar-list">
          {hits.map((h) => (
            <li key={h.record.id} data-record={h.record.id}>
              <a href={`#/d/${datasetId}/r/${h.record.id}`}
                onClick={(e) => { e.preventDefault(); onOpen(h.record.id); }}>{preview(h.record.fields)}</a>
              <span class="score" title={metric === "L2" ? "distance: lower is nearer" : "similarity: higher is nearer"}>
                {h.score.toFixed(3)}</span>
              {h.record.status === "COMPLETED" && <span class="tag">completed</span>}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
