import { expect } from 'vitest';

// biome-ignore lint/suspicious/noExplicitAny: any constructor signature will do, only `instanceof` matters
type ErrorClass<E extends Error> = abstract new (...args: any[]) => E;

function checked<E extends Error>(error: unknown, errorClass: ErrorClass<E>): E {
  expect(error).toBeInstanceOf(errorClass);
  return error as E;
}

function nothingThrown(errorClass: ErrorClass<Error>, what: string | undefined): never {
  expect.fail(what ?? `expected a ${errorClass.name}, but nothing was thrown`);
}

/**
 * Awaits `promise` (or calls `run` and awaits what it returns) and returns the error it rejects
 * with. Fails the test when it settles without an error, or with one that is not an `errorClass`.
 * `what` replaces the failure message for "nothing was thrown".
 */
export async function caught<E extends Error>(
  promiseOrRun: PromiseLike<unknown> | (() => unknown),
  errorClass: ErrorClass<E>,
  what?: string,
): Promise<E> {
  try {
    await (typeof promiseOrRun === 'function' ? promiseOrRun() : promiseOrRun);
  } catch (error) {
    return checked(error, errorClass);
  }
  return nothingThrown(errorClass, what);
}

/** `caught` for code that throws synchronously: calls `run` and returns the `errorClass` it throws. */
export function thrown<E extends Error>(run: () => unknown, errorClass: ErrorClass<E>, what?: string): E {
  try {
    run();
  } catch (error) {
    return checked(error, errorClass);
  }
  return nothingThrown(errorClass, what);
}
