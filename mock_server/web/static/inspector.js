// The inspector page: polls the control API (/__admin/...) and renders what the emulator is doing.
// Every value from the journal is hostile input: it is set as text, never parsed as HTML.
"use strict";

const TOKEN_KEY = "fakeapollo-admin-token";
const POLL_MS = 1000;
const JOURNAL_ROWS = 200;
const state = { selected: null, entries: new Map(), locked: false, shown: new Map() };

const $ = (id) => document.getElementById(id);

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) tr.appendChild(cell instanceof Node ? cell : el("td", cell));
  return tr;
}

class Unauthorized extends Error {}

// Apollo's request ids are 64-bit integers, beyond a JS number's exact range: keep those as their
// source text (JSON.parse's source-text access, where the browser has it).
function exactIntegers(key, value, context) {
  if (typeof value === "number" && !Number.isSafeInteger(value) && context && /^-?\d+$/.test(context.source)) {
    return context.source;
  }
  return value;
}

async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers["Authorization"] = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch("/__admin" + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store",
  });
  if (response.status === 401) throw new Unauthorized();
  const text = await response.text();
  let answer = {};
  try { answer = JSON.parse(text, exactIntegers); } catch (error) { answer = {}; }
  if (!response.ok) throw new Error(answer.error || "HTTP " + response.status);
  return answer;
}

function showLogin(locked) {
  state.locked = locked;
  $("login").hidden = !locked;
  $("logout").hidden = locked || !sessionStorage.getItem(TOKEN_KEY);
  $("status").textContent = locked ? "this server needs its admin token (--admin-token)" : "live";
}

// An error answer's outcome when its body names no code.
const STATUS_OUTCOMES = {
  400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "bad_method",
  413: "too_large", 415: "bad_media_type", 422: "unprocessable", 429: "rate_limited", 431: "headers_too_large",
};

// What the journal's outcome column says: the forced scenario, else what the answer amounts to.
function outcomeOf(entry) {
  if (entry.scenario) return entry.scenario;
  const response = entry.response;
  const body = response.body;
  if (response.status >= 400) {
    const code = body && typeof body === "object" && (body.error_code || (body.error_details || {}).code);
    return code || STATUS_OUTCOMES[response.status] || "error";
  }
  if (body && typeof body === "object") {
    if ("person" in body) return body.person === null ? "no_match" : "match";
    if ("organization" in body) return body.organization ? "match" : "no_match";
    if (Array.isArray(body.matches)) return body.matches.filter((m) => m !== null).length + "/" + body.matches.length + " matched";
  }
  return "";
}

// The key column: the masked key, the start of its keyed fingerprint (two keys with the same mask
// show different ones), and "unknown" when the registry does not know the key.
function keyCell(masked, fingerprint, known) {
  const td = el("td", null, "key");
  if (!masked) {
    td.textContent = "–";
    return td;
  }
  td.appendChild(el("span", masked, "mask"));
  if (fingerprint) td.append(" ", el("code", fingerprint, "fingerprint"));
  if (known === false) td.append(" ", el("span", "unknown", "badge unknown"));
  td.title = "masked key and the start of its fingerprint" +
    (known === false ? "; the key registry does not know this key" : "");
  return td;
}

function renderJournal(entries) {
  const tbody = $("journal").querySelector("tbody");
  tbody.replaceChildren();
  state.entries = new Map(entries.map((e) => [String(e.id), e]));
  for (const entry of entries.slice().reverse()) {
    const time = el("td", entry.time.replace(/^.*T/, "").replace("Z", ""), "time");
    time.title = entry.time;
    const path = el("td", entry.path, "path");
    const input = el("td", entry.input || "", "input");
    const status = el("td", entry.response.status, "status-" + String(entry.response.status)[0]);
    const tr = row([
      time, entry.method, path, input, keyCell(entry.api_key, entry.key_fingerprint, entry.key_known), status,
      outcomeOf(entry), entry.credits_charged, Number(entry.duration_ms).toFixed(1),
    ]);
    for (const td of tr.cells) if (!td.title) td.title = td.textContent;  // the whole of a cut value
    tr.dataset.id = String(entry.id);
    tr.className = "entry" + (state.selected === String(entry.id) ? " selected" : "");
    tr.addEventListener("click", () => select(state.selected === String(entry.id) ? null : String(entry.id)));
    tbody.appendChild(tr);
  }
  if (state.selected && !state.entries.has(state.selected)) select(null);
}

function select(id) {
  state.selected = id;
  const entry = id && state.entries.get(id);
  $("detail").hidden = !entry;
  for (const tr of $("journal").querySelectorAll("tbody tr")) tr.classList.toggle("selected", tr.dataset.id === id);
  if (!entry) return;
  const key = entry.api_key ? ` · key ${entry.api_key} ${entry.key_fingerprint || ""}${entry.key_known === false ? " (unknown)" : ""}` : "";
  $("detail-title").textContent = `#${entry.id} ${entry.method} ${entry.path} → ${entry.response.status}${key}`;
  const request = {
    time: entry.time, method: entry.method, path: entry.path, input: entry.input, api_key: entry.api_key,
    key_fingerprint: entry.key_fingerprint, key_known: entry.key_known, query: entry.query,
    headers: entry.headers, body: entry.body,
  };
  const answer = { status: entry.response.status, headers: entry.response.headers, body: entry.response.body, duration_ms: entry.duration_ms, credits_charged: entry.credits_charged, rate_limit: entry.rate_limit, scenario: entry.scenario };
  $("detail-request").textContent = JSON.stringify(request, null, 2);
  $("detail-response").textContent = JSON.stringify(answer, null, 2);
}

function renderClock(clock) {
  $("clock-now").textContent = clock.now;
  $("clock-frozen").textContent = clock.frozen ? "frozen" : "running";
}

function renderScenarios(scenarios) {
  const list = $("scenarios");
  list.replaceChildren();
  if (!scenarios.length) list.appendChild(el("li", "none queued", "muted"));
  for (const s of scenarios) {
    const match = Object.entries({ path: s.match.path, key: s.match.api_key, ...s.match.params })
      .filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `${k}=${v}`).join(" ") || "every request";
    const times = s.times === null ? "until deleted" : `${s.used}/${s.times} used`;
    const li = el("li");
    li.className = "scenario";
    li.appendChild(el("strong", s.outcome));
    const params = Object.entries(s.params || {}).map(([k, v]) => `${k}=${shown(v)}`);
    if (s.responses) params.push(`${s.responses.length} scripted response(s)`);
    if (params.length) li.appendChild(el("code", " " + params.join(" "), "params"));
    li.appendChild(el("span", ` ${match}; ${times}; after ${s.after} `, "muted"));
    const remove = el("button", "Delete");
    remove.type = "button";
    remove.addEventListener("click", () => act(() => api("DELETE", "/scenarios/" + encodeURIComponent(s.id))));
    li.appendChild(remove);
    list.appendChild(li);
  }
}

// A parameter's value in one line: strings as they are, anything else as JSON.
function shown(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function renderWebhooks(deliveries) {
  const list = $("webhooks");
  list.replaceChildren();
  if (!deliveries.length) list.appendChild(el("li", "none yet", "muted"));
  for (const d of deliveries.slice().reverse()) {
    const li = el("li");
    li.className = "delivery";
    li.appendChild(el("strong", d.status));
    li.appendChild(el("span", ` ${d.request_type} #${d.request_id} → ${d.webhook_url}`));
    const attempts = document.createElement("ol");
    for (const a of d.attempts || []) {
      const result = a.dropped ? "dropped (webhook_never)" : (a.status !== null ? "HTTP " + a.status : a.error);
      attempts.appendChild(el("li", `${a.at} ${result} in ${a.duration_ms} ms`));
    }
    if (!(d.attempts || []).length) attempts.appendChild(el("li", "no attempt yet"));
    li.appendChild(attempts);
    list.appendChild(li);
  }
}

function renderUsage(usage) {
  const tbody = $("usage").querySelector("tbody");
  tbody.replaceChildren(...usage.teams.map((t) => row([
    t.team, t.keys.join(", "), t.credits.granted ?? "unlimited", t.credits.spent, t.credits.left ?? "unlimited",
  ])));
}

function renderKeys(keys) {
  const tbody = $("keys").querySelector("tbody");
  tbody.replaceChildren(...keys.keys.map((k) => row([
    keyCell(k.key, k.fingerprint, true), k.team, k.plan, k.credits ?? "unlimited",
  ])));
}

// Whether `data` differs from what `part` of the page shows: unchanged parts are not redrawn.
function changed(part, data) {
  const text = JSON.stringify(data);
  if (state.shown.get(part) === text) return false;
  state.shown.set(part, text);
  return true;
}

async function refresh() {
  try {
    const [journal, clock, scenarios, webhooks, usage, keys] = await Promise.all([
      api("GET", "/requests?limit=" + JOURNAL_ROWS), api("GET", "/clock"), api("GET", "/scenarios"),
      api("GET", "/webhooks"), api("GET", "/usage"), api("GET", "/keys"),
    ]);
    showLogin(false);
    if (changed("journal", journal.requests)) renderJournal(journal.requests);
    if (changed("clock", clock)) renderClock(clock);
    if (changed("scenarios", scenarios.scenarios)) renderScenarios(scenarios.scenarios);
    if (changed("webhooks", webhooks.deliveries)) renderWebhooks(webhooks.deliveries);
    if (changed("usage", usage)) renderUsage(usage);
    if (changed("keys", keys)) renderKeys(keys);
  } catch (error) {
    if (error instanceof Unauthorized) showLogin(true);
    else $("status").textContent = "cannot reach the control API: " + error.message;
  }
}

async function act(action) {
  try {
    await action();
  } catch (error) {
    if (error instanceof Unauthorized) showLogin(true);
    else $("status").textContent = error.message;
  }
  await refresh();
}

function optionalNumber(id) {
  const raw = $(id).value.trim();
  return raw === "" ? undefined : Number(raw);
}

async function queueScenario(event) {
  event.preventDefault();
  const problem = $("scenario-error");
  problem.hidden = true;
  const document_ = { outcome: $("scenario-outcome").value, match: {} };
  const path = $("scenario-path").value.trim();
  const key = $("scenario-key").value.trim();
  const email = $("scenario-email").value.trim();
  if (path) document_.match.path = path;
  if (key) document_.match.api_key = key;
  if (email) document_.match.params = { email };
  const times = optionalNumber("scenario-times");
  if (times !== undefined) document_.times = times;
  document_.after = optionalNumber("scenario-after") ?? 0;
  const params = $("scenario-params").value.trim();
  try {
    if (params) document_.params = JSON.parse(params);
    await api("POST", "/scenarios", document_);
  } catch (error) {
    if (error instanceof Unauthorized) showLogin(true);
    problem.textContent = error instanceof SyntaxError ? "outcome parameters: not JSON" : error.message;
    problem.hidden = false;
  }
  await refresh();
}

async function loadOutcomes() {
  const response = await fetch("outcomes.json", { cache: "no-store" });
  const { outcomes } = await response.json();
  $("scenario-outcome").replaceChildren(...outcomes.map((name) => {
    const option = el("option", name);
    option.value = name;
    return option;
  }));
}

function start() {
  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value);
    $("token").value = "";
    refresh();
  });
  $("logout").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); refresh(); });
  $("reset").addEventListener("click", () => act(() => api("POST", "/reset")));
  $("freeze").addEventListener("click", () => act(() => api("POST", "/clock", { freeze: true })));
  $("unfreeze").addEventListener("click", () => act(() => api("POST", "/clock", { freeze: false })));
  $("advance").addEventListener("submit", (event) => {
    event.preventDefault();
    act(() => api("POST", "/clock/advance", { seconds: Number($("advance-seconds").value) }));
  });
  $("flush").addEventListener("click", () => act(() => api("POST", "/webhooks/flush")));
  $("scenario-form").addEventListener("submit", queueScenario);
  $("detail-close").addEventListener("click", () => select(null));
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") select(null); });
  loadOutcomes().catch(() => { $("status").textContent = "cannot load the scenario outcomes"; });
  refresh();
  setInterval(() => { if (!document.hidden) refresh(); }, POLL_MS);
}

document.addEventListener("DOMContentLoaded", start);
