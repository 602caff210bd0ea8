// Typed errors. Every failure the client reports is a GatepassError whose
// kind says what the caller can do about it.

/**
 * ErrorKind says what went wrong:
 * - network: no HTTP answer (offline, DNS, CORS refusal, timeout);
 * - invalid_grant: wrong credentials, or the session has ended;
 * - rate_limited: HTTP 429, try again after retryAfter seconds;
 * - invalid_request: the input was refused, see fields;
 * - unauthorized: HTTP 401 for a missing or expired access token;
 * - http: any other error answer, or an answer the client cannot read.
 */
export type ErrorKind =
  | "network"
  | "invalid_grant"
  | "rate_limited"
  | "invalid_request"
  | "unauthorized"
  | "http";

/** ErrorInit holds what every GatepassError carries. */
export interface ErrorInit {
  /** code is the server's "error" member, or a client-side code. */
  readonly code: string;
  /** status is the HTTP status, or 0 when there was no HTTP answer. */
  readonly status: number;
  /** description is the server's "error_description", or a short message. */
  readonly description: string;
  readonly cause?: unknown;
}

/**
 * GatepassError is the base of every error the client throws. Switch on kind
 * or test with instanceof against the subclasses.
 */
export class GatepassError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly status: number;
  readonly description: string;

  constructor(kind: ErrorKind, init: ErrorInit) {
    super(
      init.description === "" ? init.code : init.description,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.name = "GatepassError";
    this.kind = kind;
    this.code = init.code;
    this.status = init.status;
    this.description = init.description;
  }
}

/** NetworkError: the request got no HTTP answer. */
export class NetworkError extends GatepassError {
  declare readonly kind: "network";

  constructor(description: string, cause?: unknown) {
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
export class InvalidGrantError extends GatepassError {
  declare readonly kind: "invalid_grant";

  constructor(init: ErrorInit) {
    super("invalid_grant", init);
    this.name = "InvalidGrantError";
  }
}

/** RateLimitedError: HTTP 429. */
export class RateLimitedError extends GatepassError {
  declare readonly kind: "rate_limited";
  /**
   * retryAfter is the Retry-After header in seconds, or undefined when the
   * server sent none or CORS hid it (see Access-Control-Expose-Headers).
   */
  readonly retryAfter: number | undefined;

  constructor(init: ErrorInit, retryAfter: number | undefined) {
    super("rate_limited", init);
    this.name = "RateLimitedError";
    this.retryAfter = retryAfter;
  }
}

/** InvalidRequestError: the request was refused as malformed or invalid. */
export class InvalidRequestError extends GatepassError {
  declare readonly kind: "invalid_request";
  /** fields maps an input name to what is wrong with it, e.g. password. */
  readonly fields: Readonly<Record<string, string>>;

  constructor(init: ErrorInit, fields: Readonly<Record<string, string>>) {
    super("invalid_request", init);
    this.name = "InvalidRequestError";
    this.fields = fields;
  }
}

/** UnauthorizedError: HTTP 401, no valid access token was presented. */
export class UnauthorizedError extends GatepassError {
  declare readonly kind: "unauthorized";

  constructor(init: ErrorInit) {
    super("unauthorized", init);
    this.name = "UnauthorizedError";
  }
}

/** AnyGatepassError lists the concrete errors; its kind narrows the type. */
export type AnyGatepassError =
  | NetworkError
  | InvalidGrantError
  | RateLimitedError
  | InvalidRequestError
  | UnauthorizedError
  | (GatepassError & { readonly kind: "http" });

/** invalidResponse reports a 2xx answer whose body is not what was promised. */
export function invalidResponse(status: number, what: string): GatepassError {
  return new GatepassError("http", {
    code: "invalid_response",
    status,
    description: `unexpected response: ${what}`,
  });
}

/** errorFromResponse reads an error answer into the matching error type. */
export async function errorFromResponse(
  res: Response,
  now: number,
): Promise<AnyGatepassError> {
  const body = await res.text().then(parseJsonObject, () => null);
  const code = stringMember(body, "error") ?? `http_${res.status}`;
  const init: ErrorInit = {
    code,
    status: res.status,
    description: stringMember(body, "error_description") ?? "",
  };

  // The status decides first: a 429 is rate limiting whatever the code says.
  if (res.status === 429) {
    const retryAfter = parseRetryAfter(res.headers.get("Retry-After"), now);
    return new RateLimitedError(init, retryAfter);
  } else if (code === "invalid_grant") {
    return new InvalidGrantError(init);
  } else if (code === "invalid_request") {
    return new InvalidRequestError(init, fieldsMember(body));
  } else if (res.status === 401) {
    return new UnauthorizedError(init);
  }
  return new GatepassError("http", init) as AnyGatepassError;
}

/**
 * parseRetryAfter reads Retry-After as delay-seconds or an HTTP date (RFC
 * 9110 section 10.2.3) and returns whole seconds from now.
 */
export function parseRetryAfter(
  value: string | null,
  now: number,
): number | undefined {
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
export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}

type JsonObject = Readonly<Record<string, unknown>>;

function parseJsonObject(text: string): JsonObject | null {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

/** isObject reports whether value is a non-array JSON object. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringMember(body: JsonObject | null, key: string): string | null {
  const value = body?.[key];
  return typeof value === "string" ? value : null;
}

function fieldsMember(body: JsonObject | null): Record<string, string> {
  const fields: Record<string, string> = {};
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
