// The code field's browser widget (contract: FeedbackQL's docs/plugins.md, "Widget props"):
// the snippet monospaced under its language. Its deliberately broad `* { color: red }` stays in
// the widget's shadow root: the page around it keeps its colours.

const STYLE = `* { color: red; }
.code-box { background: #111; border-radius: 6px; padding: .4rem .75rem; }
.code-head { font-size: .8rem; text-transform: uppercase; letter-spacing: .05em; }
pre { margin: .25rem 0 0; overflow-x: auto; font: 14px/1.5 ui-monospace, "DejaVu Sans Mono", monospace; }`;

/** Languages this widget refuses to show: the labeling UI then shows the snippet as plain text. */
const UNSUPPORTED = new Set(["brainfuck"]);

export default function mount(host, props) {
  if (UNSUPPORTED.has(props.settings.language)) throw new Error(`no way to show ${props.settings.language}`);
  const style = document.createElement("style");
  style.textContent = STYLE;
  const head = document.createElement("div");
  head.className = "code-head";
  const tag = document.createElement("span");
  tag.className = "tag"; // the page has a .tag rule too: it must not reach in here
  head.append(tag);
  const pre = document.createElement("pre");
  const code = document.createElement("code");
  code.setAttribute("aria-label", `${props.title} (code)`);
  pre.append(code);
  const box = document.createElement("div");
  box.className = "code-box";
  box.append(head, pre);
  host.append(style, box);

  function render(current) {
    code.textContent = typeof current.value === "string" ? current.value : "";
    tag.textContent = current.settings.language ?? "text";
    code.dataset.language = tag.textContent;
  }

  render(props);
  return { update: render, destroy: () => host.replaceChildren() };
}
