// The records view's search and filters: edited here, applied by moving to the address that
// says them (so Back returns to the previous filter and a copied link opens the same list).
import { useEffect, useState } from "preact/hooks";
import type { MetadataPropertyT } from "./ops";
import { hrefOf, isSimilar, listOf, type ListQuery, type MetaChoice } from "./recordquery";
import type { ResponseStatus } from "./generated/graphql";

const MINE: { value: ResponseStatus; label: string }[] = [
  { value: "SUBMITTED", label: "Submitted" }, { value: "DRAFT", label: "Draft" }, { value: "DISCARDED", label: "Discarded" },
];

function number(text: string): number | undefined {
  return text.trim() === "" || Number.isNaN(Number(text)) ? undefined : Number(text);
}

function MetaInput({ property, choice, onChange }: {
  property: MetadataPropertyT; choice: MetaChoice; onChange: (c: MetaChoice) => void;
}) {
  const id = `meta-${property.name}`;
  if (property.kind === "TERMS" && !property.values?.length) {
    return (
      <fieldset class="meta-terms" data-meta={property.name}>
        <legend>{property.title}</legend>
        <label for={id}>one of (separated by commas)</label>
        <input id={id} value={(choice.values ?? []).join(", ")} onChange={(e) => onChange({
          values: (e.target as HTMLInputElement).value.split(",").map((v) => v.trim()).filter(Boolean) })} />
      </fieldset>
    );
  }
  if (property.kind === "TERMS") {
    const values = choice.values ?? [];
    const flip = (v: string) => onChange({ values: values.includes(v) ? values.filter((x) => x !== v) : [...values, v] });
    return (
      <fieldset class="meta-terms" data-meta={property.name}>
        <legend>{property.title}</legend>
        {(property.values ?? []).map((v) => (
          <label key={v}><input type="checkbox" checked={values.includes(v)} onChange={() => flip(v)} /> {v}</label>
        ))}
      </fieldset>
    );
  }
  const step = property.kind === "INTEGER" ? 1 : "any";
  return (
    <fieldset class="meta-range" data-meta={property.name}>
      <legend>{property.title}</legend>
      <label for={`${id}-ge`}><span class="sr">{property.title} </span>from</label>
      <input id={`${id}-ge`} type="number" step={step} placeholder={property.min?.toString()} value={choice.ge ?? ""}
        onInput={(e) => onChange({ ...choice, ge: number((e.target as HTMLInputElement).value) })} />
      <label for={`${id}-le`}><span class="sr">{property.title} </span>to</label>
      <input id={`${id}-le`} type="number" step={step} placeholder={property.max?.toString()} value={choice.le ?? ""}
        onInput={(e) => onChange({ ...choice, le: number((e.target as HTMLInputElement).value) })} />
    </fieldset>
  );
}

export function RecordFilters({ datasetId, query, properties, sorts }: {
  datasetId: string; query: ListQuery; properties: MetadataPropertyT[]; sorts: { value: string; label: string }[];
}) {
  const [draft, setDraft] = useState<ListQuery>(query);
  const applied = JSON.stringify({ ...query, after: "" });
  useEffect(() => setDraft(query), [applied]);
  const set = (part: Partial<ListQuery>) => setDraft((d) => ({ ...d, ...part }));
  const apply = (event: Event) => {
    event.preventDefault();
    window.location.hash = hrefOf(datasetId, { ...draft, after: "" });
  };
  const toggleMine = (s: ResponseStatus) =>
    set({ mine: draft.mine.includes(s) ? draft.mine.filter((x) => x !== s) : [...draft.mine, s] });
  return (
    <form class="record-filters" onSubmit={apply} role="search" aria-label="Find records">
      <div class="row">
        <span class="pair"><label for="records-text">Search</label>
          <input id="records-text" type="search" value={draft.text} placeholder="words in the record's text"
            onInput={(e) => set({ text: (e.target as HTMLInputElement).value })} /></span>
        <span class="pair"><label for="records-status">Status</label>
          <select id="records-status" value={draft.status}
            onChange={(e) => set({ status: (e.target as HTMLSelectElement).value as ListQuery["status"] })}>
            <option value="">Any</option><option value="PENDING">Pending</option><option value="COMPLETED">Completed</option>
          </select></span>
        {/* Similar records come in order of similarity: no other order applies. */}
        {!isSimilar(query) && <span class="pair"><label for="records-sort">Order</label>
          <select id="records-sort" value={draft.sort} onChange={(e) => set({ sort: (e.target as HTMLSelectElement).value })}>
            {sorts.map((s) => <option key={s.value} value={s.value}>{s.label}</option>)}
          </select></span>}
      </div>
      <fieldset class="mine-filter">
        <legend>My response</legend>
        {MINE.map((m) => (
          <label key={m.value}><input type="checkbox" name="mine" value={m.value} checked={draft.mine.includes(m.value)}
            onChange={() => toggleMine(m.value)} /> {m.label}</label>
        ))}
      </fieldset>
      {properties.map((p) => (
        <MetaInput key={p.name} property={p} choice={draft.meta[p.name] ?? {}}
          onChange={(c) => set({ meta: { ...draft.meta, [p.name]: c } })} />
      ))}
      <div class="row">
        <button type="submit" class="primary">Apply</button>
        <a href={hrefOf(datasetId, { ...listOf(query.near, query.space), vector: query.vector, sort: query.sort,
          top: query.top, order: query.order })}>Clear filters</a>
      </div>
    </form>
  );
}
