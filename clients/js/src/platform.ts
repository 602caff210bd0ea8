// The browser facilities the client depends on, as narrow interfaces, so that
// tests (and unusual hosts) can supply their own.

/** Clock is the client's source of time and timers. Inject a fake in tests. */
export interface Clock {
  /** now returns milliseconds since the epoch, like Date.now. */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** systemClock is the real clock: Date.now and the global timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => {
    globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

/** FetchLike is the signature of the global fetch. */
export type FetchLike = (
  input: RequestInfo | URL,
  init?: RequestInit,
) => Promise<Response>;

/** StorageLike is the part of the Web Storage API the client uses. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** LockManagerLike is the part of navigator.locks the client uses. */
export interface LockManagerLike {
  request<T>(name: string, callback: (lock: unknown) => Promise<T>): Promise<T>;
}

/** ChannelLike is the part of BroadcastChannel the client uses. */
export interface ChannelLike {
  postMessage(message: unknown): void;
  addEventListener(
    type: "message",
    listener: (event: { readonly data: unknown }) => void,
  ): void;
  close(): void;
}

/**
 * Platform gathers what the client takes from the browser. Every member can
 * be replaced through ClientOptions.platform; null turns a facility off.
 */
export interface Platform {
  /** locks serialises refreshes across tabs; default navigator.locks. */
  locks: LockManagerLike | null;
  /** openChannel tells other tabs about refreshes; default BroadcastChannel. */
  openChannel: ((name: string) => ChannelLike) | null;
  /**
   * sharedState holds non-secret cookie-mode metadata every tab can read at
   * once: a random generation id and two deadlines. Default localStorage.
   */
  sharedState: StorageLike | null;
  /** readCookies returns document.cookie, where the CSRF cookie is read. */
  readCookies: () => string;
}

/** defaultPlatform returns what the current global scope offers. */
export function defaultPlatform(): Platform {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } })
    .navigator;
  const Channel = globalThis.BroadcastChannel;
  return {
    locks: nav?.locks ?? null,
    openChannel:
      typeof Channel === "function" ? (name) => new Channel(name) : null,
    sharedState: localStorageIfUsable(),
    readCookies: () => globalThis.document?.cookie ?? "",
  };
}

// localStorageIfUsable returns localStorage unless touching it throws, as it
// does in sandboxed frames and with storage disabled.
function localStorageIfUsable(): StorageLike | null {
  try {
    const storage = globalThis.localStorage;
    return storage ?? null;
  } catch {
    return null;
  }
}

/** randomId returns 128 random bits as hex; it needs no secure context. */
export function randomId(): string {
  const bytes = new Uint8Array(16);
  const crypto = globalThis.crypto;
  if (crypto?.getRandomValues) {
    crypto.getRandomValues(bytes);
  } else {
    for (let i = 0; i < bytes.length; i++) {
      bytes[i] = Math.floor(Math.random() * 256);
    }
  }
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
