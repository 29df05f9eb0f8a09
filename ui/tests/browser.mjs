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
    "response-2": "A | table | with | " + "many ".repeat(60) + "cells\n--|--|--|--\n1|2|3|4\n\nSee https://example.com/" + "a".repeat(300) } }]);
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
  const previous = await recordId(page); // read before the key: the page may move on at once
  await page.keyboard.press("Alt+KeyN");
  await nextRecord(page, previous);
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
  await page.getByRole("region", { name: "Annotators" }).getByRole("row", { name: /alice/ }).waitFor();
  await page.getByRole("region", { name: /Agreement/ }).getByRole("row", { name: /quality/ }).waitFor();
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

test("a record with a long code line and a long link fits phones, tablets and wide screens: the line scrolls in its block, the link wraps", async () => {
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

test("a Shift-click on another page selects that row alone; a malformed meta in the address is left out", async () => {
  const datasetId = await recordsDataset("shift-pages");
  const page = await signIn((await makeUser("ulla")).key);
  await page.goto(`${BASE}/#/d/${datasetId}/records`);
  await waitListed(page, "rv0", 50);
  await page.getByLabel("Select rv0", { exact: true }).click();
  await page.getByLabel("Select rv4", { exact: true }).click({ modifiers: ["Shift"] });
  await page.getByLabel("Select rv10", { exact: true }).click();
  await page.getByRole("heading", { name: "Answer 6 selected records at once" }).waitFor();
  await page.getByRole("button", { name: "Next page" }).click();
  await waitListed(page, "rv50", 50);
  await page.getByLabel("Select rv52", { exact: true }).click({ modifiers: ["Shift"] });
  await page.getByRole("heading", { name: "Answer 7 selected records at once" }).waitFor();
  for (const bad of ["null", "42", "%5B%5D", encodeURIComponent('{"lang":null}')]) {
    await page.goto(`${BASE}/#/d/${datasetId}/records?meta=${bad}`);
    await waitListed(page, "rv0", 50);
  }
  await page.close();
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

/** Selects characters [from, to) (UTF-16 offsets) of an element's text by dragging the mouse over them. */
async function dragSelect(page, selector, from, to) {
  // A locator reaches into the widget's shadow root; document.querySelector would not.
  const box = await page.locator(selector).evaluate((el, [a, b]) => {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const at = (offset) => {
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (offset <= node.data.length) return [node, offset];
        offset -= node.data.length;
      }
      throw new Error("offset beyond the text");
    };
    const range = document.createRange();
    range.setStart(...at(a));
    walker.currentNode = el;
    range.setEnd(...at(b));
    const rects = [...range.getClientRects()].filter((r) => r.width > 0);
    const first = rects[0], last = rects[rects.length - 1];
    return { x1: first.left + 1, y1: first.top + first.height / 2, x2: last.right - 1, y2: last.top + last.height / 2 };
  }, [from, to]);
  await page.mouse.move(box.x1, box.y1);
  await page.mouse.down();
  await page.mouse.move(box.x2, box.y2, { steps: 6 });
  await page.mouse.up();
}

test("spans: marked by mouse and by keyboard past an emoji and in right-to-left text, highlighted, removed by a click; stored offsets are code points", async () => {
  const text = "Ada Lovelace 👩🏽‍💻 met Grace 𝒢 Hopper in Zürich, then שָׁלוֹם.";
  const id = await makeDataset("spans", {
    fields: [{ name: "text", settings: { text: {} } }],
    questions: [{ name: "entities", title: "Mark the names", settings: { span: { field: "text",
      labels: [{ value: "PER", text: "Person" }, { value: "LOC", text: "Place" }] } } }],
  }, [{ externalId: "sp0", fields: { text },
    suggestions: [{ question: "entities", value: { span: [{ start: 4, end: 12, label: "LOC" }] }, agent: "ner-model" }] }]);
  const labeler = await makeUser("spanner");
  const page = await signIn(labeler.key);
  await openDataset(page, id);
  const widget = page.locator('[data-span-widget="entities"]');
  await widget.locator(".fql-span-text").getByText("Zürich").waitFor();
  // The suggestion comes pre-marked.
  assert.deepEqual(await widget.locator(".fql-span-list li[data-span]").evaluateAll((items) => items.map((li) => li.dataset.span)), ["4:12:LOC"]);
  // By mouse: drag over "Ada Lovelace", then click the label: it replaces the overlapping suggestion,
  // which stays offered below.
  await dragSelect(page, ".fql-span-text", 0, "Ada Lovelace".length);
  await widget.getByRole("button", { name: /Person/ }).click();
  await widget.locator('[data-suggested="4:12:LOC"]').getByText("suggested Place: “Lovelace”").waitFor();
  assert.match(await widget.getByTestId("span-status").innerText(), /replacing “Lovelace”/);
  // By keyboard: from the start, step over graphemes (the emoji with its skin tone and ZWJ is one)
  // to "Grace", extend over it with Shift+→, and press the label's key.
  const graphemes = (s) => [...new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(s)].length;
  await widget.locator(".fql-span-text").focus();
  await page.keyboard.press("Home");
  for (let i = 0; i < graphemes(text.slice(0, text.indexOf("Grace"))); i++) await page.keyboard.press("ArrowRight");
  for (let i = 0; i < graphemes("Grace 𝒢"); i++) await page.keyboard.press("Shift+ArrowRight");
  await page.keyboard.press("1");
  // A third span past the non-BMP letter, by mouse and key; then removed by clicking its highlight.
  const zurich = text.indexOf("Zürich");
  await dragSelect(page, ".fql-span-text", zurich, zurich + "Zürich".length);
  await page.keyboard.press("2");
  // A right-to-left word with combining marks (4 graphemes, 7 code points), by keyboard from the end.
  await widget.locator(".fql-span-text").focus();
  await page.keyboard.press("End");
  await page.keyboard.press("ArrowLeft");
  for (let i = 0; i < graphemes("שָׁלוֹם"); i++) await page.keyboard.press("Shift+ArrowLeft");
  await page.keyboard.press("2");
  assert.deepEqual(await widget.locator(".fql-span-list li[data-span]").evaluateAll((items) => items.map((li) => li.dataset.span)),
    ["0:12:PER", "22:29:PER", "40:46:LOC", "53:60:LOC"],
    `four spans, in code points (the widget said: ${await widget.getByTestId("span-status").innerText()})`);
  const colours = await widget.locator(".fql-span-text mark").evaluateAll((marks) => marks.map((m) => [m.textContent, m.style.backgroundColor]));
  assert.equal(colours.length, 4);
  assert.notEqual(colours[0][1], colours[2][1], "each label has its own colour");
  assert.equal(colours[0][1], colours[1][1]);
  await axe(page, "spans");
  await shot(page, "17-spans");
  await widget.locator(".fql-span-text mark", { hasText: "Zürich" }).click();
  await widget.locator('[data-span="40:46:LOC"]').waitFor({ state: "detached" });
  assert.equal(await widget.locator(".fql-span-list li[data-span]").count(), 3);
  const record = await recordId(page);
  await submit(page);
  const data = await gql(labeler.key, `query($id: ID!) { record(id: $id) { responses { status values { question json } } } }`, { id: record });
  const [stored] = data.record.responses[0].values.map((v) => v.json);
  const points = [...text];
  const at = (s) => [...text.slice(0, text.indexOf(s))].length;
  assert.deepEqual(stored, [{ start: 0, end: 12, label: "PER" }, { start: at("Grace"), end: at("Grace") + 7, label: "PER" },
    { start: at("שָׁלוֹם"), end: at("שָׁלוֹם") + 7, label: "LOC" }]);
  assert.equal(points.slice(stored[1].start, stored[1].end).join(""), "Grace 𝒢");
  assert.equal(points.slice(stored[2].start, stored[2].end).join(""), "שָׁלוֹם");
  // On a phone the submitted spans show again on the record's address, and nothing widens the page.
  const phone = await signIn(labeler.key, { width: 360, height: 800 });
  await phone.goto(`${BASE}/#/d/${id}/r/${record}`);
  await phone.locator('[data-span-widget="entities"] .fql-span-text mark').nth(2).waitFor();
  const widths = await phone.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
  await shot(phone, "17-spans-360");
  assert.ok(widths[0] <= widths[1], `360px: the page scrolls sideways (${widths})`);
  await phone.close();
  // The widget's own conversion, as served: UTF-16 units to code points, a split pair rounded
  // outward, and the end of the text a boundary like any other.
  const { questionTypes } = await owner(`{ questionTypes { name widgetUrl } }`);
  const url = questionTypes.find((k) => k.name === "span").widgetUrl;
  const mapped = await page.evaluate(async (src) => {
    const { codePoints } = await import(src);
    const p = codePoints("a😀b😀");
    return { length: p.length, down: [0, 1, 2, 3, 4, 5, 6].map((u) => p.toPoint(u, false)),
      up: [0, 1, 2, 3, 4, 5, 6].map((u) => p.toPoint(u, true)), units: [0, 1, 2, 3, 4].map((c) => p.toUnits(c)) };
  }, url);
  assert.deepEqual(mapped, { length: 4, down: [0, 1, 1, 2, 3, 3, 4], up: [0, 1, 2, 2, 3, 4, 4], units: [0, 1, 3, 4, 6] });
  assert.equal(at("Grace"), text.indexOf("Grace") - 3, "code points: the emoji's 4 points are 7 UTF-16 units");
});

test("long records: the questions stay in view, the guidelines open beside them at any time (Alt+G), a labelled preview", async () => {
  const long = Array.from({ length: 120 }, (_, i) => `Paragraph ${i}: ${"words of a long record ".repeat(6)}`).join("\n\n");
  const id = await makeDataset("long-record", {
    guidelines: "Answer **only** from the text.\n\nA *good* answer names its paragraph.",
    fields: [{ name: "text", settings: TEXT }],
    questions: [{ name: "summary", title: "Summarize it", settings: { text: { useMarkdown: true } } },
      { name: "quality", title: "How clear is it?", settings: { rating: { values: [1, 2, 3] } } }],
  }, [0, 1].map((i) => ({ externalId: `long${i}`, fields: { text: long } })));
  const labeler = await makeUser("reader");
  const page = await signIn(labeler.key, { width: 1440, height: 900 });
  await openDataset(page, id);
  const guidelines = page.getByTestId("guidelines");
  await guidelines.waitFor(); // before the first answer they are open beside the record
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  const inView = await page.evaluate(() => {
    const q = document.querySelector(".questions").getBoundingClientRect();
    const submit = document.querySelector(".actions .primary").getBoundingClientRect();
    const g = document.querySelector(".guidelines").getBoundingClientRect();
    return { scrolled: window.scrollY, qTop: q.top, submitBottom: submit.bottom, gTop: g.top, g: g.bottom > 0, height: innerHeight,
      page: document.documentElement.scrollWidth, width: innerWidth };
  });
  assert.ok(inView.scrolled > 2000, `the record is long (${inView.scrolled})`);
  assert.ok(inView.qTop >= 0 && inView.qTop < 100 && inView.submitBottom <= inView.height, JSON.stringify(inView));
  assert.ok(inView.gTop >= 0 && inView.gTop < 100, `the guidelines stay in view: ${JSON.stringify(inView)}`);
  assert.ok(inView.page <= inView.width);
  await page.getByRole("textbox", { name: "Summarize it" }).fill("Paragraph **one** says it all.");
  const preview = page.getByTestId("answer-preview");
  await preview.getByRole("heading", { name: /Preview/ }).waitFor();
  assert.match(await preview.locator(".markdown").innerHTML(), /<strong>one<\/strong>/);
  assert.equal(await preview.evaluate((el) => el.closest(".suggestion")), null);
  // What the labeler sees after scrolling to the end of the record (not the whole page).
  await page.screenshot({ path: new URL("18-long-record-1440.png", SHOTS).pathname });
  await page.locator('[data-question="quality"]').getByRole("button", { name: "3" }).click();
  await page.keyboard.press("Control+Enter");
  await page.waitForFunction(() => document.querySelector(".questions textarea")?.value === "");
  await page.keyboard.press("Alt+G");
  await guidelines.waitFor({ state: "hidden" });
  await page.keyboard.press("Alt+G"); // after an answer too, at any time
  await guidelines.waitFor();
  await page.waitForFunction(() => document.activeElement?.id === "guidelines"); // focus moves into the panel
  await page.getByRole("button", { name: "Keys" }).click().catch(() => page.locator(".keys summary").click());
  await page.locator(".keys dl").getByText("guidelines", { exact: true }).waitFor();
  await axe(page, "long record");
  await page.close();
  for (const width of [390, 768]) {
    const narrow = await signIn(labeler.key, { width, height: 844 });
    await openDataset(narrow, id);
    assert.equal(await narrow.getByTestId("guidelines").isVisible(), false, `${width}px: closed until asked for`);
    const stacked = await narrow.evaluate(() => ({
      record: document.querySelector(".record").getBoundingClientRect().bottom,
      questions: document.querySelector(".questions").getBoundingClientRect().top,
    }));
    assert.ok(stacked.questions >= stacked.record, `${width}px: questions below the record`);
    await narrow.getByRole("button", { name: /Guidelines/ }).click();
    const panel = await narrow.getByTestId("guidelines").evaluate((el) => {
      const r = el.getBoundingClientRect();
      return { left: r.left, right: r.right, page: document.documentElement.scrollWidth };
    });
    assert.ok(panel.left >= 0 && panel.right <= width && panel.page <= width, `${width}px: ${JSON.stringify(panel)}`);
    await narrow.getByTestId("guidelines").getByText("only", { exact: true }).waitFor();
    await narrow.screenshot({ path: new URL(`18-long-record-${width}.png`, SHOTS).pathname });
    await narrow.keyboard.press("Escape");
    await narrow.getByTestId("guidelines").waitFor({ state: "hidden" });
    await narrow.close();
  }
});

test("overview: agreement moves live, every labeler's answers per record, the threshold edited, members, a copy published", async () => {
  const id = await makeDataset("overview", {
    guidelines: "Rate the prompt.",
    fields: [{ name: "prompt", settings: TEXT }],
    questions: [{ name: "quality", title: "How good?", settings: { rating: { values: [1, 2, 3] } } },
      { name: "topic", settings: { label: { options: [{ value: "code", text: "Programming" }, { value: "other", text: "Other" }] } } }],
    metadataProperties: [{ name: "source", kind: "TERMS" }],
  }, ["o0", "o1", "o2"].map((externalId) => ({ externalId, fields: { prompt: `Prompt ${externalId}` }, metadata: { source: "web" } })));
  const [ann, ben] = [await makeUser("ann"), await makeUser("ben")];
  const { records } = await owner(`query($id: ID!) { records(datasetId: $id, first: 10) { edges { node { id externalId } } } }`, { id });
  const ids = Object.fromEntries(records.edges.map((e) => [e.node.externalId, e.node.id]));
  const answer = (who, record, rating, topic) => gql(who.key, `mutation($input: ResponseInput!) { submitResponse(input: $input) { id } }`,
    { input: { recordId: ids[record], status: "SUBMITTED", values: [{ question: "quality", value: { rating } }, { question: "topic", value: { label: topic } }] } });
  await answer(ann, "o0", 3, "code");
  await answer(ben, "o0", 1, "code");
  const page = await signIn(OWNER);
  await page.goto(`${BASE}/#/d/${id}/manage`);
  const quality = page.locator('[data-agreement="quality"]');
  await quality.locator("td").nth(2).getByText("1", { exact: true }).waitFor(); // one record with two answers
  // More answers come in: the agreement row follows without a reload.
  await answer(ann, "o1", 2, "other");
  await answer(ben, "o1", 2, "other");
  await quality.locator("td").nth(2).getByText("2", { exact: true }).waitFor({ timeout: 10_000 });
  // Who answered what on o0.
  await page.getByRole("button", { name: "Answers to o0" }).click();
  const detail = page.getByTestId("record-answers");
  await detail.locator('tr[data-user="ann"]').getByText("3", { exact: true }).waitFor();
  assert.match(await detail.locator('tr[data-user="ben"]').innerText(), /ben\s+submitted\s+1\s+code/);
  await detail.getByTestId("unified-row").waitFor(); // unifiedAnswer: the mean rating, the majority label
  assert.match(await detail.getByTestId("unified-row").innerText(), /unified\s+2 submitted\s+2\s+code/);
  assert.match(page.url(), new RegExp(`/manage/r/${ids.o0}$`));
  // The overview on a phone: nothing widens the page.
  const phone = await signIn(OWNER, { width: 360, height: 800 });
  await phone.goto(`${BASE}/#/d/${id}/manage/r/${ids.o0}`);
  await phone.getByTestId("record-answers").locator('tr[data-user="ann"]').waitFor();
  const widths = await phone.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
  await shot(phone, "19-overview-360");
  assert.ok(widths[0] <= widths[1], `360px: the overview scrolls sideways (${widths})`);
  await phone.close();
  // The completion threshold, shown and edited.
  const threshold = page.getByLabel("A record is complete after");
  assert.equal(await threshold.inputValue(), "1");
  await threshold.fill("2");
  await page.locator(".threshold").getByRole("button", { name: "Save" }).click();
  await page.locator(".threshold").getByText(/Saved/).waitFor();
  const after = await owner(`query($id: ID!) { dataset(id: $id) { distribution { minSubmitted } } }`, { id });
  assert.equal(after.dataset.distribution.minSubmitted, 2);
  await threshold.fill("0");
  assert.equal(await threshold.evaluate((el) => el.validity.valid), false, "0 is refused before it is sent");
  await threshold.fill("2");
  // Members: a new annotator with a key shown once, removed, and added back.
  await page.getByLabel("New annotator").fill("newbie");
  await page.getByLabel("New annotator").press("Enter");
  const key = (await page.getByTestId("new-key").locator("code").innerText()).trim();
  assert.equal((await gql(key, `{ me { username } }`)).me.username, "newbie");
  await page.locator('tr[data-member="newbie"]').waitFor();
  await axe(page, "overview");
  await shot(page, "19-overview");
  await page.getByRole("button", { name: "Remove newbie" }).click();
  await page.locator('tr[data-member="newbie"]').waitFor({ state: "detached" });
  await page.getByLabel("Add a user").selectOption({ label: "newbie (annotator)" });
  await page.locator("form", { has: page.getByLabel("Add a user") }).getByRole("button", { name: "Add" }).click();
  await page.locator('tr[data-member="newbie"]').waitFor();
  // A new draft dataset with these settings, then published from its overview.
  await page.getByLabel("New draft dataset, named").fill("overview-copy");
  await page.getByLabel("New draft dataset, named").press("Enter");
  await page.getByRole("heading", { name: /overview-copy/ }).waitFor();
  await page.getByRole("button", { name: "Publish" }).click();
  await page.getByRole("heading", { name: /overview-copy ready/ }).waitFor();
  const copyId = page.url().match(/#\/d\/([^/]+)\/manage/)[1];
  const copy = await owner(`query($id: ID!) { dataset(id: $id) { status guidelines questions { name kind settingsJson }
    metadataProperties { name kind } distribution { minSubmitted } } }`, { id: copyId });
  assert.equal(copy.dataset.status, "READY");
  assert.equal(copy.dataset.guidelines, "Rate the prompt.");
  assert.deepEqual(copy.dataset.questions.map((q) => [q.name, q.kind]), [["quality", "rating"], ["topic", "label"]]);
  assert.deepEqual(copy.dataset.metadataProperties, [{ name: "source", kind: "TERMS" }]);
  assert.equal(copy.dataset.distribution.minSubmitted, 2);
  // A dataset built from nothing: an empty draft, a field, a span question (a refused setting is
  // said in words first), guidelines, published.
  await page.getByLabel("New draft dataset, named").fill("built-here");
  await page.getByLabel("with this one's guidelines").uncheck();
  await page.getByLabel("New draft dataset, named").press("Enter");
  await page.getByRole("heading", { name: /built-here draft/ }).waitFor();
  const addField = page.getByTestId("add-field");
  await addField.getByLabel("Kind").selectOption("text");
  await addField.getByLabel("Name").fill("text");
  await addField.getByRole("button", { name: "Add field" }).click();
  await page.getByRole("region", { name: "Fields and questions" }).getByRole("row", { name: /text field text/ }).waitFor();
  const addQuestion = page.getByTestId("add-question");
  await addQuestion.getByLabel("Kind").selectOption("span");
  assert.match(await addQuestion.locator(".hint").innerText(), /field\*.*labels\*/);
  await addQuestion.getByLabel("Name").fill("entities");
  await addQuestion.getByLabel("Title").fill("Mark the names");
  await addQuestion.getByLabel("Settings (JSON)").fill(JSON.stringify({ field: "nope", labels: [{ value: "PER", text: "Person" }] }));
  await addQuestion.getByRole("button", { name: "Add question" }).click();
  assert.match(await addQuestion.locator(".error").innerText(), /no field 'nope'/);
  await addQuestion.getByLabel("Settings (JSON)").fill(JSON.stringify({ field: "text", labels: [{ value: "PER", text: "Person" }] }));
  await addQuestion.getByRole("button", { name: "Add question" }).click();
  await page.getByRole("region", { name: "Fields and questions" }).getByRole("row", { name: /entities question span/ }).waitFor();
  await page.getByLabel("Guidelines (markdown)").fill("Mark **people**.");
  await page.getByRole("button", { name: "Save guidelines" }).click();
  await page.getByText("Saved.", { exact: true }).waitFor();
  await axe(page, "draft overview");
  await shot(page, "19-overview-draft");
  await page.getByRole("button", { name: "Publish" }).click();
  await page.getByRole("heading", { name: /built-here ready/ }).waitFor();
  const builtId = page.url().match(/#\/d\/([^/]+)\/manage/)[1];
  const built = await owner(`query($id: ID!) { dataset(id: $id) { status guidelines fields { name kind } questions { name title kind settingsJson } } }`, { id: builtId });
  assert.deepEqual(built.dataset, { status: "READY", guidelines: "Mark **people**.", fields: [{ name: "text", kind: "text" }],
    questions: [{ name: "entities", title: "Mark the names", kind: "span",
      settingsJson: { field: "text", labels: [{ value: "PER", text: "Person" }], allowOverlapping: false } }] });
});

test("an annotator who opens the overview by its address is told it is for owners and admins, with no controls", async () => {
  const page = await signIn(users.carol.key);
  await page.goto(`${BASE}/#/d/${ids.sft}/manage`);
  await page.getByTestId("overview-refused").getByText("for the workspace's owners and admins").waitFor();
  assert.equal(await page.locator(".manage button, .manage input").count(), 0);
  await page.close();
});

test("find similar lists the nearest records with scores, and opens one in place", async () => {
  const id = await makeDataset("similar", {
    fields: [{ name: "prompt", settings: TEXT }], questions: [{ name: "completion", settings: { text: {} } }],
  }, ["pasta al dente", "python lists", "more pasta", "tax forms"].map((p, i) => ({ externalId: `s${i}`, fields: { prompt: p } })));
  await owner(`mutation($id: ID!) { addVectorSpace(datasetId: $id, space: {name: "toy", dimension: 2}) { name } }`, { id });
  const { records } = await owner(`query($id: ID!) { records(datasetId: $id) { edges { node { id externalId } } } }`, { id });
  const byExternal = Object.fromEntries(records.edges.map((e) => [e.node.externalId, e.node.id]));
  const vectors = { s0: [1, 0], s1: [0, 1], s2: [0.9, 0.2], s3: [-1, 0.1] };
  await owner(`mutation($id: ID!, $r: [RecordVectorsInput!]!) { setRecordVectors(datasetId: $id, records: $r) { updated } }`,
    { id, r: Object.entries(vectors).map(([k, v]) => ({ recordId: byExternal[k], vectors: { toy: v } })) });
  const page = await signIn(OWNER);
  await page.goto(`${BASE}/#/d/${id}/r/${byExternal.s0}`);
  await page.locator(`[data-record="${byExternal.s0}"]`).waitFor();
  await page.getByRole("button", { name: "Find similar" }).click();
  const items = page.locator(".similar-list li");
  await items.first().waitFor();
  assert.deepEqual(await items.evaluateAll((els) => els.map((el) => el.getAttribute("data-record"))),
    [byExternal.s2, byExternal.s1, byExternal.s3]);
  assert.match(await items.first().innerText(), /more pasta\s*0\.976/);
  await axe(page, "find-similar");
  await shot(page, "20-find-similar");
  await items.first().getByRole("link").click();
  await page.locator(`.workspace[data-record="${byExternal.s2}"]`).waitFor();
  assert.match(await page.locator(".record").innerText(), /more pasta/);
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

// Issue 25: find similar in the records view, filters applied before the top-k, then bulk-labelled.
// Records sv0, sv1, … of a dataset with vector spaces: `spaces` maps each space's name to the
// vector of record i (its dimension is that vector's length).
async function makeVectorDataset(name, size, spaces, spec = {}, metadataOf = () => undefined) {
  const datasetId = await makeDataset(name, {
    fields: [{ name: "prompt", settings: TEXT }],
    questions: [{ name: "quality", title: "How good is the answer?", settings: { rating: { values: [1, 2, 3, 4, 5] } } }],
    ...spec,
  }, Array.from({ length: size }, (_, i) => ({ externalId: `sv${i}`, metadata: metadataOf(i),
    fields: { prompt: `Prompt ${i} about ${"something rather long to fill the cell ".repeat(3)}` } })));
  for (const [space, vectorOf] of Object.entries(spaces)) {
    await owner(`mutation($id: ID!, $s: String!, $d: Int!) { addVectorSpace(datasetId: $id, space: {name: $s, dimension: $d}) { name } }`,
      { id: datasetId, s: space, d: vectorOf(0).length });
  }
  const { records } = await owner(`query($id: ID!) { records(datasetId: $id, first: 1000) { edges { node { id externalId } } } }`, { id: datasetId });
  const idOf = Object.fromEntries(records.edges.map((e) => [e.node.externalId, e.node.id]));
  await owner(`mutation($id: ID!, $r: [RecordVectorsInput!]!) { setRecordVectors(datasetId: $id, records: $r) { updated } }`,
    { id: datasetId, r: Array.from({ length: size }, (_, i) => ({ recordId: idOf[`sv${i}`],
      vectors: Object.fromEntries(Object.entries(spaces).map(([space, vectorOf]) => [space, vectorOf(i)])) })) });
  return { datasetId, idOf };
}
// Record i at i × 3 degrees: the records nearest sv0 are sv1, sv2, … with cosine cos(3k°).
const angle = (i) => (i * 3 * Math.PI) / 180;
const onCircle = (i) => [Math.cos(angle(i)), Math.sin(angle(i))];
const cosines = (ks) => ks.map((k) => Math.cos(angle(k)).toFixed(3));
const scores = (page) => page.getByTestId("similar-score").allInnerTexts();

test("records view: find similar from a row, scores in order, a filter applied before the top 10, all of them bulk-labelled", async () => {
  // In "toy" sv<i> lies at i × 3 degrees: the records nearest sv0 are sv1, sv2, … with cosine cos(3k°);
  // in "other" at (7i mod 30) × 3 degrees: nearest sv0 are sv13, sv26, sv9.
  const SIZE = 30;
  const { datasetId, idOf } = await makeVectorDataset("similar-bulk", SIZE,
    { toy: onCircle, other: (i) => onCircle((i * 7) % SIZE) },
    { metadataProperties: [{ name: "lang", kind: "TERMS", values: ["en", "fr"] }] }, (i) => ({ lang: i % 2 ? "fr" : "en" }));
  const vic = await makeUser("vic");
  const page = await signIn(vic.key);
  await page.goto(`${BASE}/#/d/${datasetId}/records`);
  await waitListed(page, "sv0", SIZE);
  // One selected record: "Find similar to" it, in the space picked ("other" ranks sv13, sv26, sv9 first).
  assert.equal(await page.getByLabel("Find similar in").inputValue(), "toy");
  await page.getByRole("checkbox", { name: "Select sv0" }).check();
  await page.getByLabel("Find similar in").selectOption("other");
  await axe(page, "records view with find similar");
  await shot(page, "21-records-find-similar");
  await page.getByRole("button", { name: "Find similar to sv0" }).click();
  await waitListed(page, "sv13", SIZE - 1);
  assert.deepEqual((await listed(page)).slice(0, 3), ["sv13", "sv26", "sv9"]);
  assert.match(page.url(), /space=other/);
  await page.getByRole("button", { name: "Clear selection" }).click();
  // The banner's picker: the same record in "toy", every row in order with its score.
  await page.getByLabel("Vector space").selectOption("toy");
  await waitListed(page, "sv1", SIZE - 1);
  assert.deepEqual(await listed(page), Array.from({ length: SIZE - 1 }, (_, k) => `sv${k + 1}`));
  assert.deepEqual(await scores(page), cosines(Array.from({ length: SIZE - 1 }, (_, k) => k + 1)));
  // A row's "Similar" is a link the keyboard reaches; Back returns to the list before.
  await page.getByRole("link", { name: "Find similar to sv29", exact: true }).focus();
  await page.keyboard.press("Enter");
  await waitListed(page, "sv28", SIZE - 1);
  await page.getByTestId("similar-banner").getByRole("heading", { name: "Similar to sv29" }).waitFor();
  await page.goBack();
  await waitListed(page, "sv1", SIZE - 1);
  await page.getByTestId("similar-banner").getByRole("heading", { name: "Similar to sv0" }).waitFor();
  assert.match(page.url(), new RegExp(`near=${idOf.sv0}`));
  // The top 10, then a filter: still 10, every one matching (filtered before the top 10 is chosen).
  await page.getByLabel("Show").selectOption({ label: "the 10 most similar" });
  await waitListed(page, "sv1", 10);
  await page.getByTestId("similar-figures").getByText("10 most similar records in “toy”", { exact: false }).waitFor();
  await page.locator('[data-meta="lang"]').getByLabel("fr").check();
  await page.getByRole("button", { name: "Apply" }).click();
  const odd = Array.from({ length: 10 }, (_, k) => 2 * k + 1);
  await page.waitForFunction(() => document.querySelectorAll(".records-table tbody tr")[1]?.dataset.externalId === "sv3");
  assert.deepEqual(await listed(page), odd.map((k) => `sv${k}`));
  assert.deepEqual(await scores(page), cosines(odd));
  // A reload keeps all of it: the address carries the record, the space, the top and the filter.
  await page.reload();
  await waitListed(page, "sv1", 10);
  assert.deepEqual(await listed(page), odd.map((k) => `sv${k}`));
  assert.equal(await page.getByLabel("Show").inputValue(), "10");
  await shot(page, "21-records-similar");
  for (const width of [390, 1366]) {
    await page.setViewportSize({ width, height: 900 });
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), `wider than ${width} px`);
    if (width === 390) await shot(page, "21-records-similar-phone");
  }
  await page.getByRole("button", { name: "Select all 10 similar records" }).click();
  await page.getByRole("heading", { name: "Answer 10 selected records at once" }).waitFor();
  await page.getByTestId("bulk").locator('[data-question="quality"]').getByRole("button", { name: "4", exact: true }).click();
  await axe(page, "similar records view");
  await shot(page, "22-records-similar-bulk");
  await page.getByRole("button", { name: "Submit for 10" }).click();
  await page.getByTestId("bulk-results").getByText("10 stored, 0 not stored.", { exact: true }).waitFor();
  const mine = await gql(vic.key, `query($id: ID!) { records(datasetId: $id, first: 100, filter: { myResponseStatus: [SUBMITTED, DRAFT, DISCARDED] }) {
    edges { node { externalId responses { status values { question json } } } } } }`, { id: datasetId });
  assert.deepEqual(mine.records.edges.map((e) => e.node.externalId).sort(), odd.map((k) => `sv${k}`).sort());
  for (const { node } of mine.records.edges) {
    assert.deepEqual(node.responses.map((r) => [r.status, r.values]), [["SUBMITTED", [{ question: "quality", json: 4 }]]]);
  }
  // Back to the plain list, filters kept.
  await page.getByTestId("similar-back").click();
  await waitListed(page, "sv1", SIZE / 2);
  assert.doesNotMatch(page.url(), /near=/);
  // A record the annotator may not see (another workspace's): the API's message, the view still there.
  const { createWorkspace } = await owner(`mutation { createWorkspace(name: "similar-elsewhere") { id } }`);
  const { createDataset: hidden } = await owner(`mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id } }`,
    { input: { workspaceId: createWorkspace.id, name: "similar-hidden", fields: [{ name: "prompt", settings: TEXT }],
      questions: [{ name: "quality", settings: { rating: { values: [1, 2] } } }] } });
  await owner(`mutation($id: ID!) { publishDataset(id: $id) { id } }`, { id: hidden.id });
  await owner(`mutation($id: ID!) { addRecords(datasetId: $id, records: [{fields: {prompt: "secret"}}]) { created } }`, { id: hidden.id });
  const secret = (await owner(`query($id: ID!) { records(datasetId: $id) { edges { node { id } } } }`, { id: hidden.id }))
    .records.edges[0].node.id;
  await page.goto(`${BASE}/#/d/${datasetId}/records?near=${secret}`);
  const refused = await page.getByTestId("similar-error").innerText();
  assert.ok(refused.length > 0);
  assert.doesNotMatch(refused, /secret/);
  assert.equal(await page.locator(".records-table").count(), 0);
  await page.getByRole("heading", { name: "Records · similar-bulk" }).waitFor();
  await shot(page, "23-records-similar-refused");
  await page.close();
  // From the labeling page's Find similar panel: the same list in the records view.
  const ownerPage = await signIn(OWNER);
  await ownerPage.goto(`${BASE}/#/d/${datasetId}/r/${idOf.sv0}`);
  await ownerPage.locator(`[data-record="${idOf.sv0}"]`).waitFor();
  await ownerPage.getByRole("link", { name: "Open in records view" }).click();
  await waitListed(ownerPage, "sv1", SIZE - 1);
  assert.match(ownerPage.url(), new RegExp(`records\\?near=${idOf.sv0}&space=toy`));
  await ownerPage.close();
});

test("records view: the least similar first, kept in the address and walked back", async () => {
  const SIZE = 12;
  const { datasetId, idOf } = await makeVectorDataset("similar-order", SIZE, { toy: onCircle });
  const page = await signIn(OWNER);
  await page.goto(`${BASE}/#/d/${datasetId}/records?near=${idOf.sv0}`);
  await waitListed(page, "sv1", SIZE - 1);
  assert.equal(await page.getByLabel("Order").inputValue(), "MOST_SIMILAR");
  await page.getByLabel("Order").selectOption({ label: "Least similar first" });
  await waitListed(page, "sv11", SIZE - 1);
  const farthest = Array.from({ length: SIZE - 1 }, (_, k) => SIZE - 1 - k);
  assert.deepEqual(await listed(page), farthest.map((k) => `sv${k}`));
  assert.deepEqual(await scores(page), cosines(farthest));
  assert.match(page.url(), /order=least/);
  await page.getByTestId("similar-figures").getByText(`${SIZE - 1} least similar records in “toy”, least similar first`,
    { exact: false }).waitFor();
  assert.ok(await page.getByLabel("Show").getByText("the 10 least similar").count());
  // The top 10 of the least similar: the ten farthest, sv11 … sv2; a reload keeps order and top.
  await page.getByLabel("Show").selectOption({ label: "the 10 least similar" });
  await waitListed(page, "sv11", 10);
  await page.reload();
  await waitListed(page, "sv11", 10);
  assert.deepEqual(await listed(page), farthest.slice(0, 10).map((k) => `sv${k}`));
  assert.equal(await page.getByLabel("Order").inputValue(), "LEAST_SIMILAR");
  await axe(page, "least similar records");
  await shot(page, "24-records-least-similar");
  // Back: the 11 least similar, then the most similar first again.
  await page.goBack();
  await waitListed(page, "sv11", SIZE - 1);
  await page.goBack();
  await waitListed(page, "sv1", SIZE - 1);
  assert.doesNotMatch(page.url(), /order=/);
  await page.close();
});

test("records view: search near a typed or pasted vector (JSON or base64); a wrong dimension or a non-number is said beside the box", async () => {
  const SIZE = 12;
  const { datasetId } = await makeVectorDataset("similar-vector", SIZE,
    { toy: onCircle, wide: (i) => [...onCircle(i), 0.5] }, { metadataProperties: [{ name: "lang", kind: "TERMS", values: ["en", "fr"] }] },
    (i) => ({ lang: i % 2 ? "fr" : "en" }));
  const page = await signIn(OWNER);
  await page.goto(`${BASE}/#/d/${datasetId}/records`);
  await waitListed(page, "sv0", SIZE);
  await page.getByText("Search near a vector", { exact: true }).click();
  const box = page.getByLabel("Vector", { exact: true });
  const search = page.getByRole("button", { name: "Find similar to this vector" });
  const error = page.getByTestId("vector-error");
  assert.equal(await page.getByLabel("Space of the vector").inputValue(), "toy");
  // Wrong dimension, a value that is not a number, text that is neither JSON nor base64: said, nothing asked.
  for (const [typed, said] of [
    ["[1, 0, 0]", "Vectors of “toy” have 2 values; this one has 3."],
    ['[1, "x"]', 'Value 2 ("x") is not a number.'],
    ["[1, 0", "This is not a JSON list of numbers: write it as [0.1, 0.2, …]."],
    ["not a vector!", "This is neither a JSON list of numbers ([0.1, 0.2, …]) nor base64 text."],
    ["AACAPw==", "Vectors of “toy” have 2 values; this one has 1."],
    ["[0, 0]", "“toy” compares directions (cosine): an all-zero vector has none."],
  ]) {
    await box.fill(typed);
    await box.press("Tab");
    await page.keyboard.press("Enter");
    assert.equal(await error.innerText(), said);
    assert.equal(await box.getAttribute("aria-invalid"), "true");
  }
  assert.doesNotMatch(page.url(), /vector=/);
  await waitListed(page, "sv0", SIZE);
  await axe(page, "vector search error");
  await shot(page, "25-records-vector-error");
  // A JSON list: straight up (90°) is nearest sv11 (33°); every record is listed, the vector being none of them.
  await box.fill("[0, 1]");
  await search.click();
  await waitListed(page, "sv11", SIZE);
  assert.deepEqual(await listed(page), Array.from({ length: SIZE }, (_, k) => `sv${SIZE - 1 - k}`));
  assert.deepEqual(await scores(page), Array.from({ length: SIZE }, (_, k) => Math.cos(angle(30 - (SIZE - 1 - k))).toFixed(3)));
  await page.getByTestId("similar-banner").getByRole("heading", { name: "Similar to a vector (2 values in “toy”)" }).waitFor();
  assert.match(page.url(), /vector=[A-Za-z0-9_-]+&space=toy/);
  // The view's filter applies before the top; a reload keeps the vector, and its box shows it.
  await page.locator('[data-meta="lang"]').getByLabel("en").check();
  await page.getByRole("button", { name: "Apply" }).click();
  await waitListed(page, "sv10", SIZE / 2);
  await page.reload();
  await waitListed(page, "sv10", SIZE / 2);
  assert.equal(await page.getByLabel("Vector", { exact: true }).inputValue(), "[0,1]");
  await shot(page, "25-records-vector");
  // Pasted base64 of little-endian float32 in the other space: the record at 6° (and 0.5) first, with score 1.
  const pasted = Buffer.from(new Float32Array([...onCircle(2), 0.5]).buffer).toString("base64");
  await page.getByLabel("Space of the vector").selectOption("wide");
  await page.getByLabel("Vector", { exact: true }).fill(pasted);
  await page.getByRole("button", { name: "Find similar to this vector" }).click();
  await waitListed(page, "sv2", SIZE / 2);
  assert.equal((await scores(page))[0], "1.000");
  assert.match(page.url(), /space=wide/);
  // A mangled vector in a link: the banner says so, nothing breaks.
  await page.goto(`${BASE}/#/d/${datasetId}/records?vector=%21%21&space=toy`);
  await page.getByTestId("similar-error").getByText("The vector in this address cannot be read", { exact: false }).waitFor();
  assert.equal(await page.locator(".records-table").count(), 0);
  await page.close();
});

test("near-duplicates: managers pick a space and a threshold, page through pairs by cursor, open a record; none is said; annotators are told", async () => {
  // dup0 … dup7 lie within 3.5° of each other (every pair at least 0.998 similar): 28 pairs, the first page
  // holds 20 (a row's pairs go on in the next page), the next the last 8. far0 … far3 are 30° apart.
  const angles = [...Array.from({ length: 8 }, (_, i) => i * 0.5), 30, 60, 90, 120];
  const names = [...Array.from({ length: 8 }, (_, i) => `dup${i}`), ...Array.from({ length: 4 }, (_, i) => `far${i}`)];
  const id = await makeDataset("near-duplicates", {
    fields: [{ name: "prompt", settings: TEXT }], questions: [{ name: "quality", settings: { rating: { values: [1, 2] } } }],
  }, names.map((name, i) => ({ externalId: name, fields: { prompt: `Text of ${name}: ${"words ".repeat(40)}` } })));
  // "dist" holds the same vectors, compared by L2 distance: the dup pairs are at most 0.062 apart, far ones 0.52.
  await owner(`mutation($id: ID!) { a: addVectorSpace(datasetId: $id, space: {name: "toy", dimension: 2}) { name }
    b: addVectorSpace(datasetId: $id, space: {name: "dist", dimension: 2, metric: L2}) { name } }`, { id });
  const { records } = await owner(`query($id: ID!) { records(datasetId: $id, first: 100) { edges { node { id externalId } } } }`, { id });
  const idOf = Object.fromEntries(records.edges.map((e) => [e.node.externalId, e.node.id]));
  const rad = (deg) => (deg * Math.PI) / 180;
  const at = (i) => [Math.cos(rad(angles[i])), Math.sin(rad(angles[i]))];
  await owner(`mutation($id: ID!, $r: [RecordVectorsInput!]!) { setRecordVectors(datasetId: $id, records: $r) { updated } }`,
    { id, r: names.map((name, i) => ({ recordId: idOf[name], vectors: { toy: at(i), dist: at(i) } })) });
  const page = await signIn(OWNER);
  await page.goto(`${BASE}/#/d/${id}/manage`);
  await page.getByRole("link", { name: "Near-duplicates" }).click();
  await page.getByRole("heading", { name: "Near-duplicates · near-duplicates" }).waitFor();
  const threshold = page.getByLabel("At least this similar");
  assert.equal(await threshold.inputValue(), "0.95");
  await threshold.fill("abc");
  await threshold.press("Enter");
  await page.getByTestId("dup-input-error").getByText("Give the threshold as a number", { exact: false }).waitFor();
  await threshold.fill("0.99");
  await threshold.press("Enter");
  const pairs = page.locator("[data-pair]");
  const shown = () => pairs.evaluateAll((els) => els.map((el) => el.dataset.pair));
  await page.getByTestId("dup-figures").getByText("20 pairs at least 0.99 similar on this page", { exact: false }).waitFor();
  const first = await shown();
  assert.match(page.url(), /space=toy&threshold=0\.99/);
  await axe(page, "near-duplicates");
  await shot(page, "26-near-duplicates");
  await page.getByRole("button", { name: "Next page" }).click();
  await page.getByTestId("dup-figures").getByText("8 pairs at least 0.99 similar", { exact: false }).waitFor();
  const second = await shown();
  assert.match(page.url(), /after=/);
  assert.equal(await page.getByRole("button", { name: "Next page" }).isDisabled(), true);
  const every = [...first, ...second];
  assert.equal(new Set(every).size, 28);
  for (const pair of every) assert.match(pair, /^dup\d\|dup\d$/);
  assert.ok((await page.getByTestId("pair-score").allInnerTexts()).every((t) => Number(t.split(" ")[1]) >= 0.99));
  await page.getByRole("button", { name: "Previous page" }).click();
  await page.getByTestId("dup-figures").getByText("20 pairs", { exact: false }).waitFor();
  assert.deepEqual(await shown(), first);
  // Each pair: both records' text, briefly, each a link that opens it.
  const card = pairs.first();
  const [a, b] = first[0].split("|");
  assert.match(await card.innerText(), new RegExp(`${a}[\\s\\S]*Text of ${a}[\\s\\S]*${b}[\\s\\S]*Text of ${b}`));
  await card.getByRole("link", { name: b }).click();
  await page.locator(`.workspace[data-record="${idOf[b]}"]`).waitFor();
  // An L2 space: a distance, at most this far apart, starting from its own threshold.
  await page.goto(`${BASE}/#/d/${id}/duplicates`);
  await page.getByLabel("Vector space").selectOption("dist");
  assert.equal(await page.getByLabel("At most this far apart").inputValue(), "0.1");
  await page.getByRole("button", { name: "Find pairs" }).click();
  await page.getByTestId("dup-figures").getByText("20 pairs at most 0.1 apart on this page", { exact: false }).waitFor();
  assert.ok((await page.getByTestId("pair-score").allInnerTexts()).every((t) => /^distance 0\.0[0-6]\d$/.test(t)));
  assert.match(page.url(), /space=dist&threshold=0\.1/);
  // Nothing that close: said in words.
  await page.goto(`${BASE}/#/d/${id}/duplicates?space=toy&threshold=0.99999`);
  await page.getByTestId("dup-figures").getByText("No two records in “toy” are at least 0.99999 similar.").waitFor();
  assert.equal(await pairs.count(), 0);
  await shot(page, "26-near-duplicates-none");
  for (const width of [390, 1366]) {
    await page.goto(`${BASE}/#/d/${id}/duplicates?space=toy&threshold=0.99`);
    await page.setViewportSize({ width, height: 900 });
    await pairs.first().waitFor();
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), `wider than ${width} px`);
    if (width === 390) await shot(page, "26-near-duplicates-phone");
  }
  await page.close();
  // An annotator is told it is for owners and admins, with no form.
  const wendy = await makeUser("wendy");
  const theirs = await signIn(wendy.key);
  await theirs.goto(`${BASE}/#/d/${id}/duplicates?space=toy&threshold=0.99`);
  await theirs.getByText("Near-duplicates are for the workspace's owners and admins.").waitFor();
  assert.equal(await theirs.locator("[data-pair], #dup-threshold").count(), 0);
  await theirs.close();
});

test("records view: more than 500 similar records, up to the API's 1,000, all selected for one bulk answer", async () => {
  const SIZE = 601;
  const { datasetId, idOf } = await makeVectorDataset("similar-many", SIZE, { toy: (i) => [Math.cos(i / 1000), Math.sin(i / 1000)] });
  const page = await signIn(OWNER);
  await page.goto(`${BASE}/#/d/${datasetId}/records?near=${idOf.sv0}&top=500`);
  await waitListed(page, "sv1", 500);
  await page.getByLabel("Show").selectOption({ label: "the 1000 most similar" });
  await waitListed(page, "sv1", SIZE - 1);
  assert.deepEqual(await listed(page), Array.from({ length: SIZE - 1 }, (_, k) => `sv${k + 1}`));
  assert.match(page.url(), /top=1000/);
  await page.getByRole("button", { name: `Select all ${SIZE - 1} similar records` }).click();
  await page.getByRole("heading", { name: `Answer ${SIZE - 1} selected records at once` }).waitFor();
  await page.close();
});

test("no Content-Security-Policy violations, script errors or requests to other origins; no planted script ran", () => {
  assert.deepEqual(cspViolations, []);
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(offOrigin, []);
  assert.deepEqual(dialogs, []);
});
