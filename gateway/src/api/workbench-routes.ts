import type { IncomingMessage, ServerResponse } from 'node:http';
import { createInterface } from 'node:readline';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseDuration } from '../../../rules/src/duration.js';
import { NotFoundError, VigieError } from '../core/errors.js';
import type { Recorder, StartRecording } from '../workbench/recorder.js';
import type { RecordingInfo, ReplayResult } from '../workbench/model.js';
import { decodeLine, inWindow } from '../workbench/recording.js';
import { HttpError, isJsonType, mediaType, readJsonObject } from './http-io.js';
import { INSTANT_HINT, parseInstant } from '../core/instant.js';
import type { Router } from './router.js';

// The rule workbench on the API (issue 8): recordings of the site's events, downloaded as the
// same JSON-lines file `vigie replay` reads, and replays of a recording (stored or uploaded)
// through the running rules without sending anything.

export type ReplaySource = { recording: string; from?: number; to?: number } | { upload: Readable };

export interface WorkbenchApiDeps {
  recorder: Pick<Recorder, 'start' | 'stop' | 'list' | 'get' | 'remove' | 'read'>;
  replay: (src: ReplaySource) => Promise<ReplayResult>;
  /** Largest recording replayed, stored or uploaded (workbench.maxReplayBytes). */
  maxReplayBytes: number;
}

export const NDJSON = 'application/x-ndjson';
const START_FIELDS = ['name', 'devices', 'kinds', 'zones', 'duration', 'maxBytes'];
const REPLAY_FIELDS = ['recording', 'from', 'to'];
const MAX_LIST = 10_000;
/** The header of an "every device" recording of a large site is one long line; past this it is not one. */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;
const BATCH = 64 * 1024;
/** How long a refused upload is read on (and discarded) so that its client gets the answer. */
const DRAIN_MS = 10_000;

const bad = (message: string) => new VigieError('VIGIE_ERR_BAD_REQUEST', message);

export function registerWorkbenchApi(router: Router, deps: WorkbenchApiDeps): void {
  const { recorder } = deps;
  const base = '/api/v1/recordings';
  const found = (id: string): RecordingInfo => {
    const info = recorder.get(id);
    if (!info) throw new NotFoundError(`recording ${id}`);
    return info;
  };

  router.add('GET', base, 'integrator', () => ({ body: { recordings: recorder.list() } }));

  router.add('POST', base, 'integrator', async (ctx) => {
    const body = (await readJsonObject(ctx.req)) ?? {};
    return { status: 201, body: recorder.start(startRequest(body)) };
  });

  router.add('GET', `${base}/:id`, 'integrator', ({ params }) => ({ body: found(params.id) }));

  router.add('POST', `${base}/:id/stop`, 'integrator', ({ req, params }) => {
    req.resume();
    return { body: recorder.stop(found(params.id).id) };
  });

  router.add('DELETE', `${base}/:id`, 'integrator', async ({ res, params }) => {
    await recorder.remove(found(params.id).id);
    res.writeHead(204, { 'Cache-Control': 'no-store' }).end();
    return undefined;
  });

  router.add('GET', `${base}/:id/events`, 'integrator', async ({ res, params, query }) => {
    const info = found(params.id);
    const from = timeValue(query.get('from') ?? undefined, 'from');
    const to = timeValue(query.get('to') ?? undefined, 'to');
    if (from !== undefined && to !== undefined && to <= from) throw bad('to must be after from');
    const file = recorder.read(info.id);
    const source = from === undefined && to === undefined ? file : windowed(file, from, to);
    await sendStream(res, source, {
      'Content-Type': `${NDJSON}; charset=utf-8`,
      'Content-Disposition': `attachment; filename="${info.id}.jsonl"`,
    });
    return undefined;
  });

  // One at a time: a replay holds the rules, an in-memory database and the event loop's spare turns.
  let replaying = false;
  router.add('POST', '/api/v1/replays', 'integrator', async ({ req }) => {
    if (replaying) {
      req.resume();
      throw new HttpError(409, 'VIGIE_ERR_ILLEGAL_TRANSITION', 'a replay is running: try again once it ends');
    }
    replaying = true;
    try {
      if (mediaType(req) === NDJSON) return { body: await replayUpload(req, deps) };
      if (req.headers['content-type'] !== undefined && !isJsonType(req)) {
        req.resume();
        throw new HttpError(
          415,
          'VIGIE_ERR_BAD_REQUEST',
          `send { "recording": id } as application/json, or a recording file as ${NDJSON}`,
        );
      }
      const src = replayRequest((await readJsonObject(req)) ?? {});
      const info = found(src.recording);
      if (info.bytes > deps.maxReplayBytes) throw tooLarge(deps.maxReplayBytes, `recording ${info.id}`);
      return { body: await deps.replay(src) };
    } finally {
      replaying = false;
    }
  });
}

function startRequest(b: Record<string, unknown>): StartRecording {
  for (const key of Object.keys(b))
    if (!START_FIELDS.includes(key)) throw bad(`unknown field "${key}" (use ${START_FIELDS.join(', ')})`);
  const out: StartRecording = {};
  if (b.name !== undefined) {
    if (typeof b.name !== 'string') throw bad('name must be a string');
    out.name = b.name;
  }
  for (const key of ['devices', 'kinds', 'zones'] as const) {
    const v = b[key];
    if (v === undefined) continue;
    if (!Array.isArray(v) || v.length > MAX_LIST || !v.every((x) => typeof x === 'string' && x !== ''))
      throw bad(`${key} must be a list of ids (at most ${MAX_LIST})`);
    out[key] = v as string[];
  }
  if (b.duration !== undefined) {
    const ms = parseDuration(b.duration);
    if (ms === undefined || ms <= 0) throw bad('duration must be a duration such as 30s, 10m, 2h or 7d');
    out.durationMs = ms;
  }
  if (b.maxBytes !== undefined) {
    if (typeof b.maxBytes !== 'number' || !Number.isInteger(b.maxBytes))
      throw bad('maxBytes must be a whole number of bytes');
    out.maxBytes = b.maxBytes;
  }
  return out;
}

function replayRequest(b: Record<string, unknown>): { recording: string; from?: number; to?: number } {
  for (const key of Object.keys(b))
    if (!REPLAY_FIELDS.includes(key)) throw bad(`unknown field "${key}" (use ${REPLAY_FIELDS.join(', ')})`);
  if (typeof b.recording !== 'string' || b.recording === '')
    throw bad(`give the recording id as "recording", or upload a recording file as ${NDJSON}`);
  const from = timeValue(b.from, 'from');
  const to = timeValue(b.to, 'to');
  if (from !== undefined && to !== undefined && to <= from) throw bad('to must be after from');
  return {
    recording: b.recording,
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
  };
}

function timeValue(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  const t = typeof v === 'string' ? parseInstant(v) : undefined;
  if (t === undefined) throw bad(`${what} must be a time: ${INSTANT_HINT}`);
  return t;
}

function tooLarge(limit: number, what = 'the upload'): HttpError {
  return new HttpError(
    413,
    'VIGIE_ERR_PAYLOAD_REJECTED',
    `${what} is larger than the ${limit} bytes the API replays (workbench.maxReplayBytes); use vigie replay`,
    { Connection: 'close' },
  );
}

/**
 * An uploaded recording, streamed to the replay as it arrives and counted on the way: past the
 * limit the replay's input fails, the rest of the body is read and discarded, and the client gets
 * its 413 instead of a reset connection.
 */
async function replayUpload(req: IncomingMessage, deps: WorkbenchApiDeps): Promise<ReplayResult> {
  const limit = deps.maxReplayBytes;
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    req.resume();
    throw tooLarge(limit);
  }
  const upload = new PassThrough();
  const ended = new Promise<void>((resolve) => {
    req.once('end', resolve);
    req.once('close', resolve);
  });
  let size = 0;
  let over = false;
  let done = false;
  req.on('data', (chunk: Buffer) => {
    if (over || done) return;
    size += chunk.length;
    if (size > limit) {
      over = true;
      upload.destroy(tooLarge(limit));
      req.resume();
    } else if (!upload.write(chunk)) {
      req.pause();
      upload.once('drain', () => req.resume());
    }
  });
  req.once('end', () => upload.end());
  req.on('error', (err) => upload.destroy(err));
  req.once('close', () => {
    if (!req.complete) upload.destroy(bad('the upload was cut off'));
  });
  try {
    const head = await headerOf(upload);
    const result = await deps.replay({ upload: Readable.from(head) });
    if (over) throw tooLarge(limit);
    return result;
  } catch (err) {
    done = true;
    req.resume();
    // Answered once the client has sent everything, up to a point: it holds the one replay slot.
    await Promise.race([ended, new Promise((r) => setTimeout(r, DRAIN_MS).unref())]);
    throw over ? tooLarge(limit) : err;
  } finally {
    done = true;
    upload.destroy();
    req.resume();
  }
}

/**
 * Reads the upload up to its first line and checks that it is a recording header; answers the
 * whole upload again (that line first) for the replay to read.
 */
async function headerOf(upload: Readable): Promise<AsyncGenerator<Buffer>> {
  const it = upload[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const seen: Buffer[] = [];
  let bytes = 0;
  let nl = -1;
  while (nl < 0) {
    const n = await it.next();
    if (n.done) break;
    const at = n.value.indexOf(0x0a);
    if (at >= 0) nl = bytes + at;
    seen.push(n.value);
    bytes += n.value.length;
    if (nl < 0 && bytes > MAX_HEADER_BYTES) break;
  }
  const all = Buffer.concat(seen);
  const first = all.toString('utf8', 0, nl < 0 ? all.length : nl).replace(/^\uFEFF/, '');
  if (first.trim() === '') throw bad('the upload is empty or does not start with a recording header line');
  const d = decodeLine(first);
  if (d.type !== 'header') {
    const why =
      d.type === 'bad' ? d.reason : `its first line is ${d.type === 'end' ? 'an end line' : `an ${d.type}`}`;
    throw bad(`the upload is not a Vigie recording: ${why}; it must start with its header line`);
  }
  return (async function* () {
    yield all;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value;
    }
  })();
}

/** The recording's lines with events and actions outside [from, to) left out; headers and end kept. */
async function* windowed(file: Readable, from?: number, to?: number): AsyncGenerator<string> {
  const lines = createInterface({ input: file, crlfDelay: Infinity });
  let batch = '';
  try {
    for await (const line of lines) {
      if (line === '') continue;
      const d = decodeLine(line);
      if ((d.type === 'event' || d.type === 'action') && !inWindow(d, { from, to })) continue;
      batch += line + '\n';
      if (batch.length >= BATCH) {
        yield batch;
        batch = '';
      }
    }
    if (batch !== '') yield batch;
  } finally {
    lines.close();
    file.destroy();
  }
}

/**
 * A streamed 200: the status goes out with the first chunk, so a recording that cannot be read at
 * all is still a JSON error; a failure later cuts the connection (the router's rule once headers
 * are sent). A client that goes away is not an error.
 */
async function sendStream(
  res: ServerResponse,
  source: AsyncIterable<Buffer | string>,
  headers: Readonly<Record<string, string>>,
): Promise<void> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  res.writeHead(200, { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...headers });
  const body = Readable.from(
    (async function* () {
      if (!first.done) yield first.value;
      for (;;) {
        const n = await it.next();
        if (n.done) return;
        yield n.value;
      }
    })(),
  );
  try {
    await pipeline(body, res);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'EPIPE') return;
    throw err;
  }
}
