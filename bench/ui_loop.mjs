// The browser half of bench/ui_loop.py: sign in, open the dataset, then LOOPS times press
// Ctrl+Enter and wait for the next record. The time is taken inside the page, from the
// keydown to the moment the new record's id is in the DOM. Prints the times (ms) as JSON.
import { createRequire } from "node:module";

const require = createRequire(new URL("../ui/package.json", import.meta.url));
const { chromium } = require("playwright-core");
const { FEEDBACKQL_URL: base, FEEDBACKQL_API_KEY: key, DATASET_ID: dataset } = process.env;
const loops = Number(process.env.LOOPS ?? 40);

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
  await page.goto(`${base}/#/d/${dataset}`);
  await page.locator("[data-record]").waitFor();
  await page.evaluate(() => {
    const state = (window.__loop = { times: [], started: 0 });
    window.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && event.ctrlKey) state.started = performance.now();
    }, { capture: true });
    new MutationObserver(() => {
      const id = document.querySelector("[data-record]")?.getAttribute("data-record");
      if (state.started && id && id !== state.last) {
        state.times.push(performance.now() - state.started);
        state.started = 0;
      }
      state.last = id;
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-record"] });
    state.last = document.querySelector("[data-record]")?.getAttribute("data-record");
  });
  for (let i = 0; i < loops; i++) {
    await page.keyboard.press("Control+Enter");
    await page.waitForFunction((n) => window.__loop.times.length > n, i, { timeout: 60_000 }).catch(async (error) => {
      const notice = await page.locator("[role=alert]").allInnerTexts();
      throw new Error(`no next record after loop ${i}: ${notice.join(" | ") || error.message}`);
    });
  }
  console.log(JSON.stringify(await page.evaluate(() => window.__loop.times)));
} finally {
  await browser.close();
}
