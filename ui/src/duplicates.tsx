// Near-duplicates, for owners and admins cleaning a dataset before labelling
// (#/d/<dataset>/duplicates?space=…&threshold=…&after=…): pairs of records at least `threshold`
// similar in a vector space (for L2: at most `threshold` apart), a page at a time with the API's
// cursor (`nearDuplicates`). Each pair shows both records' text, briefly, with links to open
// them. The choice and the page live in the address, as the records view's filters do.
import { useEffect, useState } from "preact/hooks";
import { errorText, operation, type Api } from "./api";
import type * as G from "./generated/graphql";
import { compact } from "./records";

const META = operation<G.DuplicatesMetaQuery, G.DuplicatesMetaQueryVariables>(/* GraphQL */ `query DuplicatesMeta($id: ID!) {
  me { id role }
  dataset(id: $id) { id name fields { name } }
  vectorSpaces(datasetId: $id) { name dimension metric }
}`);
const PAIRS = operation<G.NearDuplicatesPageQuery, G.NearDuplicatesPageQueryVariables>(/* GraphQL */ `query NearDuplicatesPage(
  $id: ID!, $space: String!, $threshold: Float!, $first: Int!, $after: String
) {
  nearDuplicates(datasetId: $id, space: $space, threshold: $threshold, first: $first, after: $after) {
    exact hasNextPage endCursor
    pairs { score first { ...PairRecord } second { ...PairRecord } }
  }
}
fragment PairRecord on Record { id externalId fields status }`);
const PAGE_SIZE = 20;
const PREVIOUS = "feedbackql.previousDuplicates.";

type Meta = G.DuplicatesMetaQuery;
type Space = Meta["vectorSpaces"][number];
type Page = G.NearDuplicatesPageQuery["nearDuplicates"];
type PairRecord = G.PairRecordFragment;
interface Choice { space: string; threshold: string; after: string }

/** What the metric's threshold means, and a starting value. */
const SCALES: Record<Space["metric"], { label: string; hint: string; start: string }> = {
  COSINE: { label: "At least this similar", hint: "Cosine similarity, from −1 to 1: 1 is the same direction.", start: "0.95" },
  DOT: { label: "At least this similar", hint: "Dot product: higher is nearer.", start: "0.95" },
  L2: { label: "At most this far apart", hint: "Euclidean (L2) distance: 0 is the same vector.", start: "0.1" },
};

function readChoice(hash: string = window.location.hash): Choice {
  const params = new URLSearchParams(hash.includes("?") ? hash.slice(hash.indexOf("?") + 1) : "");
  return { space: params.get("space") ?? "", threshold: params.get("threshold") ?? "", after: params.get("after") ?? "" };
}

function hrefOf(datasetId: string, choice: Choice): string {
  const params = new URLSearchParams();
  if (choice.space) params.set("space", choice.space);
  if (choice.threshold) params.set("threshold", choice.threshold);
  if (choice.after) params.set("after", choice.after);
  const rest = params.toString();
  return `#/d/${datasetId}/duplicates${rest ? `?${rest}` : ""}`;
}

/** The page the address asks for, once it names a threshold. */
function usePairs(api: Api, datasetId: string, choice: Choice) {
  const [page, setPage] = useState<Page | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setPage(null);
    setError(null);
    if (!choice.space || choice.threshold === "") return;
    api.request(PAIRS, { id: datasetId, space: choice.space, threshold: Number(choice.threshold), first: PAGE_SIZE,
      after: choice.after || null }).then((d) => live && setPage(d.nearDuplicates), (e) => live && setError(errorText(e)));
    return () => { live = false; };
  }, [api, datasetId, choice.space, choice.threshold, choice.after]);
  return { page, error };
}

function ChoiceForm({ datasetId, spaces, choice }: { datasetId: string; spaces: Space[]; choice: Choice }) {
  const [spaceName, setSpaceName] = useState(choice.space || spaces[0].name);
  const space = spaces.find((s) => s.name === spaceName) ?? spaces[0];
  const scale = SCALES[space.metric];
  const [threshold, setThreshold] = useState(choice.threshold || scale.start);
  const [error, setError] = useState<string | null>(null);
  /** Another space; one of another metric starts from its own threshold (0.95 similar is no distance). */
  const pick = (name: string) => {
    const next = spaces.find((s) => s.name === name) ?? spaces[0];
    if (next.metric !== space.metric) setThreshold(SCALES[next.metric].start);
    setSpaceName(next.name);
  };
  function find(event: Event) {
    event.preventDefault();
    if (threshold.trim() === "" || !Number.isFinite(Number(threshold))) {
      setError("Give the threshold as a number, such as 0.95.");
      return;
    }
    setError(null);
    window.location.hash = hrefOf(datasetId, { space: space.name, threshold: String(Number(threshold)), after: "" });
  }
  return (
    <form class="record-filters" onSubmit={find} role="search" aria-label="Find near-duplicates" noValidate>
      <div class="row">
        <span class="pair"><label for="dup-space">Vector space</label>
          <select id="dup-space" value={space.name} onChange={(e) => pick((e.target as HTMLSelectElement).value)}>
            {spaces.map((s) => <option key={s.name} value={s.name}>{s.name} ({s.metric.toLowerCase()})</option>)}
          </select></span>
        <span class="pair"><label for="dup-threshold">{scale.label}</label>
          <input id="dup-threshold" type="text" inputMode="decimal" value={threshold} aria-describedby="dup-hint"
            aria-invalid={error ? "true" : undefined} onInput={(e) => setThreshold((e.target as HTMLInputElement).value)} /></span>
        <button type="submit" class="primary">Find pairs</button>
      </div>
      <p class="hint" id="dup-hint">{scale.hint}</p>
      {error && <p class="error" role="alert" data-testid="dup-input-error">{error}</p>}
    </form>
  );
}

function RecordOfPair({ datasetId, record, fields }: { datasetId: string; record: PairRecord; fields: string[] }) {
  const name = record.externalId ?? `Record ${record.id.slice(-6)}`;
  const text = fields.map((f) => compact(record.fields[f])).find(Boolean) ?? compact(record.fields);
  return (
    <div class="pair-record" data-record={record.id}>
      <a href={`#/d/${datasetId}/r/${record.id}`}>{name}</a>
      {record.status === "COMPLETED" && <span class="tag">completed</span>}
      <p class="cell">{text}</p>
    </div>
  );
}

function PairList({ datasetId, page, fields, metric }: { datasetId: string; page: Page; fields: string[]; metric: Space["metric"] }) {
  const scoreName = metric === "L2" ? "distance" : "similarity";
  return (
    <ol class="pairs" data-testid="pairs">
      {page.pairs.map((p) => (
        <li key={`${p.first.id}-${p.second.id}`} class="pair-card" data-pair={`${p.first.externalId ?? p.first.id}|${p.second.externalId ?? p.second.id}`}>
          <p class="score" data-testid="pair-score">{scoreName} {p.score.toFixed(3)}</p>
          <RecordOfPair datasetId={datasetId} record={p.first} fields={fields} />
          <RecordOfPair datasetId={datasetId} record={p.second} fields={fields} />
        </li>
      ))}
    </ol>
  );
}

function Pager({ datasetId, choice, page }: { datasetId: string; choice: Choice; page: Page }) {
  const go = (after: string) => { window.location.hash = hrefOf(datasetId, { ...choice, after }); };
  const next = () => {
    sessionStorage.setItem(PREVIOUS + page.endCursor, choice.after);
    go(page.endCursor!);
  };
  return (
    <nav class="pager" aria-label="Pages of pairs">
      <button type="button" onClick={() => go(sessionStorage.getItem(PREVIOUS + choice.after) ?? "")} disabled={!choice.after}>
        Previous page</button>
      <button type="button" onClick={() => go("")} disabled={!choice.after}>First page</button>
      <button type="button" onClick={next} disabled={!page.hasNextPage || !page.endCursor}>Next page</button>
    </nav>
  );
}

/** How many pairs this page holds, or that there are none (at all, or in this stretch). */
function Figures({ page, choice, space }: { page: Page; choice: Choice; space: Space }) {
  const near = space.metric === "L2" ? `at most ${choice.threshold} apart` : `at least ${choice.threshold} similar`;
  let text: string;
  if (page.pairs.length > 0) {
    text = `${page.pairs.length} ${page.pairs.length === 1 ? "pair" : "pairs"} ${near} on this page `
      + `(${page.exact ? "every vector compared" : "approximate"}).`;
  } else if (page.hasNextPage) {
    text = "No pairs in this stretch of the space (a page compares a bounded number of vectors): Next page searches on.";
  } else if (choice.after) text = `No more pairs ${near} in “${space.name}”.`;
  else text = `No two records in “${space.name}” are ${near}.`;
  return <p class="figures" aria-live="polite" data-testid="dup-figures">{text}</p>;
}

export function Duplicates({ api, datasetId }: { api: Api; datasetId: string }) {
  const [meta, setMeta] = useState<Meta | null>(null);
  const [metaError, setMetaError] = useState<string | null>(null);
  const choice = readChoice();
  const { page, error } = usePairs(api, datasetId, choice);
  useEffect(() => { api.request(META, { id: datasetId }).then(setMeta, (e) => setMetaError(errorText(e))); }, [api, datasetId]);
  if (metaError) return <main><p class="error" role="alert">{metaError}</p></main>;
  if (!meta) return <main aria-busy="true"><p>Loading…</p></main>;
  const spaces = meta.vectorSpaces;
  const space = spaces.find((s) => s.name === choice.space);
  const fields = meta.dataset.fields.map((f) => f.name);
  return (
    <main class="duplicates">
      <div class="heading">
        <h1>Near-duplicates · {meta.dataset.name}</h1>
        <a href={`#/d/${datasetId}/records`}>Records</a>
        <a href={`#/d/${datasetId}/manage`}>Overview</a>
      </div>
      {meta.me.role === "ANNOTATOR" && <p class="error" role="alert">Near-duplicates are for the workspace's owners and admins.</p>}
      {meta.me.role !== "ANNOTATOR" && spaces.length === 0 && (
        <p data-testid="dup-no-space">This dataset has no vector space: add one, and vectors to its records, to find near-duplicates.</p>)}
      {meta.me.role !== "ANNOTATOR" && spaces.length > 0 && <>
        <ChoiceForm key={`${choice.space}|${choice.threshold}`} datasetId={datasetId} spaces={spaces} choice={choice} />
        {error && <p class="error" role="alert" data-testid="dup-error">{error}</p>}
        {page && space && <Figures page={page} choice={choice} space={space} />}
        {page && space && <PairList datasetId={datasetId} page={page} fields={fields} metric={space.metric} />}
        {page && (choice.after || page.hasNextPage) && <Pager datasetId={datasetId} choice={choice} page={page} />}
      </>}
    </main>
  );
}
