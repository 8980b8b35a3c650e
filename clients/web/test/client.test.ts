// Behaviour of the fetch client against a scripted fetch: headers, URLs, errors, Retry-After.
// Compiled by tsc and run with `node --test` (tests/test_web_client.py).
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError, createClient, parseRetryAfter } from "../src/index.js";

interface Call {
  url: string;
  init: RequestInit;
}

function scripted(...answers: (Response | Error)[]) {
  const calls: Call[] = [];
  const waits: number[] = [];
  const fetchStub = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    calls.push({ url: String(url), init: init ?? {} });
    const next = answers.shift();
    if (next === undefined) throw new Error("no answer scripted");
    if (next instanceof Error) throw next;
    return next;
  };
  const client = createClient({
    baseUrl: "http://gateway.test/",
    getIdToken: async () => "id-token",
    fetch: fetchStub as typeof fetch,
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  return { client, calls, waits };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });

test("sends the ID token and JSON, fills the path, leaves empty query values out", async () => {
  const { client, calls } = scripted(
    json(200, { roomId: "r/1", left: true }),
    json(200, { items: [], nextCursor: null }, { "X-Cache": "HIT" }),
  );
  const left = await client.matching.leaveRoom("r/1");
  assert.deepEqual(left, { roomId: "r/1", left: true });
  assert.equal(calls[0]?.url, "http://gateway.test/matching_api/rooms/r%2F1/leave");
  assert.equal(calls[0]?.init.method, "POST");
  assert.equal((calls[0]?.init.headers as Record<string, string>).Authorization, "Bearer id-token");
  const page = await client.invitations.list({ tag: "ゲーム", cursor: "" });
  assert.equal(calls[1]?.url, `http://gateway.test/invitations_api/invitations?tag=${encodeURIComponent("ゲーム")}`);
  assert.equal(page.headers.get("X-Cache"), "HIT");
});

test("an error answer becomes an ApiError with code, field, until and Retry-After", async () => {
  const { client } = scripted(
    json(400, { error: { code: "invalid_argument", message: "maxParticipants: too big", field: "maxParticipants" } }),
    json(403, { error: { code: "suspended", message: "suspended", until: "2030-01-31T12:00:00.000Z" } }),
  );
  await assert.rejects(client.matching.createRoom(9), (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 400);
    assert.equal(error.code, "invalid_argument");
    assert.equal(error.field, "maxParticipants");
    assert.equal(error.retryable, false);
    return true;
  });
  await assert.rejects(client.matching.joinQueue(), (error: unknown) => {
    assert.ok(error instanceof ApiError && error.code === "suspended");
    assert.equal(error.until, "2030-01-31T12:00:00.000Z");
    return true;
  });
});

test("a GET answered 429 with a short Retry-After is retried once, after the wait", async () => {
  const limited = () => json(429, { error: { code: "rate_limited", message: "slow down" } }, { "Retry-After": "2" });
  const { client, calls, waits } = scripted(limited(), json(200, { items: [], nextCursor: null }));
  const page = await client.invitations.list();
  assert.equal(page.status, 200);
  assert.equal(calls.length, 2);
  assert.deepEqual(waits, [2000]);

  const twice = scripted(limited(), limited());
  await assert.rejects(twice.client.invitations.list(), (error: unknown) => {
    assert.ok(error instanceof ApiError && error.code === "rate_limited" && error.retryAfterS === 2);
    return true;
  });
  assert.equal(twice.calls.length, 2);
});

test("a POST is never retried, and a long Retry-After is left to the caller", async () => {
  const busy = scripted(json(503, { error: { code: "busy", message: "contended" } }, { "Retry-After": "1" }));
  await assert.rejects(busy.client.matching.joinQueue(), (error: unknown) => {
    assert.ok(error instanceof ApiError && error.code === "busy" && error.retryAfterS === 1 && error.retryable);
    return true;
  });
  assert.equal(busy.calls.length, 1);
  const long = scripted(json(429, { error: { code: "rate_limited", message: "" } }, { "Retry-After": "60" }));
  await assert.rejects(long.client.invitations.list());
  assert.equal(long.calls.length, 1);
});

test("no answer, or one that is not ours, still becomes an ApiError", async () => {
  const { client } = scripted(new TypeError("Failed to fetch"), new Response("<html>bad gateway</html>", { status: 502 }));
  await assert.rejects(client.tokens.ws(), (error: unknown) => {
    assert.ok(error instanceof ApiError && error.status === 0 && error.code === "network_error");
    return true;
  });
  await assert.rejects(client.tokens.ws(), (error: unknown) => {
    assert.ok(error instanceof ApiError && error.status === 502 && error.code === "http_error");
    return true;
  });
});

test("Retry-After as seconds or as an HTTP date", () => {
  const now = Date.parse("2030-01-31T12:00:00Z");
  assert.equal(parseRetryAfter("7", now), 7);
  assert.equal(parseRetryAfter("Thu, 31 Jan 2030 12:00:30 GMT", now), 30);
  assert.equal(parseRetryAfter(null, now), undefined);
  assert.equal(parseRetryAfter("soon", now), undefined);
});
