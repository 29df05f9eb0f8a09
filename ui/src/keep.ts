// Unsent input kept on this device (localStorage) until the server has it, so that a reload, a
// network failure or a revoked key never loses what a labeler typed. Entries are per user and
// record; the API key is never written here (it stays in this tab's sessionStorage).
const PREFIX = "feedbackql.unsent.";

export type Answers = Record<string, unknown>;
export interface Kept { datasetId: string; answers: Answers; savedAt: string }

const keyOf = (userId: string, recordId: string) => `${PREFIX}${userId}.${recordId}`;

/** Keeps the answers on screen; a full storage only loses the local copy, never the screen's. */
export function keep(userId: string, datasetId: string, recordId: string, answers: Answers): void {
  const entry: Kept = { datasetId, answers, savedAt: new Date().toISOString() };
  try { localStorage.setItem(keyOf(userId, recordId), JSON.stringify(entry)); } catch { /* quota: screen still has it */ }
}

export function kept(userId: string, recordId: string): Kept | null {
  const raw = localStorage.getItem(keyOf(userId, recordId));
  if (!raw) return null;
  try { return JSON.parse(raw) as Kept; } catch { return null; }
}

/** Forgets the local copy once the server has exactly these answers (a later edit is kept). */
export function sent(userId: string, recordId: string, answers: Answers): void {
  const entry = kept(userId, recordId);
  if (entry && JSON.stringify(entry.answers) === JSON.stringify(answers)) localStorage.removeItem(keyOf(userId, recordId));
}

/** The records of a dataset with unsent input of this user, newest first. */
export function unsentRecords(userId: string, datasetId: string): { recordId: string; savedAt: string }[] {
  const prefix = `${PREFIX}${userId}.`;
  const found: { recordId: string; savedAt: string }[] = [];
  for (let i = 0; i < localStorage.length; i++) {
    const name = localStorage.key(i);
    if (!name?.startsWith(prefix)) continue;
    const entry = kept(userId, name.slice(prefix.length));
    if (entry?.datasetId === datasetId) found.push({ recordId: name.slice(prefix.length), savedAt: entry.savedAt });
  }
  return found.sort((a, b) => b.savedAt.localeCompare(a.savedAt));
}
