// Browser tests of the labeling UI: Debian's Chromium driven by playwright-core (never a
// downloaded browser), against a real FeedbackQL server at $FEEDBACKQL_URL whose owner key is
// $FEEDBACKQL_OWNER_KEY. Run by tests/test_browser.py, which starts that server.
import assert from "node:assert/strict";
import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";

const BASE = process.env.FEEDBACKQL_URL;
const OWNER = process.env.FEEDBACKQL_OWNER_KEY;
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SHOTS = new URL("../screenshots/", import.meta.url);
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
assert.ok(BASE && OWNER, "set FEEDBACKQL_URL and FEEDBACKQL_OWNER_KEY");
mkdirSync(SHOTS, { recursive: true });

async function gql(key, query, variables = {}) {
  const response = await fetch(`${BASE}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}
const owner = (query, variables) => gql(OWNER, query, variables);

async function download(path) {
  const response = await fetch(`${BASE}${path}`, { headers: { Authorization: `Bearer ${OWNER}` } });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.text()).split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

const TEXT = { text: { useMarkdown: true } };
async function makeDataset(name, spec, records) {
  const { createDataset } = await owner(`mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id } }`,
    { input: { workspaceId: ws, name, distribution: { minSubmitted: 1 }, ...spec } });
  await owner(`mutation($id: ID!) { publishDataset(id: $id) { id } }`, { id: createDataset.id });
  const { addRecords } = await owner(`mutation($id: ID!, $r: [RecordInput!]!) { addRecords(datasetId: $id, records: $r) { created errors { message } } }`,
    { id: createDataset.id, r: records });
  assert.deepEqual(addRecords.errors, []);
  return createDataset.id;
}
async function makeUser(username) {
  const { createUser } = await owner(`mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } apiKey } }`,
    { input: { username, role: "ANNOTATOR", workspaceIds: [ws] } });
  return { id: createUser.user.id, key: createUser.apiKey };
}

// Issue 20: a record whose markdown kept `style` covered the whole UI with a fake sign-in link.
const PHISHING = "Rate this text.\n\n<div style=\"position:fixed;top:0;left:0;width:100vw;height:100vh;"
  + "z-index:99999;background:#fff\" class=\"modal\" id=\"app\"><a href=\"http://127.0.0.1:9/login\" "
  + "style=\"font-size:48px\">Your session expired: sign in again</a></div>\n\n<span style=\"position:absolute\">x</span>";

let browser, ws;
const users = {};
const ids = {};
const cspViolations = [];
const dialogs = [];
const pageErrors = [];
const offOrigin = [];

before(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"],
  });
  ws = (await owner(`mutation { createWorkspace(name: "demo") { id } }`)).createWorkspace.id;
  for (const name of ["alice", "bob", "carol", "dave", "erin", "frank", "gina"]) users[name] = await makeUser(name);
  ids.sft = await makeDataset("sft", {
    guidelines: "Write a **helpful** and harmless answer.\n\n<img src=x onerror=alert(1)><script>alert(2)</script>",
    fields: [{ name: "prompt", settings: TEXT }],
    questions: [{ name: "completion", title: "Please write a response", settings: { text: {} } }],
  }, [
    { externalId: "p0", fields: { prompt: "What is RLHF?" },
      suggestions: [{ question: "completion", value: { text: "A draft from the model." }, score: 0.5, agent: "model-x" }] },
    { externalId: "p1", fields: { prompt: "Define DPO." } },
  ]);
  ids.comparison = await makeDataset("comparison", {
    guidelines: "Rank the responses from best to worst.",
    fields: ["prompt", "response-1", "response-2"].map((name) => ({ name, settings: TEXT })),
    questions: [{ name: "preference", settings: { ranking: { options: [
      { value: "response-1", text: "Response 1" }, { value: "response-2", text: "Response 2" }] } } }],
  }, ["Say hi", "Say bye", "Say yes"].map((prompt, i) => ({
    externalId: `c${i}`, fields: { prompt, "response-1": `Good answer ${i}`, "response-2": `Bad answer ${i}` },
    suggestions: [{ question: "preference", value: { ranking: [{ value: "response-1", rank: 1 }, { value: "response-2", rank: 2 }] },
      score: 0.8, agent: "reward-model-v1" }],
  })));
  ids.rating = await makeDataset("prompt-rating", {
    fields: [{ name: "prompt", settings: TEXT }],
    questions: [
      { name: "quality", settings: { rating: { values: [1, 2, 3, 4, 5, 6, 7] } } },
      { name: "topic", settings: { label: { options: [{ value: "code", text: "Programming" }, { value: "other", text: "Anything else" }] } } },
      { name: "flags", required: false, settings: { multiLabel: { options: [{ value: "short", text: "Short" }, { value: "polite", text: "Polite" }] } } },
    ],
  }, [{ externalId: "r0", fields: { prompt: "Reverse a list in Python" } }, { externalId: "r1", fields: { prompt: "hi" } }]);
  ids.keyboard = await makeDataset("keyboard", {
    fields: [{ name: "prompt", settings: TEXT }],
    questions: [
      { name: "quality", settings: { rating: { values: [1, 2, 3, 4, 5] } } },
      { name: "safe", settings: { label: { options: [{ value: "yes", text: "Safe" }, { value: "no", text: "Unsafe" }] } } },
    ],
  }, Array.from({ length: 10 }, (_, i) => ({ externalId: `k${i}`, fields: { prompt: `Prompt number ${i}` } })));
  ids.shared = await makeDataset("shared", {
    fields: [{ name: "prompt", settings: TEXT }],
    questions: [{ name: "quality", settings: { rating: { values: [1, 2, 3] } } }],
  }, Array.from({ length: 6 }, (_, i) => ({ externalId: `s${i}`, fields: { prompt: `Shared ${i}` } })));
  ids.conflict = await makeDataset("conflict", {
    fields: [{ name: "prompt", settings: TEXT }],
    questions: [{ name: "completion", settings: { text: {} } }],
  }, [{ externalId: "x0", fields: { prompt: "Write one line." } }]);
  ids.plugin = await makeDataset("plugin-kinds", {
    fields: [{ name: "chat", settings: { chat: { useMarkdown: true } } }],
    questions: [
      { name: "confidence", settings: { slider: { min: 0, max: 1, step: 0.1 } } },
      { name: "severity", settings: { severity: { levels: 5 } } },
    ],
  }, [{ externalId: "g0", fields: { chat: [{ role: "user", content: "Is the sky *green*?" },
    { role: "assistant", content: "No, it is usually blue." }] } }]);
  const longLine = "x".repeat(400);
  ids.layout = await makeDataset("layout", {
    guidelines: "Rank the responses.",
    fields: ["prompt", "response-1", "response-2"].map((name) => ({ name, settings: TEXT })),
    questions: [{ name: "preference", settings: { ranking: { options: [
      { value: "response-1", text: "Response 1" }, { value: "response-2", text: "Response 2" }] } } }],
  }, [{ externalId: "l0", fields: { prompt: "Print a long line", "response-1": "```python\nprint('" + longLine + "')\n```",
    "response-2": "A | table | with | " + "many ".repeat(60) + "cells\n--|--|--|--\n1|2|3|4" } }]);
  ids.keep = await makeDataset("keep", {
    fields: [{ name: "prompt", settings: TEXT }],
    questions: [{ name: "completion", title: "Your answer", settings: { text: {} } }],
  }, Array.from({ length: 6 }, (_, i) => ({ externalId: `w${i}`, fields: { prompt: `Keep prompt ${i}` } })));
  ids.skip = await makeDataset("skip", {
    fields: [{ name: "prompt", settings: TEXT }],
    questions: [{ name: "quality", title: "How good is the prompt?", settings: { rating: { values: [1, 2, 3] } } }],
  }, Array.from({ length: 3 }, (_, i) => ({ externalId: `sk${i}`, fields: { prompt: `Skip prompt ${i}` } })));
  ids.messages = await makeDataset("messages", {
    fields: ["prompt", "response-1", "response-2"].map((name) => ({ name, settings: TEXT })),
    questions: [
      { name: "tone", title: "What is the tone?", settings: { label: { options: [
        { value: "calm", text: "Calm" }, { value: "angry", text: "Angry" }] } } },
      { name: "preference", title: "Which response is better?", settings: { ranking: { options: [
        { value: "response-1", text: "Response 1" }, { value: "response-2", text: "Response 2" }] } } },
    ],
  }, [{ externalId: "m0", fields: { prompt: "Say hi", "response-1": "Hi!", "response-2": "Go away." },
    suggestions: [{ question: "tone", value: { label: "calm" }, agent: "tone-model" },
      { question: "preference", value: { ranking: [{ value: "response-1", rank: 1 }, { value: "response-2", rank: 2 }] },
        agent: "reward-model-v1" }] }]);
  ids.widgets = await makeDataset("widgets", {
    fields: [{ name: "prompt", settings: TEXT }, { name: "snippet", settings: { code: { language: "python" } } },
      { name: "esoteric", required: false, settings: { code: { language: "brainfuck" } } }],
    questions: [
      { name: "confidence", title: "How sure is the model?", settings: { slider: { min: 0, max: 1, step: 0.1 } } },
      { name: "quality", settings: { rating: { values: [1, 2, 3] } } },
    ],
  }, Array.from({ length: 2 }, (_, i) => ({ externalId: `wg${i}`, fields: {
    prompt: `Is this code right? (${i})`, snippet: `def add(a, b):\n    return a + b  # ${i}`, esoteric: "++[>+<-]." } })));
  ids.phishing = await makeDataset("phishing", {
    fields: [{ name: "prompt", settings: TEXT }],
    questions: [{ name: "quality", settings: { rating: { values: [1, 2] } } }],
  }, [{ externalId: "ph0", fields: { prompt: PHISHING } }]);
});

after(async () => {
  await browser?.close();
});

async function newPage(viewport = { width: 1366, height: 900 }) {
  const page = await (await browser.newContext({ viewport })).newPage();
  page.on("console", (message) => {
    // The sft guidelines carry a planted <img onerror>: DOMPurify's parse of it (in an inert
    // document) is reported by Chromium as a blocked handler. Anything else is a real violation.
    const planted = page.url().includes(`/d/${ids.sft}`) && /inline event handler/.test(message.text());
    if (/Content Security Policy/i.test(message.text()) && !planted) cspViolations.push(`${page.url()}: ${message.text()}`);
  });
  page.on("dialog", (dialog) => { dialogs.push(dialog.message()); void dialog.dismiss(); });
  page.on("pageerror", (error) => pageErrors.push(`${page.url()}: ${error.message}`));
  page.on("request", (request) => {
    if (!request.url().startsWith(BASE) && !request.url().startsWith(BASE.replace("http", "ws"))
        && !request.url().startsWith("blob:") && !request.url().startsWith("data:")) offOrigin.push(request.url());
  });
  return page;
}

async function signIn(key, viewport) {
  const page = await newPage(viewport);
  await page.goto(`${BASE}/`);
  await page.getByLabel("API key").fill(key);
  await page.getByLabel("API key").press("Enter");
  await page.getByRole("heading", { name: "Datasets" }).waitFor();
  return page;
}
async function openDataset(page, id) {
  await page.goto(`${BASE}/#/d/${id}`);
  await page.locator("[data-record]").waitFor();
}
const recordId = (page) => page.locator("[data-record]").getAttribute("data-record");
async function nextRecord(page, previous) {
  await page.waitForFunction((prev) => {
    const el = document.querySelector("[data-record]");
    return (el && el.getAttribute("data-record") !== prev) || document.querySelector(".done");
  }, previous);
}
async function submit(page) {
  const before = await recordId(page);
  await page.keyboard.press("Control+Enter");
  await nextRecord(page, before);
}
async function axe(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`), [], `axe on ${name}`);
}
const shot = (page, name) => page.screenshot({ path: new URL(`${name}.png`, SHOTS).pathname, fullPage: true });

test("sign-in screen and a wrong key", async () => {
  const page = await newPage();
  await page.goto(`${BASE}/`);
  await axe(page, "sign-in");
  await page.getByLabel("API key").fill("fql_not-a-key");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("That API key is not valid.").waitFor();
  await shot(page, "01-sign-in");
});

test("home lists every dataset with its progress and mine", async () => {
  const page = await signIn(users.alice.key);
  for (const name of ["sft", "comparison", "prompt-rating", "keyboard", "shared", "conflict", "plugin-kinds", "layout", "phishing", "keep", "skip", "messages", "widgets"]) {
    await page.getByRole("link", { name, exact: true }).waitFor();
  }
  assert.equal(await page.locator(".dataset").count(), 13);
  await axe(page, "home");
  await shot(page, "02-home");
});

test("workflow 1: write completions (suggestion shown and pre-filled), sanitized guidelines, SFT export", async () => {
  const page = await signIn(users.alice.key);
  await openDataset(page, ids.sft);
  const guidelines = page.locator(".guidelines .markdown");
  assert.match(await guidelines.innerHTML(), /<strong>helpful<\/strong>/);
  assert.doesNotMatch(await guidelines.innerHTML(), /onerror|<script/);
  await page.getByTestId("suggestion-completion").getByText("model-x").waitFor();
  assert.match(await page.getByTestId("suggestion-completion").innerText(), /score 0\.50/);
  const box = page.locator("textarea");
  assert.equal(await box.inputValue(), "A draft from the model.");
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), "TEXTAREA");
  await axe(page, "annotate");
  await shot(page, "03-annotate-sft");
  await box.fill("Reinforcement learning from human feedback.");
  await submit(page);
  // The second record has no suggestion: submitting it empty names the question that is missing.
  await page.keyboard.press("Control+Enter");
  await page.getByTestId("invalid-completion").waitFor();
  assert.match(await page.getByTestId("invalid-completion").innerText(), /needs an answer/);
  assert.match(await page.getByTestId("notice-error").innerText(), /^“Please write a response”: needs an answer/);
  await page.locator("textarea").fill("Direct preference optimization.");
  assert.equal(await page.getByTestId("invalid-completion").count(), 0);
  await page.getByTestId("save-state").getByText("Draft saved").waitFor();
  await submit(page);
  await page.locator(".done").waitFor();
  const rows = await download(`/datasets/${ids.sft}/training/sft?question=completion`);
  assert.deepEqual(rows, [
    { prompt: "What is RLHF?", completion: "Reinforcement learning from human feedback." },
    { prompt: "Define DPO.", completion: "Direct preference optimization." },
  ]);
});

test("workflow 2: rank two responses by keyboard, by drag, and with a tie; DPO export", async () => {
  const page = await signIn(users.bob.key);
  await openDataset(page, ids.comparison);
  await page.getByTestId("suggestion-preference").getByText("reward-model-v1").waitFor();
  // Keyboard: the second response becomes best (rank 1), the first rank 2.
  await page.locator('li[data-value="response-2"]').focus();
  await page.keyboard.press("1");
  await page.locator('li[data-value="response-1"]').focus();
  await page.keyboard.press("2");
  assert.equal(await page.locator(".ranking li").first().getAttribute("data-value"), "response-2");
  await shot(page, "04-annotate-ranking");
  await submit(page);
  // Drag: keep the suggestion's order, then drag response-2 above response-1.
  await page.locator('li[data-value="response-2"]').dragTo(page.locator('li[data-value="response-1"]'));
  assert.equal(await page.locator(".ranking li").first().getAttribute("data-value"), "response-2");
  await submit(page);
  // A tie: both rank 1.
  await page.locator('li[data-value="response-2"]').focus();
  await page.keyboard.press("1");
  await submit(page);
  await page.locator(".done").waitFor();
  const rows = await download(`/datasets/${ids.comparison}/training/dpo?question=preference`);
  assert.deepEqual(rows, [
    { prompt: "Say hi", chosen: "Bad answer 0", rejected: "Good answer 0" },
    { prompt: "Say bye", chosen: "Bad answer 1", rejected: "Good answer 1" },
  ]); // the tie makes no pair
});

test("workflow 3: rate and label prompts with number keys and shortcuts; rating selection", async () => {
  const page = await signIn(users.carol.key);
  await openDataset(page, ids.rating);
  for (const [rating, label] of [["6", "1"], ["2", "2"]]) {
    const prompt = await page.locator('[data-field="prompt"]').innerText();
    assert.match(prompt, rating === "6" ? /Reverse a list/ : /hi/);
    await page.keyboard.press(rating); // focus starts on the first question; a choice moves it on
    await page.keyboard.press(label);
    await page.locator('[data-question="flags"] button').first().focus();
    await page.keyboard.press("2"); // multi-label: toggles "Polite"
    if (rating === "6") await shot(page, "05-annotate-rating");
    await submit(page);
  }
  await page.locator(".done").waitFor();
  const rows = await download(`/datasets/${ids.rating}/training/rating_selection?question=quality&threshold=5`);
  assert.deepEqual(rows.map((row) => row.fields.prompt), ["Reverse a list in Python"]);
  const records = await download(`/datasets/${ids.rating}/export?format=jsonl`);
  assert.deepEqual(records.map((r) => [r.external_id, r.responses.map((x) => [x.user, x.status, x.values])]), [
    ["r0", [["carol", "submitted", { quality: 6, topic: "code", flags: ["polite"] }]]],
    ["r1", [["carol", "submitted", { quality: 2, topic: "other", flags: ["polite"] }]]],
  ]);
});

test("keyboard only: ten records, then back and forward through my answers", async () => {
  const page = await signIn(users.alice.key);
  await openDataset(page, ids.keyboard);
  const seen = new Set();
  for (let i = 0; i < 10; i++) {
    seen.add(await recordId(page));
    await page.keyboard.press(String((i % 5) + 1));
    await page.keyboard.press(i % 2 ? "2" : "1");
    await submit(page);
  }
  assert.equal(seen.size, 10);
  await page.locator(".done").waitFor();
  const { dataset } = await gql(users.alice.key, `query($id: ID!) { dataset(id: $id) { myProgress { submitted available } } }`, { id: ids.keyboard });
  assert.deepEqual(dataset.myProgress, { submitted: 10, available: 0 });
  // Back (Alt+B) shows my last answer with its values; Alt+B again, then forward (Alt+N).
  await page.keyboard.press("Alt+KeyB");
  await page.locator("[data-record]").waitFor();
  const last = await recordId(page);
  assert.equal(await page.locator('[data-question="quality"] button.on').innerText(), "5");
  await page.keyboard.press("Alt+KeyB");
  await nextRecord(page, last);
  assert.equal(await page.locator('[data-question="quality"] button.on').innerText(), "4");
  await page.keyboard.press("Alt+KeyN");
  await nextRecord(page, await recordId(page));
  assert.equal(await recordId(page), last);
});

test("two labelers at once get different records, and progress moves live", async () => {
  const alice = await signIn(users.alice.key);
  const bob = await signIn(users.bob.key, { width: 820, height: 1180 }); // a tablet
  await openDataset(alice, ids.shared);
  await openDataset(bob, ids.shared);
  assert.notEqual(await recordId(alice), await recordId(bob));
  assert.equal(await alice.locator(".heading [data-testid=completed]").innerText(), "0");
  await bob.keyboard.press("3");
  await shot(bob, "06-annotate-tablet");
  await submit(bob);
  await alice.locator(".heading [data-testid=completed]").getByText("1", { exact: true }).waitFor({ timeout: 10_000 });
  // Skip gives the record back and shows another one.
  const skipped = await recordId(alice);
  await alice.keyboard.press("Alt+KeyS");
  await nextRecord(alice, skipped);
  assert.notEqual(await recordId(alice), skipped);
  // Discard (Alt+D) keeps a discarded response and moves on.
  const discarded = await recordId(alice);
  await alice.keyboard.press("Alt+KeyD");
  await nextRecord(alice, discarded);
  const { record } = await gql(users.alice.key, `query($id: ID!) { record(id: $id) { responses { status } } }`, { id: discarded });
  assert.deepEqual(record.responses, [{ status: "DISCARDED" }]);
});

test("a stale version shows the conflict and keeps the person's input", async () => {
  const page = await signIn(users.carol.key);
  await openDataset(page, ids.conflict);
  const record = await recordId(page);
  await page.locator("textarea").fill("My first thought");
  await page.getByTestId("save-state").getByText("Draft saved").waitFor();
  // The same person answers from elsewhere (another tab, a script): version 2.
  await gql(users.carol.key, `mutation($input: ResponseInput!) { submitResponse(input: $input) { version } }`, {
    input: { recordId: record, status: "SUBMITTED", expectedVersion: 1,
      values: [{ question: "completion", value: { text: "Written elsewhere" } }] },
  });
  await page.locator("textarea").fill("My final answer");
  await page.keyboard.press("Control+Enter");
  await page.getByTestId("notice-conflict").waitFor();
  assert.match(await page.getByTestId("notice-conflict").innerText(), /version 2/);
  assert.equal(await page.locator("textarea").inputValue(), "My final answer");
  // The save state stays true: not "Saving draft…", not "Draft saved".
  assert.equal(await page.getByTestId("save-state").innerText(), "Not saved on the server — kept on this device");
  await shot(page, "07-conflict");
  await submit(page); // again, now against the current version
  const data = await gql(users.carol.key, `query($id: ID!) { record(id: $id) { responses { version values { json } } } }`, { id: record });
  assert.deepEqual(data.record.responses[0].values[0].json, "My final answer");
  assert.equal(data.record.responses[0].version, 3);
});

test("plugin kinds: the slider through its own widget, severity through the generated form", async () => {
  const page = await signIn(users.bob.key);
  await openDataset(page, ids.plugin);
  await page.locator(".chat .turn.assistant").getByText("No, it is usually blue.").waitFor();
  assert.match(await page.locator(".chat .turn.user .markdown").innerHTML(), /<em>green<\/em>/);
  const slider = page.locator('[data-widget="slider"] input[type="range"]');
  await slider.waitFor();
  await slider.focus();
  for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowRight");
  await page.locator('[data-generated="severity"]').getByLabel("Level *").fill("3");
  await page.locator('[data-generated="severity"]').getByLabel("Reason").fill("mild");
  await axe(page, "plugin kinds");
  await shot(page, "08-annotate-plugins");
  const record = await recordId(page);
  await submit(page);
  const data = await gql(users.bob.key, `query($id: ID!) { record(id: $id) { responses { status values { question json } } } }`, { id: record });
  const values = Object.fromEntries(data.record.responses[0].values.map((v) => [v.question, v.json]));
  assert.equal(data.record.responses[0].status, "SUBMITTED");
  assert.ok(Math.abs(values.confidence - 0.3) < 1e-9, JSON.stringify(values));
  assert.deepEqual(values.severity, { level: 3, reason: "mild" });
});

test("managers: live overview, annotators, agreement and downloads", async () => {
  const page = await signIn(OWNER);
  await page.goto(`${BASE}/#/d/${ids.keyboard}/manage`);
  await page.getByRole("heading", { name: "Annotators" }).waitFor();
  await page.getByRole("row", { name: /alice/ }).waitFor();
  await page.getByRole("row", { name: /quality/ }).waitFor();
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Records (JSONL)" }).click()]);
  assert.equal(file.suggestedFilename(), "keyboard.jsonl");
  await axe(page, "manage");
  await shot(page, "09-manage");
  await page.goto(`${BASE}/#/d/${ids.shared}/manage`);
  await page.getByRole("heading", { name: "Progress" }).waitFor();
  const before = Number(await page.getByTestId("completed").innerText());
  const bob = await signIn(users.bob.key);
  await openDataset(bob, ids.shared);
  await bob.keyboard.press("2");
  await submit(bob);
  await page.getByTestId("completed").getByText(String(before + 1), { exact: true }).waitFor({ timeout: 10_000 });
});

test("a rotated key sends the person back to sign-in with a clear message", async () => {
  const page = await signIn(users.bob.key);
  await openDataset(page, ids.shared); // holds a live progress subscription
  await owner(`mutation($id: ID!) { rotateApiKey(userId: $id) { apiKey } }`, { id: users.bob.id });
  await page.getByText("Your API key no longer works").waitFor({ timeout: 10_000 });
  await page.getByLabel("API key").waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("feedbackql.apiKey")), null);
  await shot(page, "10-revoked");
});

const myResponse = async (key, record) => (await gql(key,
  `query($id: ID!) { record(id: $id) { responses { status values { json } } } }`, { id: record })).record.responses[0];

test("reload mid-typing restores the text; after a saved draft the draft record comes back, listed under Drafts", async () => {
  const page = await signIn(users.dave.key);
  await openDataset(page, ids.keep);
  const record = await recordId(page);
  await page.locator("textarea").fill("Half a thought");
  await page.reload(); // before the draft save's 0.8 s
  await page.locator("[data-record]").waitFor();
  assert.equal(await recordId(page), record);
  assert.equal(await page.locator("textarea").inputValue(), "Half a thought");
  await page.getByTestId("save-state").getByText("Draft saved").waitFor();
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }));
  assert.ok(!stored.includes(users.dave.key), "the API key is never kept in localStorage");
  assert.ok(!stored.includes("Half a thought"), "the local copy goes once the server has the draft");
  await page.getByTestId("drafts-link").getByText("Drafts (1)").waitFor();
  await page.reload();
  await page.locator("[data-record]").waitFor();
  assert.equal(await recordId(page), record, "the draft record comes back, not a new one");
  assert.equal(await page.locator("textarea").inputValue(), "Half a thought");
  await page.getByTestId("drafts-link").click();
  await page.locator(`[data-draft="${record}"]`).waitFor();
  assert.match(await page.getByTestId("draft-total").innerText(), /^1 draft/);
  await axe(page, "drafts");
  await shot(page, "12-drafts");
  await page.locator(`[data-draft="${record}"] a`).click();
  await page.locator(`[data-record="${record}"]`).waitFor();
  await page.goto(`${BASE}/#/`);
  await page.getByRole("link", { name: "Drafts (1) of keep" }).waitFor();
});

test("the service unreachable mid-submit: said in words with Retry, the text kept, sent once it is back", async () => {
  const page = await signIn(users.dave.key);
  await page.goto(`${BASE}/#/d/${ids.keep}`);
  await page.locator("[data-record]").waitFor();
  await page.locator("textarea").fill("next");
  await submit(page); // a fresh record: the queue does not hand out my draft of the previous test
  const record = await recordId(page);
  await page.route("**/graphql", (route) => route.abort("internetdisconnected"));
  await page.locator("textarea").fill("Written while offline");
  await page.getByTestId("save-state").getByText("Not saved on the server — kept on this device").waitFor();
  await page.keyboard.press("Control+Enter");
  const notice = page.getByTestId("notice-error");
  await notice.getByText("Cannot reach the service — your answer is kept on this device.").waitFor();
  assert.doesNotMatch(await page.locator("main").innerText(), /Failed to fetch|TypeError|Saving draft/);
  assert.equal(await page.locator("textarea").inputValue(), "Written while offline");
  await axe(page, "offline");
  await shot(page, "13-offline");
  await page.unroute("**/graphql");
  await notice.getByRole("button", { name: "Retry" }).click();
  await nextRecord(page, record);
  const mineNow = await myResponse(users.dave.key, record);
  assert.equal(mineNow.status, "SUBMITTED");
  assert.equal(mineNow.values[0].json, "Written while offline");
});

test("a key rotated mid-typing: after signing in with the new key the text is back", async () => {
  const page = await signIn(users.erin.key);
  await openDataset(page, ids.keep);
  const record = await recordId(page);
  await page.locator("textarea").fill("Typed before the rotation");
  const { rotateApiKey } = await owner(`mutation($id: ID!) { rotateApiKey(userId: $id) { apiKey } }`, { id: users.erin.id });
  await page.getByText("Your API key no longer works").waitFor({ timeout: 10_000 });
  await page.getByLabel("API key").fill(rotateApiKey.apiKey);
  await page.getByLabel("API key").press("Enter");
  await page.locator(`[data-record="${record}"]`).waitFor();
  assert.equal(await page.locator("textarea").inputValue(), "Typed before the rotation");
  await page.getByTestId("save-state").getByText("Draft saved").waitFor();
  assert.equal((await myResponse(rotateApiKey.apiKey, record)).values[0].json, "Typed before the rotation");
  await shot(page, "14-after-rotation");
});

test("a skipped record goes to the end of my queue: the next two records are others, then it comes back", async () => {
  const page = await signIn(users.frank.key);
  await openDataset(page, ids.skip);
  const skipped = await recordId(page);
  await page.keyboard.press("Alt+KeyS");
  await nextRecord(page, skipped);
  await page.getByTestId("notice-info").getByText("it comes back to you in 10 minutes").waitFor();
  await axe(page, "skipped");
  await shot(page, "15-skipped");
  const seen = [];
  for (let i = 0; i < 2; i++) {
    const current = await recordId(page);
    seen.push(current);
    await page.keyboard.press("2");
    await submit(page);
  }
  assert.ok(!seen.includes(skipped), "the skipped record is not among the next two");
  assert.equal(new Set(seen).size, 2);
  // Nothing else is waiting: now the skipped record, rather than nothing.
  assert.equal(await recordId(page), skipped);
});

test("the suggested option stays marked after another is picked; a refused answer is named by its question's title", async () => {
  const page = await signIn(users.gina.key);
  await openDataset(page, ids.messages);
  const tone = page.locator('[data-question="tone"]');
  await tone.getByRole("button", { name: /Angry/ }).click();
  assert.equal(await tone.getByRole("button", { name: /Angry/ }).getAttribute("aria-pressed"), "true");
  assert.equal(await tone.locator("button:has(.suggested-mark)").count(), 1);
  assert.match(await tone.locator("button:has(.suggested-mark)").innerText(), /Calm/);
  // An incomplete ranking: the service refuses it; the message says which question, in words.
  await page.locator('li[data-value="response-2"]').focus();
  await page.keyboard.press("Delete");
  await page.keyboard.press("Control+Enter");
  const notice = page.getByTestId("notice-error");
  await notice.waitFor();
  const text = await notice.innerText();
  assert.match(text, /^“Which response is better\?”: every option must be ranked; missing: “Response 2”$/);
  assert.doesNotMatch(text, /values\[|value\.ranking|'response-2'/);
  assert.match(await page.getByTestId("invalid-preference").innerText(), /missing: “Response 2”/);
  assert.match(await page.locator('li[data-value="response-2"]').getAttribute("aria-label"), /not ranked, suggested rank 2/);
  await axe(page, "messages");
  await shot(page, "16-messages-and-suggestions");
});

test("a record with a long code line fits phones, tablets and wide screens: the line scrolls in its block", async () => {
  for (const width of [360, 390, 768, 1440]) {
    const page = await signIn(users.carol.key, { width, height: 900 });
    await openDataset(page, ids.layout);
    const layout = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth, viewport: window.innerWidth,
      buttons: [...document.querySelectorAll(".actions button")].map((b) => b.getBoundingClientRect().right),
      code: (() => { const pre = document.querySelector(".markdown pre"); return pre ? pre.scrollWidth > pre.clientWidth : false; })(),
      wide: [...document.querySelectorAll("body *")].filter((el) => el.getBoundingClientRect().right > window.innerWidth
        && el.parentElement.getBoundingClientRect().right <= window.innerWidth).slice(0, 5).map((el) => `${el.tagName.toLowerCase()}.${el.className}:${getComputedStyle(el.parentElement).overflowX}`),
    }));
    await shot(page, `15-layout-${width}`);
    assert.ok(layout.page <= layout.viewport, `${width}px: the page scrolls sideways (${layout.page} > ${layout.viewport}): ${layout.wide}`);
    for (const right of layout.buttons) assert.ok(right <= layout.viewport, `${width}px: a button ends at ${right}, off-screen`);
    assert.ok(layout.code, `${width}px: the long line should scroll inside its code block`);
    await page.close();
  }
});

test("GraphiQL runs on its own assets under the same policy", async () => {
  const page = await newPage();
  await page.goto(`${BASE}/graphql`);
  await page.locator(".graphiql-container").getByText("Put your key in the Headers tab").first().waitFor();
  await shot(page, "11-graphiql");
});

test("record markdown keeps no style, class or raw layout HTML: a planted full-screen box cannot cover the UI", async () => {
  const page = await signIn(users.carol.key);
  await openDataset(page, ids.phishing);
  const field = page.locator('[data-field="prompt"] .markdown');
  await field.getByText("Your session expired").waitFor();
  assert.doesNotMatch(await field.innerHTML(), /style=|class=|id=|<div|<span|position/);
  const placed = await page.evaluate(() => [...document.querySelectorAll(".markdown *")]
    .filter((el) => getComputedStyle(el).position !== "static").length);
  assert.equal(placed, 0);
  const covered = await page.evaluate(() => document.elementFromPoint(innerWidth / 2, 40)?.closest(".markdown") != null);
  assert.equal(covered, false, "the planted link lies over the top of the UI");
  await shot(page, "12-phishing-markdown");
});

// Issue 24: the records view and bulk labelling.
const RECORDS_VIEW_SIZE = 120;
async function recordsDataset(name) {
  return makeDataset(name, {
    fields: [{ name: "prompt", settings: TEXT }, { name: "answer", settings: TEXT }],
    questions: [
      { name: "quality", title: "How good is the answer?", settings: { rating: { values: [1, 2, 3, 4, 5] } } },
      { name: "topic", title: "Topic", required: false, settings: { label: { options: [
        { value: "pets", text: "Pets" }, { value: "other", text: "Something else" }] } } },
    ],
    metadataProperties: [{ name: "lang", kind: "TERMS", values: ["en", "fr"] },
      { name: "length", title: "Length", kind: "INTEGER", min: 0, max: 1000 }],
  }, Array.from({ length: RECORDS_VIEW_SIZE }, (_, i) => ({
    externalId: `rv${i}`, metadata: { lang: i % 2 ? "fr" : "en", length: i },
    fields: { prompt: `Prompt ${i} about ${i % 10 === 0 ? "cats" : "weather"}`,
      answer: `**Bold** answer ${i} ` + "long text ".repeat(40) },
  })));
}
const listed = (page) => page.locator(".records-table tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.externalId));
async function waitListed(page, first, count) {
  await page.waitForFunction(([f, n]) => {
    const rows = [...document.querySelectorAll(".records-table tbody tr")];
    return rows.length === n && rows[0]?.dataset.externalId === f;
  }, [first, count]);
}
const MY_ANSWERS = `query($id: ID!) { records(datasetId: $id, first: 200, filter: { myResponseStatus: [SUBMITTED] }) {
  edges { node { externalId responses { status values { question json } } } } } }`;

test("records view: search, metadata and status filters, sort, pages forward and back, jump by external id", async () => {
  const datasetId = await recordsDataset("records-view");
  const hank = await makeUser("hank");
  const page = await signIn(hank.key);
  await page.getByRole("link", { name: "Records of records-view" }).click();
  await waitListed(page, "rv0", 50);
  await page.getByTestId("records-figures").getByText(/^120 records match\. 50 on this page\./).waitFor();
  // Field values are one short plain line: no markdown rendered, cut with an ellipsis.
  const cell = await page.locator(".records-table tbody tr").first().locator("td.cell").nth(1).innerText();
  assert.match(cell, /^\*\*Bold\*\* answer 0 long text/);
  assert.ok(cell.length <= 141 && cell.endsWith("…"), cell);
  await axe(page, "records view");
  await shot(page, "16-records-view");
  await page.getByRole("button", { name: "Next page" }).click();
  await waitListed(page, "rv50", 50);
  await page.getByRole("button", { name: "Next page" }).click();
  await waitListed(page, "rv100", 20);
  assert.equal(await page.getByRole("button", { name: "Next page" }).isDisabled(), true);
  await page.getByRole("button", { name: "Previous page" }).click();
  await waitListed(page, "rv50", 50);
  await page.goBack();
  await waitListed(page, "rv100", 20);
  await page.getByRole("button", { name: "First page" }).click();
  await waitListed(page, "rv0", 50);

  // Search by words, by keyboard: the filters are a form; Enter applies them.
  await page.getByLabel("Search").fill("CATS prompt");
  await page.getByLabel("Search").press("Enter");
  await waitListed(page, "rv0", 12);
  assert.deepEqual(await listed(page), Array.from({ length: 12 }, (_, i) => `rv${i * 10}`));
  await page.getByTestId("records-figures").getByText(/^12 records match/).waitFor();
  assert.match(page.url(), /records\?text=CATS\+prompt/);
  // A metadata range and a term, with the search cleared; newest first.
  await page.getByLabel("Search").fill("");
  await page.locator('[data-meta="lang"]').getByLabel("en").check();
  await page.getByLabel("Length from").fill("10");
  await page.getByLabel("Length to").fill("16");
  await page.getByLabel("Order").selectOption("INSERTED_AT.DESC");
  await page.getByRole("button", { name: "Apply" }).click();
  await waitListed(page, "rv16", 4);
  assert.deepEqual(await listed(page), ["rv16", "rv14", "rv12", "rv10"]);
  assert.doesNotMatch(await page.getByTestId("records-figures").innerText(), /match/, "no count that reads the dataset");
  // The address carries the filters: a new tab opens the same list; Back returns to the search.
  const shared = await signIn(hank.key);
  await shared.goto(page.url());
  await waitListed(shared, "rv16", 4);
  await shared.close();
  await page.goBack();
  await waitListed(page, "rv0", 12);
  assert.equal(await page.getByLabel("Search").inputValue(), "CATS prompt");
  // Status and "my response": nothing is answered yet.
  await page.goto(`${BASE}/#/d/${datasetId}/records?status=COMPLETED`);
  await page.getByText("No records on this page.").waitFor();
  await page.goto(`${BASE}/#/d/${datasetId}/records`);
  await waitListed(page, "rv0", 50);
  await page.getByRole("group", { name: "My response" }).getByLabel("Submitted").check();
  await page.getByRole("button", { name: "Apply" }).click();
  await page.getByText("No records on this page.").waitFor();
  await page.getByTestId("records-figures").getByText(/^0 records match/).waitFor();

  // Jump by external id: unknown, then a record, opened in the labeling view.
  await page.getByLabel("External id").fill("nope");
  await page.getByLabel("External id").press("Enter");
  await page.getByTestId("jump-error").getByText("No record of this dataset has the external id “nope”.").waitFor();
  await page.getByLabel("External id").fill("rv77");
  await page.getByRole("button", { name: "Open record" }).click();
  await page.locator(".workspace .meta code").getByText("rv77", { exact: true }).waitFor();
  assert.match(await page.locator('[data-field="prompt"]').innerText(), /Prompt 77 about weather/);
  // And from the list: a record's name opens it.
  await page.goto(`${BASE}/#/d/${datasetId}/records?text=cats`);
  await waitListed(page, "rv0", 12);
  await page.getByRole("link", { name: "rv30", exact: true }).click();
  await page.locator(".workspace .meta code").getByText("rv30", { exact: true }).waitFor();
  await page.getByTestId("records-link").waitFor();
  await page.close();
  // A phone: the page itself never scrolls sideways; the table scrolls in its own region.
  const phone = await signIn(hank.key, { width: 390, height: 844 });
  await phone.goto(`${BASE}/#/d/${datasetId}/records`);
  await waitListed(phone, "rv0", 50);
  const widths = await phone.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(widths[0] <= widths[1], `390px: the page scrolls sideways (${widths})`);
  await axe(phone, "records view at 390 px");
  await phone.screenshot({ path: new URL("16-records-view-390.png", SHOTS).pathname });
  await phone.close();
});

test("bulk labelling: five records by click and shift-click answered once; a conflict keeps its record and the input", async () => {
  const datasetId = await recordsDataset("bulk");
  const ivan = await makeUser("ivan");
  const page = await signIn(ivan.key);
  await page.goto(`${BASE}/#/d/${datasetId}/records`);
  await waitListed(page, "rv0", 50);
  await page.getByLabel("Select rv3", { exact: true }).click();
  await page.getByLabel("Select rv7", { exact: true }).click({ modifiers: ["Shift"] });
  await page.getByRole("heading", { name: "Answer 5 selected records at once" }).waitFor();
  // By keyboard: Space clears a box, Shift+Space a range from it, likewise.
  await page.getByLabel("Select rv4", { exact: true }).focus();
  await page.keyboard.press("Space");
  await page.getByLabel("Select rv6", { exact: true }).focus();
  await page.keyboard.press("Shift+Space");
  await page.getByRole("heading", { name: "Answer 2 selected records at once" }).waitFor();
  await page.getByLabel("Select rv5", { exact: true }).focus();
  await page.keyboard.press("Space");
  await page.getByLabel("Select rv7", { exact: true }).focus();
  await page.keyboard.press("Shift+Space"); // rv7 was ticked: clearing it clears the range
  await page.getByRole("heading", { name: "Answer 1 selected record at once" }).waitFor();
  await page.getByLabel("Select rv4", { exact: true }).click();
  await page.getByLabel("Select rv7", { exact: true }).click({ modifiers: ["Shift"] });
  await page.getByRole("heading", { name: "Answer 5 selected records at once" }).waitFor();
  // Nothing answered: refused for all, said with the question's title, the selection kept.
  await page.getByRole("button", { name: "Submit for 5" }).click();
  await page.getByTestId("bulk-notice").getByText("“How good is the answer?”: needs an answer").waitFor();
  assert.equal(await page.locator('.bulk-results li[data-stored="false"]').count(), 5);
  const bulk = page.getByTestId("bulk");
  await bulk.locator('[data-question="quality"]').getByRole("button", { name: "4", exact: true }).click();
  await bulk.locator('[data-question="topic"]').getByRole("button", { name: /Pets/ }).click();
  await axe(page, "bulk labelling");
  await shot(page, "17-bulk-selected");
  await page.getByRole("button", { name: "Submit for 5" }).click();
  await page.getByTestId("bulk-results").getByText("5 stored, 0 not stored.").waitFor();
  await page.getByRole("heading", { name: "Bulk answers" }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="my-status"]')[3]?.textContent === "submitted");
  const mine = await gql(ivan.key, MY_ANSWERS, { id: datasetId });
  assert.deepEqual(mine.records.edges.map((e) => e.node.externalId), ["rv3", "rv4", "rv5", "rv6", "rv7"]);
  for (const { node } of mine.records.edges) {
    assert.deepEqual(node.responses.map((r) => [r.status, r.values]), [["SUBMITTED", [
      { question: "quality", json: 4 }, { question: "topic", json: "pets" }]]]);
  }

  // Drafts never replace an answer given: rv3 is left alone, rv20 gets the draft.
  await page.getByLabel("Select rv3", { exact: true }).check();
  await page.getByLabel("Select rv20", { exact: true }).check();
  await page.getByRole("button", { name: "Save as drafts" }).click();
  await page.getByTestId("bulk-results").getByText("1 stored, 1 not stored.").waitFor();
  assert.match(await page.locator('.bulk-results li[data-stored="false"]').innerText(),
    /^rv3: not saved as a draft: you have answered it/);
  await page.getByRole("button", { name: "Clear selection" }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="my-status"]')[20]?.textContent === "draft");
  assert.equal((await gql(ivan.key, MY_ANSWERS, { id: datasetId })).records.edges.length, 5);

  // All on this page; meanwhile rv9's answer changes elsewhere (another tab): rv9 is refused as a
  // conflict and stays selected with the answers on screen; the 49 others are stored.
  await page.getByLabel("Select all on this page").check();
  await page.getByRole("heading", { name: "Answer 50 selected records at once" }).waitFor();
  const rv9 = (await gql(ivan.key, `query($id: ID!) { records(datasetId: $id, filter: { externalIds: ["rv9"] }) { edges { node { id } } } }`,
    { id: datasetId })).records.edges[0].node.id;
  await gql(ivan.key, `mutation($input: ResponseInput!) { submitResponse(input: $input) { version } }`,
    { input: { recordId: rv9, status: "DRAFT", values: [{ question: "quality", value: { rating: 1 } }], expectedVersion: 0 } });
  await bulk.locator('[data-question="quality"]').getByRole("button", { name: "2", exact: true }).click();
  await page.getByRole("button", { name: "Submit for 50" }).click();
  await page.getByTestId("bulk-results").getByText("49 stored, 1 not stored.").waitFor();
  const refused = page.locator('.bulk-results li[data-stored="false"]');
  assert.match(await refused.innerText(), /^rv9: your answer to it was changed elsewhere meanwhile \(now a draft response\)/);
  await page.getByRole("heading", { name: "Answer 1 selected record at once" }).waitFor();
  assert.equal(await bulk.locator('[data-question="quality"] button[aria-pressed="true"]').innerText(), "2");
  await shot(page, "18-bulk-conflict");
  await page.getByRole("button", { name: "Submit for 1" }).click();
  await page.getByTestId("bulk-results").getByText("1 stored, 0 not stored.").waitFor();
  const final = await gql(ivan.key, MY_ANSWERS, { id: datasetId });
  assert.equal(final.records.edges.length, 50);
  const ratings = Object.fromEntries(final.records.edges.map((e) => [e.node.externalId, e.node.responses[0].values[0].json]));
  assert.deepEqual([ratings.rv3, ratings.rv8, ratings.rv9, ratings.rv49], [2, 2, 2, 2]);
  await page.close();
});

test("plugin widgets: a field through its widget, isolated in a shadow root, the plain text when it fails; validity blocks submit", async () => {
  const page = await signIn(users.gina.key);
  await openDataset(page, ids.widgets);
  const code = page.locator('[data-field="snippet"] [data-widget="code"] code');
  await code.waitFor();
  assert.match(await code.innerText(), /def add\(a, b\):\n {4}return a \+ b/);
  assert.equal(await code.getAttribute("data-language"), "python");
  assert.equal(await page.locator('[data-field="snippet"] [data-widget="code"]').evaluate((el) => el.shadowRoot !== null), true);
  // The widget's `* { color: red }` applies inside its shadow root only; the page's `.tag` rule stays out.
  assert.equal(await code.evaluate((el) => getComputedStyle(el).color), "rgb(255, 0, 0)");
  const red = await page.evaluate(() => [...document.querySelectorAll("body *")]
    .filter((el) => getComputedStyle(el).color === "rgb(255, 0, 0)").map((el) => el.tagName));
  assert.deepEqual(red, [], "the widget's CSS leaked into the page");
  assert.equal(await page.locator('[data-field="snippet"] [data-widget="code"] .tag')
    .evaluate((el) => getComputedStyle(el).backgroundColor), "rgba(0, 0, 0, 0)");
  // A widget that throws: the field is shown as plain text, with a note.
  const failed = page.locator('[data-field="esoteric"] [data-widget-failed="code"]');
  await failed.getByText("could not be shown").waitFor();
  assert.equal(await failed.locator(".plain").innerText(), "++[>+<-].");
  // The question widget gets the record's fields; a required slider left unset blocks submit.
  const slider = page.locator('[data-widget="slider"] input[type="range"]');
  await slider.waitFor();
  // The first question is a widget: the focus goes into it, as it does into a built-in control.
  await page.waitForFunction(() => document.activeElement?.shadowRoot?.activeElement?.type === "range");
  assert.equal(await page.locator('[data-widget="slider"] .fql-slider').getAttribute("data-fields"), "prompt snippet esoteric");
  await page.getByTestId("widget-problem-confidence").getByText("it is required").waitFor();
  await page.locator('[data-question="quality"]').getByRole("button", { name: "2" }).click();
  const record = await recordId(page);
  await page.keyboard.press("Control+Enter");
  await page.getByTestId("notice-error").getByText('Move the slider to answer "How sure is the model?"').waitFor();
  assert.equal(await recordId(page), record);
  const unsent = await gql(users.gina.key, `query($id: ID!) { record(id: $id) { responses { status } } }`, { id: record });
  assert.ok(unsent.record.responses.every((r) => r.status !== "SUBMITTED"), JSON.stringify(unsent));
  await axe(page, "plugin widgets");
  await shot(page, "13-plugin-widgets");
  await slider.focus();
  for (let i = 0; i < 7; i++) await page.keyboard.press("ArrowRight");
  await page.getByTestId("widget-problem-confidence").waitFor({ state: "detached" });
  await submit(page);
  const data = await gql(users.gina.key, `query($id: ID!) { record(id: $id) { responses { status values { question json } } } }`, { id: record });
  const values = Object.fromEntries(data.record.responses[0].values.map((v) => [v.question, v.json]));
  assert.equal(data.record.responses[0].status, "SUBMITTED");
  assert.ok(Math.abs(values.confidence - 0.7) < 1e-9, JSON.stringify(values));
  assert.equal(values.quality, 2);
});

test("managers download every installed task that accepts a question's kind, a plugin's task included", async () => {
  const page = await signIn(OWNER);
  await page.goto(`${BASE}/#/d/${ids.widgets}/manage`);
  const pluginTask = page.locator('[data-task="slider_mean"]');
  await pluginTask.waitFor();
  assert.equal(await pluginTask.innerText(), "slider_mean: confidence");
  assert.equal(await page.locator('[data-task="rating_selection"]').count(), 2); // confidence (interval) and quality
  const [file] = await Promise.all([page.waitForEvent("download"), pluginTask.click()]);
  assert.equal(file.suggestedFilename(), "widgets-slider_mean-confidence.jsonl");
  const rows = readFileSync(await file.path(), "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line));
  assert.equal(rows.length, 1);
  assert.ok(Math.abs(rows[0].mean - 0.7) < 1e-9 && rows[0].answers === 1, JSON.stringify(rows));
  await page.goto(`${BASE}/#/d/${ids.comparison}/manage`);
  await page.locator('[data-task="dpo"]').waitFor();
  assert.deepEqual(await page.locator("[data-task]").evaluateAll((els) => els.map((el) => el.dataset.task)),
    ["reward_modeling", "dpo"]);
  await shot(page, "14-manage-tasks");
});

test("an unavailable kind (plugin uninstalled) is greyed and never sent: the other questions submit", {
  skip: !process.env.FEEDBACKQL_UNAVAILABLE_DATASET && "needs a dataset written with a plugin now gone (tests/test_browser.py)",
}, async () => {
  const page = await signIn(OWNER);
  await openDataset(page, process.env.FEEDBACKQL_UNAVAILABLE_DATASET);
  const stars = page.locator('[data-question="stars"]');
  await page.getByTestId("unavailable-stars").getByText("read-only and not sent").waitFor();
  assert.equal(await stars.evaluate((el) => el.classList.contains("unavailable") && el.disabled), true);
  await page.getByTestId("suggestion-stars").waitFor();
  await page.keyboard.press("3");
  const record = await recordId(page);
  await shot(page, "15-unavailable-kind");
  await submit(page);
  const data = await owner(`query($id: ID!) { record(id: $id) { responses { status values { question json } } } }`, { id: record });
  assert.equal(data.record.responses[0].status, "SUBMITTED");
  assert.deepEqual(data.record.responses[0].values, [{ question: "quality", json: 3 }]);
});

test("records view: sort by a metadata value and a suggestion score; select all 200 matching, reload, bulk-label exactly those", async () => {
  const datasetId = await makeDataset("bulk-all", {
    fields: [{ name: "prompt", settings: TEXT }],
    questions: [{ name: "quality", title: "How good is the answer?", settings: { rating: { values: [1, 2, 3, 4, 5] } } }],
    metadataProperties: [{ name: "length", title: "Length", kind: "INTEGER", min: 0, max: 1000 }],
  }, Array.from({ length: 260 }, (_, i) => ({
    externalId: `ba${i}`, metadata: { length: i }, fields: { prompt: `Prompt ${i}` },
    suggestions: [{ question: "quality", value: { rating: 3 }, score: ((i * 37) % 260) / 260 }],
  })));
  const jill = await makeUser("jill");
  const page = await signIn(jill.key);
  await page.goto(`${BASE}/#/d/${datasetId}/records`);
  await waitListed(page, "ba0", 50);
  await page.getByLabel("Order").selectOption({ label: "Length: highest first" });
  await page.getByRole("button", { name: "Apply" }).click();
  await waitListed(page, "ba259", 50);
  assert.deepEqual((await listed(page)).slice(0, 3), ["ba259", "ba258", "ba257"]);
  // The value sorted by is shown in a column of its own.
  assert.equal(await page.getByTestId("sort-column").innerText(), "Length");
  assert.deepEqual((await page.getByTestId("sort-value").allInnerTexts()).slice(0, 3), ["259", "258", "257"]);
  await page.getByRole("button", { name: "Next page" }).click();
  await waitListed(page, "ba209", 50);
  await page.getByLabel("Order").selectOption({ label: "Suggestion score of “How good is the answer?”: highest first" });
  await page.getByRole("button", { name: "Apply" }).click();
  const byScore = Array.from({ length: 260 }, (_, i) => i).sort((a, b) => ((b * 37) % 260) - ((a * 37) % 260) || b - a);
  await waitListed(page, `ba${byScore[0]}`, 50);
  assert.deepEqual((await listed(page)).slice(0, 5), byScore.slice(0, 5).map((i) => `ba${i}`));
  assert.equal(await page.getByTestId("sort-column").innerText(), "Suggestion score: How good is the answer?");
  assert.equal(await page.getByTestId("sort-value").first().innerText(), String(((byScore[0] * 37) % 260) / 260));
  await shot(page, "19-records-sorted-by-score");

  // Select every record a metadata range matches (200, over several pages), answer, reload: all kept.
  await page.getByLabel("Order").selectOption("INSERTED_AT.ASC");
  await page.getByLabel("Length from").fill("30");
  await page.getByLabel("Length to").fill("229");
  await page.getByRole("button", { name: "Apply" }).click();
  await waitListed(page, "ba30", 50);
  await page.getByRole("button", { name: "Select all records matching this filter (up to 1000)" }).click();
  await page.getByTestId("select-matching").getByText("Selected 200 matching records.").waitFor();
  await page.getByRole("heading", { name: "Answer 200 selected records at once" }).waitFor();
  const bulk = page.getByTestId("bulk");
  await bulk.locator('[data-question="quality"]').getByRole("button", { name: "5", exact: true }).click();
  await axe(page, "select all matching");
  await shot(page, "20-bulk-all-matching");
  await page.reload();
  await page.getByRole("heading", { name: "Answer 200 selected records at once" }).waitFor();
  assert.equal(await bulk.locator('[data-question="quality"] button[aria-pressed="true"]').innerText(), "5");
  await page.getByRole("button", { name: "Submit for 200" }).click();
  await page.getByTestId("bulk-results").getByText("200 stored, 0 not stored.", { exact: true }).waitFor({ timeout: 60_000 });
  const mine = await gql(jill.key, `query($id: ID!) { records(datasetId: $id, first: 1000, filter: { myResponseStatus: [SUBMITTED, DRAFT, DISCARDED] }) {
    edges { node { externalId responses { status values { question json } } } } } }`, { id: datasetId });
  assert.deepEqual(mine.records.edges.map((e) => e.node.externalId), Array.from({ length: 200 }, (_, i) => `ba${i + 30}`));
  for (const { node } of mine.records.edges) {
    assert.deepEqual(node.responses.map((r) => [r.status, r.values]), [["SUBMITTED", [{ question: "quality", json: 5 }]]]);
  }
  // Everything stored: nothing is kept for a later reload.
  await page.reload();
  await waitListed(page, "ba30", 50);
  assert.equal(await page.getByTestId("bulk").count(), 0);
  await page.close();
});

test("select all matching stops at one bulk call's 1,000 records and says so", async () => {
  const { createDataset } = await owner(`mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id } }`,
    { input: { workspaceId: ws, name: "bulk-many", fields: [{ name: "prompt", settings: TEXT }],
      questions: [{ name: "quality", settings: { rating: { values: [1, 2, 3] } } }] } });
  await owner(`mutation($id: ID!) { publishDataset(id: $id) { id } }`, { id: createDataset.id });
  for (const [from, to] of [[0, 1000], [1000, 1001]]) {
    await owner(`mutation($id: ID!, $r: [RecordInput!]!) { addRecords(datasetId: $id, records: $r) { created } }`,
      { id: createDataset.id, r: Array.from({ length: to - from }, (_, k) => ({ externalId: `bm${from + k}`, fields: { prompt: `P ${from + k}` } })) });
  }
  const page = await signIn((await makeUser("kim")).key);
  await page.goto(`${BASE}/#/d/${createDataset.id}/records`);
  await waitListed(page, "bm0", 50);
  const matching = page.getByTestId("select-matching");
  await matching.getByText("One bulk answer sends at most 1000 records; answer these, then select again.").waitFor();
  await page.getByRole("button", { name: "Select the first 1000 of the 1001 matching records" }).click();
  await matching.getByText("Selected 1000 matching records: more match, but one bulk answer sends at most 1000.").waitFor();
  await page.getByRole("heading", { name: "Answer 1000 selected records at once" }).waitFor();
  await page.close();
});

test("no Content-Security-Policy violations, script errors or requests to other origins; no planted script ran", () => {
  assert.deepEqual(cspViolations, []);
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(offOrigin, []);
  assert.deepEqual(dialogs, []);
});
