// Cross-tab coordination: a mutex that serialises refreshes between tabs, the
// channel on which tabs announce their results, and the record every tab can
// read synchronously to learn whether another tab has already refreshed.

import type {
  Clock,
  ChannelLike,
  LockManagerLike,
  StorageLike,
} from "./platform.js";
import { isObject } from "./errors.js";
import {
  decodeTabMessage,
  tabProtocol,
  type MutexMessage,
  type TabMessage,
} from "./wire.js";

/** Mutex runs one callback at a time. */
export interface Mutex {
  run<T>(fn: () => Promise<T>): Promise<T>;
}

/** LocalMutex serialises callbacks inside one tab. */
export class LocalMutex implements Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
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
export class WebLockMutex implements Mutex {
  constructor(
    private readonly locks: LockManagerLike,
    private readonly name: string,
  ) {}

  run<T>(fn: () => Promise<T>): Promise<T> {
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
export class ChannelMutex implements Mutex {
  private readonly local = new LocalMutex();
  private holder: { id: string; until: number } | null = null;
  private claim: { id: string; at: number; lost: boolean } | null = null;
  private held: string | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly post: (message: MutexMessage) => void,
    private readonly clock: Clock,
    private readonly newId: () => string,
  ) {}

  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.local.run(async () => {
      const id = await this.acquire();
      this.held = id;
      try {
        return await fn();
      } finally {
        this.held = null;
        this.post({ type: "release", id });
      }
    });
  }

  /** handle takes a mutex message from another tab. */
  handle(message: MutexMessage): void {
    switch (message.type) {
      case "claim":
        // A holder answers. A claimant whose claim beats this one ignores
        // it: the other tab sees ours and backs off. Anyone else, idle
        // tabs included, waits a little for the claimant to hold or lose.
        if (this.held !== null) {
          this.post({ type: "held", id: this.held });
        } else if (this.claim === null || !beats(this.claim, message)) {
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

  private noteHolder(id: string, ms: number): void {
    const until = this.clock.now() + ms;
    if (this.holder === null || this.holder.until < until) {
      this.holder = { id, until };
    }
  }

  private async acquire(): Promise<string> {
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

  private sleep(ms: number, wakeable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
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
function beats(
  a: { id: string; at: number },
  b: { id: string; at: number },
): boolean {
  return a.at < b.at || (a.at === b.at && a.id < b.id);
}

/**
 * TabLink is this tab's end of the coordination: the mutex, and the channel
 * on which session messages go out and come in.
 */
export class TabLink {
  readonly mutex: Mutex;
  private readonly channel: ChannelLike | null;
  private readonly channelMutex: ChannelMutex | null = null;
  private handler: (message: TabMessage) => void = () => undefined;

  /**
   * The link is local when shared is false: a LocalMutex and no channel.
   * Otherwise it uses Web Locks if present, else the channel fallback.
   */
  constructor(options: {
    readonly name: string;
    readonly shared: boolean;
    readonly locks: LockManagerLike | null;
    readonly openChannel: ((name: string) => ChannelLike) | null;
    readonly clock: Clock;
    readonly newId: () => string;
  }) {
    const { shared, locks, openChannel } = options;
    this.channel = shared && openChannel ? openChannel(options.name) : null;
    this.channel?.addEventListener("message", (event) => {
      this.receive(event.data);
    });

    if (shared && locks) {
      this.mutex = new WebLockMutex(locks, options.name);
    } else if (this.channel) {
      this.channelMutex = new ChannelMutex(
        (message) => this.post(message),
        options.clock,
        options.newId,
      );
      this.mutex = this.channelMutex;
    } else {
      this.mutex = new LocalMutex();
    }
  }

  /** onMessage sets the receiver of session messages from other tabs. */
  onMessage(handler: (message: TabMessage) => void): void {
    this.handler = handler;
  }

  /** post sends a message to every other tab. */
  post(message: TabMessage): void {
    try {
      this.channel?.postMessage({ v: tabProtocol, ...message });
    } catch {
      // A closed channel: this tab is going away, nobody needs the news.
    }
  }

  close(): void {
    this.handler = () => undefined;
    this.channel?.close();
  }

  private receive(data: unknown): void {
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
 * SessionRecord is what tabs share about the current session: a random
 * generation id that changes on every sign-in and refresh, the local-clock
 * deadlines derived from the server's expires_in, in cookie mode the CSRF
 * token, and in token mode the refresh token. The access token is never
 * stored.
 */
export interface SessionRecord {
  readonly gen: string;
  readonly expiresIn: number;
  readonly expiresAt: number;
  readonly refreshAt: number;
  readonly refreshToken: string | null;
  readonly csrfToken: string | null;
}

/**
 * RecordStore keeps the SessionRecord in a StorageLike, or in memory when
 * there is none. Storage that throws (quota, privacy mode) degrades to
 * memory rather than failing a sign-in.
 */
export class RecordStore {
  private memory: SessionRecord | null = null;

  constructor(
    private readonly storage: StorageLike | null,
    private readonly key: string,
  ) {}

  read(): SessionRecord | null {
    if (this.storage === null) {
      return this.memory;
    }
    try {
      return decodeRecord(this.storage.getItem(this.key));
    } catch {
      return this.memory;
    }
  }

  /**
   * observe remembers a record another tab announced. Only the in-memory
   * fallback needs it; real storage already holds what that tab wrote.
   */
  observe(record: SessionRecord): void {
    if (this.storage === null) {
      this.memory = record;
    }
  }

  write(record: SessionRecord): void {
    this.memory = record;
    try {
      this.storage?.setItem(this.key, JSON.stringify(encodeRecord(record)));
    } catch {
      // Keep the in-memory copy; other tabs will refresh on their own.
    }
  }

  clear(): void {
    this.memory = null;
    try {
      this.storage?.removeItem(this.key);
    } catch {
      // Nothing more to do.
    }
  }
}

function encodeRecord(r: SessionRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
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

function decodeRecord(text: string | null): SessionRecord | null {
  if (text === null) {
    return null;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(value) || value["v"] !== tabProtocol) {
    return null;
  }
  const { gen, expires_in, expires_at, refresh_at } = value;
  const { refresh_token, csrf_token } = value;
  if (
    typeof gen !== "string" ||
    typeof expires_in !== "number" ||
    typeof expires_at !== "number" ||
    typeof refresh_at !== "number"
  ) {
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
