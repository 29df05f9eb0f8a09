// "Search near a vector" in the records view: a vector typed or pasted (a JSON list of numbers,
// or base64 of little-endian float32: vectortext.ts) for one of the dataset's spaces, checked in
// the browser and then searched as the records view's similar list (`?vector=…`, similarlist.tsx)
// with the view's filters. A wrong dimension or a value that is not a number is said beside the box.
import { useState } from "preact/hooks";
import type { VectorSpaceT } from "./ops";
import { hrefOf, type ListQuery } from "./recordquery";
import { readVector, vectorAsJson, vectorOfAddress, vectorToAddress } from "./vectortext";

export function VectorSearch({ datasetId, query, spaces }: {
  datasetId: string; query: ListQuery; spaces: VectorSpaceT[];
}) {
  const shown = vectorOfAddress(query.vector);
  const [text, setText] = useState(shown ? vectorAsJson(shown) : "");
  const [spaceName, setSpaceName] = useState(query.space || spaces[0]?.name || "");
  const [error, setError] = useState<string | null>(null);
  if (spaces.length === 0) return null;
  const space = spaces.find((s) => s.name === spaceName) ?? spaces[0];
  function search(event: Event) {
    event.preventDefault();
    const read = readVector(text, space);
    if ("error" in read) { setError(read.error); return; }
    setError(null);
    window.location.hash = hrefOf(datasetId, {
      ...query, after: "", near: "", vector: vectorToAddress(read.values), space: space.name });
  }
  return (
    <details class="vector-search" open={Boolean(query.vector)} data-testid="vector-search">
      <summary>Search near a vector</summary>
      <form onSubmit={search} aria-label="Search near a vector" noValidate>
        {spaces.length > 1 && (
          <span class="pair"><label for="vector-space">Space of the vector</label>
            <select id="vector-space" value={space.name}
              onChange={(e) => { setSpaceName((e.target as HTMLSelectElement).value); setError(null); }}>
              {spaces.map((s) => <option key={s.name} value={s.name}>{s.name} ({s.dimension} values)</option>)}
            </select></span>
        )}
        <label for="vector-text">Vector</label>
        <textarea id="vector-text" rows={3} value={text} spellcheck={false}
          aria-invalid={error ? "true" : undefined} aria-describedby={error ? "vector-hint vector-error" : "vector-hint"}
          onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
        <p class="hint" id="vector-hint">
          {space.dimension} {space.dimension === 1 ? "value" : "values"} for “{space.name}”: a JSON list of numbers
          ([0.12, -0.5, …]), or the base64 of its little-endian float32 bytes.</p>
        {error && <p class="error" role="alert" id="vector-error" data-testid="vector-error">{error}</p>}
        <div class="row"><button type="submit" class="primary">Find similar to this vector</button></div>
      </form>
    </details>
  );
}
