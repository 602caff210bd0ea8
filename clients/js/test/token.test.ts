// Token mode in one tab: bearer tokens, refresh ahead of expiry, the 401
// retry, single-flight refresh, sign-out, and opt-in storage.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { GatepassError, InvalidGrantError } from "@gatepass/client";

import {
  FakeClock,
  FakeServer,
  MemoryStorage,
  Recorder,
  baseUrl,
  makeClient,
} from "./fakes.js";

function setup(options: { storage?: MemoryStorage } = {}) {
  const clock = new FakeClock();
  const server = new FakeServer(clock);
  const client = makeClient(server, clock, { mode: "token", ...options });
  const events = new Recorder(client);
  return { clock, server, client, events };
}

const refreshes = (server: FakeServer): number =>
  server.log.filter(
    (s) => s.path === "/oauth/token" && s.body.includes('"refresh_token"'),
  ).length;

describe("token mode", () => {
  it("signs in and attaches the bearer token to trusted origins only", async () => {
    const { server, client, events } = setup();
    const result = await client.signIn("demo", "right");
    assert.deepEqual(result, {
      mode: "token",
      scope: "profile email",
      expiresIn: 900,
    });
    assert.equal(client.status, "signedIn");
    assert.deepEqual(events.types(), ["signedIn"]);

    const signIn = server.log[0];
    assert.ok(signIn);
    assert.equal(signIn.credentials, "omit");
    assert.deepEqual(JSON.parse(signIn.body), {
      grant_type: "password",
      username: "demo",
      password: "right",
    });

    const res = await client.fetch("/api/things");
    assert.equal(res.status, 200);
    const api = server.log.at(-1);
    assert.equal(api?.path, "/api/things");
    assert.equal(api?.headers.get("Authorization"), "Bearer at-1");
    assert.equal(api?.headers.get("X-CSRF-Token"), null);

    await client.fetch("https://elsewhere.example.test/api/x").catch(() => {});
    const foreign = server.log.at(-1);
    assert.equal(foreign?.headers.get("Authorization"), null);
  });

  it("sends the bearer to origins listed in trustedOrigins", async () => {
    const clock = new FakeClock();
    const server = new FakeServer(clock);
    const client = makeClient(server, clock, {
      mode: "token",
      trustedOrigins: ["https://api.example.test"],
    });
    await client.signIn("demo", "right");
    await client.fetch("https://api.example.test/api/x");
    const sent = server.log.at(-1);
    assert.equal(sent?.headers.get("Authorization"), "Bearer at-1");
  });

  it("refreshes once on a 401 invalid_token and retries the request", async () => {
    const { server, client, events } = setup();
    await client.signIn("demo", "right");
    server.expireAccess();

    const res = await client.fetch("/api/things", {
      method: "POST",
      body: JSON.stringify({ n: 1 }),
    });
    assert.equal(res.status, 200);
    assert.equal(refreshes(server), 1);
    const tries = server.log.filter((s) => s.path === "/api/things");
    assert.equal(tries.length, 2);
    assert.equal(tries[0]?.headers.get("Authorization"), "Bearer at-1");
    assert.equal(tries[1]?.headers.get("Authorization"), "Bearer at-2");
    assert.equal(tries[1]?.body, '{"n":1}');
    assert.deepEqual(events.types(), ["signedIn", "refreshed"]);
  });

  it("does not retry a second 401", async () => {
    const { server, client } = setup();
    await client.signIn("demo", "right");
    server.override = (s) =>
      s.path === "/api/things"
        ? {
            status: 401,
            body: { error: "invalid_token" },
            headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' },
          }
        : null;

    const res = await client.fetch("/api/things");
    assert.equal(res.status, 401);
    assert.equal(server.count("GET", "/api/things"), 2);
    assert.equal(refreshes(server), 1);
    assert.equal(client.status, "signedIn");
  });

  it("does not refresh for a 401 that blames something else", async () => {
    const { server, client } = setup();
    await client.signIn("demo", "right");
    server.override = (s) =>
      s.path === "/api/things"
        ? {
            status: 401,
            headers: {
              "WWW-Authenticate": 'Bearer error="insufficient_scope"',
            },
          }
        : null;
    const res = await client.fetch("/api/things");
    assert.equal(res.status, 401);
    assert.equal(refreshes(server), 0);
  });

  it("shares one refresh among parallel requests", async () => {
    const { clock, server, client } = setup();
    await client.signIn("demo", "right");
    server.expireAccess();
    server.latency = 20;

    const all = Promise.all(
      Array.from({ length: 8 }, (_, i) => client.fetch(`/api/r${i}`)),
    );
    await clock.advance(500);
    const responses = await all;
    assert.deepEqual(
      responses.map((r) => r.status),
      Array(8).fill(200),
    );
    assert.equal(refreshes(server), 1);
  });

  it("refreshes ahead of expiry from expires_in (3 s lifetime)", async () => {
    const { clock, server, client } = setup();
    server.expiresIn = 3;
    await client.signIn("demo", "right");

    // The margin is min(60 s, 3 s / 5) = 0.6 s: refresh at 2.4 s.
    await clock.advance(2399);
    assert.equal(refreshes(server), 0);
    await clock.advance(1);
    assert.equal(refreshes(server), 1);

    // The new token is rescheduled the same way.
    await clock.advance(2399);
    assert.equal(refreshes(server), 1);
    await clock.advance(1);
    assert.equal(refreshes(server), 2);

    await client.fetch("/api/things");
    assert.equal(
      server.log.at(-1)?.headers.get("Authorization"),
      "Bearer at-3",
    );
    client.close();
    assert.equal(clock.pending, 0);
  });

  it("caps an explicit refreshMargin at half the lifetime", async () => {
    const clock = new FakeClock();
    const server = new FakeServer(clock);
    server.expiresIn = 3;
    const client = makeClient(server, clock, {
      mode: "token",
      refreshMargin: 60,
    });
    await client.signIn("demo", "right");
    await clock.advance(1499);
    assert.equal(refreshes(server), 0);
    await clock.advance(1);
    assert.equal(refreshes(server), 1);
    client.close();
  });

  it("refreshes before sending when the timer ran late", async () => {
    const { clock, server, client } = setup();
    server.expiresIn = 3;
    await client.signIn("demo", "right");
    client.close(); // no timers: as if the tab was throttled in background
    await clock.advance(2500);
    const res = await client.fetch("/api/things");
    assert.equal(res.status, 200);
    assert.equal(refreshes(server), 1);
    assert.equal(server.count("GET", "/api/things"), 1);
  });

  it("signs out when the refresh token is refused, and stops refreshing", async () => {
    const { clock, server, client, events } = setup();
    server.expiresIn = 3;
    await client.signIn("demo", "right");
    server.refreshToken = "revoked-elsewhere";
    server.expireAccess();

    const res = await client.fetch("/api/things");
    assert.equal(res.status, 401);
    assert.equal(client.status, "signedOut");
    assert.deepEqual(events.types(), ["signedIn", "signedOut"]);
    assert.deepEqual(events.events[1]?.event, {
      origin: "thisTab",
      reason: "invalid_grant",
    });

    // Nothing more: no timer, no refresh on later 401s or explicit calls.
    const before = server.log.length;
    await clock.advance(60_000);
    await client.fetch("/api/things");
    await assert.rejects(client.refresh(), InvalidGrantError);
    assert.equal(refreshes(server), 1);
    assert.equal(server.log.length, before + 1);
    assert.equal(events.types().length, 2);
  });

  it("refreshes but does not resend a one-shot stream body", async () => {
    const { server, client } = setup();
    await client.signIn("demo", "right");
    server.expireAccess();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("chunk"));
        controller.close();
      },
    });
    const init = { method: "POST", body, duplex: "half" } as RequestInit;
    const res = await client.fetch("/api/upload", init);
    assert.equal(res.status, 401);
    assert.equal(server.count("POST", "/api/upload"), 1);
    assert.equal(refreshes(server), 1);

    // The caller resends; the refreshed token is used.
    const again = await client.fetch("/api/upload", {
      method: "POST",
      body: "chunk",
    });
    assert.equal(again.status, 200);
  });

  it("retries a Request object by cloning it", async () => {
    const { server, client } = setup();
    await client.signIn("demo", "right");
    server.expireAccess();
    const req = new Request(`${baseUrl}/api/things`, {
      method: "PUT",
      body: "payload",
    });
    const res = await client.fetch(req);
    assert.equal(res.status, 200);
    const tries = server.log.filter((s) => s.path === "/api/things");
    assert.deepEqual(
      tries.map((s) => s.body),
      ["payload", "payload"],
    );
  });

  it("revokes the refresh token on signOut", async () => {
    const { server, client, events } = setup();
    await client.signIn("demo", "right");
    await client.signOut();
    const revoke = server.log.at(-1);
    assert.equal(revoke?.path, "/oauth/revoke");
    assert.deepEqual(JSON.parse(revoke?.body ?? ""), { token: "rt-1" });
    assert.equal(client.status, "signedOut");
    assert.deepEqual(events.events.at(-1)?.event, {
      origin: "thisTab",
      reason: "signOut",
    });
    await client.fetch("/api/things");
    assert.equal(server.log.at(-1)?.headers.get("Authorization"), null);
  });

  it("signs out everywhere through /auth/logout with the bearer", async () => {
    const { server, client } = setup();
    await client.signIn("demo", "right");
    await client.signOut("global");
    const sent = server.log.at(-1);
    assert.equal(sent?.path, "/auth/logout?scope=global");
    assert.equal(sent?.headers.get("Authorization"), "Bearer at-1");
    assert.equal(client.status, "signedOut");
  });

  it("keeps nothing in storage by default", async () => {
    const clock = new FakeClock();
    const server = new FakeServer(clock);
    const shared = new MemoryStorage();
    const client = makeClient(server, clock, {
      mode: "token",
      platform: {
        locks: null,
        openChannel: null,
        sharedState: shared,
        readCookies: () => "",
      },
    });
    await client.signIn("demo", "right");
    await client.refresh();
    assert.equal(shared.items.size, 0);
  });

  it("keeps the refresh token in opted-in storage across a reload", async () => {
    const storage = new MemoryStorage();
    const first = setup({ storage });
    await first.client.signIn("demo", "right");
    const stored = [...storage.items.values()].join();
    assert.match(stored, /rt-1/);
    assert.ok(!stored.includes("at-1"), "access token must not be stored");
    first.client.close();

    // A reload: a new client on the same storage refreshes before its first
    // request, then uses the new access token.
    const client = makeClient(first.server, first.clock, {
      mode: "token",
      storage,
    });
    assert.equal(client.status, "unknown");
    const res = await client.fetch("/api/things");
    assert.equal(res.status, 200);
    assert.equal(refreshes(first.server), 1);
    assert.equal(
      first.server.log.at(-1)?.headers.get("Authorization"),
      "Bearer at-2",
    );
    assert.match([...storage.items.values()].join(), /rt-2/);

    await client.signOut();
    assert.equal(storage.items.size, 0);
  });

  it("retries a refresh after a network failure inside the grace window", async () => {
    const { clock, server, client } = setup();
    await client.signIn("demo", "right");
    server.expireAccess();
    server.down = true;
    const pending = client.refresh();
    await clock.advance(500);
    server.down = false;
    await clock.advance(1000);
    await pending;
    assert.equal(refreshes(server), 2);
    assert.equal(client.status, "signedIn");
  });

  it("gives up a refresh that keeps failing, without signing out", async () => {
    const { clock, server, client } = setup();
    await client.signIn("demo", "right");
    server.down = true;
    const pending = client.refresh().then(
      () => assert.fail("refresh should fail"),
      (err: unknown) => err,
    );
    await clock.advance(10_000);
    const err = await pending;
    assert.ok(err instanceof GatepassError);
    assert.equal(err.kind, "network");
    assert.equal(refreshes(server), 3);
    assert.equal(client.status, "signedIn");
  });
});
