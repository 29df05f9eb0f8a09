// My drafts of one dataset, and the records whose input is still only on this device: each opens
// the annotation screen on that record (#/d/<dataset>/r/<record>) to continue.
import { useEffect, useState } from "preact/hooks";
import type { Api } from "./api";
import { unsentRecords } from "./keep";
import { DRAFTS, type DraftNode, type Me } from "./ops";
import type * as G from "./generated/graphql";

const PREVIEW_CHARS = 120;

/** The record's first text field, cut short: enough to recognise it in a list. */
function preview(node: DraftNode): string {
  const first = Object.values(node.fields).find((v) => typeof v === "string") as string | undefined;
  const text = first ?? JSON.stringify(node.fields);
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
}

export function Drafts({ api, datasetId, me }: { api: Api; datasetId: string; me: Me | null }) {
  const [data, setData] = useState<G.DraftsQuery | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => { api.request(DRAFTS, { id: datasetId }).then(setData, (e) => setError(String(e))); },
    [api, datasetId]);
  if (error) return <main><p class="error" role="alert">{error}</p></main>;
  if (!data) return <main aria-busy="true"><p>Loading…</p></main>;
  const drafts = data.myDrafts.edges.map((e) => e.node);
  const onServer = new Set(drafts.map((d) => d.id));
  const local = me ? unsentRecords(me.id, datasetId).filter((r) => !onServer.has(r.recordId)) : [];
  const open = (id: string) => `#/d/${datasetId}/r/${id}`;
  return (
    <main class="drafts">
      <h1>My drafts · {data.dataset.name}</h1>
      <p><a href={`#/d/${datasetId}`}>Back to labeling</a></p>
      <p data-testid="draft-total">{data.myDrafts.totalCount} {data.myDrafts.totalCount === 1 ? "draft" : "drafts"}
        {data.myDrafts.pageInfo.hasNextPage && " (the first 50 shown)"}</p>
      {drafts.length === 0 && local.length === 0 && <p>No drafts. A record you start and leave is kept here.</p>}
      <ul class="draft-list">
        {local.map((r) => (
          <li key={r.recordId} data-draft={r.recordId}><a href={open(r.recordId)}>Record {r.recordId}</a>
            <span class="tag">only on this device</span></li>
        ))}
        {drafts.map((d) => (
          <li key={d.id} data-draft={d.id}>
            <a href={open(d.id)}>{d.externalId ? <code>{d.externalId}</code> : "Record"}</a> {preview(d)}
            <span class="when"> · saved {new Date(d.updatedAt as string).toLocaleString()}</span>
          </li>
        ))}
      </ul>
    </main>
  );
}
