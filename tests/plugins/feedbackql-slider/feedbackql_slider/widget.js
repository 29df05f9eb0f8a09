// The slider kind's browser widget: a FeedbackQL widget module (props in FeedbackQL's
// docs/plugins.md, "Widgets"). Plain DOM, no framework, no imports.

export default function mount(host, props) {
  const { question } = props;
  const { min, max, step = 1 } = question.settings;
  const wrap = document.createElement("div");
  wrap.className = "fql-slider";
  const input = document.createElement("input");
  input.type = "range";
  input.min = String(min);
  input.max = String(max);
  input.step = String(step);
  input.id = props.id;
  // The widget lives in a shadow root, where the page's ids (labelId) do not resolve: name it.
  input.setAttribute("aria-label", props.title ?? question.title);
  input.setAttribute("aria-describedby", `${props.id}-out`);
  const out = document.createElement("output");
  out.id = `${props.id}-out`;
  out.htmlFor = props.id;
  const clear = document.createElement("button");
  clear.type = "button";
  clear.textContent = "Clear";
  wrap.append(input, out, clear);
  host.append(wrap);

  const root = host.getRootNode();
  let current = props;
  /** A required slider left unset blocks submit with a message (the props' setValidity). */
  function check(value) {
    const missing = current.required && !current.readOnly && typeof value !== "number";
    current.setValidity?.(missing ? `Move the slider to answer "${question.title}": it is required.` : null);
  }
  function show(value) {
    const set = typeof value === "number";
    input.value = String(set ? value : min);
    out.textContent = set ? String(value) : "not set";
    wrap.dataset.set = set ? "yes" : "no";
    wrap.dataset.fields = Object.keys(current.fields ?? {}).join(" "); // the record's fields it was given
  }
  input.addEventListener("input", () => {
    out.textContent = input.value;
    wrap.dataset.set = "yes";
    check(Number(input.value));
    props.onChange(Number(input.value));
  });
  clear.addEventListener("click", () => {
    show(null);
    check(null);
    props.onChange(null);
  });
  show(props.value);
  check(props.value);
  input.disabled = clear.disabled = Boolean(props.readOnly);

  return {
    update(next) {
      current = next;
      // While the person drags or presses keys, the input is the truth (props may lag behind it).
      if (root.activeElement !== input) show(next.value);
      check(next.value);
      input.disabled = clear.disabled = Boolean(next.readOnly);
    },
    destroy() {
      wrap.remove();
    },
  };
}
