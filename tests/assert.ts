/**
 * The assertions the tests use. @std/assert lives on JSR, which our machines cannot reach, so
 * these are written here: small, with messages that show both sides.
 *
 * @module
 */

/** Thrown when an assertion fails. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/** Asserts that `value` is truthy. */
export function assert(value: unknown, message = "Expected a truthy value"): asserts value {
  if (!value) throw new AssertionError(message);
}

/** Asserts deep equality (structural, for plain data, arrays, typed arrays, maps, sets, dates). */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  if (!deepEqual(actual, expected)) {
    throw new AssertionError(
      `${message ? message + ": " : ""}values differ\n  actual:   ${show(actual)}\n  expected: ${
        show(expected)
      }`,
    );
  }
}

/** Asserts that two values are not deeply equal. */
export function assertNotEquals<T>(actual: T, expected: T, message?: string): void {
  if (deepEqual(actual, expected)) {
    throw new AssertionError(`${message ? message + ": " : ""}both are ${show(actual)}`);
  }
}

/** Asserts that `text` contains `part`. */
export function assertStringIncludes(text: string, part: string, message?: string): void {
  if (!text.includes(part)) {
    throw new AssertionError(
      `${message ? message + ": " : ""}${show(text)} does not include ${show(part)}`,
    );
  }
}

/** Asserts that `text` matches `pattern`. */
export function assertMatch(text: string, pattern: RegExp, message?: string): void {
  if (!pattern.test(text)) {
    throw new AssertionError(
      `${message ? message + ": " : ""}${show(text)} does not match ${pattern}`,
    );
  }
}

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

/** Asserts that `fn` throws (an instance of `type`, when given) and returns the error. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  type?: ErrorClass<E>,
  includes?: string,
): E {
  try {
    fn();
  } catch (error) {
    return checkError(error, type, includes);
  }
  throw new AssertionError("Expected the function to throw");
}

/** `promise`, or an AssertionError saying `what` after `ms` milliseconds. */
export function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AssertionError(what)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Asserts that `fn` rejects (with an instance of `type`, when given) and returns the error. */
export async function assertRejects<E extends Error = Error>(
  fn: () => Promise<unknown>,
  type?: ErrorClass<E>,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    return checkError(error, type, includes);
  }
  throw new AssertionError("Expected the promise to reject");
}

function checkError<E extends Error>(
  error: unknown,
  type: ErrorClass<E> | undefined,
  includes: string | undefined,
): E {
  if (!(error instanceof Error)) {
    throw new AssertionError(`Thrown value is not an Error: ${show(error)}`);
  }
  if (type && !(error instanceof type)) {
    throw new AssertionError(`Expected ${type.name}, got ${error.name}: ${error.message}`);
  }
  if (includes !== undefined && !error.message.includes(includes)) {
    throw new AssertionError(
      `Error message ${show(error.message)} does not include ${show(includes)}`,
    );
  }
  return error as E;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date) return a.getTime() === (b as Date).getTime();
  if (ArrayBuffer.isView(a)) {
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const bv = b as ArrayBufferView;
    const y = new Uint8Array(bv.buffer, bv.byteOffset, bv.byteLength);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  if (a instanceof Map) {
    const m = b as Map<unknown, unknown>;
    return a.size === m.size && [...a].every(([k, v]) => m.has(k) && deepEqual(v, m.get(k)));
  }
  if (a instanceof Set) {
    const s = b as Set<unknown>;
    return a.size === s.size && [...a].every((v) => s.has(v));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) =>
    Object.hasOwn(b, k) &&
    deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
  );
}

function show(value: unknown): string {
  return Deno.inspect(value, { depth: 6, iterableLimit: 40, strAbbreviateSize: 300 });
}
