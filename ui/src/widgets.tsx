// The host of plugin widgets (question and field kinds alike): it loads the kind's module from
// its widgetUrl, mounts it inside a shadow root of its own (the widget's CSS stays in, the
// page's stays out), hands it one props contract (docs/plugins.md, "Widget props"), and falls
// back to the UI's own rendering, with a note, when the module fails to load or throws.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";

/** What every widget's `mount(host, props)` and `update(props)` receive. */
export interface WidgetProps {
  family: "question" | "field";
  kind: string;
  name: string;
  title: string;
  description: string | null;
  required: boolean;
  /** The settings as the installed plugin reads them (settingsJson, migrated). */
  settings: Record<string, unknown>;
  /** The record's field values, by field name. */
  fields: Record<string, unknown>;
  /** A question's answer (JSON form) or null; a field's value. */
  value: unknown;
  /** A question's suggestion for this record (JSON form), or null. */
  suggestion: unknown;
  readOnly: boolean;
  id: string;
  labelId: string;
  onChange: (value: unknown) => void;
  /** A message the UI shows under the widget and that blocks submit; null: valid. */
  setValidity: (message: string | null) => void;
  /** Kept for widgets written before `settings`/`title` (question widgets only). */
  question?: { name: string; title: string; description: string | null; required: boolean; settings: Record<string, unknown> };
  field?: { name: string; title: string; required: boolean; settings: Record<string, unknown> };
}
export type HostedProps = Omit<WidgetProps, "setValidity">;
type Handle = { update?: (props: WidgetProps) => void; destroy?: () => void };
type Mount = (host: HTMLElement, props: WidgetProps) => Handle | undefined | void;

/** Problems widgets reported and not withdrawn, by host: what blocks submit. */
const problems = new Map<number, string>();
let hosts = 0;

/** The messages of widgets that said their value is not valid (empty: submit may go). */
export function widgetProblems(): string[] {
  return [...problems.values()];
}

// A neutral start inside the shadow root: nothing the page sets is inherited.
const BASELINE = `:host { display: block; }
.fql-widget-root { all: initial; display: block; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1d2330; overflow-wrap: anywhere; }`;
const CONTROLS = "button, input, select, textarea, [tabindex]:not([tabindex='-1'])";
const modules = new Map<string, Promise<{ default: Mount }>>();
const load = (url: string) => {
  if (!modules.has(url)) modules.set(url, import(/* @vite-ignore */ url));
  return modules.get(url)!;
};

function freshRoot(outer: HTMLElement): HTMLElement {
  // delegatesFocus: focusing the host (the UI moves to the next question) focuses the widget's first control.
  const shadow = outer.shadowRoot ?? outer.attachShadow({ mode: "open", delegatesFocus: true });
  const style = document.createElement("style");
  style.textContent = BASELINE;
  const root = document.createElement("div");
  root.className = "fql-widget-root";
  shadow.replaceChildren(style, root);
  return root;
}

/** Mounts `url`'s widget with `props`; `fallback` is shown instead (with a note) if it fails. */
export function WidgetHost({ url, props, fallback }: { url: string; props: HostedProps; fallback: ComponentChildren }) {
  const outer = useRef<HTMLDivElement>(null);
  const handle = useRef<Handle | null>(null);
  const serial = useRef(0);
  if (!serial.current) serial.current = ++hosts;
  const latest = useRef(props);
  latest.current = props;
  const [failed, setFailed] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const report = (message: string | null) => {
    const text = message ? String(message) : null;
    if (text) problems.set(serial.current, text); else problems.delete(serial.current);
    setProblem(text);
  };
  const full = (): WidgetProps => ({
    ...latest.current,
    onChange: (value) => {
      // What the widget reported is the value from now on, before the page renders it: an update
      // still pending from an earlier render would otherwise hand the widget its older value (a
      // span marked between two renders disappeared, and was not sent).
      latest.current = { ...latest.current, value };
      latest.current.onChange(value);
    },
    setValidity: report,
  });
  const fail = (error: unknown) => {
    try { handle.current?.destroy?.(); } catch { /* already failing */ }
    handle.current = null;
    report(null);
    setFailed(error instanceof Error ? error.message : String(error));
  };
  useEffect(() => {
    let live = true;
    setFailed(null);
    load(url).then((module) => {
      if (!live || !outer.current) return;
      try {
        if (typeof module.default !== "function") throw new Error("the module has no default export mount(host, props)");
        const waiting = document.activeElement === outer.current; // focused before it could take focus
        const root = freshRoot(outer.current);
        handle.current = module.default(root, full()) || null;
        if (waiting) root.querySelector<HTMLElement>(CONTROLS)?.focus();
      } catch (error) { fail(error); }
    }, (error) => { if (live) fail(error); });
    return () => {
      live = false;
      try { handle.current?.destroy?.(); } catch { /* leaving anyway */ }
      handle.current = null;
      problems.delete(serial.current);
    };
  }, [url]);
  useEffect(() => {
    try { handle.current?.update?.(full()); } catch (error) { fail(error); }
  }, [props.value, props.readOnly, props.fields, props.settings, props.suggestion]);
  if (failed) {
    return (
      <div class="widget-fallback" data-widget-failed={props.kind}>
        <p class="note" role="note">The {props.kind} widget could not be shown ({failed}); {
          props.family === "field" ? "the value is shown as plain text" : "answer with the generic form"} instead.</p>
        {fallback}
      </div>
    );
  }
  return (
    <div class="widget-host">
      <div class="widget" ref={outer} tabIndex={-1} data-widget={props.kind} data-family={props.family} />
      {problem && <p class="error" role="alert" data-testid={`widget-problem-${props.name}`}>{problem}</p>}
    </div>
  );
}
