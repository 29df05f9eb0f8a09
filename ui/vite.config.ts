import { defineConfig } from "vite";

// Built into the Python package: the service serves index.html at / and the rest under /ui/.
export default defineConfig({
  base: "/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "../service/feedbackql_server/webui_dist/app",
    assetsDir: "ui",
    emptyOutDir: true,
    sourcemap: false,
    modulePreload: { polyfill: false },
  },
  server: { proxy: { "/graphql": { target: "http://127.0.0.1:8000", ws: true } } },
});
