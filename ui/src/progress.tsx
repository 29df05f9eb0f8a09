import { useEffect, useState } from "preact/hooks";
import { operation, ApiError, type Api } from "./api";
import type * as G from "./generated/graphql";
import type { MyProgress, Progress } from "./ops";

export function ProgressBar({ progress, label }: { progress: Progress; label: string }) {
  const share = progress.total ? progress.completed / progress.total : 0;
  return (
    <div class="progress" data-testid="progress">
      <div class="bar" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={progress.total}
        aria-valuenow={progress.completed}>
        <span style={{ width: `${(share * 100).toFixed(1)}%` }} />
      </div>
      <span class="figures">
        <b data-testid="completed">{progress.completed}</b> of {progress.total} completed
        · {progress.responses.submitted} submitted
      </span>
    </div>
  );
}

export function Mine({ mine }: { mine: MyProgress }) {
  return (
    <span class="mine" data-testid="my-progress">
      me: {mine.submitted} submitted, {mine.draft} drafts, {mine.discarded} discarded, {mine.available} left
    </span>
  );
}

/** An API error in the service's own words (each error's message), anything else as text. */
export const describeError = (e: unknown) =>
  (e instanceof ApiError ? e.errors.map((x) => x.message).join(" · ") || e.message : String(e));

const SET_THRESHOLD = operation<G.ThresholdMutation, G.ThresholdMutationVariables>(
  /* GraphQL */ `mutation Threshold($id: ID!, $n: Int!) {
  updateDataset(id: $id, input: { distribution: { minSubmitted: $n } }) { id distribution { minSubmitted } }
}`);

/** The completion threshold (distribution.minSubmitted), shown and editable by managers. */
export function Threshold({ api, datasetId, value, onSaved }: {
  api: Api; datasetId: string; value: number; onSaved: (value: number) => void;
}) {
  const [draft, setDraft] = useState(String(value));
  const [state, setState] = useState<{ error?: string; saved?: boolean }>({});
  useEffect(() => setDraft(String(value)), [value]);
  const save = async (event: Event) => {
    event.preventDefault();
    try {
      const data = await api.request(
        SET_THRESHOLD, { id: datasetId, n: Number(draft) });
      onSaved(data.updateDataset.distribution.minSubmitted);
      setState({ saved: true });
    } catch (e) {
      setState({ error: describeError(e) });
    }
  };
  return (
    <form class="inline-form threshold" onSubmit={save}>
      <label for="min-submitted">A record is complete after</label>
      <input id="min-submitted" type="number" min={1} step={1} value={draft} required
        onInput={(e) => { setDraft((e.target as HTMLInputElement).value); setState({}); }} />
      <span>submitted answer(s)</span>
      <button type="submit" disabled={draft === String(value)}>Save</button>
      {state.saved && <span class="hint" role="status">Saved: records are recounted with the new threshold.</span>}
      {state.error && <span class="error" role="alert">{state.error}</span>}
    </form>
  );
}
