import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { Api, ApiError, session } from "./api";
import { Annotate } from "./annotate";
import { Drafts } from "./drafts";
import { Duplicates } from "./duplicates";
import { Home } from "./home";
import { Manage } from "./manage";
import { ME, type Me } from "./ops";
import { Records } from "./records";
import "./style.css";

function useHashRoute(): string[] {
  // The part after "?" is a screen's own state (the records view's filters): not a route segment.
  const read = () => window.location.hash.replace(/^#\/?/, "").replace(/\?.*$/, "").split("/").filter(Boolean);
  const [, setChanges] = useState(0);
  useEffect(() => {
    const changed = () => setChanges((n) => n + 1);
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);
  // Read at every render: the annotation screen puts its record in the address with
  // replaceState (no hashchange), and signing in again must reopen that record.
  return read();
}

function SignIn({ message, onKey }: { message: string | null; onKey: (key: string, me: Me) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const api = new Api(key.trim(), () => undefined);
      const data = await api.request(ME);
      onKey(key.trim(), data.me);
    } catch (e) {
      setError(e instanceof ApiError && e.code === "UNAUTHENTICATED" ? "That API key is not valid." : String(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <main class="signin">
      <h1>FeedbackQL</h1>
      {message && <p class="notice" role="alert">{message}</p>}
      <form onSubmit={submit}>
        <label for="apikey">API key</label>
        <input id="apikey" type="password" autocomplete="off" value={key} autofocus
          onInput={(e) => setKey((e.target as HTMLInputElement).value)} required />
        <button type="submit" disabled={busy || !key.trim()}>Sign in</button>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
      <p class="hint">The key is kept for this tab only. GraphiQL is at <a href="/graphql">/graphql</a>.</p>
    </main>
  );
}

function App() {
  const [key, setKey] = useState<string | null>(session.get());
  const [me, setMe] = useState<Me | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const route = useHashRoute();
  const api = useMemo(() => key ? new Api(key, (why) => {
    session.clear();
    setMessage(why);
    setKey(null);
    setMe(null);
  }) : null, [key]);
  useEffect(() => () => api?.close(), [api]);
  useEffect(() => {
    if (api && !me) api.request(ME).then((d) => setMe(d.me)).catch(() => undefined);
  }, [api, me]);

  if (!api || !key) {
    return <SignIn message={message} onKey={(k, m) => { session.set(k); setMessage(null); setMe(m); setKey(k); }} />;
  }
  const signOut = () => { session.clear(); setMessage(null); setKey(null); setMe(null); };
  const [screen, id, sub, recordId] = route;
  return (
    <>
      <header class="top">
        <a href="#/" class="brand">FeedbackQL</a>
        <span class="who">{me ? `${me.username} · ${me.role.toLowerCase()}` : ""}</span>
        <button type="button" class="link" onClick={signOut}>Sign out</button>
      </header>
      {screen === "d" && id && sub === "manage" ? <Manage api={api} datasetId={id} key={`m${id}`} />
        : screen === "d" && id && sub === "records" ? <Records api={api} datasetId={id} key={`r${id}`} />
        : screen === "d" && id && sub === "duplicates" ? <Duplicates api={api} datasetId={id} key={`n${id}`} />
        : screen === "d" && id && sub === "drafts" ? <Drafts api={api} datasetId={id} me={me} key={`d${id}`} />
        : screen === "d" && id ? <Annotate api={api} datasetId={id} key={`a${id}`}
          recordId={sub === "r" ? recordId : undefined} />
          : <Home api={api} />}
    </>
  );
}

render(<App />, document.getElementById("app")!);
