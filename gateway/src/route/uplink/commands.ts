import { Match, type Msg, type NatsConnection, type Subscription } from 'nats';
import { roleAtLeast, type TokenAuth } from '../../api/auth.js';
import { actorFor } from '../../api/incident-routes.js';
import { checkNote, checkWho } from '../../api/operator-input.js';
import { IllegalTransitionError, NotFoundError, VigieError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { Counter, Registry } from '../../core/metrics.js';
import { LogLimiter } from '../../listen/log-limiter.js';
import type { IncidentService } from '../incidents.js';
import type { Incident } from '../model.js';
import { subjects } from './events.js';

export type CommandVerb = 'acknowledge' | 'resolve' | 'note';
export const COMMAND_VERBS: readonly CommandVerb[] = ['acknowledge', 'resolve', 'note'];

export type CommandErrorCode =
  'unauthorized' | 'forbidden' | 'not-found' | 'conflict' | 'bad-request' | 'internal';

export type CommandReply =
  { ok: true; incident: Incident } | { ok: false; error: { code: CommandErrorCode; message: string } };

export const MAX_COMMAND_BYTES = 64 * 1024;
const FIELDS = new Set(['incidentId', 'note', 'actor']);

export interface CommandOptions {
  site: string;
  incidents: Pick<IncidentService, 'acknowledge' | 'resolve' | 'addNote'>;
  auth: TokenAuth;
  metrics: Registry;
  logger: Logger;
  clock: Clock;
}

class CommandError extends Error {
  constructor(
    readonly code: CommandErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const bad = (message: string) => new CommandError('bad-request', message);

/**
 * The downlink (README "Uplink"): the contact center acknowledges, resolves or annotates an
 * incident by core NATS request/reply on `vigie.{site}.cmd.{verb}`. The bearer token in the
 * `Authorization` header is checked exactly like the HTTP API's, and the actor recorded is the token.
 */
export class CommandResponder {
  private readonly counted: Counter;
  private readonly limiter: LogLimiter;

  constructor(private readonly o: CommandOptions) {
    this.counted = o.metrics.counter(
      'vigie_uplink_commands_total',
      'Commands received over NATS, by verb and outcome',
    );
    this.limiter = new LogLimiter(o.clock, 60_000);
  }

  /**
   * Subscribes on `nc` in the queue group `vigie-{site}`, so gateways sharing a site id answer
   * each command once. The subscriptions live as long as the connection (reconnects included).
   */
  subscribe(nc: NatsConnection): Subscription[] {
    return COMMAND_VERBS.map((verb) =>
      nc.subscribe(subjects.command(this.o.site, verb), {
        queue: `vigie-${this.o.site}`,
        callback: (err, msg) => {
          if (err) this.log('subscription', 'command subscription failed', { verb, error: err.message });
          else this.serve(verb, msg);
        },
      }),
    );
  }

  private serve(verb: CommandVerb, msg: Msg): void {
    try {
      if (!msg.reply) {
        // Nobody would hear the outcome: acting on it anyway would be a change nobody asked to see.
        this.counted.inc({ verb, outcome: 'no-reply' });
        return;
      }
      const reply = this.handle(verb, msg.data, msg.headers?.get('Authorization', Match.IgnoreCase));
      msg.respond(Buffer.from(JSON.stringify(reply)));
    } catch (err) {
      this.log('serve', 'command reply failed', { verb, error: (err as Error).message });
    }
  }

  /** Runs one command and says how it went; never throws. */
  handle(verb: CommandVerb, data: Uint8Array, authorization: string | undefined): CommandReply {
    let reply: CommandReply;
    try {
      reply = { ok: true, incident: this.run(verb, data, authorization || undefined) };
    } catch (err) {
      reply = { ok: false, error: this.describe(verb, err) };
    }
    this.counted.inc({ verb, outcome: reply.ok ? 'ok' : reply.error.code });
    return reply;
  }

  private run(verb: CommandVerb, data: Uint8Array, authorization: string | undefined): Incident {
    if (data.length > MAX_COMMAND_BYTES) throw bad(`a command must be at most ${MAX_COMMAND_BYTES} bytes`);
    const principal = this.o.auth.fromHeader(authorization);
    if (!principal) throw new CommandError('unauthorized', 'a valid bearer token is required');
    if (!roleAtLeast(principal.role, 'operator')) {
      throw new CommandError('forbidden', `the token's role (${principal.role}) cannot change incidents`);
    }
    const { incidentId, note, actor: who } = parse(verb, data);
    const actor = { ...actorFor(principal, who), via: 'nats' };
    const s = this.o.incidents;
    if (verb === 'acknowledge') return s.acknowledge(incidentId, actor, note);
    if (verb === 'resolve') return s.resolve(incidentId, actor, note);
    return s.addNote(incidentId, actor, note as string);
  }

  private describe(verb: CommandVerb, err: unknown): { code: CommandErrorCode; message: string } {
    if (err instanceof CommandError) return { code: err.code, message: err.message };
    if (err instanceof NotFoundError) return { code: 'not-found', message: err.message };
    if (err instanceof IllegalTransitionError) return { code: 'conflict', message: err.message };
    if (err instanceof VigieError && err.code === 'VIGIE_ERR_BAD_REQUEST') {
      return { code: 'bad-request', message: err.message };
    }
    this.log(`internal-${verb}`, 'command failed', { verb, error: (err as Error).message });
    return { code: 'internal', message: 'the gateway could not run the command' };
  }

  private log(key: string, msg: string, fields: Record<string, unknown>): void {
    const suppressed = this.limiter.allow(key);
    if (suppressed !== false) this.o.logger.warn(msg, suppressed > 0 ? { ...fields, suppressed } : fields);
  }
}

function parse(verb: CommandVerb, data: Uint8Array): { incidentId: string; note?: string; actor?: string } {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    throw bad('the command is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw bad('the command must be a JSON object');
  const o = body as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!FIELDS.has(key)) throw bad(`unknown field "${key}" (use ${[...FIELDS].join(', ')})`);
  }
  const { incidentId } = o;
  if (typeof incidentId !== 'string' || incidentId.length === 0 || incidentId.length > 100) {
    throw bad('incidentId must be an incident id');
  }
  // The HTTP API's rules for who and notes (they throw VIGIE_ERR_BAD_REQUEST: a bad-request reply).
  const actor = checkWho(o.actor, 'actor');
  const note = checkNote(o.note);
  if (verb === 'note' && (note === undefined || note.trim().length === 0)) throw bad('a note needs its text');
  return { incidentId, note, actor };
}
