// Test doubles: a fake clock with timers, a fake gatepass server behind a
// fake fetch, and fake Web Locks, BroadcastChannel and Web Storage that
// several client instances ("tabs") can share.

import {
  createClient,
  type ChannelLike,
  type ClientOptions,
  type Clock,
  type GatepassClient,
  type GatepassEvents,
  type LockManagerLike,
  type Platform,
  type StorageLike,
} from "@gatepass/client";

/** flush lets pending promise chains and queued microtasks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/** FakeClock starts at a fixed time and moves only when advanced. */
export class FakeClock implements Clock {
  private t = Date.UTC(2030, 0, 1);
  private nextId = 1;
  private timers: Timer[] = [];

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ id, at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  }

  /** pending counts the timers not yet fired. */
  get pending(): number {
    return this.timers.length;
  }

  /** advance moves time forward, firing due timers in order. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flush();
      const due = this.timers
        .filter((timer) => timer.at <= end)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) {
        break;
      }
      this.timers = this.timers.filter((timer) => timer !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = end;
    await flush();
  }
}

/** Sent is one request as the fake server saw it. */
export interface Sent {
  readonly method: string;
  readonly path: string;
  readonly headers: Headers;
  readonly credentials: RequestCredentials | undefined;
  readonly body: string;
}

type Reply = { status: number; body?: unknown; headers?: HeadersInit };

/**
 * FakeServer speaks the gatepass HTTP contract in both modes. Tokens are
 * counters; only the newest access token is valid, and a refresh token works
 * once. Cookie mode is modelled by two flags instead of real cookies.
 */
export class FakeServer {
  readonly log: Sent[] = [];
  expiresIn = 900;
  /** latency delays every answer by this many fake milliseconds. */
  latency = 0;
  /** down makes fetch reject, as it does when offline. */
  down = false;
  /** override answers a path before the normal routes. */
  override: ((sent: Sent) => Reply | null) | null = null;

  // token mode
  private serial = 0;
  accessToken: string | null = null;
  refreshToken: string | null = null;
  // cookie mode
  cookieAccessValid = false;
  cookieSessionAlive = false;
  /** csrf is the CSRF cookie's value; it changes on every sign-in and refresh. */
  csrf = "csrf-0";
  /** csrfInBody adds csrf_token to session answers, as the server does. */
  csrfInBody = true;
  private csrfSerial = 0;

  constructor(private readonly clock: FakeClock) {}

  /** fetch is the FetchLike to hand to createClient. */
  readonly fetch = async (
    input: RequestInfo | URL,
    init?: RequestInit,
  ): Promise<Response> => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    const sent: Sent = {
      method: req.method,
      path: url.pathname + url.search,
      headers: req.headers,
      credentials: init?.credentials,
      body: req.body === null ? "" : await req.text(),
    };
    this.log.push(sent);
    if (this.latency > 0) {
      await new Promise((r) =>
        this.clock.setTimeout(() => r(null), this.latency),
      );
    }
    if (this.down) {
      throw new TypeError("fetch failed");
    }
    const reply = this.override?.(sent) ?? this.route(sent);
    const headers = new Headers(reply.headers);
    headers.set("Content-Type", "application/json");
    const body = reply.body === undefined ? "{}" : JSON.stringify(reply.body);
    return new Response(body, { status: reply.status, headers });
  };

  /** count returns how many requests went to method and path. */
  count(method: string, path: string): number {
    return this.log.filter((s) => s.method === method && s.path === path)
      .length;
  }

  /** expireAccess makes the current access token (or cookie) stale. */
  expireAccess(): void {
    this.accessToken = null;
    this.cookieAccessValid = false;
  }

  private route(s: Sent): Reply {
    const key = `${s.method} ${s.path.split("?")[0]}`;
    switch (key) {
      case "POST /oauth/token":
        return this.token(JSON.parse(s.body) as Record<string, string>);
      case "POST /oauth/revoke":
        this.refreshToken = null;
        this.accessToken = null;
        return { status: 200 };
      case "POST /auth/login":
        return this.login(JSON.parse(s.body) as Record<string, string>, 200);
      case "POST /auth/signup":
        return this.signup(JSON.parse(s.body) as Record<string, string>);
      case "POST /auth/refresh":
        return this.csrfFails(s) ?? this.cookieRefresh();
      case "POST /auth/logout":
        this.cookieSessionAlive = false;
        this.cookieAccessValid = false;
        return this.csrfFails(s) ?? { status: 200 };
      case "GET /auth/me":
        return this.authFails(s) ?? { status: 200, body: me };
      case "GET /auth/sessions":
        return this.authFails(s) ?? { status: 200, body: sessions };
      default:
        if (key.startsWith("DELETE /auth/sessions/")) {
          return this.authFails(s) ?? this.csrfFails(s) ?? { status: 200 };
        }
        if (s.path.startsWith("/api/")) {
          const fail = this.authFails(s) ?? this.csrfFails(s);
          return fail ?? { status: 200, body: { ok: true, path: s.path } };
        }
        return { status: 404, body: { error: "not_found" } };
    }
  }

  private token(body: Record<string, string>): Reply {
    if (body["grant_type"] === "password") {
      if (body["password"] !== "right") {
        return invalidGrant("wrong username or password");
      }
    } else if (body["grant_type"] === "refresh_token") {
      if (
        !body["refresh_token"] ||
        body["refresh_token"] !== this.refreshToken
      ) {
        return invalidGrant("refresh token is invalid or was used");
      }
    } else {
      return { status: 400, body: { error: "unsupported_grant_type" } };
    }
    this.serial++;
    this.accessToken = `at-${this.serial}`;
    this.refreshToken = `rt-${this.serial}`;
    return {
      status: 200,
      body: {
        access_token: this.accessToken,
        token_type: "Bearer",
        expires_in: this.expiresIn,
        refresh_token: this.refreshToken,
        scope: "profile email",
      },
    };
  }

  private login(body: Record<string, string>, status: number): Reply {
    if (body["password"] !== "right") {
      return invalidGrant("wrong username or password");
    }
    this.cookieSessionAlive = true;
    this.cookieAccessValid = true;
    return { status, body: this.cookieGrant() };
  }

  private signup(body: Record<string, string>): Reply {
    if (body["password"] === "password") {
      return {
        status: 400,
        body: {
          error: "invalid_request",
          error_description: "some fields are invalid",
          fields: { password: "password is too common" },
        },
      };
    }
    return this.login({ password: "right" }, 201);
  }

  private cookieRefresh(): Reply {
    if (!this.cookieSessionAlive) {
      return invalidGrant("session ended");
    }
    this.cookieAccessValid = true;
    return { status: 200, body: this.cookieGrant() };
  }

  // cookieGrant answers a cookie sign-in or refresh, rotating the CSRF token.
  private cookieGrant(): unknown {
    this.csrf = `csrf-${++this.csrfSerial}`;
    return {
      expires_in: this.expiresIn,
      scope: "profile email",
      session_id: "s1",
      ...(this.csrfInBody ? { csrf_token: this.csrf } : {}),
      user: { user_id: "1", username: "demo", email: "demo@example.com" },
    };
  }

  // authFails answers 401 unless the request carries the current access
  // token (bearer, or the cookie flag when credentials are included).
  private authFails(s: Sent): Reply | null {
    const bearer = s.headers.get("Authorization");
    if (bearer !== null) {
      return bearer === `Bearer ${this.accessToken}` && this.accessToken
        ? null
        : {
            status: 401,
            body: { error: "invalid_token", error_description: "expired" },
            headers: {
              "WWW-Authenticate":
                'Bearer realm="gatepass", error="invalid_token"',
            },
          };
    }
    if (s.credentials === "include" && this.cookieAccessValid) {
      return null;
    }
    // No credentials at all: the current server's missing-token answer.
    return {
      status: 401,
      body: { error: "unauthorized", error_description: "no token" },
      headers: { "WWW-Authenticate": 'Bearer realm="gatepass"' },
    };
  }

  private csrfFails(s: Sent): Reply | null {
    if (
      s.credentials !== "include" ||
      ["GET", "HEAD", "OPTIONS"].includes(s.method)
    ) {
      return null;
    }
    return s.headers.get("X-CSRF-Token") === this.csrf
      ? null
      : { status: 403, body: { error: "access_denied" } };
  }
}

function invalidGrant(description: string): Reply {
  return {
    status: 400,
    body: { error: "invalid_grant", error_description: description },
  };
}

const me = {
  user_id: "1",
  username: "demo",
  email: "demo@example.com",
  scope: "profile email",
  session_id: "s1",
  client_id: "web",
  expires_at: "2030-01-01T00:15:00Z",
};

const sessions = {
  sessions: [
    {
      id: "s1",
      user_agent: "Firefox",
      ip_address: "192.0.2.1",
      created_at: "2030-01-01T00:00:00Z",
      last_used_at: "2030-01-01T00:00:00Z",
      expires_at: "2030-01-08T00:00:00Z",
      current: true,
    },
    {
      id: "s2",
      user_agent: "curl",
      ip_address: "192.0.2.2",
      created_at: "2029-12-31T00:00:00Z",
      last_used_at: "2029-12-31T00:00:00Z",
      expires_at: "2030-01-07T00:00:00Z",
      current: false,
    },
  ],
};

/** FakeLocks queues lock requests per name, like navigator.locks. */
export class FakeLocks implements LockManagerLike {
  requests = 0;
  private readonly tails = new Map<string, Promise<unknown>>();

  request<T>(
    name: string,
    callback: (lock: unknown) => Promise<T>,
  ): Promise<T> {
    this.requests++;
    const tail = this.tails.get(name) ?? Promise.resolve();
    const run = tail.then(() => callback({ name, mode: "exclusive" }));
    this.tails.set(
      name,
      run.catch(() => undefined),
    );
    return run;
  }
}

/**
 * ChannelHub connects FakeChannels of the same name, delivering a structured
 * clone of each message to the others asynchronously. While held, messages
 * queue until release, to model a slow channel.
 */
export class ChannelHub {
  held = false;
  private readonly channels = new Set<FakeChannel>();
  private queue: Array<() => void> = [];

  readonly open = (name: string): ChannelLike => {
    const channel = new FakeChannel(this, name);
    this.channels.add(channel);
    return channel;
  };

  send(from: FakeChannel, data: unknown): void {
    for (const to of this.channels) {
      if (to !== from && to.name === from.name && !to.closed) {
        const copy: unknown = structuredClone(data);
        const deliver = (): void => to.dispatch(copy);
        if (this.held) {
          this.queue.push(deliver);
        } else {
          queueMicrotask(deliver);
        }
      }
    }
  }

  release(): void {
    this.held = false;
    const queue = this.queue;
    this.queue = [];
    for (const deliver of queue) {
      deliver();
    }
  }
}

class FakeChannel implements ChannelLike {
  closed = false;
  private readonly listeners: Array<(event: { data: unknown }) => void> = [];

  constructor(
    private readonly hub: ChannelHub,
    readonly name: string,
  ) {}

  postMessage(message: unknown): void {
    if (this.closed) {
      throw new Error("InvalidStateError: channel closed");
    }
    this.hub.send(this, message);
  }

  addEventListener(
    _type: "message",
    listener: (event: { data: unknown }) => void,
  ): void {
    this.listeners.push(listener);
  }

  close(): void {
    this.closed = true;
  }

  dispatch(data: unknown): void {
    if (!this.closed) {
      for (const listener of this.listeners) {
        listener({ data });
      }
    }
  }
}

/** MemoryStorage is a Web Storage stand-in. */
export class MemoryStorage implements StorageLike {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

/** noPlatform turns off every browser facility, for single-tab tests. */
export function noPlatform(cookies = ""): Platform {
  return {
    locks: null,
    openChannel: null,
    sharedState: null,
    readCookies: () => cookies,
  };
}

/** Recorder collects a client's events in order. */
export class Recorder {
  readonly events: Array<{ type: keyof GatepassEvents; event: unknown }> = [];

  constructor(client: GatepassClient) {
    for (const type of ["signedIn", "refreshed", "signedOut"] as const) {
      client.on(type, (event) => this.events.push({ type, event }));
    }
  }

  types(): string[] {
    return this.events.map((e) => e.type);
  }
}

/** baseUrl is where the fake server lives. */
export const baseUrl = "https://auth.example.test";

/** makeClient creates a client wired to a fake server and clock. */
export function makeClient(
  server: FakeServer,
  clock: FakeClock,
  options: Partial<ClientOptions> & Pick<ClientOptions, "mode">,
): GatepassClient {
  return createClient({
    baseUrl,
    fetch: server.fetch,
    clock,
    platform: noPlatform(),
    ...options,
  });
}
