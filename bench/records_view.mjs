// The browser half of bench/records_view.py: sign in, open the records view, then ROUNDS times
// move it (by its address) to each list of LISTS and wait for that list's rows. The time is
// taken inside the page, from the address change to the rows on screen. Prints the times (ms)
// per list as JSON.
import { createRequire } from "node:module";

const require = createRequire(new URL("../ui/package.json", import.meta.url));
const { chromium } = require("playwright-core");
const { FEEDBACKQL_URL: base, FEEDBACKQL_API_KEY: key, DATASET_ID: dataset } = process.env;
const rounds = Number(process.env.ROUNDS ?? 15);
const lists = JSON.parse(process.env.LISTS);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", headless: true,
  args: ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"],
});
try {
  const page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
  await page.goto(`${base}/`);
  await page.getByLabel("API key").fill(key);
  await page.getByLabel("API key").press("Enter");
  await page.getByRole("heading", { name: "Datasets" }).waitFor();
  // Start on the last list, so that each move below changes what is shown.
  const last = Object.values(lists).at(-1);
  await page.goto(`${base}/#/d/${dataset}/records?${last.query}`);
  await page.locator(`.records-table tbody tr[data-external-id="${last.first}"]`).waitFor();
  const times = Object.fromEntries(Object.keys(lists).map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, list] of Object.entries(lists)) {
      const ms = await page.evaluate(({ dataset, list }) => new Promise((resolve, reject) => {
        const shown = () => {
          const rows = document.querySelectorAll(".records-table tbody tr");
          return rows.length === list.count && rows[0].dataset.externalId === list.first;
        };
        const started = performance.now();
        const observer = new MutationObserver(() => {
          if (shown()) { observer.disconnect(); clearTimeout(timer); resolve(performance.now() - started); }
        });
        const timer = setTimeout(() => { observer.disconnect(); reject(new Error(`no rows for ${list.query}`)); }, 60_000);
        observer.observe(document.body, { subtree: true, childList: true, characterData: true });
        window.location.hash = `#/d/${dataset}/records${list.query ? `?${list.query}` : ""}`;
      }), { dataset, list });
      times[name].push(ms);
    }
  }
  console.log(JSON.stringify(times));
} finally {
  await browser.close();
}
