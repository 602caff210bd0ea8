// The gatepass client: sign-in and sign-out, the account calls, and the one
// fetch wrapper every request goes through, with refreshes that are single
// flight inside a tab and, where tabs share a session, across tabs.

import {
  GatepassError,
  NetworkError,
  InvalidGrantError,
  assertNever,
  errorFromResponse,
  invalidResponse,
  type AnyGatepassError,
} from "./errors.js";
import {
  Emitter,
  type EventOrigin,
  type GatepassEvents,
  type Listener,
} from "./events.js";
import {
  defaultPlatform,
  randomId,
  systemClock,
  type Clock,
  type FetchLike,
  type Platform,
  type StorageLike,
} from "./platform.js";
import { RecordStore, TabLink, type SessionRecord } from "./tabs.js";
import {
  decodeCookieGrant,
  decodeMe,
  decodeSessions,
  decodeTokenGrant,
  type Me,
  type SessionInfo,
  type SessionMessage,
  type SignOutReason,
  type TabMessage,
  type User,
} from "./wire.js";

/**
 * Mode is how the browser holds the session. cookie: HttpOnly cookies set by
 * the server, invisible to JavaScript (recommended). token: OAuth tokens held
 * by this client, the access token in memory only.
 */
export type Mode = "cookie" | "token";

/** SignOutScope: this session, every other session, or all of them. */
export type SignOutScope = "local" | "others" | "global";

/** SessionStatus is what the client believes about the session. */
export type SessionStatus = "unknown" | "signedIn" | "signedOut";

/** ClientOptions configures createClient. */
export interface ClientOptions {
  readonly mode: Mode;
  /** baseUrl is where gatepass is served, e.g. "https://auth.example.com". */
  readonly baseUrl: string;
  /** fetch replaces the global fetch, e.g. in tests. */
  readonly fetch?: FetchLike;
  /** clock replaces Date.now and the global timers, e.g. in tests. */
  readonly clock?: Clock;
  /**
   * refreshMargin is how many seconds before expiry to refresh. Default:
   * 60 s or a fifth of the token's lifetime, whichever is smaller. A larger
   * value is capped at half the lifetime so refreshes cannot run back to back.
   */
  readonly refreshMargin?: number;
  /**
   * storage opts token mode in to keeping the refresh token in Web Storage.
   * localStorage shares the session across tabs and reloads, and the tabs
   * then coordinate their refreshes; sessionStorage keeps one session per
   * tab across reloads. Any script running on the page, including one
   * injected through XSS, can read it. Default: memory only, so a reload
   * signs out. Ignored in cookie mode.
   */
  readonly storage?: StorageLike;
  /** lockName names the Web Lock, the BroadcastChannel and storage keys. */
  readonly lockName?: string;
  /**
   * trustedOrigins lists further origins (besides baseUrl's) that the fetch
   * wrapper sends credentials to, e.g. your API's. Others get none.
   */
  readonly trustedOrigins?: readonly string[];
  /** platform replaces browser facilities, e.g. in tests. */
  readonly platform?: Partial<Platform>;
}

/** SignInResult is what signIn and signUp return. */
export type SignInResult =
  | {
      readonly mode: "cookie";
      readonly user: User;
      readonly sessionId: string;
      readonly scope: string;
      readonly expiresIn: number;
    }
  | {
      readonly mode: "token";
      readonly scope: string;
      readonly expiresIn: number;
    };

/** SignUpDetails is a new account. */
export interface SignUpDetails {
  readonly username: string;
  readonly email: string;
  readonly password: string;
}

/** GatepassClient is the client createClient returns. */
export interface GatepassClient {
  readonly mode: Mode;
  readonly status: SessionStatus;
  /** signIn signs in with a password; InvalidGrantError if it is wrong. */
  signIn(username: string, password: string): Promise<SignInResult>;
  /** signUp creates an account and signs in to it. */
  signUp(details: SignUpDetails): Promise<SignInResult>;
  /** signOut ends this session (local), the others, or all (global). */
  signOut(scope?: SignOutScope): Promise<void>;
  /** me returns the signed-in user. */
  me(): Promise<Me>;
  /** sessions lists the user's sessions. */
  sessions(): Promise<SessionInfo[]>;
  /** revokeSession ends one session; ending the current one signs out. */
  revokeSession(id: string): Promise<void>;
  /** refresh renews the access token now, sharing any refresh in flight. */
  refresh(): Promise<void>;
  /**
   * fetch sends a request with the session's credentials, refreshing ahead
   * of expiry, and once more after a 401 invalid_token if the body can be
   * sent again. Relative URLs resolve against baseUrl.
   */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** on subscribes to an event and returns the unsubscribe function. */
  on<K extends keyof GatepassEvents>(
    type: K,
    listener: Listener<K>,
  ): () => void;
  off<K extends keyof GatepassEvents>(type: K, listener: Listener<K>): void;
  /** close stops timers and cross-tab messages and drops all listeners. */
  close(): void;
}

/** createClient returns a client for the gatepass server at baseUrl. */
export function createClient(options: ClientOptions): GatepassClient {
  return new Client(options);
}

// Session is this tab's view. An active session in cookie mode has no
// access token: the browser holds it in a cookie.
type Session =
  | { readonly kind: "unknown" }
  | { readonly kind: "signedOut" }
  | {
      readonly kind: "active";
      readonly gen: string;
      readonly expiresAt: number;
      readonly refreshAt: number;
      readonly accessToken: string | null;
    };

// Grant is a successful sign-in or refresh, whatever the mode.
interface Grant {
  readonly expiresIn: number;
  readonly accessToken: string | null;
  readonly refreshToken: string | null;
  readonly csrfToken: string | null;
  readonly sessionId: string | null;
}

// CallPolicy says what the fetch wrapper does for one kind of call.
interface CallPolicy {
  // session: attach the access token, refresh ahead, retry once on a 401.
  readonly session: boolean;
  // csrf: send X-CSRF-Token on unsafe methods in cookie mode.
  readonly csrf: boolean;
  // internal: a call to gatepass itself; token mode sends no cookies.
  readonly internal: boolean;
}

const userCall: CallPolicy = { session: true, csrf: true, internal: false };
const accountCall: CallPolicy = { session: true, csrf: true, internal: true };
const grantCall: CallPolicy = { session: false, csrf: false, internal: true };
const refreshCall: CallPolicy = { session: false, csrf: true, internal: true };

// The CSRF cookie: __Host- prefixed over HTTPS, plain on http://localhost.
const csrfCookies = ["__Host-gatepass_csrf", "gatepass_csrf"];
const safeMethods = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

// A refresh request that hangs holds the cross-tab lock, so give up on it.
// Network failures are retried, but only soon after the first try: a refresh
// whose answer was lost may already have rotated the token, and only inside
// the server's reuse grace interval (10 s) may the old token come back
// without the server taking it for theft and ending the session.
const refreshTimeoutMs = 6_000;
const refreshRetryDelaysMs = [1_000, 2_000];
const refreshRetryWindowMs = 8_000;
// How long a tab that finds a newer token-mode record waits for the access
// token the refreshing tab broadcasts, before refreshing itself.
const adoptWaitMs = 2_000;
// How soon a failed background refresh is tried again.
const backgroundRetryMs = 5_000;
// Timers longer than 2^31-1 ms fire at once in browsers.
const maxTimerMs = 2_147_483_647;

class Client implements GatepassClient {
  readonly mode: Mode;
  private readonly root: string;
  private readonly trusted: ReadonlySet<string>;
  private readonly fetchImpl: FetchLike;
  private readonly clock: Clock;
  private readonly margin: number | undefined;
  private readonly platform: Platform;
  private readonly store: RecordStore;
  private readonly tabs: TabLink;
  private readonly emitter = new Emitter();

  private session: Session = { kind: "unknown" };
  private sessionId: string | null = null;
  // epoch changes whenever a session begins or ends, so the result of a
  // refresh that started before is dropped.
  private epoch = 0;
  private inflight: Promise<void> | null = null;
  private timer: unknown = null;
  private lastRemote: SessionMessage | null = null;
  private readonly remoteWaiters = new Set<(m: SessionMessage) => void>();
  private closed = false;

  constructor(options: ClientOptions) {
    if (options.mode !== "cookie" && options.mode !== "token") {
      throw new TypeError(`gatepass: unknown mode ${String(options.mode)}`);
    }
    this.mode = options.mode;
    this.root = apiRoot(options.baseUrl);
    const origin = new URL(this.root).origin;
    this.trusted = new Set([origin, ...(options.trustedOrigins ?? [])]);
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.clock = options.clock ?? systemClock;
    this.margin = options.refreshMargin;
    this.platform = { ...defaultPlatform(), ...options.platform };

    // Cookie mode always shares the session with other tabs (the browser
    // shares the cookies). Token mode shares it only when the opted-in
    // storage is the one all tabs see (localStorage): with sessionStorage
    // each tab has its own session, and its access tokens stay in the tab.
    const name = options.lockName ?? `gatepass:${this.mode}:${this.root}`;
    const shared =
      this.mode === "cookie" ||
      (options.storage !== undefined &&
        options.storage === this.platform.sharedState);
    this.store =
      this.mode === "cookie"
        ? new RecordStore(this.platform.sharedState, `${name}:state`)
        : new RecordStore(options.storage ?? null, `${name}:session`);
    this.tabs = new TabLink({
      name,
      shared,
      locks: this.platform.locks,
      openChannel: this.platform.openChannel,
      clock: this.clock,
      newId: randomId,
    });
    this.tabs.onMessage((message) => this.receive(message));
    this.restore();
  }

  get status(): SessionStatus {
    const s = this.session;
    switch (s.kind) {
      case "unknown":
        return "unknown";
      case "active":
        return "signedIn";
      case "signedOut":
        return "signedOut";
      default:
        return assertNever(s);
    }
  }

  // restore picks up what a previous page or another tab left: in cookie
  // mode a still-fresh record means the cookies are live; in token mode a
  // stored refresh token means the first request must refresh.
  private restore(): void {
    const record = this.store.read();
    switch (this.mode) {
      case "cookie":
        if (record !== null && this.clock.now() < record.expiresAt) {
          this.activate(record, null);
        }
        return;
      case "token":
        if ((record?.refreshToken ?? null) === null) {
          this.session = { kind: "signedOut" };
        }
        return;
      default:
        assertNever(this.mode);
    }
  }

  // ---- account calls ----

  async signIn(username: string, password: string): Promise<SignInResult> {
    const startedAt = this.clock.now();
    switch (this.mode) {
      case "token": {
        const body = { grant_type: "password", username, password };
        const res = await this.call("/oauth/token", jsonPost(body), grantCall);
        const grant = decodeTokenGrant(await this.json(res), res.status);
        const cookieOnly = { csrfToken: null, sessionId: null };
        this.begin({ ...grant, ...cookieOnly }, startedAt, null);
        return {
          mode: "token",
          scope: grant.scope,
          expiresIn: grant.expiresIn,
        };
      }
      case "cookie": {
        const body = { username, password };
        const res = await this.call("/auth/login", jsonPost(body), grantCall);
        return this.beginCookie(res, startedAt);
      }
      default:
        return assertNever(this.mode);
    }
  }

  // signUp in token mode signs in with the password grant afterwards: the
  // signup answer carries cookies, which token mode does not accept.
  async signUp(details: SignUpDetails): Promise<SignInResult> {
    const startedAt = this.clock.now();
    const body = {
      username: details.username,
      email: details.email,
      password: details.password,
    };
    const res = await this.call("/auth/signup", jsonPost(body), grantCall);
    switch (this.mode) {
      case "cookie":
        return this.beginCookie(res, startedAt);
      case "token":
        await this.check(res);
        return this.signIn(details.username, details.password);
      default:
        return assertNever(this.mode);
    }
  }

  // signOut ends sessions on the server. In token mode, signing out of this
  // session drops the tokens this tab holds even when the server cannot be
  // reached, and then reports the failure. Otherwise the session lives in
  // cookies or on the server, so it counts as ended only once the server says
  // so (or answers 401: it is gone already); a failure is thrown and the client
  // stays signed in, so the page can tell the user instead of pretending.
  async signOut(scope: SignOutScope = "local"): Promise<void> {
    if (this.mode === "token" && scope === "local") {
      try {
        await this.revokeRefreshToken();
      } finally {
        this.end("signOut", "thisTab");
      }
      return;
    }

    const path = `/auth/logout?scope=${scope}`;
    const res = await this.call(path, { method: "POST" }, accountCall);
    if (res.status !== 401) {
      await this.check(res);
    }
    if (scope !== "others") {
      this.end("signOut", "thisTab");
    }
  }

  async me(): Promise<Me> {
    const startedAt = this.clock.now();
    const res = await this.call("/auth/me", { method: "GET" }, accountCall);
    const me = decodeMe(await this.json(res), res.status);
    this.sessionId = me.sessionId;
    this.learnExpiry(me, res, startedAt);
    return me;
  }

  async sessions(): Promise<SessionInfo[]> {
    const init = { method: "GET" };
    const res = await this.call("/auth/sessions", init, accountCall);
    const list = decodeSessions(await this.json(res), res.status);
    this.sessionId = list.find((s) => s.current)?.id ?? this.sessionId;
    return list;
  }

  async revokeSession(id: string): Promise<void> {
    const path = `/auth/sessions/${encodeURIComponent(id)}`;
    const res = await this.call(path, { method: "DELETE" }, accountCall);
    await this.check(res);
    if (id === this.sessionId) {
      this.end("sessionRevoked", "thisTab");
    }
  }

  refresh(): Promise<void> {
    return this.refreshFrom(this.currentGen());
  }

  on<K extends keyof GatepassEvents>(
    type: K,
    listener: Listener<K>,
  ): () => void {
    this.emitter.on(type, listener);
    return () => this.emitter.off(type, listener);
  }

  off<K extends keyof GatepassEvents>(type: K, listener: Listener<K>): void {
    this.emitter.off(type, listener);
  }

  close(): void {
    this.closed = true;
    this.cancelTimer();
    this.tabs.close();
    this.emitter.clear();
  }

  private async beginCookie(
    res: Response,
    startedAt: number,
  ): Promise<SignInResult> {
    const grant = decodeCookieGrant(await this.json(res), res.status);
    const { expiresIn, sessionId, csrfToken, user, scope } = grant;
    const tokens = { accessToken: null, refreshToken: null, csrfToken };
    this.begin({ expiresIn, sessionId, ...tokens }, startedAt, user);
    return { mode: "cookie", user, sessionId, scope, expiresIn };
  }

  private async revokeRefreshToken(): Promise<void> {
    const token = this.store.read()?.refreshToken ?? null;
    if (token !== null) {
      const init = jsonPost({ token });
      await this.check(await this.call("/oauth/revoke", init, grantCall));
    }
  }

  // learnExpiry gives a cookie-mode page that has not refreshed yet a
  // schedule: the remaining lifetime is the server's expires_at minus the
  // server's Date, so the device clock's skew does not enter. Cross-origin
  // answers expose no Date header; the first 401 then triggers the refresh.
  private learnExpiry(me: Me, res: Response, startedAt: number): void {
    const serverNow = Date.parse(res.headers.get("Date") ?? "");
    const expiresAt = Date.parse(me.expiresAt);
    const remaining = (expiresAt - serverNow) / 1000;
    if (this.session.kind !== "unknown" || !(remaining > 0)) {
      return;
    }
    const gen = this.store.read()?.gen ?? randomId();
    const deadlines = this.deadlines(startedAt, remaining);
    this.activate({ gen, ...deadlines }, null);
  }

  // ---- the fetch wrapper ----

  readonly fetch = (
    input: RequestInfo | URL,
    init?: RequestInit,
  ): Promise<Response> => this.send(input, init, userCall);

  private call(
    path: string,
    init: RequestInit,
    policy: CallPolicy,
  ): Promise<Response> {
    return this.send(this.root + path, init, policy);
  }

  // send is the one fetch wrapper. With a session policy it refreshes a
  // token that is due, sends, and after a 401 that blames the token it
  // refreshes and sends once more. Never more: a second 401 goes back to
  // the caller.
  private async send(
    input: RequestInfo | URL,
    init: RequestInit | undefined,
    policy: CallPolicy,
  ): Promise<Response> {
    const target = this.target(input);
    const trusted = this.trusted.has(target.url.origin);
    if (!policy.session || !trusted) {
      return (await this.attempt(target, init, policy, trusted)).response;
    }

    await this.refreshIfDue();
    const first = await this.attempt(target, init, policy, true);
    if (
      first.response.status !== 401 ||
      this.session.kind === "signedOut" ||
      !(await blamesToken(first.response))
    ) {
      return first.response;
    }

    try {
      await this.refreshFrom(first.gen);
    } catch (err) {
      if (endsSession(err)) {
        return first.response;
      }
      throw err;
    }
    // A one-shot body (a ReadableStream) is gone; the caller must resend.
    if (!replayable(init, target.request)) {
      return first.response;
    }
    return (await this.attempt(target, init, policy, true)).response;
  }

  private target(input: RequestInfo | URL): Target {
    if (typeof input === "string") {
      return { url: new URL(input, this.root + "/"), request: null };
    } else if (input instanceof URL) {
      return { url: input, request: null };
    }
    return { url: new URL(input.url), request: input };
  }

  // attempt sends once. It notes the session generation whose credentials
  // went out, so a 401 refreshes only if nobody has refreshed since.
  private async attempt(
    target: Target,
    init: RequestInit | undefined,
    policy: CallPolicy,
    trusted: boolean,
  ): Promise<{ response: Response; gen: string | null }> {
    const { request } = target;
    const headers = new Headers(init?.headers ?? request?.headers);
    const method = (init?.method ?? request?.method ?? "GET").toUpperCase();
    const out: RequestInit = { ...init, method, headers };
    const gen = this.currentGen();

    if (trusted) {
      switch (this.mode) {
        case "token": {
          const s = this.session;
          if (policy.session && s.kind === "active" && s.accessToken) {
            headers.set("Authorization", `Bearer ${s.accessToken}`);
          }
          if (policy.internal) {
            out.credentials = "omit";
          }
          break;
        }
        case "cookie": {
          out.credentials = "include";
          const csrf =
            policy.csrf && !safeMethods.has(method) ? this.csrfToken() : null;
          if (csrf !== null) {
            headers.set("X-CSRF-Token", csrf);
          }
          break;
        }
        default:
          assertNever(this.mode);
      }
    }

    try {
      const resource = request ? request.clone() : target.url.href;
      return { response: await this.fetchImpl(resource, out), gen };
    } catch (err) {
      throw asNetworkError(err);
    }
  }

  // csrfToken reads the CSRF cookie. A page on another origin cannot see the
  // issuer's cookies, so it uses the csrf_token of the last sign-in or refresh
  // answer, kept in the shared record: the server rotates the token on every
  // refresh, so it must reach the other tabs and survive a reload. It is no
  // credential on its own: it only proves the request comes from our pages.
  private csrfToken(): string | null {
    const jar = new Map<string, string>();
    for (const pair of this.platform.readCookies().split(";")) {
      const at = pair.indexOf("=");
      if (at > 0) {
        jar.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
      }
    }
    for (const name of csrfCookies) {
      const value = jar.get(name);
      if (value) {
        return value;
      }
    }
    return this.store.read()?.csrfToken ?? null;
  }

  // refreshIfDue refreshes before a request when the timer has not (timers
  // in background tabs run late) or when token mode has a stored refresh
  // token but no access token yet. Failures are left to the 401 path.
  private async refreshIfDue(): Promise<void> {
    const s = this.session;
    let due: boolean;
    switch (s.kind) {
      case "active":
        due = this.clock.now() >= s.refreshAt;
        break;
      case "unknown":
        due = this.mode === "token";
        break;
      case "signedOut":
        due = false;
        break;
      default:
        return assertNever(s);
    }
    if (!due) {
      return;
    }
    try {
      await this.refreshFrom(this.currentGen());
    } catch (err) {
      if (!(err instanceof GatepassError)) {
        throw err;
      }
    }
  }

  // ---- refresh ----

  private currentGen(): string | null {
    return this.session.kind === "active" ? this.session.gen : null;
  }

  // refreshFrom makes sure the session has moved past generation staleGen:
  // at once if it already has, by joining the refresh in flight, or by
  // starting one under the cross-tab lock.
  private refreshFrom(staleGen: string | null): Promise<void> {
    if (this.session.kind === "signedOut") {
      return Promise.reject(sessionEnded());
    }
    if (this.currentGen() !== staleGen) {
      return Promise.resolve();
    }
    if (this.inflight === null) {
      const seen = this.store.read()?.gen ?? null;
      const epoch = this.epoch;
      this.inflight = this.tabs.mutex
        .run(() => this.refreshLocked(staleGen, seen, epoch))
        .finally(() => {
          this.inflight = null;
        });
    }
    return this.inflight;
  }

  // refreshLocked runs while this tab holds the lock. The shared record
  // tells whether another tab refreshed while this one waited; if so its
  // result is adopted and no request is made.
  private async refreshLocked(
    staleGen: string | null,
    seen: string | null,
    epoch: number,
  ): Promise<void> {
    if (this.session.kind === "signedOut") {
      throw sessionEnded();
    } else if (this.epoch !== epoch) {
      return; // signed in afresh meanwhile
    }

    const record = this.store.read();
    if (
      record !== null &&
      record.gen !== staleGen &&
      this.clock.now() < record.refreshAt &&
      (await this.adopt(record, record.gen !== seen))
    ) {
      return;
    }

    const startedAt = this.clock.now();
    let grant: Grant;
    try {
      grant = await this.retryNetwork(() => this.requestRefresh(record));
    } catch (err) {
      if (this.epoch === epoch && endsSession(err)) {
        this.end("invalid_grant", "thisTab");
      }
      throw err;
    }
    if (this.epoch === epoch) {
      this.commit(grant, startedAt, "refresh", null);
    }
  }

  // adopt takes over a record another tab wrote. Token mode also needs that
  // tab's access token, which comes over the channel: wait for it briefly
  // if the record changed while this tab waited for the lock.
  private async adopt(
    record: SessionRecord,
    changed: boolean,
  ): Promise<boolean> {
    const s = this.session;
    if (s.kind === "active" && s.gen === record.gen) {
      return true;
    }
    let accessToken: string | null = null;
    switch (this.mode) {
      case "cookie":
        break;
      case "token":
        accessToken =
          this.lastRemote?.gen === record.gen
            ? this.lastRemote.accessToken
            : changed
              ? await this.waitForRemote(record.gen)
              : null;
        if (accessToken === null) {
          return false;
        }
        break;
      default:
        assertNever(this.mode);
    }
    const s2 = this.session;
    if (s2.kind === "active" && s2.gen === record.gen) {
      return true; // the broadcast arrived and was applied meanwhile
    }
    this.activate(record, accessToken);
    this.announce(s.kind, "refresh", "otherTab", record.expiresIn, null);
    return true;
  }

  private waitForRemote(gen: string): Promise<string | null> {
    return new Promise((resolve) => {
      const finish = (token: string | null): void => {
        this.clock.clearTimeout(timer);
        this.remoteWaiters.delete(waiter);
        resolve(token);
      };
      const waiter = (m: SessionMessage): void => {
        if (m.gen === gen) {
          finish(m.accessToken);
        }
      };
      const timer = this.clock.setTimeout(() => finish(null), adoptWaitMs);
      this.remoteWaiters.add(waiter);
    });
  }

  private async requestRefresh(record: SessionRecord | null): Promise<Grant> {
    const timeout = new AbortController();
    const timer = this.clock.setTimeout(() => {
      timeout.abort(new NetworkError("refresh timed out"));
    }, refreshTimeoutMs);
    try {
      switch (this.mode) {
        case "token": {
          const token = record?.refreshToken ?? null;
          if (token === null) {
            throw sessionEnded();
          }
          const body = { grant_type: "refresh_token", refresh_token: token };
          const init = { ...jsonPost(body), signal: timeout.signal };
          const res = await this.call("/oauth/token", init, grantCall);
          const grant = decodeTokenGrant(await this.json(res), res.status);
          return { ...grant, csrfToken: null, sessionId: null };
        }
        case "cookie": {
          const init = { method: "POST", signal: timeout.signal };
          const res = await this.call("/auth/refresh", init, refreshCall);
          const grant = decodeCookieGrant(await this.json(res), res.status);
          const { expiresIn, sessionId, csrfToken } = grant;
          const tokens = { accessToken: null, refreshToken: null, csrfToken };
          return { expiresIn, sessionId, ...tokens };
        }
        default:
          return assertNever(this.mode);
      }
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  private async retryNetwork<T>(fn: () => Promise<T>): Promise<T> {
    const first = this.clock.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const delay = refreshRetryDelaysMs[attempt];
        if (
          !(err instanceof NetworkError) ||
          delay === undefined ||
          this.clock.now() + delay - first > refreshRetryWindowMs
        ) {
          throw err;
        }
        await new Promise<void>((r) => this.clock.setTimeout(r, delay));
      }
    }
  }

  // ---- session state ----

  private begin(grant: Grant, startedAt: number, user: User | null): void {
    this.epoch++;
    this.commit(grant, startedAt, "signIn", user);
  }

  // commit records a sign-in or refresh made by this tab, then tells the
  // other tabs: first the shared record, which they read under the lock,
  // then the broadcast, which lets them reschedule at once.
  private commit(
    grant: Grant,
    startedAt: number,
    cause: "signIn" | "refresh",
    user: User | null,
  ): void {
    const record: SessionRecord = {
      gen: randomId(),
      expiresIn: grant.expiresIn,
      ...this.deadlines(startedAt, grant.expiresIn),
      refreshToken: grant.refreshToken,
      csrfToken: grant.csrfToken,
    };
    this.store.write(record);
    this.sessionId = grant.sessionId ?? this.sessionId;
    const was = this.session.kind;
    this.activate(record, grant.accessToken);
    this.tabs.post({
      type: "session",
      cause,
      gen: record.gen,
      expiresIn: record.expiresIn,
      expiresAt: record.expiresAt,
      refreshAt: record.refreshAt,
      accessToken: grant.accessToken,
      csrfToken: grant.csrfToken,
      sessionId: this.sessionId,
    });
    this.announce(was, cause, "thisTab", grant.expiresIn, user);
  }

  private announce(
    was: Session["kind"],
    cause: "signIn" | "refresh",
    origin: EventOrigin,
    expiresIn: number,
    user: User | null,
  ): void {
    if (cause === "signIn" || was !== "active") {
      this.emitter.emit("signedIn", { origin, user });
    } else {
      this.emitter.emit("refreshed", { origin, expiresIn });
    }
  }

  private activate(
    at: { gen: string; expiresAt: number; refreshAt: number },
    accessToken: string | null,
  ): void {
    const { gen, expiresAt, refreshAt } = at;
    this.session = { kind: "active", gen, expiresAt, refreshAt, accessToken };
    this.schedule();
  }

  // end signs out. After it no refresh is attempted until a new sign-in,
  // here or (when tabs share the session) in another tab.
  private end(reason: SignOutReason, origin: EventOrigin): void {
    if (this.session.kind === "signedOut") {
      return;
    }
    this.epoch++;
    this.session = { kind: "signedOut" };
    this.sessionId = null;
    this.cancelTimer();
    if (origin === "thisTab") {
      this.store.clear();
      this.tabs.post({ type: "signedOut", reason });
    }
    this.emitter.emit("signedOut", { origin, reason });
  }

  // receive applies another tab's news. In token mode the news is only ours
  // if our storage holds the same record: tabs with sessionStorage each have
  // their own session but share the channel.
  private receive(message: TabMessage): void {
    switch (message.type) {
      case "session": {
        this.lastRemote = message;
        for (const waiter of [...this.remoteWaiters]) {
          waiter(message);
        }
        const { gen, expiresIn, expiresAt, refreshAt, csrfToken } = message;
        const times = { expiresIn, expiresAt, refreshAt };
        const record = { gen, ...times, refreshToken: null, csrfToken };
        if (this.mode === "token" && this.store.read()?.gen !== message.gen) {
          return;
        }
        this.store.observe(record);
        const s = this.session;
        if (s.kind === "active" && s.gen === message.gen) {
          return;
        }
        if (message.cause === "signIn") {
          this.epoch++;
        }
        this.sessionId = message.sessionId ?? this.sessionId;
        this.activate(record, message.accessToken);
        this.announce(
          s.kind,
          message.cause,
          "otherTab",
          message.expiresIn,
          null,
        );
        return;
      }
      case "signedOut":
        if (this.mode === "token" && this.store.read() !== null) {
          return;
        }
        this.end(message.reason, "otherTab");
        return;
      case "claim":
      case "held":
      case "release":
        return;
      default:
        assertNever(message);
    }
  }

  private deadlines(
    startedAt: number,
    expiresIn: number,
  ): { expiresAt: number; refreshAt: number } {
    // The lifetime is counted from when the request was sent, not when the
    // answer came, so latency can only make the client refresh early.
    const lead =
      this.margin === undefined
        ? Math.min(60, expiresIn / 5)
        : Math.min(Math.max(0, this.margin), expiresIn / 2);
    const expiresAt = startedAt + expiresIn * 1000;
    return { expiresAt, refreshAt: expiresAt - lead * 1000 };
  }

  private schedule(): void {
    this.cancelTimer();
    const s = this.session;
    if (s.kind !== "active" || this.closed) {
      return;
    }
    const delay = Math.max(0, s.refreshAt - this.clock.now());
    this.startTimer(s.gen, Math.min(delay, maxTimerMs));
  }

  private startTimer(gen: string, delay: number): void {
    this.cancelTimer();
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.onTimer(gen);
    }, delay);
  }

  private cancelTimer(): void {
    if (this.timer !== null) {
      this.clock.clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private onTimer(gen: string): void {
    const s = this.session;
    if (s.kind !== "active" || s.gen !== gen || this.closed) {
      return;
    } else if (this.clock.now() < s.refreshAt) {
      this.schedule(); // a clamped long delay
      return;
    }
    this.refreshFrom(gen).catch((err: unknown) => this.retryLater(err, gen));
  }

  // retryLater retries a failed background refresh while the token is
  // still valid. After expiry the next request's 401 takes over.
  private retryLater(err: unknown, gen: string): void {
    const s = this.session;
    if (s.kind !== "active" || s.gen !== gen || !isGatepassError(err)) {
      return;
    }
    let delay: number;
    switch (err.kind) {
      case "rate_limited":
        delay = (err.retryAfter ?? backgroundRetryMs / 1000) * 1000;
        break;
      case "network":
      case "http":
      case "invalid_request":
        delay = backgroundRetryMs;
        break;
      case "invalid_grant":
      case "unauthorized":
        return;
      default:
        return assertNever(err);
    }
    if (this.clock.now() + delay < s.expiresAt) {
      this.startTimer(gen, delay);
    }
  }

  // ---- responses ----

  private async check(res: Response): Promise<void> {
    if (!res.ok) {
      throw await errorFromResponse(res, this.clock.now());
    }
  }

  private async json(res: Response): Promise<unknown> {
    await this.check(res);
    const text = await res.text();
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw invalidResponse(res.status, "body is not JSON");
    }
  }
}

interface Target {
  readonly url: URL;
  readonly request: Request | null;
}

// apiRoot resolves baseUrl (relative to the page if need be) and drops the
// trailing slash, query and fragment, so endpoint paths can be appended.
function apiRoot(baseUrl: string): string {
  const page = (globalThis as { location?: { href?: string } }).location;
  let url: URL;
  try {
    url = new URL(baseUrl, page?.href);
  } catch {
    throw new TypeError(`gatepass: baseUrl ${baseUrl} is not a URL`);
  }
  url.search = "";
  url.hash = "";
  return url.href.replace(/\/+$/, "");
}

function jsonPost(body: Record<string, string>): RequestInit {
  return {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
    },
    body: JSON.stringify(body),
  };
}

// blamesToken reports whether a 401 is about the access token: RFC 6750's
// error="invalid_token", or a Bearer challenge with no error at all, which is
// the answer to a request that carried no token (an expired cookie is simply
// not sent). CORS hides WWW-Authenticate unless the server exposes it, so the
// JSON body's "error" counts too.
async function blamesToken(res: Response): Promise<boolean> {
  const challenge = res.headers.get("WWW-Authenticate");
  if (challenge !== null && /^\s*bearer\b/i.test(challenge)) {
    const error = /\berror="?([^",\s]+)/i.exec(challenge)?.[1];
    return error === undefined || error === "invalid_token";
  }
  if (!(res.headers.get("Content-Type") ?? "").includes("json")) {
    return false;
  }
  try {
    const body: unknown = await res.clone().json();
    const error = (body as { error?: unknown } | null)?.error;
    return error === "invalid_token" || error === "unauthorized";
  } catch {
    return false;
  }
}

// replayable reports whether a request can be sent a second time. A Request
// object is cloned before each send; a ReadableStream body (or anything
// unknown) is read by the first send and cannot be.
function replayable(
  init: RequestInit | undefined,
  request: Request | null,
): boolean {
  if (init?.body === undefined || init.body === null) {
    return request === null || !request.bodyUsed;
  }
  const body: unknown = init.body;
  return (
    typeof body === "string" ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    (typeof Blob !== "undefined" && body instanceof Blob) ||
    (typeof FormData !== "undefined" && body instanceof FormData) ||
    (typeof URLSearchParams !== "undefined" && body instanceof URLSearchParams)
  );
}

// asNetworkError wraps a fetch rejection. An abort by the caller's signal is
// passed through untouched, as callers test for AbortError.
function asNetworkError(err: unknown): unknown {
  if (err instanceof GatepassError) {
    return err;
  }
  const name = (err as { name?: unknown } | null)?.name;
  if (name === "AbortError" || name === "TimeoutError") {
    return err;
  }
  return new NetworkError("request failed", err);
}

function isGatepassError(err: unknown): err is AnyGatepassError {
  return err instanceof GatepassError;
}

// endsSession reports whether a refresh failure means the session is gone.
function endsSession(err: unknown): boolean {
  return (
    isGatepassError(err) &&
    (err.kind === "invalid_grant" || err.kind === "unauthorized")
  );
}

function sessionEnded(): InvalidGrantError {
  return new InvalidGrantError({
    code: "invalid_grant",
    status: 0,
    description: "the session has ended; sign in again",
  });
}
