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
