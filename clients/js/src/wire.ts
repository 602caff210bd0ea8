// The JSON the server sends, decoded by hand into the camelCase types the
// client hands out. A 2xx body of the wrong shape becomes an invalid_response
// error here, so nothing past this file sees an unchecked payload.

import { invalidResponse, isObject } from "./errors.js";

/** User is the account behind a session. */
export interface User {
  /** userId is a string, as in the token's sub claim. */
  readonly userId: string;
  readonly username: string;
  readonly email: string;
}

/** Me describes the signed-in user and the access token in use. */
export interface Me extends User {
  readonly scope: string;
  readonly sessionId: string;
  readonly clientId: string;
  /** expiresAt is the server's RFC 3339 expiry time of the access token. */
  readonly expiresAt: string;
}

/** SessionInfo is one of the user's sessions (a signed-in device). */
export interface SessionInfo {
  readonly id: string;
  readonly userAgent: string;
  readonly ipAddress: string;
  readonly createdAt: string;
  readonly lastUsedAt: string;
  readonly expiresAt: string;
  /** current is true for the session making the request. */
  readonly current: boolean;
}

/** TokenGrant is a 200 answer of POST /oauth/token. */
export interface TokenGrant {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly refreshToken: string;
  readonly scope: string;
}

/** CookieGrant is a 2xx answer of /auth/login, /auth/signup, /auth/refresh. */
export interface CookieGrant {
  readonly expiresIn: number;
  readonly scope: string;
  readonly sessionId: string;
  /**
   * csrfToken is the value of the CSRF cookie, for pages on another origin,
   * which cannot read the issuer's cookie; null if the server sent none.
   */
  readonly csrfToken: string | null;
  readonly user: User;
}

/** decodeTokenGrant checks an /oauth/token success body. */
export function decodeTokenGrant(body: unknown, status: number): TokenGrant {
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
export function decodeCookieGrant(body: unknown, status: number): CookieGrant {
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
export function decodeMe(body: unknown, status: number): Me {
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
export function decodeSessions(body: unknown, status: number): SessionInfo[] {
  const list = object(body, status, "sessions response")["sessions"];
  if (!Array.isArray(list)) {
    throw invalidResponse(status, "sessions is not a list");
  }
  return list.map((item: unknown) => {
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

function decodeUser(body: unknown, status: number): User {
  const o = object(body, status, "user");
  return {
    userId: text(o, "user_id", status),
    username: text(o, "username", status),
    email: optionalText(o, "email"),
  };
}

type Obj = Readonly<Record<string, unknown>>;

function object(body: unknown, status: number, what: string): Obj {
  if (!isObject(body)) {
    throw invalidResponse(status, `${what} is not an object`);
  }
  return body;
}

function text(o: Obj, key: string, status: number): string {
  const value = o[key];
  if (typeof value !== "string" || value === "") {
    throw invalidResponse(status, `${key} missing`);
  }
  return value;
}

function optionalText(o: Obj, key: string): string {
  const value = o[key];
  return typeof value === "string" ? value : "";
}

// seconds reads expires_in, which schedules every refresh, so it must be a
// positive finite number.
function seconds(o: Obj, status: number): number {
  const value = o["expires_in"];
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw invalidResponse(status, "expires_in missing");
  }
  return value;
}

/**
 * TabMessage is what one tab tells the others over BroadcastChannel. The
 * session message carries the access token only in token mode with shared
 * storage, where the other tabs would otherwise have to refresh for one, and
 * the CSRF token, which the server rotates on every refresh, in cookie mode.
 */
export type TabMessage =
  | {
      readonly type: "session";
      /** cause is signIn for a new session, refresh for a renewed one. */
      readonly cause: "signIn" | "refresh";
      readonly gen: string;
      readonly expiresIn: number;
      readonly expiresAt: number;
      readonly refreshAt: number;
      readonly accessToken: string | null;
      readonly csrfToken: string | null;
      readonly sessionId: string | null;
    }
  | { readonly type: "signedOut"; readonly reason: SignOutReason }
  | { readonly type: "claim"; readonly id: string; readonly at: number }
  | { readonly type: "held"; readonly id: string }
  | { readonly type: "release"; readonly id: string };

/** SessionMessage is the TabMessage announcing a new or refreshed session. */
export type SessionMessage = Extract<TabMessage, { type: "session" }>;

/** MutexMessage is a TabMessage of the BroadcastChannel lock fallback. */
export type MutexMessage = Extract<
  TabMessage,
  { type: "claim" | "held" | "release" }
>;

/**
 * SignOutReason says why a session ended: the user signed out, the server
 * refused the refresh token, or the current session was revoked from the
 * session list.
 */
export type SignOutReason = "signOut" | "invalid_grant" | "sessionRevoked";

/** tabProtocol versions TabMessage; other versions are ignored. */
export const tabProtocol = 1;

/** decodeTabMessage checks a message from another tab; null if malformed. */
export function decodeTabMessage(data: unknown): TabMessage | null {
  if (!isObject(data) || data["v"] !== tabProtocol) {
    return null;
  }
  const str = (key: string): string | null => {
    const value = data[key];
    return typeof value === "string" ? value : null;
  };
  const num = (key: string): number | null => {
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
      if (
        (cause !== "signIn" && cause !== "refresh") ||
        gen === null ||
        expiresIn === null ||
        expiresAt === null ||
        refreshAt === null
      ) {
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
