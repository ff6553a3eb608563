import type { IncomingMessage, ServerResponse } from 'node:http';
import { VigieError, type ErrorCode } from '../core/errors.js';

// Reading request bodies and writing JSON answers. Every error leaves as
// `{ "error": { "code": "VIGIE_ERR_...", "message": "..." } }`; a stack trace never does.

export const MAX_BODY_BYTES = 64 * 1024;

/** A VigieError that also fixes the HTTP status, for conditions that have no code of their own (413, 405, 415). */
export class HttpError extends VigieError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(code, message);
    this.name = 'HttpError';
  }
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  VIGIE_ERR_BAD_REQUEST: 400,
  VIGIE_ERR_UNAUTHORIZED: 401,
  VIGIE_ERR_FORBIDDEN: 403,
  VIGIE_ERR_NOT_FOUND: 404,
  VIGIE_ERR_ILLEGAL_TRANSITION: 409,
  VIGIE_ERR_PAYLOAD_REJECTED: 413,
  VIGIE_ERR_RULE_INVALID: 422,
  VIGIE_ERR_CONFIG_INVALID: 422,
  VIGIE_ERR_SITE_INVALID: 422,
  VIGIE_ERR_STORE: 503,
};

/** Codes an API answer may carry: the gateway's, plus INTERNAL for failures nobody raised on purpose. */
export type ApiErrorCode = ErrorCode | 'VIGIE_ERR_INTERNAL';

export interface ErrorAnswer {
  status: number;
  code: ApiErrorCode;
  message: string;
  headers: Readonly<Record<string, string>>;
  /** True when the error was not one we raise on purpose: log it, hide its text. */
  unexpected: boolean;
}

export function describeError(err: unknown): ErrorAnswer {
  if (err instanceof HttpError) {
    return {
      status: err.status,
      code: err.code,
      message: err.message,
      headers: err.headers,
      unexpected: false,
    };
  }
  if (err instanceof VigieError) {
    const status = STATUS[err.code];
    if (status !== undefined)
      return { status, code: err.code, message: err.message, headers: {}, unexpected: false };
  }
  // Unknown failures (and codes such as CHANNEL that mean a bug when they reach here) keep their
  // text in the log only: it may carry paths, SQL or other internals.
  return {
    status: 500,
    code: 'VIGIE_ERR_INTERNAL',
    message: 'internal error',
    headers: {},
    unexpected: true,
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, e: ErrorAnswer): void {
  sendJson(res, e.status, { error: { code: e.code, message: e.message } }, e.headers);
}

/**
 * The raw body, at most MAX_BODY_BYTES. A declared Content-Length over the limit is refused before
 * reading; a chunked body is counted as it arrives and the rest discarded once it overflows, so the
 * client still gets its 413 instead of a reset connection.
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const tooLarge = () =>
    new HttpError(413, 'VIGIE_ERR_PAYLOAD_REJECTED', `request body is larger than ${limit} bytes`, {
      Connection: 'close',
    });
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let overflow = false;
    req.on('data', (chunk: Buffer) => {
      if (overflow) return;
      size += chunk.length;
      if (size > limit) {
        overflow = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => (overflow ? reject(tooLarge()) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

export function isJsonType(req: IncomingMessage): boolean {
  const t = mediaType(req);
  return t === 'application/json' || t.endsWith('+json');
}

export function isYamlType(req: IncomingMessage): boolean {
  return ['text/yaml', 'application/yaml', 'application/x-yaml', 'text/x-yaml', 'text/plain'].includes(
    mediaType(req),
  );
}

/** The JSON object of the body, or undefined when the body is empty. */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const raw = await readBody(req);
  if (raw.length === 0) return undefined;
  if (req.headers['content-type'] !== undefined && !isJsonType(req)) {
    throw new HttpError(415, 'VIGIE_ERR_BAD_REQUEST', 'send the body as application/json');
  }
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch (cause) {
    throw new VigieError('VIGIE_ERR_BAD_REQUEST', `the body is not valid JSON: ${(cause as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new VigieError('VIGIE_ERR_BAD_REQUEST', 'the body must be a JSON object');
  }
  return value as Record<string, unknown>;
}
