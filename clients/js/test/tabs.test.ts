// Several tabs: client instances sharing one fake server, clock, lock
// manager, BroadcastChannel hub and localStorage, as tabs of one browser do.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { GatepassClient } from "@gatepass/client";

import {
  ChannelHub,
  FakeClock,
  FakeLocks,
  FakeServer,
  MemoryStorage,
  Recorder,
  makeClient,
} from "./fakes.js";

interface Browser {
  readonly clock: FakeClock;
  readonly server: FakeServer;
  readonly locks: FakeLocks;
  readonly hub: ChannelHub;
  readonly localStorage: MemoryStorage;
  tab(options?: { storage?: MemoryStorage }): GatepassClient;
}

// browser makes tabs of one browser. crossOrigin pages cannot read the CSRF
// cookie and depend on csrf_token from the answers.
function browser(
  mode: "cookie" | "token",
  { webLocks = true, crossOrigin = false } = {},
): Browser {
  const clock = new FakeClock();
  const server = new FakeServer(clock);
  const locks = new FakeLocks();
  const hub = new ChannelHub();
  const localStorage = new MemoryStorage();
  return {
    clock,
    server,
    locks,
    hub,
    localStorage,
    tab: (options = {}) =>
      makeClient(server, clock, {
        mode,
        ...options,
        platform: {
          locks: webLocks ? locks : null,
          openChannel: hub.open,
          sharedState: localStorage,
          readCookies: () =>
            crossOrigin ? "" : `__Host-gatepass_csrf=${server.csrf}`,
        },
      }),
  };
}

const cookieRefreshes = (b: Browser): number =>
  b.server.count("POST", "/auth/refresh");

const tokenRefreshes = (b: Browser): number =>
  b.server.log.filter(
    (s) => s.path === "/oauth/token" && s.body.includes('"refresh_token"'),
  ).length;

// burst sends m requests from every tab at once and waits for all answers.
async function burst(
  b: Browser,
  tabs: GatepassClient[],
  m: number,
): Promise<number[]> {
  const pending = Promise.all(
    tabs.flatMap((tab, t) =>
      Array.from({ length: m }, (_, i) => tab.fetch(`/api/t${t}/r${i}`)),
    ),
  );
  await b.clock.advance(5_000);
  return (await pending).map((res) => res.status);
}

describe("tabs in cookie mode", () => {
  it("tell each other about a sign-in", async () => {
    const b = browser("cookie");
    const a = b.tab();
    const other = b.tab();
    const events = new Recorder(other);
    await a.signIn("demo", "right");
    await b.clock.advance(0);
    assert.equal(other.status, "signedIn");
    assert.deepEqual(events.events, [
      { type: "signedIn", event: { origin: "otherTab", user: null } },
    ]);
  });

  it("make one refresh for N tabs x M parallel 401s (Web Locks)", async () => {
    const b = browser("cookie");
    const tabs = [b.tab(), b.tab(), b.tab()];
    await tabs[0]?.signIn("demo", "right");
    await b.clock.advance(0);
    b.server.expireAccess();
    b.server.latency = 30;

    const statuses = await burst(b, tabs, 4);
    assert.deepEqual(statuses, Array(12).fill(200));
    assert.equal(cookieRefreshes(b), 1);
    assert.ok(b.locks.requests >= 1);
    for (const tab of tabs) {
      assert.equal(tab.status, "signedIn");
    }
  });

  it("make one refresh ahead of expiry although every tab's timer fires", async () => {
    const b = browser("cookie");
    b.server.expiresIn = 3;
    b.server.latency = 100;
    const tabs = [b.tab(), b.tab(), b.tab()];
    const events = tabs.map((tab) => new Recorder(tab));
    // Signed in when the answer arrives, at 100 ms: the refresh is due
    // 2.4 s after the request was sent, at 2400 ms.
    const signIn = tabs[1]?.signIn("demo", "right");
    await b.clock.advance(100);
    await signIn;

    await b.clock.advance(2_299);
    assert.equal(cookieRefreshes(b), 0);
    await b.clock.advance(1_000);
    assert.equal(cookieRefreshes(b), 1);
    for (const e of events) {
      assert.equal(e.types().at(-1), "refreshed");
    }
    for (const tab of tabs) tab.close();
  });

  it("need no broadcast to skip the refresh: the shared record is read under the lock", async () => {
    const b = browser("cookie");
    const tabs = [b.tab(), b.tab()];
    await tabs[0]?.signIn("demo", "right");
    await b.clock.advance(0);
    b.server.expireAccess();
    b.server.latency = 30;
    b.hub.held = true; // no message gets through until release

    const statuses = await burst(b, tabs, 3);
    assert.deepEqual(statuses, Array(6).fill(200));
    assert.equal(cookieRefreshes(b), 1);
    b.hub.release();
  });

  it("fall back to BroadcastChannel claims without Web Locks", async () => {
    const b = browser("cookie", { webLocks: false });
    const tabs = [b.tab(), b.tab(), b.tab()];
    await tabs[0]?.signIn("demo", "right");
    await b.clock.advance(0);
    b.server.expireAccess();
    b.server.latency = 30;

    const statuses = await burst(b, tabs, 3);
    assert.deepEqual(statuses, Array(9).fill(200));
    assert.equal(cookieRefreshes(b), 1);
    assert.equal(b.locks.requests, 0);
  });

  it("sign out together, and none refreshes afterwards", async () => {
    const b = browser("cookie");
    const a = b.tab();
    const other = b.tab();
    const events = new Recorder(other);
    await a.signIn("demo", "right");
    await b.clock.advance(0);
    await a.signOut();
    await b.clock.advance(0);
    assert.equal(other.status, "signedOut");
    assert.deepEqual(events.events.at(-1), {
      type: "signedOut",
      event: { origin: "otherTab", reason: "signOut" },
    });
    assert.equal(b.localStorage.items.size, 0);

    const res = await other.fetch("/api/x");
    assert.equal(res.status, 401);
    await b.clock.advance(3_600_000);
    assert.equal(cookieRefreshes(b), 0);
  });

  it("hand the rotated CSRF token to each other on another origin", async () => {
    const b = browser("cookie", { crossOrigin: true });
    const a = b.tab();
    const other = b.tab();
    await a.signIn("demo", "right");
    await b.clock.advance(0);
    await a.refresh(); // the server now wants csrf-2
    await b.clock.advance(0);

    const res = await other.fetch("/api/x", { method: "POST" });
    assert.equal(res.status, 200);
    assert.equal(b.server.log.at(-1)?.headers.get("X-CSRF-Token"), "csrf-2");
  });

  it("share the session with a tab opened later", async () => {
    const b = browser("cookie");
    const a = b.tab();
    await a.signIn("demo", "right");
    const later = b.tab();
    assert.equal(later.status, "signedIn");
    a.close();
    later.close();
  });
});

describe("tabs in token mode", () => {
  it("keep separate sessions with the default memory storage", async () => {
    const b = browser("token");
    const a = b.tab();
    const other = b.tab();
    await a.signIn("demo", "right");
    await b.clock.advance(0);
    assert.equal(other.status, "signedOut");
    assert.equal(b.localStorage.items.size, 0);
  });

  it("share one refresh and its access token with opted-in localStorage", async () => {
    const b = browser("token");
    const tabs = [
      b.tab({ storage: b.localStorage }),
      b.tab({ storage: b.localStorage }),
    ];
    await tabs[0]?.signIn("demo", "right");
    await b.clock.advance(0);
    assert.equal(tabs[1]?.status, "signedIn");

    b.server.expireAccess();
    b.server.latency = 30;
    const statuses = await burst(b, tabs, 4);
    assert.deepEqual(statuses, Array(8).fill(200));
    assert.equal(tokenRefreshes(b), 1);
    const last = b.server.log
      .filter((s) => s.path.startsWith("/api/t1/"))
      .at(-1);
    assert.equal(last?.headers.get("Authorization"), "Bearer at-2");
  });

  it("wait for the broadcast token when the record changed under the lock", async () => {
    const b = browser("token");
    const tabs = [
      b.tab({ storage: b.localStorage }),
      b.tab({ storage: b.localStorage }),
    ];
    await tabs[0]?.signIn("demo", "right");
    await b.clock.advance(0);
    b.server.expireAccess();
    b.server.latency = 30;
    b.hub.held = true;

    const pending = Promise.all(tabs.map((tab, t) => tab.fetch(`/api/t${t}`)));
    await b.clock.advance(200);
    b.hub.release();
    await b.clock.advance(200);
    const statuses = (await pending).map((r) => r.status);
    assert.deepEqual(statuses, [200, 200]);
    assert.equal(tokenRefreshes(b), 1);
  });

  it("ignore other tabs' news when each tab has its own storage", async () => {
    const b = browser("token");
    const a = b.tab({ storage: new MemoryStorage() });
    const other = b.tab({ storage: new MemoryStorage() });
    await other.signIn("demo", "right"); // at-1
    await a.signIn("demo", "right"); // at-2, a different session
    await b.clock.advance(0);
    assert.equal(other.status, "signedIn");

    await a.signOut();
    await b.clock.advance(0);
    assert.equal(other.status, "signedIn");

    await other.fetch("/api/mine");
    const sent = b.server.log.find((s) => s.path === "/api/mine");
    assert.equal(sent?.headers.get("Authorization"), "Bearer at-1");
  });
});
