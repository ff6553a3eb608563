import { VigieError } from '../core/errors.js';

// What an operator may write when acting on an incident, wherever it comes from (the HTTP API's
// `by`/`note`, a NATS command's `actor`/`note`): one set of rules, so the audit trail looks the same.

export const MAX_NOTE = 1000;
const WHO = /^[\p{L}\p{N} ._@+'-]{1,64}$/u;

/** The name of who is at the keyboard behind a shared token; throws a bad request otherwise. */
export function checkWho(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !WHO.test(value))
    throw bad(`${field} must be a name of 1 to 64 letters, digits, spaces or . _ @ + ' -`);
  return value;
}

/** A note: text, no control characters but tabs and line breaks, at most MAX_NOTE characters. */
export function checkNote(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > MAX_NOTE || /\p{Cc}/u.test(value.replace(/[\t\r\n]/g, '')))
    throw bad(`note must be text of at most ${MAX_NOTE} characters`);
  return value;
}

function bad(message: string): VigieError {
  return new VigieError('VIGIE_ERR_BAD_REQUEST', message);
}
