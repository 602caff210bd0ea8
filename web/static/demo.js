// What the two demo pages share: one gatepass client for this origin, in
// cookie mode, and the way back to the sign-in page.

import { createClient } from "./gatepass.js";

/** auth is the page's client. The tokens stay in HttpOnly cookies. */
// The pages are served at the root of gatepass, so "." is where its API is,
// even when a proxy serves gatepass under a path.
export const auth = createClient({ mode: "cookie", baseUrl: "." });

/**
 * hasSessionCookie reports whether the browser holds the CSRF cookie, the one
 * cookie of a session that scripts may read. It lives as long as the refresh
 * token, so without it there is no session to resume, and a refresh would
 * not pass the server's CSRF check anyway.
 */
export function hasSessionCookie() {
  return document.cookie
    .split(";")
    .some((pair) => /^\s*(?:__Host-)?gatepass_csrf=./.test(pair));
}

/**
 * goToSignIn leaves for the sign-in page, which explains why by reason: a
 * SignOutReason of the client, or "required" for a visit without a session.
 */
export function goToSignIn(reason) {
  location.replace(`./?reason=${encodeURIComponent(reason)}`);
}

/** describeError turns a failed call into a sentence for the page. */
export function describeError(err) {
  switch (err?.kind) {
    case "network":
      return "Could not reach gatepass. Is the server still running?";
    case "rate_limited":
      return `Too many attempts. Try again in ${err.retryAfter ?? 60} seconds.`;
    case "unauthorized":
    case "invalid_grant":
      return "Your session has ended. Sign in again.";
    case "invalid_request":
    case "http":
      return err.description
        ? `gatepass refused the request: ${err.description}.`
        : `gatepass refused the request (HTTP ${err.status}).`;
    default:
      return "Something went wrong. Reload the page to try again.";
  }
}
