// A plugin scaffolded by `feedbackql new-plugin NAME --kind question --kind field --kind task`,
// built with `pip wheel` and installed into a fresh venv (tests/test_plugin_wheel.py starts that
// venv's server): in Chromium its field and question widgets render in their shadow roots and
// work, and its task is downloadable from the overview. $FEEDBACKQL_PLUGIN_KIND names the kind.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";

const BASE = process.env.FEEDBACKQL_URL;
const OWNER = process.env.FEEDBACKQL_OWNER_KEY;
const KIND = process.env.FEEDBACKQL_PLUGIN_KIND;
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
assert.ok(BASE && OWNER && KIND, "set FEEDBACKQL_URL, FEEDBACKQL_OWNER_KEY and FEEDBACKQL_PLUGIN_KIND");

async function owner(query, variables = {}) {
  const response = await fetch(`${BASE}/graphql`, {
    method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${OWNER}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

let browser, datasetId;
const problems = [];

before(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"] });
  const ws = (await owner(`mutation { createWorkspace(name: "wheel") { id } }`)).createWorkspace.id;
  datasetId = (await owner(`mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id } }`, { input: {
    workspaceId: ws, name: "scaffolded", distribution: { minSubmitted: 1 },
    fields: [{ name: "prompt", settings: { text: {} } }, { name: "snippet", settings: { [KIND]: { language: "python" } } }],
    questions: [{ name: "score", title: "How good is the snippet?", settings: { [KIND]: { most: 4 } } }],
  } })).createDataset.id;
  await owner(`mutation($id: ID!) { publishDataset(id: $id) { id } }`, { id: datasetId });
  await owner(`mutation($id: ID!, $r: [RecordInput!]!) { addRecords(datasetId: $id, records: $r) { created } }`,
    { id: datasetId, r: [{ externalId: "w0", fields: { prompt: "Review this", snippet: "print('hi')" } }] });
});
after(async () => { await browser?.close(); });

async function signIn() {
  const page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
  page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) problems.push(m.text()); });
  page.on("pageerror", (e) => problems.push(e.message));
  await page.goto(`${BASE}/`);
  await page.getByLabel("API key").fill(OWNER);
  await page.getByLabel("API key").press("Enter");
  await page.getByRole("heading", { name: "Datasets" }).waitFor();
  return page;
}

test("the scaffolded plugin's widgets render isolated and answer; its task downloads", async () => {
  const page = await signIn();
  await page.goto(`${BASE}/#/d/${datasetId}`);
  const code = page.locator(`[data-field="snippet"] [data-widget="${KIND}"] code`);
  await code.waitFor();
  assert.equal(await code.innerText(), "print('hi')");
  assert.equal(await code.getAttribute("data-language"), "python");
  assert.match(await code.evaluate((el) => getComputedStyle(el).fontFamily), /monospace/);
  const question = page.locator(`[data-question="score"] [data-widget="${KIND}"]`);
  assert.equal(await question.evaluate((el) => el.shadowRoot !== null), true);
  const scores = question.getByRole("radio");
  assert.equal(await scores.count(), 4); // settings.most
  // Each side keeps its own button padding and fonts: neither stylesheet crosses the shadow boundary.
  assert.equal(await scores.first().evaluate((el) => getComputedStyle(el).paddingLeft), "9.6px"); // its own .6rem
  assert.equal(await page.locator("button.primary").evaluate((el) => getComputedStyle(el).paddingLeft), "12px"); // the page's .75rem
  assert.doesNotMatch(await page.locator(".field h3").first().evaluate((el) => getComputedStyle(el).fontFamily), /monospace/);
  // Required and unanswered: the widget's message blocks submit.
  await page.getByTestId("widget-problem-score").waitFor();
  await page.keyboard.press("Control+Enter");
  await page.getByTestId("notice-error").getByText("Pick a score").waitFor();
  await scores.nth(2).click();
  await page.getByTestId("widget-problem-score").waitFor({ state: "detached" });
  await page.screenshot({ path: new URL("../screenshots/20-scaffolded-plugin.png", import.meta.url).pathname });
  await page.keyboard.press("Control+Enter");
  await page.locator(".done").waitFor();
  const rows = await owner(`query($id: ID!) { records(datasetId: $id, first: 1) { edges { node {
    responses { status values { question json } } } } } }`, { id: datasetId });
  assert.deepEqual(rows.records.edges[0].node.responses, [{ status: "SUBMITTED", values: [{ question: "score", json: 3 }] }]);

  await page.goto(`${BASE}/#/d/${datasetId}/manage`);
  const task = page.locator(`[data-task="${KIND}_rows"]`);
  await task.waitFor();
  const [file] = await Promise.all([page.waitForEvent("download"), task.click()]);
  const lines = readFileSync(await file.path(), "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line));
  assert.deepEqual(lines, [{ record: "w0", answers: [3] }]);
  assert.deepEqual(problems, []);
});
