// @gatepass/client: the browser client of gatepass.

export {
  createClient,
  type ClientOptions,
  type GatepassClient,
  type Mode,
  type SessionStatus,
  type SignInResult,
  type SignOutScope,
  type SignUpDetails,
} from "./client.js";
export {
  GatepassError,
  InvalidGrantError,
  InvalidRequestError,
  NetworkError,
  RateLimitedError,
  UnauthorizedError,
  type AnyGatepassError,
  type ErrorInit,
  type ErrorKind,
} from "./errors.js";
export type {
  EventOrigin,
  GatepassEvents,
  Listener,
  RefreshedEvent,
  SignedInEvent,
  SignedOutEvent,
} from "./events.js";
export type {
  ChannelLike,
  Clock,
  FetchLike,
  LockManagerLike,
  Platform,
  StorageLike,
} from "./platform.js";
export type { Me, SessionInfo, SignOutReason, User } from "./wire.js";
