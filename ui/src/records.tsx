// The records view of a dataset (#/d/<dataset>/records?…): search, filters, sort and keyset
// paging over the public `records` query, jump to a record by external id, open a record in the
// labeling view, and select records for bulk labelling (bulk.tsx). The filters live in the
// address (recordquery.ts). No count that reads the dataset is ever asked for (countIsCheap).
// With `near` (a record) or `vector` in the address the list is the records most similar to it
// (similarlist.tsx, vectorsearch.tsx).
import { useEffect, useState } from "preact/hooks";
import { errorText, type Api } from "./api";
import { BATCH, BulkPanel, type Selected } from "./bulk";
import { keptBulk } from "./bulkkeep";
import {
  BY_EXTERNAL_ID, type ListedRecord, RECORDS_COUNT, RECORDS_META, RECORDS_PAGE, type RecordsMetaData, type VectorSpaceT,
} from "./ops";
import type * as G from "./generated/graphql";
import { RecordFilters } from "./recordfilters";
import {
  countIsCheap, filterOf, hrefOf, isSimilar, readQuery, sortChoices, sortOf, type ListQuery,
} from "./recordquery";
import { SelectSimilar, SimilarBanner, similarHref, SimilarTools, spaceOf, useSimilar } from "./similarlist";
import { VectorSearch } from "./vectorsearch";

const PAGE_SIZE = 50;
const CELL_CHARS = 140;
const SHOWN_FIELDS = 3;
const PREVIOUS = "feedbackql.previousPage.";
const SELECT_PAGE_SIZE = 200;

/** A field value as one short plain line: markdown is not rendered, chats show their turns. */
export function compact(value: unknown): string {
  let text: string;
  if (value === null || value === undefined) text = "";
  else if (typeof value === "string") text = value;
  else if (Array.isArray(value)) {
    text = value.map((t) => (t && typeof t === "object" && "content" in t
      ? `${(t as { role?: string }).role ?? ""}: ${String((t as { content: unknown }).content)}` : JSON.stringify(t))).join(" · ");
  } else text = JSON.stringify(value);
  text = text.replace(/\s+/g, " ").trim();
  return text.length > CELL_CHARS ? `${text.slice(0, CELL_CHARS)}…` : text;
}

type Page = G.RecordsPageQuery["records"];
type Count = number | "many" | null;

/** The page, then (only once it is shown, so the two never compete) its count where that is cheap. */
function usePage(api: Api, datasetId: string, query: ListQuery, reload: number) {
  const [page, setPage] = useState<Page | null>(null);
  const [count, setCount] = useState<Count>(null);
  const [error, setError] = useState<string | null>(null);
  const filter = filterOf(query);
  const similarMode = isSimilar(query);
  const key = JSON.stringify([filter, query.sort, query.after, similarMode]);
  const [counted, setCounted] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setError(null);
    if (similarMode) { setPage(null); setCounted(null); return; } // the similar list instead
    api.request(RECORDS_PAGE, { id: datasetId, filter, sort: sortOf(query), first: PAGE_SIZE,
      after: query.after || null })
      .then((d) => { if (live) { setPage(d.records); setCounted(JSON.stringify([filter, reload])); } },
        (e) => { if (live) { setPage(null); setError(errorText(e)); } });
    return () => { live = false; };
  }, [api, datasetId, key, reload]);
  useEffect(() => {
    let live = true;
    setCount(null);
    if (counted === null || !countIsCheap(filter)) return;
    api.request(RECORDS_COUNT, { id: datasetId, filter })
      .then((d) => live && setCount(d.records.totalCount), () => live && setCount("many"));
    return () => { live = false; };
  }, [api, datasetId, counted]);
  return { page, count, error };
}

function JumpTo({ api, datasetId }: { api: Api; datasetId: string }) {
  const [externalId, setExternalId] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  async function jump(event: Event) {
    event.preventDefault();
    setMessage(null);
    try {
      const data = await api.request(BY_EXTERNAL_ID, { id: datasetId, externalId: externalId.trim() });
      const found = data.records.edges[0]?.node;
      if (found) window.location.hash = `#/d/${datasetId}/r/${found.id}`;
      else setMessage(`No record of this dataset has the external id “${externalId.trim()}”.`);
    } catch (e) { setMessage(errorText(e)); }
  }
  return (
    <form class="jump" onSubmit={jump} role="search" aria-label="Jump to a record">
      <label for="jump-id">External id</label>
      <input id="jump-id" value={externalId} onInput={(e) => setExternalId((e.target as HTMLInputElement).value)} />
      <button type="submit" disabled={!externalId.trim()}>Open record</button>
      {message && <p class="error" role="alert" data-testid="jump-error">{message}</p>}
    </form>
  );
}

function Pager({ datasetId, query, page }: { datasetId: string; query: ListQuery; page: Page }) {
  const go = (after: string) => { window.location.hash = hrefOf(datasetId, { ...query, after }); };
  const next = () => {
    const cursor = page.pageInfo.endCursor!;
    sessionStorage.setItem(PREVIOUS + cursor, query.after);
    go(cursor);
  };
  const previous = () => go(sessionStorage.getItem(PREVIOUS + query.after) ?? "");
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" onClick={previous} disabled={!query.after}>Previous page</button>
      <button type="button" onClick={() => go("")} disabled={!query.after}>First page</button>
      <button type="button" onClick={next} disabled={!page.pageInfo.hasNextPage || !page.pageInfo.endCursor}>
        Next page</button>
    </nav>
  );
}

function Figures({ page, count }: { page: Page; count: Count }) {
  const shown = page.edges.length;
  return (
    <p class="figures" data-testid="records-figures" aria-live="polite">
      {count === null ? "" : count === "many" ? "Many records match. " : `${count} ${count === 1 ? "record matches" : "records match"}. `}
      {shown === 0 && page.pageInfo.hasNextPage
        ? "None in this stretch of the dataset (a filtered page reads a bounded part of it): Next page searches on."
        : `${shown} on this page.`}
    </p>
  );
}

export function Records({ api, datasetId }: { api: Api; datasetId: string }) {
  const [meta, setMeta] = useState<RecordsMetaData | null>(null);
  const [metaError, setMetaError] = useState<string | null>(null);
  const [selected, setSelected] = useState<Map<string, Selected>>(new Map());
  const [reload, setReload] = useState(0);
  const query = readQuery();
  const { page, count, error } = usePage(api, datasetId, query, reload);
  const similar = useSimilar(api, datasetId, query, meta?.vectorSpaces ?? null, reload);
  const [space, setSpace] = useState("");
  useEffect(() => {
    api.request(RECORDS_META, { id: datasetId }).then((m) => {
      setMeta(m);
      // The bulk form's selection as it was left (bulkkeep.ts): a reload loses no work.
      const kept = keptBulk(m.me.id, datasetId)?.selected ?? [];
      if (kept.length) setSelected(new Map(kept.map((s) => [s.id, s])));
    }, (e) => setMetaError(errorText(e)));
  }, [api, datasetId]);
  if (metaError) return <main><p class="error" role="alert">{metaError}</p></main>;
  if (!meta) return <main aria-busy="true"><p>Loading…</p></main>;
  const { dataset } = meta;
  const spaces = meta.vectorSpaces;
  const similarMode = isSimilar(query);
  const searchIn = similarMode ? spaceOf(query, spaces) : space || spaces[0]?.name || "";
  const findSimilar = spaces.length ? (r: ListedRecord) => similarHref(datasetId, query, r.id, searchIn) : null;
  // Each mode shows only its own list: neither the other's stale one in the render before its effect.
  const hits = similarMode ? similar.list?.hits : undefined;
  const shownPage = similarMode ? null : page;
  const scores = hits && { metric: spaces.find((s) => s.name === searchIn)?.metric,
    of: new Map(hits.map((h) => [h.record.id, h.score])) };
  return (
    <main class="records-view">
      <div class="heading">
        <h1>Records · {dataset.name}</h1>
        {dataset.status === "READY" && <a href={`#/d/${datasetId}`}>Label from the queue</a>}
        <a href={`#/d/${datasetId}/drafts`}>My drafts</a>
        {meta.me.role !== "ANNOTATOR" && spaces.length > 0 && <a href={`#/d/${datasetId}/duplicates`}>Near-duplicates</a>}
      </div>
      {similarMode && <SimilarBanner api={api} datasetId={datasetId} query={query} spaces={spaces} list={similar.list}
        error={similar.error} />}
      <RecordFilters datasetId={datasetId} query={query} properties={dataset.metadataProperties}
        sorts={sortChoices(dataset.metadataProperties, dataset.questions)} />
      <JumpTo api={api} datasetId={datasetId} />
      {!similarMode && <SimilarTools datasetId={datasetId} query={query} meta={meta} space={searchIn} onSpace={setSpace}
        selected={selected} />}
      <VectorSearch key={`${query.vector}|${query.space}`} datasetId={datasetId} query={query} spaces={spaces} />
      {error && <p class="error" role="alert" data-testid="records-error">{error}</p>}
      {hits && similar.list && <SelectSimilar list={similar.list} entry={(h) => selectedOf(h.record, meta.me.id)}
        selected={selected} onSelect={setSelected} />}
      {hits && <RecordsTable sort="" meta={meta} rows={hits.map((h) => h.record)} selected={selected} onSelect={setSelected}
        findSimilar={findSimilar} scores={scores} />}
      {shownPage && <Figures page={shownPage} count={count} />}
      {shownPage && (shownPage.pageInfo.hasNextPage || shownPage.edges.length > 0) && (
        <SelectMatching key={JSON.stringify([filterOf(query), query.sort])} api={api} datasetId={datasetId} query={query} count={count} meId={meta.me.id}
          selected={selected} onSelect={setSelected} />)}
      {shownPage && <RecordsTable sort={query.sort} meta={meta} rows={shownPage.edges.map((e) => e.node)} selected={selected}
        onSelect={setSelected} findSimilar={findSimilar} />}
      {shownPage && <Pager datasetId={datasetId} query={query} page={shownPage} />}
      <BulkPanel api={api} meta={meta} selected={selected} onSelect={setSelected} onStored={() => setReload((n) => n + 1)} />
    </main>
  );
}

/** A listed record as a selection entry, with my answer's version as the list showed it. */
function selectedOf(r: ListedRecord, meId: string): Selected {
  const mine = r.responses.find((x) => x.user.id === meId);
  return { id: r.id, label: r.externalId ?? r.id, version: mine?.version ?? 0,
    answered: mine !== undefined && mine.status !== "DRAFT" };
}

/** Selects every record the filter matches, in the list's order, up to BATCH (one bulk call),
 * reading the same pages the list reads (short filtered pages included) until it has them. */
function SelectMatching({ api, datasetId, query, count, meId, selected, onSelect }: {
  api: Api; datasetId: string; query: ListQuery; count: Count; meId: string;
  selected: Map<string, Selected>; onSelect: (next: Map<string, Selected>) => void;
}) {
  const [state, setState] = useState<{ busy: boolean; found: number; more: boolean; error: string | null } | null>(null);
  const larger = typeof count === "number" && count > BATCH;
  async function selectAll() {
    const next = new Map(selected);
    let after: string | null = null, found = 0, more = true;
    setState({ busy: true, found, more, error: null });
    try {
      while (more && found < BATCH) {
        const data: G.RecordsPageQuery = await api.request(RECORDS_PAGE, { id: datasetId,
          filter: filterOf(query), sort: sortOf(query), first: Math.min(SELECT_PAGE_SIZE, BATCH - found), after });
        for (const { node } of data.records.edges) { next.set(node.id, selectedOf(node, meId)); found += 1; }
        more = data.records.pageInfo.hasNextPage;
        after = data.records.pageInfo.endCursor;
        setState({ busy: true, found, more, error: null });
      }
      setState({ busy: false, found, more, error: null });
    } catch (e) { setState({ busy: false, found, more, error: errorText(e) }); return; }
    onSelect(next);
  }
  const label = typeof count === "number"
    ? larger ? `Select the first ${BATCH} of the ${count} matching records` : `Select all ${count} matching records`
    : `Select all records matching this filter (up to ${BATCH})`;
  return (
    <div class="select-matching" data-testid="select-matching">
      <button type="button" onClick={() => void selectAll()} disabled={state?.busy}>{label}</button>
      {larger && <span> One bulk answer sends at most {BATCH} records; answer these, then select again.</span>}
      <span aria-live="polite">{state?.busy ? ` Selecting… ${state.found} found.` : state && !state.error
        ? ` Selected ${state.found} matching ${state.found === 1 ? "record" : "records"}${state.more
          ? `: more match, but one bulk answer sends at most ${BATCH}.` : "."}` : ""}</span>
      {state?.error && <p class="error" role="alert">{state.error}</p>}
    </div>
  );
}

interface TableProps {
  sort: string;
  meta: RecordsMetaData;
  rows: ListedRecord[];
  selected: Map<string, Selected>;
  onSelect: (next: Map<string, Selected>) => void;
  /** The address of the records similar to a row; null when the dataset has no vector space. */
  findSimilar: ((r: ListedRecord) => string) | null;
  /** In the similar list: each row's score, and what it measures. */
  scores?: { metric: VectorSpaceT["metric"] | undefined; of: Map<string, number> };
}

/** The column of the value the list is sorted by (a metadata property, a suggestion score), if any. */
function sortColumn(meta: RecordsMetaData, sort: string): { title: string; value: (r: ListedRecord) => string } | null {
  const [field, , ...rest] = sort.split(".");
  const name = rest.join(".");
  if (field === "METADATA") {
    const title = meta.dataset.metadataProperties.find((p) => p.name === name)?.title ?? name;
    return { title, value: (r) => compact(r.metadata?.[name] ?? "—") };
  }
  if (field === "SUGGESTION_SCORE") {
    const title = meta.dataset.questions.find((q) => q.name === name)?.title ?? name;
    return { title: `Suggestion score: ${title}`,
      value: (r) => String(r.suggestions.find((x) => x.question === name)?.score ?? "—") };
  }
  return null;
}

function RecordsTable({ meta, rows, selected, onSelect, sort, findSimilar, scores }: TableProps) {
  const sorted = sortColumn(meta, sort);
  // The last clicked record, by id: a Shift-click on another page (whose rows are others) selects one row.
  const [anchor, setAnchor] = useState<string | null>(null);
  const fields = meta.dataset.fields.slice(0, SHOWN_FIELDS);
  const meId = meta.me.id;
  const entry = (r: ListedRecord): Selected => selectedOf(r, meId);
  /** A click selects or clears one row; with Shift, every row from the last clicked one alike. */
  const toggle = (index: number, on: boolean, range: boolean) => {
    const next = new Map(selected);
    const at = anchor === null ? -1 : rows.findIndex((r) => r.id === anchor);
    const [from, to] = range && at >= 0 ? [Math.min(at, index), Math.max(at, index)] : [index, index];
    for (const r of rows.slice(from, to + 1)) { if (on) next.set(r.id, entry(r)); else next.delete(r.id); }
    setAnchor(rows[index]?.id ?? null);
    onSelect(next);
  };
  const onPage = rows.filter((r) => selected.has(r.id)).length;
  const all = rows.length > 0 && onPage === rows.length;
  const toggleAll = () => {
    const next = new Map(selected);
    for (const r of rows) { if (all) next.delete(r.id); else next.set(r.id, entry(r)); }
    onSelect(next);
  };
  if (rows.length === 0) return <p class="empty">{scores ? "No record matches the filters with a vector in this space." : "No records on this page."}</p>;
  const scoreTitle = scores?.metric === "L2" ? "Distance (lower is nearer)" : "Similarity";
  return (
    <div class="table-scroll" tabIndex={0} role="region" aria-label="Records">
      <table class="records-table">
        <thead><tr>
          <th scope="col"><input type="checkbox" aria-label="Select all on this page" checked={all}
            ref={(el) => { if (el) el.indeterminate = onPage > 0 && !all; }} onChange={toggleAll} /></th>
          <th scope="col">Record</th>
          {scores && <th scope="col" class="score-col">{scoreTitle}</th>}
          {sorted && <th scope="col" data-testid="sort-column">{sorted.title}</th>}
          {fields.map((f) => <th scope="col" key={f.name}>{f.title}</th>)}
          <th scope="col">Status</th><th scope="col">My response</th>
        </tr></thead>
        <tbody>
          {rows.map((r, i) => {
            const mine = r.responses.find((x) => x.user.id === meId);
            const name = r.externalId ?? `Record ${r.id.slice(-6)}`;
            return (
              <tr key={r.id} data-record={r.id} data-external-id={r.externalId ?? undefined}
                class={selected.has(r.id) ? "selected" : ""}>
                <td><input type="checkbox" aria-label={`Select ${name}`} checked={selected.has(r.id)}
                  onClick={(e) => toggle(i, (e.target as HTMLInputElement).checked, e.shiftKey)} /></td>
                <th scope="row"><a href={`#/d/${meta.dataset.id}/r/${r.id}`}>{name}</a>
                  {findSimilar && <a class="similar-link" href={findSimilar(r)} aria-label={`Find similar to ${name}`}
                    data-testid="row-similar">Similar</a>}</th>
                {scores && <td class="score-col" data-testid="similar-score">{scores.of.get(r.id)?.toFixed(3)}</td>}
                {sorted && <td data-testid="sort-value">{sorted.value(r)}</td>}
                {fields.map((f) => <td key={f.name} class="cell">{compact(r.fields[f.name])}</td>)}
                <td>{r.status.toLowerCase()}</td>
                <td data-testid="my-status">{mine ? mine.status.toLowerCase() : "—"}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
