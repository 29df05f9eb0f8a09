import { renderMarkdown } from "./markdown";
import type { FieldT } from "./ops";

type Message = { role?: string; content?: string };

function Markdownish({ text, markdown }: { text: string; markdown: boolean }) {
  return markdown
    ? <div class="markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(text) }} />
    : <div class="plain">{text}</div>;
}

export function FieldView({ field, value }: { field: FieldT; value: unknown }) {
  const markdown = Boolean(field.settingsJson.useMarkdown);
  let body;
  if (value === undefined || value === null) body = <p class="empty">(empty)</p>;
  else if (field.kind === "chat" && Array.isArray(value)) {
    body = (
      <ol class="chat">
        {(value as Message[]).map((m, i) => (
          <li key={i} class={`turn ${m.role ?? ""}`}>
            <span class="role">{m.role}</span>
            <Markdownish text={String(m.content ?? "")} markdown={markdown} />
          </li>
        ))}
      </ol>
    );
  } else if (typeof value === "string") body = <Markdownish text={value} markdown={markdown} />;
  else body = <pre class="plain">{JSON.stringify(value, null, 2)}</pre>;
  return (
    <section class="field" aria-labelledby={`field-${field.name}`} data-field={field.name}>
      <h3 id={`field-${field.name}`}>{field.title}</h3>
      {body}
    </section>
  );
}
