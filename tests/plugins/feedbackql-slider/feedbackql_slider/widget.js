// The slider kind's browser widget: a FeedbackQL widget module (contract in the README,
// "Plugin widgets"). Plain DOM, no framework, no imports.

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
  input.setAttribute("aria-labelledby", props.labelId);
  input.setAttribute("aria-describedby", `${props.id}-out`);
  const out = document.createElement("output");
  out.id = `${props.id}-out`;
  out.htmlFor = props.id;
  const clear = document.createElement("button");
  clear.type = "button";
  clear.textContent = "Clear";
  wrap.append(input, out, clear);
  host.append(wrap);

  function show(value) {
    const set = typeof value === "number";
    input.value = String(set ? value : min);
    out.textContent = set ? String(value) : "not set";
    wrap.dataset.set = set ? "yes" : "no";
  }
  input.addEventListener("input", () => {
    out.textContent = input.value;
    wrap.dataset.set = "yes";
    props.onChange(Number(input.value));
  });
  clear.addEventListener("click", () => {
    show(null);
    props.onChange(null);
  });
  show(props.value);
  input.disabled = clear.disabled = Boolean(props.readOnly);

  return {
    update(next) {
      // While the person drags or presses keys, the input is the truth (props may lag behind it).
      if (document.activeElement !== input) show(next.value);
      input.disabled = clear.disabled = Boolean(next.readOnly);
    },
    destroy() {
      wrap.remove();
    },
  };
}
