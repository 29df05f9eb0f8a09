import { useEffect, useState } from "preact/hooks";
import type { Api } from "./api";
import { HOME } from "./ops";
import type * as G from "./generated/graphql";
import { Mine, ProgressBar } from "./progress";

export function Home({ api }: { api: Api }) {
  const [data, setData] = useState<G.HomeQuery | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => { api.request(HOME).then(setData, (e) => setError(String(e))); }, [api]);
  if (error) return <main><p class="error" role="alert">{error}</p></main>;
  if (!data) return <main aria-busy="true"><p>Loading…</p></main>;
  const manager = data.me.role !== "ANNOTATOR";
  const workspaces = data.workspaces.filter((w) => w.datasets.length || manager);
  return (
    <main class="home">
      <h1>Datasets</h1>
      {workspaces.length === 0 && <p>No datasets yet. Ask an admin to add you to a workspace.</p>}
      {workspaces.map((ws) => (
        <section key={ws.id} aria-labelledby={`ws-${ws.id}`}>
          <h2 id={`ws-${ws.id}`}>{ws.name}</h2>
          <ul class="datasets">
            {ws.datasets.map((d) => (
              <li key={d.id} class="dataset">
                <div class="title">
                  {d.status === "READY" ? <a href={`#/d/${d.id}`}>{d.name}</a> : <span>{d.name}</span>}
                  {d.status === "DRAFT" && <span class="tag">draft</span>}
                  {d.status === "READY" && <a class="manage" href={`#/d/${d.id}/drafts`}>
                    Drafts ({d.myProgress.draft})<span class="sr"> of {d.name}</span></a>}
                  {d.status === "READY" && <a class="manage" href={`#/d/${d.id}/records`}>
                    Records<span class="sr"> of {d.name}</span></a>}
                  {manager && <a class="manage" href={`#/d/${d.id}/manage`}>Overview<span class="sr"> of {d.name}</span></a>}
                </div>
                <ProgressBar progress={d.progress} label={`${d.name} progress`} />
                <Mine mine={d.myProgress} />
              </li>
            ))}
            {ws.datasets.length === 0 && <li class="empty">No datasets in this workspace.</li>}
          </ul>
        </section>
      ))}
    </main>
  );
}
