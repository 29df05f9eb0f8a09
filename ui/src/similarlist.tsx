// The records view's similar mode (#/d/<dataset>/records?near=<record>&space=…&top=…&order=…, or
// ?vector=… for a vector typed in: vectorsearch.tsx): the records most (or least) similar to one
// record or vector in a vector space (`similarRecords`), the view's filters applied by the API
// before the top is chosen, each row with its score, ready for bulk labelling like the plain
// list. Also the controls that enter it from the plain list.
import { useEffect, useState } from "preact/hooks";
import { errorText, type Api } from "./api";
import type { Selected } from "./bulk";
import {
  NEAR_RECORD, type RecordsMetaData, SIMILAR_PAGE, type SimilarHit, type VectorSpaceT,
} from "./ops";
import {
  filterOf, hrefOf, isSimilar, type ListQuery, nearOf, plainOf, SIMILAR_SIZES,
} from "./recordquery";
import type { SimilarityOrder } from "./generated/graphql";
import { vectorOfAddress } from "./vectortext";

export interface SimilarList { hits: SimilarHit[]; exact: boolean; searched: number }

/** The space searched: the address's, else the dataset's first. */
export function spaceOf(query: ListQuery, spaces: VectorSpaceT[]): string {
  return query.space || spaces[0]?.name || "";
}

/** The address of the similar list near `recordId`, keeping the view's filters. */
export function similarHref(datasetId: string, query: ListQuery, recordId: string, space: string): string {
  return hrefOf(datasetId, { ...query, after: "", near: recordId, vector: "", space });
}

/** The similar records (when the address has `near` or `vector`), fetched again after a bulk answer (`reload`). */
export function useSimilar(api: Api, datasetId: string, query: ListQuery, spaces: VectorSpaceT[] | null, reload: number) {
  const [list, setList] = useState<SimilarList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const filter = filterOf(query);
  const space = spaces ? spaceOf(query, spaces) : "";
  const key = JSON.stringify([filter, query.near, query.vector, space, query.top, query.order]);
  useEffect(() => {
    let live = true;
    setList(null);
    setError(null);
    if (!isSimilar(query) || spaces === null) return;
    if (!space) { setError("This dataset has no vector space: there is nothing to find similar records in."); return; }
    const near = nearOf(query);
    if (!near) { setError("The vector in this address cannot be read: search near a vector again."); return; }
    api.request(SIMILAR_PAGE, { id: datasetId, space, near, first: query.top, filter, order: query.order })
      .then((d) => live && setList({ exact: d.similarRecords.exact,
        hits: d.similarRecords.items.map(({ score, record }) => ({ score, record: { ...record, suggestions: [] } })),
        searched: d.similarRecords.searched }), (e) => live && setError(errorText(e)));
    return () => { live = false; };
  }, [api, datasetId, key, spaces, reload]);
  return { list, error };
}

/** A record's name in the banner: its external id, else its first text, else its id. */
function useNearName(api: Api, near: string): string {
  const [name, setName] = useState(near);
  useEffect(() => {
    let live = true;
    setName(`record ${near.slice(-6)}`);
    if (!near) return;
    api.request(NEAR_RECORD, { near }).then(({ record }) => {
      const text = Object.values(record.fields).find((v) => typeof v === "string") as string | undefined;
      const flat = (text ?? "").replace(/\s+/g, " ").trim();
      if (live) setName(record.externalId ?? (flat.length > 60 ? `${flat.slice(0, 59)}…` : flat || `record ${near.slice(-6)}`));
    }, () => undefined); // not visible: similarRecords says why, in the list's place
    return () => { live = false; };
  }, [api, near]);
  return name;
}

function SpacePicker({ spaces, value, onChange, label }: {
  spaces: VectorSpaceT[]; value: string; onChange: (space: string) => void; label: string;
}) {
  if (spaces.length < 2) return null;
  return (
    <span class="pair"><label for="similar-space">{label}</label>
      <select id="similar-space" value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        {spaces.map((s) => <option key={s.name} value={s.name}>{s.name}</option>)}
      </select></span>
  );
}

const ORDERS: { value: SimilarityOrder; label: string; word: string }[] = [
  { value: "MOST_SIMILAR", label: "Most similar first", word: "most" },
  { value: "LEAST_SIMILAR", label: "Least similar first", word: "least" },
];

/** What the list is near, in the banner's heading: a record (a link to it) or the vector typed in. */
function NearTitle({ api, datasetId, query, space }: { api: Api; datasetId: string; query: ListQuery; space: string }) {
  const name = useNearName(api, query.near);
  if (query.near) return <h2 id="similar-title">Similar to <a href={`#/d/${datasetId}/r/${query.near}`}>{name}</a></h2>;
  const size = vectorOfAddress(query.vector)?.length;
  return <h2 id="similar-title">Similar to a vector{size ? ` (${size} values in “${space}”)` : ""}</h2>;
}

/** "Similar to <record>": the space, the order and how many, the search's figures, and the way back. */
export function SimilarBanner({ api, datasetId, query, spaces, list, error }: {
  api: Api; datasetId: string; query: ListQuery; spaces: VectorSpaceT[]; list: SimilarList | null; error: string | null;
}) {
  const space = spaceOf(query, spaces);
  const go = (part: Partial<ListQuery>) => { window.location.hash = hrefOf(datasetId, { ...query, after: "", ...part }); };
  const filtered = Object.values(filterOf(query)).some((part) => part !== null);
  const word = ORDERS.find((o) => o.value === query.order)?.word ?? "most";
  return (
    <section class="similar-banner" aria-labelledby="similar-title" data-testid="similar-banner">
      <NearTitle api={api} datasetId={datasetId} query={query} space={space} />
      <div class="row">
        {/* A vector belongs to the space it was typed for: its form (below) changes both. */}
        {query.near && <SpacePicker spaces={spaces} value={space} label="Vector space" onChange={(s) => go({ space: s })} />}
        <span class="pair"><label for="similar-order">Order</label>
          <select id="similar-order" value={query.order}
            onChange={(e) => go({ order: (e.target as HTMLSelectElement).value as SimilarityOrder })}>
            {ORDERS.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
          </select></span>
        <span class="pair"><label for="similar-top">Show</label>
          <select id="similar-top" value={String(query.top)} onChange={(e) => go({ top: Number((e.target as HTMLSelectElement).value) })}>
            {SIMILAR_SIZES.map((n) => <option key={n} value={String(n)}>the {n} {word} similar</option>)}
          </select></span>
        <a href={hrefOf(datasetId, plainOf(query))} data-testid="similar-back">Back to the list of records</a>
      </div>
      {error && <p class="error" role="alert" data-testid="similar-error">{error}</p>}
      {list && (
        <p class="figures" aria-live="polite" data-testid="similar-figures">
          {list.hits.length} {word} similar {list.hits.length === 1 ? "record" : "records"} in “{space}”
          {filtered ? " among those the filters match" : ""}, {word} similar first
          ({list.exact ? "exact" : "approximate"} search of {list.searched} vectors).
        </p>
      )}
    </section>
  );
}

/** Selects every similar record listed (all are on one page). */
export function SelectSimilar({ list, entry, selected, onSelect }: {
  list: SimilarList; entry: (hit: SimilarHit) => Selected;
  selected: Map<string, Selected>; onSelect: (next: Map<string, Selected>) => void;
}) {
  const all = list.hits.length > 0 && list.hits.every((h) => selected.has(h.record.id));
  if (list.hits.length === 0) return null;
  const selectAll = () => {
    const next = new Map(selected);
    for (const hit of list.hits) next.set(hit.record.id, entry(hit));
    onSelect(next);
  };
  return (
    <div class="select-matching" data-testid="select-similar">
      <button type="button" onClick={selectAll} disabled={all}>
        {all ? `All ${list.hits.length} similar records are selected` : `Select all ${list.hits.length} similar records`}</button>
    </div>
  );
}

/** From the plain list: the space rows' "Find similar" searches in (when there are several),
 * and "Find similar" for the one selected record. */
export function SimilarTools({ datasetId, query, meta, space, onSpace, selected }: {
  datasetId: string; query: ListQuery; meta: RecordsMetaData; space: string; onSpace: (space: string) => void;
  selected: Map<string, Selected>;
}) {
  if (meta.vectorSpaces.length === 0) return null;
  const only = selected.size === 1 ? [...selected.values()][0] : null;
  return (
    <div class="similar-tools row" data-testid="similar-tools">
      <SpacePicker spaces={meta.vectorSpaces} value={space} label="Find similar in" onChange={onSpace} />
      <button type="button" disabled={!only}
        onClick={() => { if (only) window.location.hash = similarHref(datasetId, query, only.id, space); }}>
        {only ? `Find similar to ${only.label}` : "Find similar to the selected record"}</button>
      {!only && <span class="hint">select one record, or use a row's “Similar”</span>}
    </div>
  );
}
