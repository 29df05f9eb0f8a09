// One component per built-in question kind, a loader for plugin widgets, and the generated
// form for a kind the UI does not know. Values are in the kind's JSON form (what goes under
// the kind's member of ValueInput).
import { useRef, useState } from "preact/hooks";
import { renderMarkdown } from "./markdown";
import type { KindInfo, QuestionT } from "./ops";
import { SchemaForm } from "./schemaform";
import { WidgetHost } from "./widgets";

export interface QuestionProps {
  q: QuestionT;
  kind: KindInfo | undefined;
  value: unknown;
  onChange: (value: unknown) => void;
  onDone: () => void;
  id: string;
  /** The suggestion's value, marked on its option(s) whatever the labeler picks. */
  suggested?: unknown;
  /** The record's field values by field name (plugin widgets receive them). */
  fields?: Record<string, unknown>;
  readOnly?: boolean;
}
type Option = { value: string; text: string };
type Rank = { value: string; rank: number };

export const SHORTCUTS = "123456789abcdefghijklmnopqrstuvwxyz";

/** The marker of a suggested option: it stays when the labeler picks another. */
const Suggested = ({ label = "suggested" }: { label?: string }) => <span class="suggested-mark">{label}</span>;

function Rating({ q, value, onChange, onDone, suggested }: QuestionProps) {
  const values = (q.settingsJson.values as number[]) ?? [];
  const onKey = (event: KeyboardEvent) => {
    if (event.ctrlKey || event.metaKey || event.altKey || !/^[0-9]$/.test(event.key)) return;
    const digit = Number(event.key);
    const pick = values.includes(digit) ? digit : digit === 0 && values.includes(10) ? 10 : null;
    if (pick === null) return;
    event.preventDefault();
    onChange(pick);
    onDone();
  };
  return (
    <div class="choices rating" onKeyDown={onKey}>
      {values.map((v) => (
        <button type="button" key={v} aria-pressed={value === v} class={value === v ? "on" : ""}
          onClick={() => onChange(value === v ? null : v)}>{v}{suggested === v && <Suggested />}</button>
      ))}
    </div>
  );
}

function Labels({ q, value, onChange, onDone, multi, suggested }: QuestionProps & { multi: boolean }) {
  const options = (q.settingsJson.options as Option[]) ?? [];
  const chosen = multi ? ((value as string[] | null) ?? []) : value;
  const toggle = (o: string) => {
    if (!multi) return onChange(chosen === o ? null : o);
    const set = chosen as string[];
    const next = set.includes(o) ? set.filter((x) => x !== o) : [...set, o];
    onChange(next.length ? next : null);
  };
  const onKey = (event: KeyboardEvent) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.key.length !== 1) return;
    const index = SHORTCUTS.indexOf(event.key.toLowerCase());
    if (index < 0 || index >= options.length) return;
    event.preventDefault();
    toggle(options[index].value);
    if (!multi) onDone();
  };
  return (
    <div class="choices labels" onKeyDown={onKey}>
      {options.map((o, i) => {
        const on = multi ? (chosen as string[]).includes(o.value) : chosen === o.value;
        return (
          <button type="button" key={o.value} aria-pressed={on} class={on ? "on" : ""} onClick={() => toggle(o.value)}>
            {i < SHORTCUTS.length && <kbd aria-hidden="true">{SHORTCUTS[i]}</kbd>} {o.text}
            {(multi ? Array.isArray(suggested) && suggested.includes(o.value) : suggested === o.value) && <Suggested />}
          </button>
        );
      })}
    </div>
  );
}

/** Ranks by drag (reorders 1..N) or by keyboard: a digit gives the focused option that rank
 * (equal ranks are ties), Alt+Up/Down moves it, Up/Down moves the focus. */
function Ranking({ q, value, onChange, id, suggested }: QuestionProps) {
  const options = (q.settingsJson.options as Option[]) ?? [];
  const suggestedRanks = new Map(((suggested as Rank[] | undefined) ?? []).map((r) => [r.value, r.rank]));
  const ranks = new Map(((value as Rank[] | null) ?? []).map((r) => [r.value, r.rank]));
  const order = options.map((o, i) => ({ ...o, i, rank: ranks.get(o.value) }))
    .sort((a, b) => (a.rank ?? 1e9) - (b.rank ?? 1e9) || a.i - b.i);
  const list = useRef<HTMLOListElement>(null);
  const [dragged, setDragged] = useState<string | null>(null);
  const emit = (next: Map<string, number>) =>
    onChange(next.size ? options.filter((o) => next.has(o.value)).map((o) => ({ value: o.value, rank: next.get(o.value)! })) : null);
  const reorder = (values: string[]) => emit(new Map(values.map((v, i) => [v, i + 1])));
  const focusItem = (index: number) =>
    (list.current?.children[Math.max(0, Math.min(index, options.length - 1))] as HTMLElement | undefined)?.focus();
  const onKey = (event: KeyboardEvent, index: number, option: string) => {
    if (/^[1-9]$/.test(event.key) && !event.ctrlKey && !event.metaKey && !event.altKey) {
      if (Number(event.key) > options.length) return;
      event.preventDefault();
      const next = new Map(ranks);
      next.set(option, Number(event.key));
      emit(next);
    } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      event.preventDefault();
      const step = event.key === "ArrowUp" ? -1 : 1;
      if (event.altKey) {
        const values = order.map((o) => o.value);
        const target = index + step;
        if (target < 0 || target >= values.length) return;
        [values[index], values[target]] = [values[target], values[index]];
        reorder(values);
        requestAnimationFrame(() => focusItem(target));
      } else focusItem(index + step);
    } else if (event.key === "Backspace" || event.key === "Delete") {
      event.preventDefault();
      const next = new Map(ranks);
      next.delete(option);
      emit(next);
    }
  };
  const drop = (target: string) => {
    if (!dragged || dragged === target) return;
    const values = order.map((o) => o.value).filter((v) => v !== dragged);
    values.splice(values.indexOf(target), 0, dragged);
    reorder(values);
    setDragged(null);
  };
  return (
    <div class="ranking">
      <p class="hint" id={`${id}-help`}>Drag to reorder, or focus an option and press its rank (1 = best; equal ranks
        are ties), Alt+↑/↓ to move it, Delete to clear.</p>
      <ol ref={list} aria-describedby={`${id}-help`}>
        {order.map((o, index) => (
          <li key={o.value} tabIndex={0} draggable data-value={o.value} class={dragged === o.value ? "dragging" : ""}
            aria-label={`${o.text}: ${o.rank ? `rank ${o.rank}` : "not ranked"}${
              suggestedRanks.has(o.value) ? `, suggested rank ${suggestedRanks.get(o.value)}` : ""}`}
            onKeyDown={(e) => onKey(e, index, o.value)}
            onDragStart={(e) => { setDragged(o.value); e.dataTransfer?.setData("text/plain", o.value); }}
            onDragOver={(e) => e.preventDefault()}
            onDrop={(e) => { e.preventDefault(); drop(o.value); }}
            onDragEnd={() => setDragged(null)}>
            <span class="rank">{o.rank ?? "–"}</span> {o.text}
            {suggestedRanks.has(o.value) && <Suggested label={`suggested ${suggestedRanks.get(o.value)}`} />}
          </li>
        ))}
      </ol>
    </div>
  );
}

function Text({ q, value, onChange, id }: QuestionProps) {
  const text = (value as string | null) ?? "";
  return (
    <div class="text-answer">
      <textarea id={id} rows={6} value={text} aria-label={q.title}
        onInput={(e) => onChange((e.target as HTMLTextAreaElement).value || null)} />
      {Boolean(q.settingsJson.useMarkdown) && text && (
        <section class="answer-preview" aria-labelledby={`${id}-preview`} data-testid="answer-preview">
          <h4 id={`${id}-preview`}>Preview <span class="hint">of your answer, as markdown</span></h4>
          <div class="markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(text) }} />
        </section>
      )}
    </div>
  );
}

/** A plugin's own widget module, hosted by widgets.tsx; the generated form if it fails. */
function Widget({ url, ...props }: QuestionProps & { url: string }) {
  const { q } = props;
  const question = { name: q.name, title: q.title, description: q.description ?? null, required: q.required, settings: q.settingsJson };
  return (
    <WidgetHost url={url} fallback={<SchemaForm {...props} />} props={{
      family: "question", kind: q.kind, ...question, fields: props.fields ?? {}, value: props.value,
      suggestion: props.suggested ?? null, readOnly: props.readOnly ?? false, id: props.id, labelId: `${props.id}-label`,
      onChange: props.onChange, question,
    }} />
  );
}

export function QuestionInput(props: QuestionProps) {
  switch (props.q.kind) {
    case "text": return <Text {...props} />;
    case "rating": return <Rating {...props} />;
    case "label": return <Labels {...props} multi={false} />;
    case "multiLabel": return <Labels {...props} multi />;
    case "ranking": return <Ranking {...props} />;
  }
  if (props.kind?.widgetUrl) return <Widget {...props} url={props.kind.widgetUrl} />;
  return <SchemaForm {...props} />;
}
