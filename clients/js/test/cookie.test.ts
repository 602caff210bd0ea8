// Cookie mode in one tab: credentials, the CSRF header, refresh through
// /auth/refresh, and the account calls.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  FakeClock,
  FakeServer,
  MemoryStorage,
  Recorder,
  makeClient,
  noPlatform,
} from "./fakes.js";

// setup makes a page on the issuer's origin by default: it can read the CSRF
// cookie, and the server leaves csrf_token out of its answers so that the
// cookie is the only source. cookie: null makes a page on another origin.
function setup({
  cookie = "__Host-gatepass_csrf" as string | null,
  csrfInBody = false,
  sharedState = null as MemoryStorage | null,
} = {}) {
  const clock = new FakeClock();
  const server = new FakeServer(clock);
  server.csrfInBody = csrfInBody;
  const readCookies = (): string =>
    cookie === null ? "theme=dark" : `theme=dark; ${cookie}=${server.csrf}`;
  const platform = { ...noPlatform(), sharedState, readCookies };
  const client = makeClient(server, clock, { mode: "cookie", platform });
  const events = new Recorder(client);
  return { clock, server, client, events, platform };
}

describe("cookie mode", () => {
  it("signs in without a CSRF header and returns the user", async () => {
    const { server, client, events } = setup();
    assert.equal(client.status, "unknown");
    const result = await client.signIn("demo", "right");
    assert.deepEqual(result, {
      mode: "cookie",
      user: { userId: "1", username: "demo", email: "demo@example.com" },
      sessionId: "s1",
      scope: "profile email",
      expiresIn: 900,
    });
    const login = server.log[0];
    assert.equal(login?.path, "/auth/login");
    assert.equal(login?.credentials, "include");
    assert.equal(login?.headers.get("X-CSRF-Token"), null);
    assert.deepEqual(events.events, [
      {
        type: "signedIn",
        event: {
          origin: "thisTab",
          user: result.mode === "cookie" ? result.user : null,
        },
      },
    ]);
  });

  it("adds the CSRF header to state-changing requests only", async () => {
    const { server, client } = setup();
    await client.signIn("demo", "right");
    for (const method of [
      "GET",
      "HEAD",
      "OPTIONS",
      "POST",
      "PUT",
      "PATCH",
      "DELETE",
    ]) {
      const res = await client.fetch("/api/things", { method });
      assert.equal(res.status, 200, method);
      const sent = server.log.at(-1);
      assert.equal(sent?.credentials, "include");
      assert.equal(sent?.headers.get("Authorization"), null);
      const want = ["GET", "HEAD", "OPTIONS"].includes(method)
        ? null
        : server.csrf;
      assert.equal(sent?.headers.get("X-CSRF-Token"), want, method);
    }
  });

  it("reads the development cookie name on plain http", async () => {
    const { server, client } = setup({ cookie: "gatepass_csrf" });
    await client.signIn("demo", "right");
    await client.fetch("/api/things", { method: "POST" });
    assert.equal(server.log.at(-1)?.headers.get("X-CSRF-Token"), server.csrf);
  });

  it("uses csrf_token from the answers on a page of another origin", async () => {
    const sharedState = new MemoryStorage();
    const { clock, server, client, platform } = setup({
      cookie: null,
      csrfInBody: true,
      sharedState,
    });
    await client.signIn("demo", "right");
    await client.fetch("/api/things", { method: "POST" });
    assert.equal(server.log.at(-1)?.headers.get("X-CSRF-Token"), "csrf-1");

    // The refresh rotates the token; the retry carries the new one.
    server.expireAccess();
    const res = await client.fetch("/api/things", { method: "POST" });
    assert.equal(res.status, 200);
    const refresh = server.log.find((s) => s.path === "/auth/refresh");
    assert.equal(refresh?.headers.get("X-CSRF-Token"), "csrf-1");
    assert.equal(server.log.at(-1)?.headers.get("X-CSRF-Token"), "csrf-2");
    client.close();

    // After a reload, with the access cookie gone, the refresh still has
    // the token: it was kept with the shared session record.
    await clock.advance(3_600_000);
    server.expireAccess();
    const reloaded = makeClient(server, clock, { mode: "cookie", platform });
    assert.equal(reloaded.status, "unknown");
    const again = await reloaded.fetch("/api/things", { method: "DELETE" });
    assert.equal(again.status, 200);
    const last = server.log.filter((s) => s.path === "/auth/refresh").at(-1);
    assert.equal(last?.headers.get("X-CSRF-Token"), "csrf-2");
  });

  it("refreshes through /auth/refresh after a 401 and retries", async () => {
    const { server, client, events } = setup();
    await client.signIn("demo", "right");
    server.expireAccess(); // the browser drops the expired cookie

    const res = await client.fetch("/api/things", { method: "DELETE" });
    assert.equal(res.status, 200);
    assert.equal(server.count("POST", "/auth/refresh"), 1);
    const refresh = server.log.find((s) => s.path === "/auth/refresh");
    assert.equal(refresh?.headers.get("X-CSRF-Token"), "csrf-1");
    const retry = server.log.at(-1);
    assert.equal(retry?.headers.get("X-CSRF-Token"), "csrf-2");
    assert.equal(refresh?.credentials, "include");
    assert.equal(refresh?.body, "");
    assert.equal(server.count("DELETE", "/api/things"), 2);
    assert.deepEqual(events.types(), ["signedIn", "refreshed"]);
  });

  it("finds out on the first 401 that a fresh page has no session", async () => {
    const { server, client, events } = setup();
    await assert.rejects(client.me(), { kind: "unauthorized", status: 401 });
    assert.equal(server.count("POST", "/auth/refresh"), 1);
    assert.equal(client.status, "signedOut");
    assert.deepEqual(events.events, [
      {
        type: "signedOut",
        event: { origin: "thisTab", reason: "invalid_grant" },
      },
    ]);
    await assert.rejects(client.me(), { kind: "unauthorized" });
    assert.equal(server.count("POST", "/auth/refresh"), 1);
  });

  it("picks up a live cookie session on a fresh page", async () => {
    const { server, client, events } = setup();
    server.cookieSessionAlive = true; // cookies from an earlier visit
    const me = await client.me();
    assert.equal(me.username, "demo");
    assert.equal(server.count("POST", "/auth/refresh"), 1);
    assert.equal(client.status, "signedIn");
    assert.deepEqual(events.types(), ["signedIn"]);
  });

  it("schedules from me() when the Date header is readable", async () => {
    const { clock, server, client } = setup();
    server.cookieAccessValid = true;
    server.cookieSessionAlive = true;
    // The server's clock is 3 minutes ahead of the device's: only the
    // difference between its Date and its expires_at matters.
    server.override = (s) =>
      s.path === "/auth/me"
        ? {
            status: 200,
            body: {
              user_id: "1",
              username: "demo",
              email: "",
              scope: "",
              session_id: "s1",
              client_id: "web",
              expires_at: "2030-01-01T00:13:00Z",
            },
            headers: { Date: "Tue, 01 Jan 2030 00:03:00 GMT" },
          }
        : null;
    await client.me();
    assert.equal(client.status, "signedIn");
    // 600 s left, margin 60 s: refresh after 540 s.
    await clock.advance(539_000);
    assert.equal(server.count("POST", "/auth/refresh"), 0);
    await clock.advance(1_000);
    assert.equal(server.count("POST", "/auth/refresh"), 1);
    client.close();
  });

  it("lists and revokes sessions; revoking the current one signs out", async () => {
    const { server, client, events } = setup();
    await client.signIn("demo", "right");
    const list = await client.sessions();
    assert.deepEqual(
      list.map((s) => [s.id, s.current, s.userAgent]),
      [
        ["s1", true, "Firefox"],
        ["s2", false, "curl"],
      ],
    );

    await client.revokeSession("s2");
    const del = server.log.at(-1);
    assert.equal(del?.method, "DELETE");
    assert.equal(del?.path, "/auth/sessions/s2");
    assert.equal(del?.headers.get("X-CSRF-Token"), server.csrf);
    assert.equal(client.status, "signedIn");

    await client.revokeSession("s1");
    assert.equal(client.status, "signedOut");
    assert.deepEqual(events.events.at(-1)?.event, {
      origin: "thisTab",
      reason: "sessionRevoked",
    });
  });

  it("signs out through /auth/logout with the CSRF header", async () => {
    const { server, client, events } = setup();
    await client.signIn("demo", "right");
    await client.signOut("others");
    assert.equal(server.log.at(-1)?.path, "/auth/logout?scope=others");
    assert.equal(client.status, "signedIn");

    server.cookieSessionAlive = true;
    await client.signOut();
    const logout = server.log.at(-1);
    assert.equal(logout?.path, "/auth/logout?scope=local");
    assert.equal(logout?.headers.get("X-CSRF-Token"), server.csrf);
    assert.equal(client.status, "signedOut");
    assert.deepEqual(events.types(), ["signedIn", "signedOut"]);
  });

  it("stays signed in when the server refuses to sign out", async () => {
    const { server, client, events } = setup();
    await client.signIn("demo", "right");
    server.override = (s) =>
      s.path.startsWith("/auth/logout")
        ? { status: 503, body: { error: "unavailable" } }
        : null;

    await assert.rejects(client.signOut("global"));
    assert.equal(client.status, "signedIn");
    assert.deepEqual(events.types(), ["signedIn"]);
  });

  it("signs out when a background refresh is refused, then stays quiet", async () => {
    const { clock, server, client, events } = setup();
    server.expiresIn = 3;
    await client.signIn("demo", "right");
    server.cookieSessionAlive = false; // revoked from another device

    await clock.advance(2_400);
    assert.equal(server.count("POST", "/auth/refresh"), 1);
    assert.equal(client.status, "signedOut");
    assert.deepEqual(events.events.at(-1), {
      type: "signedOut",
      event: { origin: "thisTab", reason: "invalid_grant" },
    });
    assert.equal(clock.pending, 0);

    await clock.advance(60_000);
    await client.fetch("/api/things");
    assert.equal(server.count("POST", "/auth/refresh"), 1);
  });

  it("keeps working when fetch is called detached from the client", async () => {
    const { server, client } = setup();
    await client.signIn("demo", "right");
    const { fetch } = client;
    const res = await fetch("/api/things", { method: "POST" });
    assert.equal(res.status, 200);
    assert.equal(server.log.at(-1)?.headers.get("X-CSRF-Token"), server.csrf);
  });

  it("signs up and starts the session", async () => {
    const { server, client } = setup();
    const result = await client.signUp({
      username: "new",
      email: "new@example.com",
      password: "long enough",
    });
    assert.equal(result.mode, "cookie");
    assert.equal(server.log[0]?.headers.get("X-CSRF-Token"), null);
    assert.equal(client.status, "signedIn");
  });
});
