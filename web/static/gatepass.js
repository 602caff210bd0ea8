// @gatepass/client 0.1.0: one ES module, no imports.
// Built from src/ by npm run build; do not edit.

// ---- errors.ts ----
// Typed errors. Every failure the client reports is a GatepassError whose
// kind says what the caller can do about it.
/**
 * GatepassError is the base of every error the client throws. Switch on kind
 * or test with instanceof against the subclasses.
 */
class GatepassError extends Error {
    kind;
    code;
    status;
    description;
    constructor(kind, init) {
        super(init.description === "" ? init.code : init.description, init.cause === undefined ? undefined : { cause: init.cause });
        this.name = "GatepassError";
        this.kind = kind;
        this.code = init.code;
        this.status = init.status;
        this.description = init.description;
    }
}
/** NetworkError: the request got no HTTP answer. */
class NetworkError extends GatepassError {
    constructor(description, cause) {
        super("network", {
            code: "network_error",
            status: 0,
            description,
            cause,
        });
        this.name = "NetworkError";
    }
}
/**
 * InvalidGrantError: the server refused the credentials or the refresh token.
 * From a refresh it means the session is over and the user must sign in.
 */
class InvalidGrantError extends GatepassError {
    constructor(init) {
        super("invalid_grant", init);
        this.name = "InvalidGrantError";
    }
}
/** RateLimitedError: HTTP 429. */
class RateLimitedError extends GatepassError {
    /**
     * retryAfter is the Retry-After header in seconds, or undefined when the
     * server sent none or CORS hid it (see Access-Control-Expose-Headers).
     */
    retryAfter;
    constructor(init, retryAfter) {
        super("rate_limited", init);
        this.name = "RateLimitedError";
        this.retryAfter = retryAfter;
    }
}
/** InvalidRequestError: the request was refused as malformed or invalid. */
class InvalidRequestError extends GatepassError {
    /** fields maps an input name to what is wrong with it, e.g. password. */
    fields;
    constructor(init, fields) {
        super("invalid_request", init);
        this.name = "InvalidRequestError";
        this.fields = fields;
    }
}
/** UnauthorizedError: HTTP 401, no valid access token was presented. */
class UnauthorizedError extends GatepassError {
    constructor(init) {
        super("unauthorized", init);
        this.name = "UnauthorizedError";
    }
}
/** invalidResponse reports a 2xx answer whose body is not what was promised. */
function invalidResponse(status, what) {
    return new GatepassError("http", {
        code: "invalid_response",
        status,
        description: `unexpected response: ${what}`,
    });
}
/** errorFromResponse reads an error answer into the matching error type. */
async function errorFromResponse(res, now) {
    const body = await res.text().then(parseJsonObject, () => null);
    const code = stringMember(body, "error") ?? `http_${res.status}`;
    const init = {
        code,
        status: res.status,
        description: stringMember(body, "error_description") ?? "",
    };
    // The status decides first: a 429 is rate limiting whatever the code says.
    if (res.status === 429) {
        const retryAfter = parseRetryAfter(res.headers.get("Retry-After"), now);
        return new RateLimitedError(init, retryAfter);
    }
    else if (code === "invalid_grant") {
        return new InvalidGrantError(init);
    }
    else if (code === "invalid_request") {
        return new InvalidRequestError(init, fieldsMember(body));
    }
    else if (res.status === 401) {
        return new UnauthorizedError(init);
    }
    return new GatepassError("http", init);
}
/**
 * parseRetryAfter reads Retry-After as delay-seconds or an HTTP date (RFC
 * 9110 section 10.2.3) and returns whole seconds from now.
 */
function parseRetryAfter(value, now) {
    if (value === null) {
        return undefined;
    }
    const trimmed = value.trim();
    if (/^\d+$/.test(trimmed)) {
        return Number(trimmed);
    }
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) {
        return undefined;
    }
    return Math.max(0, Math.ceil((at - now) / 1000));
}
/** assertNever fails to compile when a switch misses a case. */
function assertNever(value) {
    throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
function parseJsonObject(text) {
    try {
        const value = JSON.parse(text);
        return isObject(value) ? value : null;
    }
    catch {
        return null;
    }
}
/** isObject reports whether value is a non-array JSON object. */
function isObject(value) {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
function stringMember(body, key) {
    const value = body?.[key];
    return typeof value === "string" ? value : null;
}
function fieldsMember(body) {
    const fields = {};
    const value = body?.["fields"];
    if (isObject(value)) {
        for (const [name, message] of Object.entries(value)) {
            if (typeof message === "string") {
                fields[name] = message;
            }
        }
    }
    return fields;
}

// ---- events.ts ----
// A small typed event emitter for the client's session events.
/** Emitter keeps listeners per event and calls them in subscription order. */
class Emitter {
    listeners = {
        signedIn: new Set(),
        refreshed: new Set(),
        signedOut: new Set(),
    };
    on(type, listener) {
        this.listeners[type].add(listener);
    }
    off(type, listener) {
        this.listeners[type].delete(listener);
    }
    // emit calls every listener. A listener that throws must not break the
    // client's bookkeeping, so its error is rethrown on its own task, where the
    // browser reports it as uncaught.
    emit(type, event) {
        for (const listener of [...this.listeners[type]]) {
            try {
                listener(event);
            }
            catch (err) {
                queueMicrotask(() => {
                    throw err;
                });
            }
        }
    }
    clear() {
        this.listeners.signedIn.clear();
        this.listeners.refreshed.clear();
        this.listeners.signedOut.clear();
    }
}

// ---- platform.ts ----
// The browser facilities the client depends on, as narrow interfaces, so that
// tests (and unusual hosts) can supply their own.
/** systemClock is the real clock: Date.now and the global timers. */
const systemClock = {
    now: () => Date.now(),
    setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
    clearTimeout: (handle) => {
        globalThis.clearTimeout(handle);
    },
};
/** defaultPlatform returns what the current global scope offers. */
function defaultPlatform() {
    const nav = globalThis
        .navigator;
    const Channel = globalThis.BroadcastChannel;
    return {
        locks: nav?.locks ?? null,
        openChannel: typeof Channel === "function" ? (name) => new Channel(name) : null,
        sharedState: localStorageIfUsable(),
        readCookies: () => globalThis.document?.cookie ?? "",
    };
}
// localStorageIfUsable returns localStorage unless touching it throws, as it
// does in sandboxed frames and with storage disabled.
function localStorageIfUsable() {
    try {
        const storage = globalThis.localStorage;
        return storage ?? null;
    }
    catch {
        return null;
    }
}
/** randomId returns 128 random bits as hex; it needs no secure context. */
function randomId() {
    const bytes = new Uint8Array(16);
    const crypto = globalThis.crypto;
    if (crypto?.getRandomValues) {
        crypto.getRandomValues(bytes);
    }
    else {
        for (let i = 0; i < bytes.length; i++) {
            bytes[i] = Math.floor(Math.random() * 256);
        }
    }
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---- wire.ts ----
// The JSON the server sends, decoded by hand into the camelCase types the
// client hands out. A 2xx body of the wrong shape becomes an invalid_response
// error here, so nothing past this file sees an unchecked payload.

/** decodeTokenGrant checks an /oauth/token success body. */
function decodeTokenGrant(body, status) {
    const o = object(body, status, "token response");
    const type = text(o, "token_type", status);
    if (type.toLowerCase() !== "bearer") {
        throw invalidResponse(status, `token_type ${type}`);
    }
    return {
        accessToken: text(o, "access_token", status),
        expiresIn: seconds(o, status),
        refreshToken: text(o, "refresh_token", status),
        scope: optionalText(o, "scope"),
    };
}
/** decodeCookieGrant checks a cookie-mode sign-in or refresh body. */
function decodeCookieGrant(body, status) {
    const o = object(body, status, "session response");
    return {
        expiresIn: seconds(o, status),
        scope: optionalText(o, "scope"),
        sessionId: text(o, "session_id", status),
        csrfToken: optionalText(o, "csrf_token") || null,
        user: decodeUser(o["user"], status),
    };
}
/** decodeMe checks a GET /auth/me body. */
function decodeMe(body, status) {
    const o = object(body, status, "me response");
    return {
        ...decodeUser(o, status),
        scope: optionalText(o, "scope"),
        sessionId: text(o, "session_id", status),
        clientId: optionalText(o, "client_id"),
        expiresAt: optionalText(o, "expires_at"),
    };
}
/** decodeSessions checks a GET /auth/sessions body. */
function decodeSessions(body, status) {
    const list = object(body, status, "sessions response")["sessions"];
    if (!Array.isArray(list)) {
        throw invalidResponse(status, "sessions is not a list");
    }
    return list.map((item) => {
        const o = object(item, status, "session");
        return {
            id: text(o, "id", status),
            userAgent: optionalText(o, "user_agent"),
            ipAddress: optionalText(o, "ip_address"),
            createdAt: optionalText(o, "created_at"),
            lastUsedAt: optionalText(o, "last_used_at"),
            expiresAt: optionalText(o, "expires_at"),
            current: o["current"] === true,
        };
    });
}
function decodeUser(body, status) {
    const o = object(body, status, "user");
    return {
        userId: text(o, "user_id", status),
        username: text(o, "username", status),
        email: optionalText(o, "email"),
    };
}
function object(body, status, what) {
    if (!isObject(body)) {
        throw invalidResponse(status, `${what} is not an object`);
    }
    return body;
}
function text(o, key, status) {
    const value = o[key];
    if (typeof value !== "string" || value === "") {
        throw invalidResponse(status, `${key} missing`);
    }
    return value;
}
function optionalText(o, key) {
    const value = o[key];
    return typeof value === "string" ? value : "";
}
// seconds reads expires_in, which schedules every refresh, so it must be a
// positive finite number.
function seconds(o, status) {
    const value = o["expires_in"];
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
        throw invalidResponse(status, "expires_in missing");
    }
    return value;
}
/** tabProtocol versions TabMessage; other versions are ignored. */
const tabProtocol = 1;
/** decodeTabMessage checks a message from another tab; null if malformed. */
function decodeTabMessage(data) {
    if (!isObject(data) || data["v"] !== tabProtocol) {
        return null;
    }
    const str = (key) => {
        const value = data[key];
        return typeof value === "string" ? value : null;
    };
    const num = (key) => {
        const value = data[key];
        return typeof value === "number" && Number.isFinite(value) ? value : null;
    };
    const id = str("id");
    switch (data["type"]) {
        case "session": {
            const cause = str("cause");
            const gen = str("gen");
            const expiresIn = num("expiresIn");
            const expiresAt = num("expiresAt");
            const refreshAt = num("refreshAt");
            if ((cause !== "signIn" && cause !== "refresh") ||
                gen === null ||
                expiresIn === null ||
                expiresAt === null ||
                refreshAt === null) {
                return null;
            }
            return {
                type: "session",
                cause,
                gen,
                expiresIn,
                expiresAt,
                refreshAt,
                accessToken: str("accessToken"),
                csrfToken: str("csrfToken"),
                sessionId: str("sessionId"),
            };
        }
        case "signedOut": {
            const reason = str("reason");
            return reason === "signOut" ||
                reason === "invalid_grant" ||
                reason === "sessionRevoked"
                ? { type: "signedOut", reason }
                : null;
        }
        case "claim": {
            const at = num("at");
            return id === null || at === null ? null : { type: "claim", id, at };
        }
        case "held":
            return id === null ? null : { type: "held", id };
        case "release":
            return id === null ? null : { type: "release", id };
        default:
            return null;
    }
}

// ---- tabs.ts ----
// Cross-tab coordination: a mutex that serialises refreshes between tabs, the
// channel on which tabs announce their results, and the record every tab can
// read synchronously to learn whether another tab has already refreshed.


/** LocalMutex serialises callbacks inside one tab. */
class LocalMutex {
    tail = Promise.resolve();
    run(fn) {
        const result = this.tail.then(fn, fn);
        this.tail = result.catch(() => undefined);
        return result;
    }
}
/**
 * WebLockMutex holds a Web Lock (navigator.locks) while the callback runs.
 * The browser queues requests from every tab and releases the lock when a
 * tab closes, so a dead tab can never keep the others waiting.
 */
class WebLockMutex {
    locks;
    name;
    constructor(locks, name) {
        this.locks = locks;
        this.name = name;
    }
    run(fn) {
        return this.locks.request(this.name, () => fn());
    }
}
// Timing of the BroadcastChannel fallback. A claim waits settleMs for a
// competing claim or a "held" reply. A tab that heard a claim waits up to
// claimLeaseMs for it to be confirmed (a holder answers later claims with
// "held"); it gives up on a silent holder (a tab closed mid-refresh) after
// leaseMs.
const settleMs = 100;
const claimLeaseMs = 3 * settleMs;
const leaseMs = 20_000;
/**
 * ChannelMutex is the fallback where Web Locks is missing (old browsers,
 * insecure contexts). A tab announces a claim and waits a moment: a holder
 * answers "held", and of two claims the earlier (then the smaller id) wins.
 * Messages can be late, so two tabs may occasionally both proceed; the
 * server's reuse grace interval (10 s) absorbs that, and the in-lock check
 * still spares the second refresh in the common case.
 */
class ChannelMutex {
    post;
    clock;
    newId;
    local = new LocalMutex();
    holder = null;
    claim = null;
    held = null;
    wake = null;
    constructor(post, clock, newId) {
        this.post = post;
        this.clock = clock;
        this.newId = newId;
    }
    run(fn) {
        return this.local.run(async () => {
            const id = await this.acquire();
            this.held = id;
            try {
                return await fn();
            }
            finally {
                this.held = null;
                this.post({ type: "release", id });
            }
        });
    }
    /** handle takes a mutex message from another tab. */
    handle(message) {
        switch (message.type) {
            case "claim":
                // A holder answers. A claimant whose claim beats this one ignores
                // it: the other tab sees ours and backs off. Anyone else, idle
                // tabs included, waits a little for the claimant to hold or lose.
                if (this.held !== null) {
                    this.post({ type: "held", id: this.held });
                }
                else if (this.claim === null || !beats(this.claim, message)) {
                    if (this.claim !== null) {
                        this.claim.lost = true;
                    }
                    this.noteHolder(message.id, claimLeaseMs);
                }
                return;
            case "held":
                if (this.claim !== null) {
                    this.claim.lost = true;
                }
                this.noteHolder(message.id, leaseMs);
                return;
            case "release":
                this.holder = null;
                this.wake?.();
                return;
        }
    }
    noteHolder(id, ms) {
        const until = this.clock.now() + ms;
        if (this.holder === null || this.holder.until < until) {
            this.holder = { id, until };
        }
    }
    async acquire() {
        for (;;) {
            // Wait out a known holder: until it releases or its lease runs out.
            const holder = this.holder;
            const now = this.clock.now();
            if (holder !== null && now < holder.until) {
                await this.sleep(holder.until - now, true);
                continue;
            }
            this.holder = null;
            // Claim, and hold unless a holder or an earlier claim spoke up.
            const claim = { id: this.newId(), at: now, lost: false };
            this.claim = claim;
            this.post({ type: "claim", id: claim.id, at: claim.at });
            await this.sleep(settleMs, false);
            this.claim = null;
            if (!claim.lost) {
                return claim.id;
            }
        }
    }
    sleep(ms, wakeable) {
        return new Promise((resolve) => {
            const done = () => {
                this.clock.clearTimeout(handle);
                if (this.wake === done) {
                    this.wake = null;
                }
                resolve();
            };
            const handle = this.clock.setTimeout(done, ms);
            if (wakeable) {
                this.wake = done;
            }
        });
    }
}
// beats reports whether claim a takes precedence over claim b.
function beats(a, b) {
    return a.at < b.at || (a.at === b.at && a.id < b.id);
}
/**
 * TabLink is this tab's end of the coordination: the mutex, and the channel
 * on which session messages go out and come in.
 */
class TabLink {
    mutex;
    channel;
    channelMutex = null;
    handler = () => undefined;
    /**
     * The link is local when shared is false: a LocalMutex and no channel.
     * Otherwise it uses Web Locks if present, else the channel fallback.
     */
    constructor(options) {
        const { shared, locks, openChannel } = options;
        this.channel = shared && openChannel ? openChannel(options.name) : null;
        this.channel?.addEventListener("message", (event) => {
            this.receive(event.data);
        });
        if (shared && locks) {
            this.mutex = new WebLockMutex(locks, options.name);
        }
        else if (this.channel) {
            this.channelMutex = new ChannelMutex((message) => this.post(message), options.clock, options.newId);
            this.mutex = this.channelMutex;
        }
        else {
            this.mutex = new LocalMutex();
        }
    }
    /** onMessage sets the receiver of session messages from other tabs. */
    onMessage(handler) {
        this.handler = handler;
    }
    /** post sends a message to every other tab. */
    post(message) {
        try {
            this.channel?.postMessage({ v: tabProtocol, ...message });
        }
        catch {
            // A closed channel: this tab is going away, nobody needs the news.
        }
    }
    close() {
        this.handler = () => undefined;
        this.channel?.close();
    }
    receive(data) {
        const message = decodeTabMessage(data);
        if (message === null) {
            return;
        }
        switch (message.type) {
            case "claim":
            case "held":
            case "release":
                this.channelMutex?.handle(message);
                return;
            case "session":
            case "signedOut":
                this.handler(message);
                return;
        }
    }
}
/**
 * RecordStore keeps the SessionRecord in a StorageLike, or in memory when
 * there is none. Storage that throws (quota, privacy mode) degrades to
 * memory rather than failing a sign-in.
 */
class RecordStore {
    storage;
    key;
    memory = null;
    constructor(storage, key) {
        this.storage = storage;
        this.key = key;
    }
    read() {
        if (this.storage === null) {
            return this.memory;
        }
        try {
            return decodeRecord(this.storage.getItem(this.key));
        }
        catch {
            return this.memory;
        }
    }
    /**
     * observe remembers a record another tab announced. Only the in-memory
     * fallback needs it; real storage already holds what that tab wrote.
     */
    observe(record) {
        if (this.storage === null) {
            this.memory = record;
        }
    }
    write(record) {
        this.memory = record;
        try {
            this.storage?.setItem(this.key, JSON.stringify(encodeRecord(record)));
        }
        catch {
            // Keep the in-memory copy; other tabs will refresh on their own.
        }
    }
    clear() {
        this.memory = null;
        try {
            this.storage?.removeItem(this.key);
        }
        catch {
            // Nothing more to do.
        }
    }
}
function encodeRecord(r) {
    const out = {
        v: tabProtocol,
        gen: r.gen,
        expires_in: r.expiresIn,
        expires_at: r.expiresAt,
        refresh_at: r.refreshAt,
    };
    if (r.refreshToken !== null) {
        out["refresh_token"] = r.refreshToken;
    }
    if (r.csrfToken !== null) {
        out["csrf_token"] = r.csrfToken;
    }
    return out;
}
function decodeRecord(text) {
    if (text === null) {
        return null;
    }
    let value;
    try {
        value = JSON.parse(text);
    }
    catch {
        return null;
    }
    if (!isObject(value) || value["v"] !== tabProtocol) {
        return null;
    }
    const { gen, expires_in, expires_at, refresh_at } = value;
    const { refresh_token, csrf_token } = value;
    if (typeof gen !== "string" ||
        typeof expires_in !== "number" ||
        typeof expires_at !== "number" ||
        typeof refresh_at !== "number") {
        return null;
    }
    return {
        gen,
        expiresIn: expires_in,
        expiresAt: expires_at,
        refreshAt: refresh_at,
        refreshToken: typeof refresh_token === "string" ? refresh_token : null,
        csrfToken: typeof csrf_token === "string" ? csrf_token : null,
    };
}

// ---- client.ts ----
// The gatepass client: sign-in and sign-out, the account calls, and the one
// fetch wrapper every request goes through, with refreshes that are single
// flight inside a tab and, where tabs share a session, across tabs.





/** createClient returns a client for the gatepass server at baseUrl. */
function createClient(options) {
    return new Client(options);
}
const userCall = { session: true, csrf: true, internal: false };
const accountCall = { session: true, csrf: true, internal: true };
const grantCall = { session: false, csrf: false, internal: true };
const refreshCall = { session: false, csrf: true, internal: true };
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
class Client {
    mode;
    root;
    trusted;
    fetchImpl;
    clock;
    margin;
    platform;
    store;
    tabs;
    emitter = new Emitter();
    session = { kind: "unknown" };
    sessionId = null;
    // epoch changes whenever a session begins or ends, so the result of a
    // refresh that started before is dropped.
    epoch = 0;
    inflight = null;
    timer = null;
    lastRemote = null;
    remoteWaiters = new Set();
    closed = false;
    constructor(options) {
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
        const shared = this.mode === "cookie" ||
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
    get status() {
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
    restore() {
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
    async signIn(username, password) {
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
    async signUp(details) {
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
    async signOut(scope = "local") {
        if (this.mode === "token" && scope === "local") {
            try {
                await this.revokeRefreshToken();
            }
            finally {
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
    async me() {
        const startedAt = this.clock.now();
        const res = await this.call("/auth/me", { method: "GET" }, accountCall);
        const me = decodeMe(await this.json(res), res.status);
        this.sessionId = me.sessionId;
        this.learnExpiry(me, res, startedAt);
        return me;
    }
    async sessions() {
        const init = { method: "GET" };
        const res = await this.call("/auth/sessions", init, accountCall);
        const list = decodeSessions(await this.json(res), res.status);
        this.sessionId = list.find((s) => s.current)?.id ?? this.sessionId;
        return list;
    }
    async revokeSession(id) {
        const path = `/auth/sessions/${encodeURIComponent(id)}`;
        const res = await this.call(path, { method: "DELETE" }, accountCall);
        await this.check(res);
        if (id === this.sessionId) {
            this.end("sessionRevoked", "thisTab");
        }
    }
    refresh() {
        return this.refreshFrom(this.currentGen());
    }
    on(type, listener) {
        this.emitter.on(type, listener);
        return () => this.emitter.off(type, listener);
    }
    off(type, listener) {
        this.emitter.off(type, listener);
    }
    close() {
        this.closed = true;
        this.cancelTimer();
        this.tabs.close();
        this.emitter.clear();
    }
    async beginCookie(res, startedAt) {
        const grant = decodeCookieGrant(await this.json(res), res.status);
        const { expiresIn, sessionId, csrfToken, user, scope } = grant;
        const tokens = { accessToken: null, refreshToken: null, csrfToken };
        this.begin({ expiresIn, sessionId, ...tokens }, startedAt, user);
        return { mode: "cookie", user, sessionId, scope, expiresIn };
    }
    async revokeRefreshToken() {
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
    learnExpiry(me, res, startedAt) {
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
    fetch = (input, init) => this.send(input, init, userCall);
    call(path, init, policy) {
        return this.send(this.root + path, init, policy);
    }
    // send is the one fetch wrapper. With a session policy it refreshes a
    // token that is due, sends, and after a 401 that blames the token it
    // refreshes and sends once more. Never more: a second 401 goes back to
    // the caller.
    async send(input, init, policy) {
        const target = this.target(input);
        const trusted = this.trusted.has(target.url.origin);
        if (!policy.session || !trusted) {
            return (await this.attempt(target, init, policy, trusted)).response;
        }
        await this.refreshIfDue();
        const first = await this.attempt(target, init, policy, true);
        if (first.response.status !== 401 ||
            this.session.kind === "signedOut" ||
            !(await blamesToken(first.response))) {
            return first.response;
        }
        try {
            await this.refreshFrom(first.gen);
        }
        catch (err) {
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
    target(input) {
        if (typeof input === "string") {
            return { url: new URL(input, this.root + "/"), request: null };
        }
        else if (input instanceof URL) {
            return { url: input, request: null };
        }
        return { url: new URL(input.url), request: input };
    }
    // attempt sends once. It notes the session generation whose credentials
    // went out, so a 401 refreshes only if nobody has refreshed since.
    async attempt(target, init, policy, trusted) {
        const { request } = target;
        const headers = new Headers(init?.headers ?? request?.headers);
        const method = (init?.method ?? request?.method ?? "GET").toUpperCase();
        const out = { ...init, method, headers };
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
                    const csrf = policy.csrf && !safeMethods.has(method) ? this.csrfToken() : null;
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
        }
        catch (err) {
            throw asNetworkError(err);
        }
    }
    // csrfToken reads the CSRF cookie. A page on another origin cannot see the
    // issuer's cookies, so it uses the csrf_token of the last sign-in or refresh
    // answer, kept in the shared record: the server rotates the token on every
    // refresh, so it must reach the other tabs and survive a reload. It is no
    // credential on its own: it only proves the request comes from our pages.
    csrfToken() {
        const jar = new Map();
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
    async refreshIfDue() {
        const s = this.session;
        let due;
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
        }
        catch (err) {
            if (!(err instanceof GatepassError)) {
                throw err;
            }
        }
    }
    // ---- refresh ----
    currentGen() {
        return this.session.kind === "active" ? this.session.gen : null;
    }
    // refreshFrom makes sure the session has moved past generation staleGen:
    // at once if it already has, by joining the refresh in flight, or by
    // starting one under the cross-tab lock.
    refreshFrom(staleGen) {
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
    async refreshLocked(staleGen, seen, epoch) {
        if (this.session.kind === "signedOut") {
            throw sessionEnded();
        }
        else if (this.epoch !== epoch) {
            return; // signed in afresh meanwhile
        }
        const record = this.store.read();
        if (record !== null &&
            record.gen !== staleGen &&
            this.clock.now() < record.refreshAt &&
            (await this.adopt(record, record.gen !== seen))) {
            return;
        }
        const startedAt = this.clock.now();
        let grant;
        try {
            grant = await this.retryNetwork(() => this.requestRefresh(record));
        }
        catch (err) {
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
    async adopt(record, changed) {
        const s = this.session;
        if (s.kind === "active" && s.gen === record.gen) {
            return true;
        }
        let accessToken = null;
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
    waitForRemote(gen) {
        return new Promise((resolve) => {
            const finish = (token) => {
                this.clock.clearTimeout(timer);
                this.remoteWaiters.delete(waiter);
                resolve(token);
            };
            const waiter = (m) => {
                if (m.gen === gen) {
                    finish(m.accessToken);
                }
            };
            const timer = this.clock.setTimeout(() => finish(null), adoptWaitMs);
            this.remoteWaiters.add(waiter);
        });
    }
    async requestRefresh(record) {
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
        }
        finally {
            this.clock.clearTimeout(timer);
        }
    }
    async retryNetwork(fn) {
        const first = this.clock.now();
        for (let attempt = 0;; attempt++) {
            try {
                return await fn();
            }
            catch (err) {
                const delay = refreshRetryDelaysMs[attempt];
                if (!(err instanceof NetworkError) ||
                    delay === undefined ||
                    this.clock.now() + delay - first > refreshRetryWindowMs) {
                    throw err;
                }
                await new Promise((r) => this.clock.setTimeout(r, delay));
            }
        }
    }
    // ---- session state ----
    begin(grant, startedAt, user) {
        this.epoch++;
        this.commit(grant, startedAt, "signIn", user);
    }
    // commit records a sign-in or refresh made by this tab, then tells the
    // other tabs: first the shared record, which they read under the lock,
    // then the broadcast, which lets them reschedule at once.
    commit(grant, startedAt, cause, user) {
        const record = {
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
    announce(was, cause, origin, expiresIn, user) {
        if (cause === "signIn" || was !== "active") {
            this.emitter.emit("signedIn", { origin, user });
        }
        else {
            this.emitter.emit("refreshed", { origin, expiresIn });
        }
    }
    activate(at, accessToken) {
        const { gen, expiresAt, refreshAt } = at;
        this.session = { kind: "active", gen, expiresAt, refreshAt, accessToken };
        this.schedule();
    }
    // end signs out. After it no refresh is attempted until a new sign-in,
    // here or (when tabs share the session) in another tab.
    end(reason, origin) {
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
    receive(message) {
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
                this.announce(s.kind, message.cause, "otherTab", message.expiresIn, null);
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
    deadlines(startedAt, expiresIn) {
        // The lifetime is counted from when the request was sent, not when the
        // answer came, so latency can only make the client refresh early.
        const lead = this.margin === undefined
            ? Math.min(60, expiresIn / 5)
            : Math.min(Math.max(0, this.margin), expiresIn / 2);
        const expiresAt = startedAt + expiresIn * 1000;
        return { expiresAt, refreshAt: expiresAt - lead * 1000 };
    }
    schedule() {
        this.cancelTimer();
        const s = this.session;
        if (s.kind !== "active" || this.closed) {
            return;
        }
        const delay = Math.max(0, s.refreshAt - this.clock.now());
        this.startTimer(s.gen, Math.min(delay, maxTimerMs));
    }
    startTimer(gen, delay) {
        this.cancelTimer();
        this.timer = this.clock.setTimeout(() => {
            this.timer = null;
            this.onTimer(gen);
        }, delay);
    }
    cancelTimer() {
        if (this.timer !== null) {
            this.clock.clearTimeout(this.timer);
            this.timer = null;
        }
    }
    onTimer(gen) {
        const s = this.session;
        if (s.kind !== "active" || s.gen !== gen || this.closed) {
            return;
        }
        else if (this.clock.now() < s.refreshAt) {
            this.schedule(); // a clamped long delay
            return;
        }
        this.refreshFrom(gen).catch((err) => this.retryLater(err, gen));
    }
    // retryLater retries a failed background refresh while the token is
    // still valid. After expiry the next request's 401 takes over.
    retryLater(err, gen) {
        const s = this.session;
        if (s.kind !== "active" || s.gen !== gen || !isGatepassError(err)) {
            return;
        }
        let delay;
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
    async check(res) {
        if (!res.ok) {
            throw await errorFromResponse(res, this.clock.now());
        }
    }
    async json(res) {
        await this.check(res);
        const text = await res.text();
        try {
            return JSON.parse(text);
        }
        catch {
            throw invalidResponse(res.status, "body is not JSON");
        }
    }
}
// apiRoot resolves baseUrl (relative to the page if need be) and drops the
// trailing slash, query and fragment, so endpoint paths can be appended.
function apiRoot(baseUrl) {
    const page = globalThis.location;
    let url;
    try {
        url = new URL(baseUrl, page?.href);
    }
    catch {
        throw new TypeError(`gatepass: baseUrl ${baseUrl} is not a URL`);
    }
    url.search = "";
    url.hash = "";
    return url.href.replace(/\/+$/, "");
}
function jsonPost(body) {
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
async function blamesToken(res) {
    const challenge = res.headers.get("WWW-Authenticate");
    if (challenge !== null && /^\s*bearer\b/i.test(challenge)) {
        const error = /\berror="?([^",\s]+)/i.exec(challenge)?.[1];
        return error === undefined || error === "invalid_token";
    }
    if (!(res.headers.get("Content-Type") ?? "").includes("json")) {
        return false;
    }
    try {
        const body = await res.clone().json();
        const error = body?.error;
        return error === "invalid_token" || error === "unauthorized";
    }
    catch {
        return false;
    }
}
// replayable reports whether a request can be sent a second time. A Request
// object is cloned before each send; a ReadableStream body (or anything
// unknown) is read by the first send and cannot be.
function replayable(init, request) {
    if (init?.body === undefined || init.body === null) {
        return request === null || !request.bodyUsed;
    }
    const body = init.body;
    return (typeof body === "string" ||
        body instanceof ArrayBuffer ||
        ArrayBuffer.isView(body) ||
        (typeof Blob !== "undefined" && body instanceof Blob) ||
        (typeof FormData !== "undefined" && body instanceof FormData) ||
        (typeof URLSearchParams !== "undefined" && body instanceof URLSearchParams));
}
// asNetworkError wraps a fetch rejection. An abort by the caller's signal is
// passed through untouched, as callers test for AbortError.
function asNetworkError(err) {
    if (err instanceof GatepassError) {
        return err;
    }
    const name = err?.name;
    if (name === "AbortError" || name === "TimeoutError") {
        return err;
    }
    return new NetworkError("request failed", err);
}
function isGatepassError(err) {
    return err instanceof GatepassError;
}
// endsSession reports whether a refresh failure means the session is gone.
function endsSession(err) {
    return (isGatepassError(err) &&
        (err.kind === "invalid_grant" || err.kind === "unauthorized"));
}
function sessionEnded() {
    return new InvalidGrantError({
        code: "invalid_grant",
        status: 0,
        description: "the session has ended; sign in again",
    });
}

export { createClient, GatepassError, InvalidGrantError, InvalidRequestError, NetworkError, RateLimitedError, UnauthorizedError };
