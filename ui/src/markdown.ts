// Markdown to sanitized HTML: marked renders, DOMPurify keeps only an allow-list.
//
// Record text is written by whoever imports the data, and labelers trust what the UI shows.
// Removing scripts is not enough: a `style` attribute (or a class of this UI's own CSS) let a
// record lay a `position:fixed` full-screen box with a fake "session expired" link over the
// whole UI, phishing for API keys. So only the tags markdown itself produces are kept, with
// no `style`, `class` or `id` (nothing can be positioned or dressed as the UI), and raw HTML
// beyond them is dropped (its text stays).
import DOMPurify from "dompurify";
import { marked } from "marked";

export const ALLOWED_TAGS = [
  "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "b", "em", "i", "del", "s",
  "code", "pre", "kbd", "sub", "sup", "blockquote", "ul", "ol", "li", "a", "img",
  "table", "thead", "tbody", "tr", "th", "td",
];
export const ALLOWED_ATTR = ["href", "src", "alt", "title", "start", "align", "colspan", "rowspan"];

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "IMG" && !node.hasAttribute("alt")) node.setAttribute("alt", "");
  if (node.tagName === "A") {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

export function renderMarkdown(source: string): string {
  const html = marked.parse(source, { async: false, gfm: true, breaks: false }) as string;
  return DOMPurify.sanitize(html, {
    ALLOWED_TAGS, ALLOWED_ATTR, ALLOW_DATA_ATTR: false, ALLOW_ARIA_ATTR: false,
  });
}
