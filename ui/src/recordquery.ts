// What the records view shows, kept in the address (#/d/<dataset>/records?text=…&status=…): a
// filtered list can be shared, reloaded and walked back with the browser's Back button. Turned
// into the API's RecordFilter and RecordSort here, and nowhere else. `near` (a record) or `vector`
// (with `space`, `top` and `order`) switches the list to the records most similar to it
// (similarlist.tsx).
import type {
  MetadataFilter, NearInput, RecordFilter, RecordSort, RecordStatus, ResponseStatus, SimilarityOrder,
} from "./generated/graphql";
import { vectorOfAddress } from "./vectortext";

export type MetaChoice = { values?: string[]; ge?: number; le?: number };
export interface ListQuery {
  text: string;
  status: RecordStatus | "";
  mine: ResponseStatus[];
  meta: Record<string, MetaChoice>;
  sort: string; // "<RecordSortField>.<SortDirection>", then ".<name>" for METADATA and SUGGESTION_SCORE
  after: string;
  near: string; // a record id: the list is the records most similar to it
  vector: string; // or a vector (base64url of little-endian float32, vectortext.ts): the records nearest it
  space: string; // the vector space searched ("" = the dataset's first)
  top: number; // how many similar records are listed
  order: SimilarityOrder; // most similar first, or least similar first
}

/** How many similar records the list can show: up to the API's largest `first` (1,000, its page
 * size), which is also one bulk answer's most (bulk.tsx BATCH). similarRecords has no cursor. */
export const SIMILAR_SIZES = [10, 20, 50, 100, 200, 500, 1000];
export const SIMILAR_DEFAULT = 50;

export const SORTS: { value: string; label: string }[] = [
  { value: "INSERTED_AT.ASC", label: "Oldest first" },
  { value: "INSERTED_AT.DESC", label: "Newest first" },
  { value: "UPDATED_AT.DESC", label: "Recently changed first" },
  { value: "UPDATED_AT.ASC", label: "Least recently changed first" },
];
const DEFAULT_SORT = SORTS[0].value;

/** Every order the dataset offers: the fixed ones, then by each metadata property and each
 * question's suggestion score, both ways (served up to the server's maxScanRecords records;
 * beyond, the API's QUERY_TOO_COSTLY message is shown). */
export function sortChoices(properties: { name: string; title: string; kind: string }[],
  questions: { name: string; title: string }[]): { value: string; label: string }[] {
  const byValue = (field: string, name: string, title: string, numeric: boolean) => [
    { value: `${field}.ASC.${name}`, label: `${title}: ${numeric ? "lowest" : "A–Z"} first` },
    { value: `${field}.DESC.${name}`, label: `${title}: ${numeric ? "highest" : "Z–A"} first` },
  ];
  return [
    ...SORTS,
    ...properties.flatMap((p) => byValue("METADATA", p.name, p.title, p.kind !== "TERMS")),
    ...questions.flatMap((q) => byValue("SUGGESTION_SCORE", q.name, `Suggestion score of “${q.title}”`, true)),
  ];
}

/** The metadata choices of an address's `meta` parameter: an object of objects, anything else
 * (not JSON, `null`, a number, an entry that is not an object) left out rather than trusted. */
function metaChoices(raw: string | null): Record<string, MetaChoice> {
  let parsed: unknown;
  try { parsed = JSON.parse(raw ?? "{}"); } catch { return {}; }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return {};
  return Object.fromEntries(Object.entries(parsed).filter(([, c]) => typeof c === "object" && c !== null && !Array.isArray(c))
    .map(([name, c]) => [name, c as MetaChoice]));
}

/** Whether the list is the similar records (near a record or a vector) rather than the plain list. */
export function isSimilar(query: ListQuery): boolean {
  return Boolean(query.near || query.vector);
}

/** What the similar list searches near, as the API's NearInput; null when the address's vector is unreadable. */
export function nearOf(query: ListQuery): NearInput | null {
  if (query.near) return { recordId: query.near };
  const vector = vectorOfAddress(query.vector);
  return vector ? { vector } : null;
}

function topOf(raw: string | null): number {
  const top = Number(raw);
  return SIMILAR_SIZES.includes(top) ? top : SIMILAR_DEFAULT;
}

/** The query part of the address (after "?" in the hash). */
export function readQuery(hash: string = window.location.hash): ListQuery {
  const params = new URLSearchParams(hash.includes("?") ? hash.slice(hash.indexOf("?") + 1) : "");
  const meta = metaChoices(params.get("meta"));
  return {
    text: params.get("text") ?? "",
    status: (params.get("status") ?? "") as ListQuery["status"],
    mine: (params.get("mine") ?? "").split(",").filter(Boolean) as ResponseStatus[],
    meta,
    sort: params.get("sort") ?? DEFAULT_SORT,
    after: params.get("after") ?? "",
    near: params.get("near") ?? "",
    vector: params.get("near") ? "" : params.get("vector") ?? "",
    space: params.get("space") ?? "",
    top: topOf(params.get("top")),
    order: params.get("order") === "least" ? "LEAST_SIMILAR" : "MOST_SIMILAR",
  };
}

/** The address of the view with this query; empty parts are left out. */
export function hrefOf(datasetId: string, query: ListQuery): string {
  const params = new URLSearchParams();
  if (query.text.trim()) params.set("text", query.text.trim());
  if (query.status) params.set("status", query.status);
  if (query.mine.length) params.set("mine", query.mine.join(","));
  const meta = Object.fromEntries(Object.entries(query.meta).filter(([, c]) => chosen(c)));
  if (Object.keys(meta).length) params.set("meta", JSON.stringify(meta));
  if (query.sort !== DEFAULT_SORT) params.set("sort", query.sort);
  if (query.after) params.set("after", query.after);
  const similar = isSimilar(query);
  if (query.near) params.set("near", query.near);
  else if (query.vector) params.set("vector", query.vector);
  if (similar && query.space) params.set("space", query.space);
  if (similar && query.top !== SIMILAR_DEFAULT) params.set("top", String(query.top));
  if (similar && query.order === "LEAST_SIMILAR") params.set("order", "least");
  const rest = params.toString();
  return `#/d/${datasetId}/records${rest ? `?${rest}` : ""}`;
}

const chosen = (c: MetaChoice) => Boolean(c.values?.length) || c.ge !== undefined || c.le !== undefined;

/** The plain list (no filter, first page) or, with `near`, the records most similar to it. */
export function listOf(near = "", space = ""): ListQuery {
  return { text: "", status: "", mine: [], meta: {}, sort: DEFAULT_SORT, after: "", near, vector: "", space,
    top: SIMILAR_DEFAULT, order: "MOST_SIMILAR" };
}

/** The plain list with the view's filters kept: the way back from the similar list. */
export function plainOf(query: ListQuery): ListQuery {
  return { ...query, after: "", near: "", vector: "", space: "", top: SIMILAR_DEFAULT, order: "MOST_SIMILAR" };
}

export function filterOf(query: ListQuery): RecordFilter {
  const metadata: MetadataFilter[] = Object.entries(query.meta).filter(([, c]) => chosen(c))
    .map(([name, c]) => ({ name, values: c.values?.length ? c.values : null, ge: c.ge ?? null, le: c.le ?? null }));
  return {
    text: query.text.trim() || null,
    status: query.status || null,
    myResponseStatus: query.mine.length ? query.mine : null,
    metadata: metadata.length ? metadata : null,
    externalIds: null,
    responseStatus: null,
  };
}

export function sortOf(query: ListQuery): RecordSort {
  const [field, direction, ...name] = query.sort.split(".");
  return { field, direction, name: name.length ? name.join(".") : null } as RecordSort;
}

/** Whether the service answers totalCount for this filter from its counters or an index, without
 * reading the dataset (docs/queries.md, "totalCount"): no filter, status alone, myResponseStatus
 * alone, or a text search (up to 200 matches; more is refused, and the view says "many"). */
export function countIsCheap(filter: RecordFilter): boolean {
  if (filter.text) return true;
  const used = [filter.status, filter.myResponseStatus, filter.metadata].filter((part) => part !== null);
  return used.length === 0 || (used.length === 1 && !filter.metadata);
}
