// Starts GraphiQL against this service (loaded as a file: the page has no inline script).
/* global React, ReactDOM, GraphiQL */
const url = new URL("/graphql", window.location.href);
const wsUrl = new URL(url);
wsUrl.protocol = url.protocol === "https:" ? "wss:" : "ws:";
const fetcher = GraphiQL.createFetcher({ url: url.toString(), subscriptionUrl: wsUrl.toString() });
const DEFAULT_QUERY = `# FeedbackQL. Put your key in the Headers tab:
#   {"Authorization": "Bearer <your API key>"}
# The labeling UI is at /.
query Me {
  me { username role workspaces { name datasets { name progress { total completed } } } }
}
`;
ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultQuery: DEFAULT_QUERY,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
    defaultEditorToolsVisibility: "headers",
  }),
);
