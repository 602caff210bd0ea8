// Error typing: each failure arrives as the GatepassError subclass for it.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  GatepassError,
  InvalidGrantError,
  InvalidRequestError,
  NetworkError,
  RateLimitedError,
  type AnyGatepassError,
} from "@gatepass/client";

import { FakeClock, FakeServer, Recorder, makeClient } from "./fakes.js";

async function failure(promise: Promise<unknown>): Promise<AnyGatepassError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof GatepassError, `not a GatepassError: ${err}`);
    return err as AnyGatepassError;
  }
  return assert.fail("expected a failure");
}

function setup(mode: "cookie" | "token" = "token") {
  const clock = new FakeClock();
  const server = new FakeServer(clock);
  const client = makeClient(server, clock, { mode });
  return { clock, server, client };
}

describe("errors", () => {
  it("reports 429 as RateLimitedError with retryAfter in seconds", async () => {
    const { server, client } = setup();
    server.override = () => ({
      status: 429,
      body: { error: "too_many_requests", error_description: "slow down" },
      headers: { "Retry-After": "60" },
    });
    const err = await failure(client.signIn("demo", "right"));
    assert.ok(err instanceof RateLimitedError);
    assert.equal(err.kind, "rate_limited");
    assert.equal(err.retryAfter, 60);
    assert.equal(err.status, 429);
    assert.equal(err.code, "too_many_requests");
    assert.equal(err.description, "slow down");
  });

  it("reads Retry-After given as an HTTP date", async () => {
    const { clock, server, client } = setup();
    const at = new Date(clock.now() + 90_000).toUTCString();
    server.override = () => ({ status: 429, headers: { "Retry-After": at } });
    const err = await failure(client.signIn("demo", "right"));
    assert.ok(err instanceof RateLimitedError);
    assert.equal(err.retryAfter, 90);
    assert.equal(err.code, "http_429");
  });

  it("leaves retryAfter undefined when the header is hidden", async () => {
    const { server, client } = setup();
    server.override = () => ({ status: 429 });
    const err = await failure(client.signIn("demo", "right"));
    assert.ok(err instanceof RateLimitedError);
    assert.equal(err.retryAfter, undefined);
  });

  it("reports field errors as InvalidRequestError", async () => {
    const { client } = setup("cookie");
    const err = await failure(
      client.signUp({
        username: "u",
        email: "u@example.com",
        password: "password",
      }),
    );
    assert.ok(err instanceof InvalidRequestError);
    assert.equal(err.status, 400);
    assert.deepEqual(err.fields, { password: "password is too common" });
    assert.equal(err.description, "some fields are invalid");
  });

  it("reports wrong credentials as InvalidGrantError without a signedOut event", async () => {
    const { client } = setup();
    const events = new Recorder(client);
    const err = await failure(client.signIn("demo", "wrong"));
    assert.ok(err instanceof InvalidGrantError);
    assert.equal(err.code, "invalid_grant");
    assert.equal(err.description, "wrong username or password");
    assert.deepEqual(events.types(), []);
  });

  it("reports an unreachable server as NetworkError with the cause", async () => {
    const { server, client } = setup();
    server.down = true;
    const err = await failure(client.signIn("demo", "right"));
    assert.ok(err instanceof NetworkError);
    assert.equal(err.status, 0);
    assert.ok(err.cause instanceof TypeError);
  });

  it("passes a caller's abort through untouched", async () => {
    const clock = new FakeClock();
    const client = makeClient(new FakeServer(clock), clock, {
      mode: "token",
      fetch: (_input, init) =>
        new Promise((_resolve, reject) => {
          const abort = (): void =>
            reject(new DOMException("aborted", "AbortError"));
          if (init?.signal?.aborted) {
            abort();
          }
          init?.signal?.addEventListener("abort", abort);
        }),
    });
    const controller = new AbortController();
    const pending = client.fetch("/api/x", { signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, { name: "AbortError" });
  });

  it("rejects a malformed success body", async () => {
    const { server, client } = setup();
    server.override = () => ({ status: 200, body: { access_token: "x" } });
    const err = await failure(client.signIn("demo", "right"));
    assert.equal(err.kind, "http");
    assert.equal(err.code, "invalid_response");
    assert.equal(client.status, "signedOut");
  });

  it("types other error answers as kind http", async () => {
    const { server, client } = setup();
    await client.signIn("demo", "right");
    server.override = (s) =>
      s.path === "/auth/me"
        ? { status: 503, body: { error: "temporarily_unavailable" } }
        : null;
    const err = await failure(client.me());
    assert.equal(err.kind, "http");
    assert.equal(err.status, 503);
    assert.equal(err.code, "temporarily_unavailable");
  });
});
