// A production-style Apollo client in Node (>= 18) on the built-in `fetch`, contract-tested.
//
// Habits of real integrations: each attempt aborted after 8 s (AbortSignal.timeout); a timed-out
// attempt, a network error, a 5xx or a 429 retried up to 3 times with exponential back-off and
// jitter; Retry-After honoured (seconds or an HTTP date, which Date.parse reads as GMT) up to 15 s,
// past which the rate limit is reported; request_id read from the raw body text, because
// JSON.parse rounds integers past 2**53 and polling a rounded id asks for somebody else's result.
// Three harmless habits: reveal_personal_emails: false on every people/match, webhook_url
// percent-encoded, and each distinct bulk detail asked once.
//
//   fakeapollo check-client --cmd "node examples/clients/production/fetch_client.mjs"
//
// With --lines it stays running, as a service does (check-client --persistent): each stdin line is
// {"request": <job>, "env": {"APOLLO_API_URL": ..., "APOLLO_API_KEY": ...}}, answered by one line.
//
//   fakeapollo check-client --persistent --cmd "node examples/clients/production/fetch_client.mjs --lines"

import { createInterface } from "node:readline";

const ATTEMPT_MS = 8000;
const RETRIES = 3;
const RETRY_AFTER_LIMIT_S = 15;

class Failure extends Error {
  constructor(outcome, message) {
    super(message);
    this.outcome = outcome;
  }
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const backoffMs = (attempt) => 150 * 2 ** attempt + Math.random() * 100;

function retryAfterSeconds(value) {
  if (value === null || value.trim() === "") return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const when = Date.parse(text);
  return Number.isNaN(when) ? null : Math.max(0, (when - Date.now()) / 1000);
}

function makeApollo(apiUrl, apiKey) {
  const base = apiUrl.replace(/\/+$/, "");

  // One logical call; resolves to {status, text} of the last answer worth reading.
  async function call(method, path, body) {
    for (let attempt = 0; ; attempt++) {
      const last = attempt === RETRIES;
      let response;
      let text;
      try {
        response = await fetch(base + path, {
          method,
          headers: { "x-api-key": apiKey, "content-type": "application/json", accept: "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(ATTEMPT_MS),
        });
        text = await response.text();
      } catch (error) {
        if (last) throw new Failure("error", `network: ${error.name}: ${error.message}`);
        await pause(backoffMs(attempt));
        continue;
      }
      if (response.status === 429) {
        const wait = retryAfterSeconds(response.headers.get("retry-after"));
        if (last || (wait !== null && wait > RETRY_AFTER_LIMIT_S)) throw new Failure("rate_limited", "429");
        await pause(wait === null ? backoffMs(attempt) : wait * 1000);
        continue;
      }
      if (response.status >= 500) {
        if (last) throw new Failure("error", `HTTP ${response.status}`);
        await pause(backoffMs(attempt));
        continue;
      }
      return { status: response.status, text };
    }
  }

  function decode({ status, text }) {
    if (status === 401) throw new Failure("unauthorized", "bad API key");
    if (status === 403) throw new Failure("forbidden", "endpoint not allowed for this key");
    if (status < 200 || status >= 300) throw new Failure("error", `HTTP ${status}`);
    let value;
    try {
      value = JSON.parse(text);
    } catch {
      throw new Failure("error", "answer is not JSON");
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new Failure("error", "answer is not a JSON object");
    }
    return value;
  }

  function matchBody(params) {
    const body = { reveal_personal_emails: false, ...params };
    if (typeof body.webhook_url === "string") body.webhook_url = encodeURIComponent(body.webhook_url);
    return body;
  }

  return {
    call,
    decode,
    matchBody,
    async match(params) {
      return decode(await call("POST", "/people/match", matchBody(params)));
    },
    // People API Search, page by page, until a page is empty or short or total_entries are read.
    async search(params) {
      const found = [];
      const perPage = Number(params.per_page ?? 10);
      for (let page = 1; page <= 500; page++) {
        const answer = decode(await call("POST", "/mixed_people/api_search", { ...params, page }));
        if (!Array.isArray(answer.people)) throw new Failure("error", "search answer without people");
        found.push(...answer.people.filter((p) => p && typeof p === "object"));
        const total = answer.total_entries;
        if (answer.people.length < perPage || (Number.isInteger(total) && found.length >= total)) break;
      }
      return found;
    },
    async bulk(details) {
      const keys = details.map((detail) => JSON.stringify(detail, Object.keys(detail).sort()));
      const distinct = [...new Set(keys)];
      const sent = distinct.map((key) => details[keys.indexOf(key)]);
      const answer = decode(await call("POST", "/people/bulk_match", { details: sent }));
      if (!Array.isArray(answer.matches) || answer.matches.length !== sent.length) {
        throw new Failure("error", "bulk answer does not line up with the details sent");
      }
      return keys.map((key) => answer.matches[distinct.indexOf(key)]);
    },
  };
}

const isMiss = (person) => person === null || typeof person !== "object" || person.match_confidence === "none";

function summary(person) {
  const organization = person.organization && typeof person.organization === "object" ? person.organization : {};
  return {
    id: person.id,
    name: person.name || null,
    email: person.email ?? null,
    title: person.title ?? null,
    organization_name: organization.name ?? null,
    email_verified: person.email_status === "verified",
  };
}

// The top-level request_id exactly as written in the body (digits, never a rounded Number).
function rawRequestId(text) {
  let depth = 0;
  // Every string is one token (so brackets inside strings do not count); a key may carry a number.
  const pattern = /[{}[\]]|"(?:[^"\\]|\\.)*"(?:\s*:\s*(-?\d+)(?![\d.eE]))?/g;
  for (const found of text.matchAll(pattern)) {
    const token = found[0];
    if (token === "{" || token === "[") depth++;
    else if (token === "}" || token === "]") depth--;
    else if (depth === 1 && token.startsWith('"request_id"') && found[1] !== undefined) return found[1];
  }
  throw new Failure("error", "no request_id to poll");
}

function mergeWebhook(payload, state) {
  const store = structuredClone(state ?? {});
  for (const person of payload.people ?? []) {
    if (!person || typeof person.id !== "string") continue;
    const entry = (store[person.id] ??= { phones: [], emails: [] });
    const phones = (person.phone_numbers ?? []).map((p) => p && p.sanitized_number).filter(Boolean);
    const emails = (person.emails ?? []).map((e) => e && e.email).filter(Boolean);
    entry.phones = [...new Set([...entry.phones, ...phones])].sort();
    entry.emails = [...new Set([...entry.emails, ...emails])].sort();
  }
  return store;
}

async function handle(job, apollo) {
  switch (job.operation) {
    case "people_match": {
      const { person } = await apollo.match(job.params ?? {});
      return isMiss(person ?? null) ? { outcome: "no_match" } : { outcome: "match", person: summary(person) };
    }
    case "people_bulk_match": {
      const matches = await apollo.bulk(job.details ?? []);
      return { outcome: "bulk", matches: matches.map((m) => (isMiss(m ?? null) ? null : summary(m))) };
    }
    case "people_match_phones": {
      const answer = await apollo.call("POST", "/people/match", apollo.matchBody(job.params ?? {}));
      apollo.decode(answer);
      const requestId = rawRequestId(answer.text);
      const polled = apollo.decode(await apollo.call("GET", `/webhook_result/${requestId}`));
      const people = (polled.webhook_result && polled.webhook_result.people) || [];
      const numbers = people.flatMap((p) => (p && p.phone_numbers) || []).map((n) => n && n.sanitized_number);
      return { outcome: "phones", request_id: requestId, phone_numbers: numbers };
    }
    case "search_then_enrich": {
      const people = [];
      for (const record of await apollo.search(job.params ?? {})) {
        const { person } = await apollo.match({ id: record.id });
        people.push(isMiss(person ?? null) ? null : summary(person));
      }
      return { outcome: "people", people };
    }
    case "receive_webhooks": {
      let state = null;
      for (const payload of job.payloads ?? []) state = mergeWebhook(payload, state);
      return { outcome: "webhook", state };
    }
    default:
      return { outcome: "unsupported" };
  }
}

// The outcome of one job against the emulator (or Apollo) that `env` names.
async function answer(job, env) {
  const apiUrl = env.APOLLO_API_URL ?? `${env.APOLLO_BASE_URL}/api/v1`;
  const apollo = makeApollo(apiUrl, env.APOLLO_API_KEY);
  try {
    return await handle(job, apollo);
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    return { outcome: error.outcome, message: error.message };
  }
}

async function main() {
  if (process.argv.includes("--lines")) {
    for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      if (line.trim() === "") continue;
      const { request, env } = JSON.parse(line);
      process.stdout.write(JSON.stringify(await answer(request, env)) + "\n");
    }
    return;
  }
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  process.stdout.write(JSON.stringify(await answer(JSON.parse(input), process.env)) + "\n");
}

await main();
