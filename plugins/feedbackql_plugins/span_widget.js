// The span question's browser widget (contract: docs/plugins-overview.md, "Plugin widgets").
// It shows the text of the field the question marks (props.fields[settings.field]), lets the
// labeler select a stretch with the mouse or the keyboard and give it a label (its key or a
// click), highlights the spans in their label's colour, and removes a span on a click.
// Offsets are Unicode code points, as span_question.py counts them (Python's str): the DOM
// counts UTF-16 units, so every offset is converted at the edge (emoji are two units, one point).
// Plain DOM, no framework, no imports.

const KEYS = "123456789abcdefghijklmnopqrstuvwxyz";
// Light backgrounds (dark text stays readable on each) and a strong edge colour per label.
const PALETTE = [
  ["#ffe08a", "#a66f00"], ["#b9e4ff", "#0b6aa2"], ["#c9f2c7", "#2b7a28"], ["#ffc9d6", "#b0244a"],
  ["#e3d1ff", "#6a3cc2"], ["#ffd8b0", "#b35a00"], ["#c6f0ec", "#11756b"], ["#f0d4ef", "#93318f"],
];
const STYLE_ID = "fql-span-style";
const CSS = `
.fql-span { display: grid; gap: .5rem; }
.fql-span-labels { display: flex; flex-wrap: wrap; gap: .35rem; }
.fql-span-labels button { display: inline-flex; gap: .35rem; align-items: center; }
.fql-span-swatch { width: .8rem; height: .8rem; border-radius: 3px; border: 2px solid; display: inline-block; }
.fql-span-text { white-space: pre-wrap; overflow-wrap: anywhere; line-height: 2; padding: .5rem .6rem;
  border: 1px solid #8d95a3; border-radius: 6px; background: #fff; cursor: text; }
.fql-span-text mark { color: inherit; border-radius: 3px; padding: .1rem 0; border-bottom: 3px solid; cursor: pointer; }
.fql-span-text mark[data-end]::after { content: attr(data-end); font-size: .68rem; font-weight: 700;
  vertical-align: super; margin-left: .15rem; letter-spacing: .02em; user-select: none; }
.fql-span-list { list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: .3rem; }
.fql-span-list li { display: inline-flex; align-items: center; gap: .3rem; border-radius: 4px; padding: .05rem .1rem .05rem .4rem;
  border-left: 4px solid; background: #f4f5f7; font-size: .9rem; }
.fql-span-list button { padding: 0 .4rem; line-height: 1.4; }
.fql-span-suggested li { background: transparent; border: 1px dashed #8d95a3; border-left-width: 4px; border-left-style: solid; color: #5a6272; }
.fql-span-status { min-height: 1.2em; margin: 0; font-size: .85rem; color: #5a6272; }
`;

/** UTF-16 offset of each code point, and its inverse (rounding a split surrogate pair). */
export function codePoints(text) {
  const starts = [];
  for (let unit = 0; unit < text.length; unit += text.codePointAt(unit) > 0xffff ? 2 : 1) starts.push(unit);
  const toUnits = (point) => (point < starts.length ? starts[point] : text.length);
  const toPoint = (unit, roundUp) => {
    if (unit >= text.length) return starts.length; // the end of the text is a boundary too
    let low = 0, high = starts.length;
    while (low < high) { const mid = (low + high) >> 1; if (starts[mid] < unit) low = mid + 1; else high = mid; }
    // low: the first code point starting at or after `unit`; inside a pair, round down or up.
    return low < starts.length && starts[low] === unit ? low : roundUp ? low : Math.max(0, low - 1);
  };
  return { length: starts.length, toUnits, toPoint };
}

/** Where a label's keyboard steps stop: grapheme clusters (an emoji with its modifiers, a base
 * letter with its combining marks) or words, as code point offsets. */
export function stops(text, granularity, points) {
  const result = new Set([0, points.length]);
  if (typeof Intl !== "undefined" && Intl.Segmenter) {
    for (const part of new Intl.Segmenter(undefined, { granularity }).segment(text)) {
      if (granularity !== "word" || part.isWordLike) {
        result.add(points.toPoint(part.index, false));
        if (granularity === "word") result.add(points.toPoint(part.index + part.segment.length, true));
      }
    }
  } else for (let i = 0; i <= points.length; i++) result.add(i);
  return [...result].sort((a, b) => a - b);
}

/** The widget's styles, once per root: the shadow root the labeling UI gives each widget, or the
 * document for a UI that mounts widgets in the page. */
function ensureStyle(scope) {
  const container = scope instanceof ShadowRoot ? scope : document.head;
  if (container.querySelector(`#${STYLE_ID}`)) return;
  const style = document.createElement("style");
  style.id = STYLE_ID;
  style.textContent = CSS;
  container.append(style);
}

/** The selection as the widget's root sees it: inside a shadow root the document's selection
 * names the host, not the text, so Chromium's ShadowRoot.getSelection() is asked where it exists. */
function selectionOf(scope) {
  return typeof scope.getSelection === "function" ? scope.getSelection() : window.getSelection();
}

function element(tag, attributes = {}, text) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
  if (text !== undefined) el.textContent = text;
  return el;
}

const byPosition = (a, b) => a.start - b.start || a.end - b.end || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0);

export default function mount(host, props) {
  const scope = host.getRootNode();
  ensureStyle(scope);
  let current = props;
  const settings = props.question.settings;
  const labels = settings.labels ?? [];
  const colour = new Map(labels.map((label, i) => [label.value, PALETTE[i % PALETTE.length]]));
  const titles = new Map(labels.map((label) => [label.value, label.text]));
  let spans = [];
  let text = "";
  let points = codePoints("");
  let pending = null; // the selection in code points, { start, end }, while one is in the text
  let anchor = 0, caret = 0; // the keyboard's selection, in code points

  const root = element("div", { class: "fql-span", "data-span-widget": props.question.name });
  const toolbar = element("div", { class: "fql-span-labels", role: "toolbar", "aria-label": "Labels" });
  const helpId = `${props.id}-help`;
  const help = element("p", { class: "fql-span-status", id: helpId },
    "Select text with the mouse (or Shift+arrow keys in the text), then press a label's key or click it. "
    + "Click a marked span to remove it.");
  const textEl = element("div", {
    class: "fql-span-text", id: props.id, tabindex: "0", role: "textbox", "aria-readonly": "true",
    "aria-multiline": "true", "aria-label": props.title ?? props.question.title, "aria-describedby": helpId,
  });
  const list = element("ul", { class: "fql-span-list", "aria-label": "Marked spans" });
  const offered = element("ul", { class: "fql-span-list fql-span-suggested", "aria-label": "Suggested spans not marked" });
  const status = element("p", { class: "fql-span-status", "aria-live": "polite", "data-testid": "span-status" });
  const none = element("button", { type: "button" }, "Nothing to mark");
  labels.forEach((label, i) => {
    const button = element("button", { type: "button", "data-label": label.value });
    if (i < KEYS.length) button.append(element("kbd", { "aria-hidden": "true" }, KEYS[i]));
    const swatch = element("span", { class: "fql-span-swatch", "aria-hidden": "true" });
    swatch.style.background = colour.get(label.value)[0];
    swatch.style.borderColor = colour.get(label.value)[1];
    button.append(swatch, document.createTextNode(label.text));
    // Keep the text's selection: a press on the button must not clear it.
    button.addEventListener("mousedown", (event) => event.preventDefault());
    button.addEventListener("click", () => mark(label.value));
    toolbar.append(button);
  });
  none.addEventListener("click", () => report([]));
  root.append(toolbar, help, textEl, list, offered, none, status);
  host.append(root);

  function report(next) {
    spans = [...next].sort(byPosition);
    render();
    current.onChange(spans);
  }

  function mark(label) {
    if (current.readOnly) return;
    // The keyboard's selection stands in when the document's is gone: the text is drawn anew when
    // the page hands the widget new props, and that can fall between Shift+arrows and the label key.
    const chosen = pending ?? (anchor !== caret && scope.activeElement === textEl
      ? trimmed(Math.min(anchor, caret), Math.max(anchor, caret)) : null);
    if (!chosen) { status.textContent = "Select some text first, then choose its label."; return; }
    const span = { start: chosen.start, end: chosen.end, label };
    const same = (s) => s.start === span.start && s.end === span.end;
    const overlapping = (s) => s.start < span.end && span.start < s.end;
    let kept = spans.filter((s) => !(same(s) && s.label === label));
    let replaced = [];
    if (!settings.allowOverlapping) {
      replaced = kept.filter(overlapping);
      kept = kept.filter((s) => !overlapping(s));
    }
    pending = null;
    anchor = caret = span.end;
    selectionOf(scope)?.removeAllRanges();
    report([...kept, span]);
    status.textContent = `Marked “${slice(span)}” as ${titles.get(label) ?? label}`
      + (replaced.length ? ` (replacing ${replaced.map((s) => `“${slice(s)}”`).join(", ")}).` : ".");
  }

  function remove(span) {
    if (current.readOnly) return;
    report(spans.filter((s) => s !== span));
    status.textContent = `Removed ${titles.get(span.label) ?? span.label} “${slice(span)}”.`;
  }

  const slice = (span) => text.slice(points.toUnits(span.start), points.toUnits(span.end));

  function render() {
    textEl.replaceChildren();
    const cuts = [...new Set([0, points.length, ...spans.flatMap((s) => [s.start, s.end])])]
      .filter((p) => p >= 0 && p <= points.length).sort((a, b) => a - b);
    for (let i = 0; i + 1 < cuts.length; i++) {
      const [from, to] = [cuts[i], cuts[i + 1]];
      const piece = text.slice(points.toUnits(from), points.toUnits(to));
      const covering = spans.filter((s) => s.start <= from && s.end >= to)
        .sort((a, b) => (a.end - a.start) - (b.end - b.start));
      if (!covering.length) { textEl.append(piece); continue; }
      const [inner, outer] = covering;
      const markEl = element("mark", { "data-start": String(from), "data-end-at": String(to),
        title: `${covering.map((s) => titles.get(s.label) ?? s.label).join(", ")} — click to remove` }, piece);
      markEl.style.background = colour.get(inner.label)?.[0] ?? "#eee";
      markEl.style.borderBottomColor = colour.get((outer ?? inner).label)?.[1] ?? "#555";
      const ending = covering.filter((s) => s.end === to).map((s) => s.label);
      if (ending.length) markEl.setAttribute("data-end", ending.join("+"));
      markEl.addEventListener("click", () => {
        if (selectionOf(scope)?.isCollapsed !== false) remove(inner);
      });
      textEl.append(markEl);
    }
    list.replaceChildren(...spans.map((span) => {
      const item = element("li", { "data-span": `${span.start}:${span.end}:${span.label}` });
      item.style.borderLeftColor = colour.get(span.label)?.[1] ?? "#555";
      item.append(element("span", {}, `${titles.get(span.label) ?? span.label}: “${slice(span)}”`));
      const button = element("button", { type: "button", "aria-label": `Remove ${titles.get(span.label) ?? span.label} “${slice(span)}”` }, "×");
      button.disabled = Boolean(current.readOnly);
      button.addEventListener("click", () => remove(span));
      item.append(button);
      return item;
    }));
    none.hidden = current.value !== null && current.value !== undefined || spans.length > 0;
    renderOffered();
  }

  /** The suggestion's spans that are not marked now, each with a button to mark it again. */
  function renderOffered() {
    const key = (s) => `${s.start}:${s.end}:${s.label}`;
    const marked = new Set(spans.map(key));
    const missing = (Array.isArray((current.suggestion ?? current.suggested)) ? (current.suggestion ?? current.suggested) : [])
      .filter((s) => !marked.has(key(s)) && s.end <= points.length);
    offered.replaceChildren(...missing.map((span) => {
      const item = element("li", { "data-suggested": key(span) });
      item.style.borderLeftColor = colour.get(span.label)?.[1] ?? "#555";
      const words = `${titles.get(span.label) ?? span.label}: “${slice(span)}”`;
      item.append(element("span", {}, `suggested ${words}`));
      const button = element("button", { type: "button", "aria-label": `Mark suggested ${words}` }, "+");
      button.disabled = Boolean(current.readOnly);
      button.addEventListener("click", () => {
        pending = { start: span.start, end: span.end };
        mark(span.label);
      });
      item.append(button);
      return item;
    }));
  }

  /** The DOM position (text node, UTF-16 offset) of a code point offset in the text. */
  function domPosition(point) {
    let units = points.toUnits(point);
    const walker = document.createTreeWalker(textEl, NodeFilter.SHOW_TEXT);
    let node = walker.nextNode();
    while (node) {
      if (units <= node.data.length) return [node, units];
      units -= node.data.length;
      node = walker.nextNode();
    }
    return [textEl, textEl.childNodes.length];
  }

  function unitsBefore(node, offset) {
    const range = document.createRange();
    range.selectNodeContents(textEl);
    range.setEnd(node, offset);
    return range.toString().length;
  }

  /** The document's selection, when it lies in the text, in code points with edge spaces trimmed. */
  function readSelection() {
    const selection = selectionOf(scope);
    if (!selection || selection.rangeCount === 0) return null;
    const range = selection.getRangeAt(0);
    if (!textEl.contains(range.startContainer) || !textEl.contains(range.endContainer)) return null;
    return trimmed(points.toPoint(unitsBefore(range.startContainer, range.startOffset), false),
      points.toPoint(unitsBefore(range.endContainer, range.endOffset), true));
  }

  /** [start, end) in code points without its edge spaces; null when nothing is left. */
  function trimmed(start, end) {
    while (start < end && /\s/.test(text.slice(points.toUnits(start), points.toUnits(start + 1)))) start++;
    while (end > start && /\s/.test(text.slice(points.toUnits(end - 1), points.toUnits(end)))) end--;
    return end > start ? { start, end } : null;
  }

  const onSelection = () => { pending = readSelection(); };
  document.addEventListener("selectionchange", onSelection);

  function select(from, to) {
    anchor = from;
    caret = to;
    const [baseNode, baseOffset] = domPosition(from);
    const [extentNode, extentOffset] = domPosition(to);
    selectionOf(scope)?.setBaseAndExtent(baseNode, baseOffset, extentNode, extentOffset);
    pending = readSelection();
  }

  /** Keyboard selection in the text: arrows move by character (Ctrl: by word), Shift extends,
   * Home/End go to the ends; Delete removes the spans under the selection or caret. */
  function onTextKey(event) {
    const moves = { ArrowRight: 1, ArrowLeft: -1 };
    if (event.key in moves || event.key === "Home" || event.key === "End") {
      event.preventDefault();
      const from = pending && !event.shiftKey ? (event.key === "ArrowLeft" ? pending.start : pending.end) : caret;
      let to;
      if (event.key === "Home") to = 0;
      else if (event.key === "End") to = points.length;
      else {
        const marks = stops(text, event.ctrlKey ? "word" : "grapheme", points);
        to = moves[event.key] > 0 ? marks.find((p) => p > from) ?? points.length
          : [...marks].reverse().find((p) => p < from) ?? 0;
      }
      select(event.shiftKey ? anchor : to, to);
    } else if ((event.key === "Delete" || event.key === "Backspace") && !current.readOnly) {
      const at = pending ?? { start: caret, end: caret + 1 };
      const hit = spans.filter((s) => s.start < at.end && at.start < s.end);
      if (hit.length) { event.preventDefault(); hit.forEach((s) => remove(s)); }
    }
  }
  textEl.addEventListener("keydown", onTextKey);
  textEl.addEventListener("mouseup", () => {
    const selection = readSelection();
    if (selection) { anchor = selection.start; caret = selection.end; }
  });

  root.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.key.length !== 1) return;
    const index = KEYS.indexOf(event.key.toLowerCase());
    if (index < 0 || index >= labels.length) return;
    event.preventDefault();
    mark(labels[index].value);
  });

  function show(next) {
    current = next;
    const field = next.fields?.[settings.field];
    const nextText = typeof field === "string" ? field : "";
    const nextSpans = Array.isArray(next.value) ? [...next.value].sort(byPosition) : [];
    if (nextText === text && JSON.stringify(nextSpans) === JSON.stringify(spans) && textEl.childNodes.length) {
      none.hidden = next.value !== null && next.value !== undefined || spans.length > 0;
    } else {
      text = nextText;
      points = codePoints(text);
      spans = nextSpans;
      render();
    }
    if (typeof field !== "string") status.textContent = `This record has no text in field “${settings.field}” to mark.`;
    for (const button of root.querySelectorAll("button")) button.disabled = Boolean(next.readOnly);
  }
  show(props);

  return {
    update: show,
    destroy() {
      document.removeEventListener("selectionchange", onSelection);
      root.remove();
    },
  };
}
