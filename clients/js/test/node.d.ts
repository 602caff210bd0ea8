// The few declarations of Node's test runner and assert module the tests use,
// so that the package needs no @types/node.

declare module "node:test" {
  type Body = () => void | Promise<void>;
  export function test(name: string, fn: Body): Promise<void>;
  export function describe(name: string, fn: () => void): void;
  export function it(name: string, fn: Body): void;
  export function afterEach(fn: Body): void;
}

declare module "node:assert/strict" {
  interface Assert {
    (value: unknown, message?: string): asserts value;
    ok(value: unknown, message?: string): asserts value;
    equal<T>(
      actual: unknown,
      expected: T,
      message?: string,
    ): asserts actual is T;
    notEqual(actual: unknown, expected: unknown, message?: string): void;
    deepEqual<T>(actual: unknown, expected: T, message?: string): void;
    match(value: string, pattern: RegExp, message?: string): void;
    rejects(
      block: Promise<unknown> | (() => Promise<unknown>),
      expected?: unknown,
      message?: string,
    ): Promise<void>;
    fail(message?: string): never;
  }
  const assert: Assert;
  export default assert;
}
