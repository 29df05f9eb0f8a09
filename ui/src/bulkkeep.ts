// The bulk form's unsent input — its answers and the records selected — kept on this device
// (localStorage) per user and dataset, so that a reload or a closed tab does not lose it (the
// labeling view keeps its own per record: keep.ts). Forgotten once every selected record is stored.
import type { Selected } from "./bulk";

const PREFIX = "feedbackql.bulk.";

export interface KeptBulk { answers: Record<string, unknown>; selected: Selected[]; savedAt: string }

const keyOf = (userId: string, datasetId: string) => `${PREFIX}${userId}.${datasetId}`;

export function keptBulk(userId: string, datasetId: string): KeptBulk | null {
  try {
    const entry = JSON.parse(localStorage.getItem(keyOf(userId, datasetId)) ?? "null") as KeptBulk | null;
    return entry && typeof entry.answers === "object" && Array.isArray(entry.selected) ? entry : null;
  } catch { return null; }
}

/** Keeps what is on screen; nothing to keep (no answer, no selection) forgets the entry. */
export function keepBulk(userId: string, datasetId: string, answers: Record<string, unknown>,
  selected: Iterable<Selected>): void {
  const entry: KeptBulk = { answers: Object.fromEntries(Object.entries(answers).filter(([, v]) => v !== null && v !== undefined)),
    selected: [...selected], savedAt: new Date().toISOString() };
  try {
    if (!Object.keys(entry.answers).length && !entry.selected.length) localStorage.removeItem(keyOf(userId, datasetId));
    else localStorage.setItem(keyOf(userId, datasetId), JSON.stringify(entry));
  } catch { /* quota: the screen still has it */ }
}

export function forgetBulk(userId: string, datasetId: string): void {
  localStorage.removeItem(keyOf(userId, datasetId));
}
