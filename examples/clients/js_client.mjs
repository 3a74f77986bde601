// A well-behaved Apollo People Enrichment client in JavaScript (Node 18+, global fetch),
// speaking fakeapollo's check-client protocol:
//
//   fakeapollo check-client --cmd "node examples/clients/js_client.mjs"
//
// One JSON request on stdin ({"operation": "people_match", "params": {...}} and friends), one JSON
// outcome on stdout; the URL and key come from APOLLO_API_URL and APOLLO_API_KEY. The key goes in
// x-api-key only; {"person": null} and a stub marked match_confidence "none" are misses; any field
// may be missing or null; 4xx answers are never retried; 429 waits Retry-After (seconds or an HTTP
// date; at most 3 retries); 5xx and connection errors back off briefly; a request that times out is
// reported, not retried; a body that is not JSON is an error; bulk matches stay positional; a search
// is read page by page until a page comes back empty or short.

const MAX_RETRIES = 3;
const MAX_RETRY_AFTER = 5;
// Apollo shows at most 500 pages of a search.
const MAX_PAGES = 500;
// Longer than fakeapollo's 1.5 s slow-answer budget, shorter than check-client's 10 s run timeout.
const TIMEOUT_MS = 3000;

class ApolloError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind; // "unauthorized" | "forbidden" | "rate_limited" | "error"
  }
}

const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

function retryAfter(response) {
  const header = (response.headers.get("retry-after") ?? "1").trim();
  const seconds = Number(header);
  if (header !== "" && Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, (date - Date.now()) / 1000) : 1;
}

const isStub = (record) => record !== null && typeof record === "object" && record.match_confidence === "none";

export class ApolloClient {
  constructor(apiUrl, apiKey, { timeoutMs = TIMEOUT_MS } = {}) {
    this.apiUrl = apiUrl.replace(/\/+$/, "");
    this.apiKey = apiKey;
    this.timeoutMs = timeoutMs;
  }

  retryDelay(response, attempt) {
    if (attempt >= MAX_RETRIES) return null;
    if (response === null || response.status >= 500) return 0.05 * 2 ** attempt;
    if (response.status === 429) {
      const wait = retryAfter(response);
      return wait <= MAX_RETRY_AFTER ? wait : null;
    }
    return null;
  }

  async post(path, body) {
    for (let attempt = 0; ; attempt += 1) {
      let response = null;
      try {
        response = await fetch(this.apiUrl + path, {
          method: "POST",
          headers: { "x-api-key": this.apiKey, "content-type": "application/json", accept: "application/json" },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        if (error.name === "TimeoutError") {
          throw new ApolloError("error", `Apollo did not answer within ${this.timeoutMs} ms`);
        }
        const delay = this.retryDelay(null, attempt);
        if (delay === null) throw new ApolloError("error", `network error: ${error.message}`);
        await sleep(delay);
        continue;
      }
      const text = await response.text();
      if (response.ok) {
        let data;
        try {
          data = JSON.parse(text);
        } catch {
          throw new ApolloError("error", `malformed JSON from Apollo (HTTP ${response.status})`);
        }
        if (data === null || typeof data !== "object" || Array.isArray(data)) {
          throw new ApolloError("error", "Apollo's answer is not a JSON object");
        }
        return data;
      }
      const delay = this.retryDelay(response, attempt);
      if (delay === null) {
        const kind = { 401: "unauthorized", 403: "forbidden", 429: "rate_limited" }[response.status] ?? "error";
        throw new ApolloError(kind, `HTTP ${response.status}: ${text.slice(0, 200)}`);
      }
      await sleep(delay);
    }
  }

  static person(record) {
    const organization = record.organization && typeof record.organization === "object" ? record.organization : null;
    return {
      id: record.id,
      name: record.name ?? null,
      email: record.email ?? null,
      title: record.title ?? null,
      organization_name: organization?.name ?? null,
    };
  }

  async peopleMatch(params) {
    const data = await this.post("/people/match", params);
    if (data.person === null || data.person === undefined || isStub(data.person)) return null;
    if (typeof data.person !== "object") throw new ApolloError("error", "unexpected person");
    return ApolloClient.person(data.person);
  }

  // People API Search, every page: until a page comes back empty or short, or total_entries are read.
  async searchPeople(params) {
    const found = [];
    const perPage = Number(params.per_page ?? 10);
    for (let page = 1; page <= MAX_PAGES; page += 1) {
      const data = await this.post("/mixed_people/api_search", { ...params, page });
      if (!Array.isArray(data.people)) throw new ApolloError("error", "api_search answer without people");
      found.push(...data.people.filter((p) => p && typeof p === "object"));
      const total = data.total_entries;
      if (data.people.length < perPage || (Number.isInteger(total) && found.length >= total)) break;
    }
    return found;
  }

  // Everyone a search finds, each enriched by id, in search order: null where enrichment misses.
  async searchThenEnrich(params) {
    const people = [];
    for (const record of await this.searchPeople(params)) people.push(await this.peopleMatch({ id: record.id }));
    return people;
  }

  async bulkMatch(details) {
    const data = await this.post("/people/bulk_match", { details });
    if (!Array.isArray(data.matches)) throw new ApolloError("error", "bulk_match answer without matches");
    return data.matches.map((m) => (m && typeof m === "object" && !isStub(m) ? ApolloClient.person(m) : null));
  }
}

// Store phone numbers and emails per person; a duplicated delivery changes nothing.
export function receiveWebhook(payload, state) {
  const stored = structuredClone(state ?? {});
  for (const person of payload.people ?? []) {
    if (!person || typeof person.id !== "string") continue;
    const entry = stored[person.id] ?? { phones: [], emails: [] };
    const phones = new Set(entry.phones);
    for (const phone of person.phone_numbers ?? []) if (phone?.sanitized_number) phones.add(phone.sanitized_number);
    const emails = new Set(entry.emails);
    for (const email of person.emails ?? []) if (email?.email !== undefined) emails.add(email.email);
    entry.phones = [...phones].sort();
    entry.emails = [...emails].sort();
    stored[person.id] = entry;
  }
  return stored;
}

async function runOperation(request, apiUrl, apiKey) {
  const client = new ApolloClient(apiUrl, apiKey);
  try {
    switch (request.operation) {
      case "people_match": {
        const person = await client.peopleMatch(request.params ?? {});
        return person === null ? { outcome: "no_match" } : { outcome: "match", person };
      }
      case "people_bulk_match":
        return { outcome: "bulk", matches: await client.bulkMatch(request.details) };
      case "search_then_enrich":
        return { outcome: "people", people: await client.searchThenEnrich(request.params ?? {}) };
      case "receive_webhooks": {
        let state = null;
        for (const payload of request.payloads) state = receiveWebhook(payload, state);
        return { outcome: "webhook", state };
      }
      default:
        return { outcome: "unsupported" };
    }
  } catch (error) {
    if (error instanceof ApolloError) {
      return error.kind === "error" ? { outcome: "error", message: error.message } : { outcome: error.kind };
    }
    throw error;
  }
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const apiUrl = process.env.APOLLO_API_URL ?? `${process.env.APOLLO_BASE_URL}/api/v1`;
  const outcome = await runOperation(request, apiUrl, process.env.APOLLO_API_KEY);
  process.stdout.write(JSON.stringify(outcome) + "\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exit(1);
  });
}
