// A form generated from a kind's answer JSON Schema (`QuestionType.valueSchema`): what the UI
// shows for a question kind it does not know and whose plugin ships no widget.
import type { JsonSchema } from "./ops";
import type { QuestionProps } from "./questions";

function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  if (schema.$ref?.startsWith("#/$defs/")) return root.$defs?.[schema.$ref.slice(8)] ?? schema;
  const nonNull = schema.anyOf?.filter((s) => s.type !== "null");
  return nonNull?.length === 1 ? resolve(nonNull[0], root) : schema;
}

function typeOf(schema: JsonSchema): string {
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  return type ?? (schema.enum ? "enum" : schema.properties ? "object" : "string");
}

function Input({ schema, root, value, onChange, id, label, top = false }: {
  schema: JsonSchema; root: JsonSchema; value: unknown; onChange: (v: unknown) => void; id: string; label: string;
  top?: boolean;
}) {
  const s = resolve(schema, root);
  const type = typeOf(s);
  if (s.enum) {
    return (
      <label class="gen" for={id}>{label}
        <select id={id} value={value === undefined || value === null ? "" : String(value)}
          onChange={(e) => {
            const raw = (e.target as HTMLSelectElement).value;
            onChange(raw === "" ? null : s.enum!.find((x) => String(x) === raw));
          }}>
          <option value="">—</option>
          {s.enum.map((x) => <option key={String(x)} value={String(x)}>{String(x)}</option>)}
        </select>
      </label>
    );
  }
  if (type === "object" && s.properties) {
    const current = (value as Record<string, unknown> | null) ?? {};
    const inputs = Object.entries(s.properties).map(([key, sub]) => (
          <Input key={key} schema={sub} root={root} id={`${id}-${key}`} value={current[key]}
            label={`${resolve(sub, root).title ?? key}${s.required?.includes(key) ? " *" : ""}`}
            onChange={(v) => {
              const next = { ...current };
              if (v === null || v === undefined || v === "") delete next[key]; else next[key] = v;
              onChange(Object.keys(next).length ? next : null);
            }} />
    ));
    // The question's own title already labels the answer as a whole.
    if (top) return <div class="gen-top">{s.description && <p class="desc">{s.description}</p>}{inputs}</div>;
    return <fieldset class="gen-object"><legend>{label}</legend>{inputs}</fieldset>;
  }
  if (type === "boolean") {
    return (
      <label class="gen check" for={id}>
        <input id={id} type="checkbox" checked={value === true} onChange={(e) => onChange((e.target as HTMLInputElement).checked)} />
        {label}
      </label>
    );
  }
  if (type === "array" && s.items && resolve(s.items, root).enum) {
    const items = resolve(s.items, root).enum!;
    const chosen = (value as unknown[] | null) ?? [];
    return (
      <fieldset class="gen-object"><legend>{label}</legend>
        {items.map((x) => (
          <label key={String(x)} class="gen check">
            <input type="checkbox" checked={chosen.includes(x)} onChange={() => {
              const next = chosen.includes(x) ? chosen.filter((y) => y !== x) : [...chosen, x];
              onChange(next.length ? next : null);
            }} />{String(x)}
          </label>
        ))}
      </fieldset>
    );
  }
  if (type === "number" || type === "integer") {
    return (
      <label class="gen" for={id}>{label}
        <input id={id} type="number" step={type === "integer" ? 1 : "any"} min={s.minimum ?? s.exclusiveMinimum}
          max={s.maximum ?? s.exclusiveMaximum} value={typeof value === "number" ? value : ""}
          onInput={(e) => {
            const raw = (e.target as HTMLInputElement).value;
            onChange(raw === "" ? null : Number(raw));
          }} />
      </label>
    );
  }
  if (type === "string") {
    return (
      <label class="gen" for={id}>{label}
        <input id={id} type="text" maxLength={s.maxLength} value={typeof value === "string" ? value : ""}
          onInput={(e) => onChange((e.target as HTMLInputElement).value || null)} />
      </label>
    );
  }
  // Anything else is edited as JSON.
  return (
    <label class="gen" for={id}>{label} (JSON)
      <textarea id={id} rows={3} value={value === null || value === undefined ? "" : JSON.stringify(value)}
        onChange={(e) => {
          const raw = (e.target as HTMLTextAreaElement).value;
          try { onChange(raw ? JSON.parse(raw) : null); } catch { /* kept until it parses */ }
        }} />
    </label>
  );
}

export function SchemaForm({ q, kind, value, onChange, id }: QuestionProps) {
  if (!kind) return <p class="error">This question's kind ({q.kind}) is not installed on the server.</p>;
  const root = kind.valueSchema;
  return (
    <div class="generated" data-generated={q.kind}>
      <Input schema={root} root={root} value={value} onChange={onChange} id={id} top
        label={q.title} />
    </div>
  );
}
