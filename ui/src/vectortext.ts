// A vector a person types or pastes, read the two ways the API takes vectors (docs/vectors.md):
// a JSON list of numbers, or the base64 of its little-endian float32 bytes. Read in the browser
// and checked against the space (its dimension, finite float32 values) before anything is asked,
// so a mistake is said next to the box. The records view keeps the vector in its address as
// base64url float32 (a quarter of the JSON numbers' length), decoded back here.

/** float32's largest finite value: the service refuses anything beyond it. */
const FLOAT32_MAX = 3.4028234663852886e38;

export type ReadVector = { values: number[] } | { error: string };
export interface SpaceShape { name: string; dimension: number; metric: string }

/** The values of base64 text (either alphabet, padding optional), or why they are not float32s. */
function fromBase64(text: string): ReadVector {
  const compact = text.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact)) {
    return { error: "This is neither a JSON list of numbers ([0.1, 0.2, …]) nor base64 text." };
  }
  const standard = compact.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
  let binary: string;
  try { binary = atob(standard + "=".repeat((4 - (standard.length % 4)) % 4)); } catch {
    return { error: "This base64 text is cut short: it does not decode." };
  }
  if (binary.length % 4 !== 0) {
    return { error: `This base64 text holds ${binary.length} bytes: float32 values take 4 bytes each.` };
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  const view = new DataView(bytes.buffer);
  return { values: Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true)) };
}

function fromJson(text: string): ReadVector {
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch {
    return { error: "This is not a JSON list of numbers: write it as [0.1, 0.2, …]." };
  }
  if (!Array.isArray(parsed)) return { error: "This is not a JSON list of numbers: write it as [0.1, 0.2, …]." };
  const bad = parsed.findIndex((v) => typeof v !== "number");
  if (bad >= 0) return { error: `Value ${bad + 1} (${JSON.stringify(parsed[bad])}) is not a number.` };
  return { values: parsed as number[] };
}

/** The problem with these values in this space, if any: the dimension, then each value. */
function problem(values: number[], space: SpaceShape): string | null {
  if (values.length !== space.dimension) {
    return `Vectors of “${space.name}” have ${space.dimension} values; this one has ${values.length}.`;
  }
  const bad = values.findIndex((v) => !Number.isFinite(v) || Math.abs(v) > FLOAT32_MAX);
  if (bad >= 0) return `Value ${bad + 1} (${values[bad]}) is not a finite float32 number.`;
  if (space.metric === "COSINE" && values.every((v) => v === 0)) {
    return `“${space.name}” compares directions (cosine): an all-zero vector has none.`;
  }
  return null;
}

/** The vector in `text` for this space, or what is wrong with it in words. */
export function readVector(text: string, space: SpaceShape): ReadVector {
  const trimmed = text.trim();
  if (!trimmed) return { error: "Type or paste a vector first." };
  const read = trimmed.startsWith("[") ? fromJson(trimmed) : fromBase64(trimmed);
  if ("error" in read) return read;
  const wrong = problem(read.values, space);
  return wrong ? { error: wrong } : { values: read.values.map(Math.fround) };
}

/** The vector as the records view's address holds it: base64url of little-endian float32. */
export function vectorToAddress(values: number[]): string {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  const binary = String.fromCharCode(...new Uint8Array(view.buffer));
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The address's vector, or null when it is not one (a mangled link). */
export function vectorOfAddress(text: string): number[] | null {
  if (!text) return null;
  const read = fromBase64(text);
  return "values" in read && read.values.length > 0 ? read.values : null;
}

/** float32 values as the shortest JSON list that reads back as the same float32s (0.1, not 0.10000000149011612). */
export function vectorAsJson(values: number[]): string {
  const shortest = (v: number) => {
    for (let digits = 1; digits < 9; digits += 1) {
      const near = Number(v.toPrecision(digits));
      if (Math.fround(near) === v) return near;
    }
    return v;
  };
  return JSON.stringify(values.map(shortest));
}
