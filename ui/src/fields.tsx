// A record's field: through its kind's widget when the kind ships one (widgets.tsx), else (or
// when the widget fails) as text, markdown, a conversation or JSON.
import { renderMarkdown } from "./markdown";
import type { FieldT } from "./ops";
import { WidgetHost } from "./widgets";

type Message = { role?: string; content?: string };
const NO_CHANGE = () => undefined;

function Markdownish({ text, markdown }: { text: string; markdown: boolean }) {
  return markdown
    ? <div class="markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(text) }} />
    : <div class="plain">{text}</div>;
}

function PlainValue({ field, value }: { field: FieldT; value: unknown }) {
  const markdown = Boolean(field.settingsJson.useMarkdown);
  if (value === undefined || value === null) return <p class="empty">(empty)</p>;
  if (field.kind === "chat" && Array.isArray(value)) {
    return (
      <ol class="chat">
        {(value as Message[]).map((m, i) => (
          <li key={i} class={`turn ${m.role ?? ""}`}>
            <span class="role">{m.role}</span>
            <Markdownish text={String(m.content ?? "")} markdown={markdown} />
          </li>
        ))}
      </ol>
    );
  }
  if (typeof value === "string") return <Markdownish text={value} markdown={markdown} />;
  return <pre class="plain">{JSON.stringify(value, null, 2)}</pre>;
}

export function FieldView({ field, value, widgetUrl, fields = {} }: {
  field: FieldT; value: unknown; widgetUrl?: string | null; fields?: Record<string, unknown>;
}) {
  const plain = <PlainValue field={field} value={value} />;
  const labelId = `field-${field.name}`;
  return (
    <section class="field" aria-labelledby={labelId} data-field={field.name}>
      <h3 id={labelId}>{field.title}</h3>
      {widgetUrl ? (
        <WidgetHost url={widgetUrl} fallback={plain} props={{
          family: "field", kind: field.kind, name: field.name, title: field.title, description: null,
          required: field.required, settings: field.settingsJson, fields, value: value ?? null, suggestion: null,
          readOnly: true, id: `${labelId}-widget`, labelId, onChange: NO_CHANGE,
          field: { name: field.name, title: field.title, required: field.required, settings: field.settingsJson },
        }} />
      ) : plain}
    </section>
  );
}
