// A small typed event emitter for the client's session events.

import type { SignOutReason, User } from "./wire.js";

/** EventOrigin tells whether this tab or another tab caused an event. */
export type EventOrigin = "thisTab" | "otherTab";

/** SignedInEvent: a session began (sign-in, sign-up, or another tab's). */
export interface SignedInEvent {
  readonly origin: EventOrigin;
  /** user is known after a cookie-mode sign-in in this tab, else null. */
  readonly user: User | null;
}

/** RefreshedEvent: the access token was renewed. */
export interface RefreshedEvent {
  readonly origin: EventOrigin;
  /** expiresIn is the new access token's lifetime in seconds. */
  readonly expiresIn: number;
}

/** SignedOutEvent: the session ended; no refresh is attempted after it. */
export interface SignedOutEvent {
  readonly origin: EventOrigin;
  readonly reason: SignOutReason;
}

/** GatepassEvents maps each event name to its payload. */
export interface GatepassEvents {
  signedIn: SignedInEvent;
  refreshed: RefreshedEvent;
  signedOut: SignedOutEvent;
}

/** Listener receives one event's payload. */
export type Listener<K extends keyof GatepassEvents> = (
  event: GatepassEvents[K],
) => void;

type ListenerSets = {
  [K in keyof GatepassEvents]: Set<Listener<K>>;
};

/** Emitter keeps listeners per event and calls them in subscription order. */
export class Emitter {
  private readonly listeners: ListenerSets = {
    signedIn: new Set(),
    refreshed: new Set(),
    signedOut: new Set(),
  };

  on<K extends keyof GatepassEvents>(type: K, listener: Listener<K>): void {
    this.listeners[type].add(listener);
  }

  off<K extends keyof GatepassEvents>(type: K, listener: Listener<K>): void {
    this.listeners[type].delete(listener);
  }

  // emit calls every listener. A listener that throws must not break the
  // client's bookkeeping, so its error is rethrown on its own task, where the
  // browser reports it as uncaught.
  emit<K extends keyof GatepassEvents>(
    type: K,
    event: GatepassEvents[K],
  ): void {
    for (const listener of [...this.listeners[type]]) {
      try {
        listener(event);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  clear(): void {
    this.listeners.signedIn.clear();
    this.listeners.refreshed.clear();
    this.listeners.signedOut.clear();
  }
}
