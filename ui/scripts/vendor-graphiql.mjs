// Copies GraphiQL's browser files (and the React it runs on) from node_modules next to the
// built UI, so that the service serves them itself: no CDN at run time.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ui = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(ui, "..", "service", "feedbackql_server", "webui_dist", "graphiql");
const files = {
  "graphiql/graphiql.min.js": "graphiql.min.js",
  "graphiql/graphiql.min.css": "graphiql.min.css",
  "react/umd/react.production.min.js": "react.production.min.js",
  "react-dom/umd/react-dom.production.min.js": "react-dom.production.min.js",
};
mkdirSync(out, { recursive: true });
for (const [from, to] of Object.entries(files)) copyFileSync(join(ui, "node_modules", from), join(out, to));
for (const own of ["start.js", "page.css"]) copyFileSync(join(ui, "graphiql", own), join(out, own));
console.log(`GraphiQL assets copied to ${out}`);
