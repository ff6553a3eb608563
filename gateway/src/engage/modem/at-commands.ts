import { VigieError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { finalResult, isPrompt, isUnsolicited, LineSplitter } from './at-parse.js';

/*
 * The command layer over one open serial link (ITU-T V.250 framing):
 * - one job at a time; a job's first command, with the resync before it, fits in `timeout`, each
 *   further command of the job gets a `timeout` of its own;
 * - unsolicited codes (+CMTI...) are handed out wherever they fall, even inside another answer;
 * - after a timeout or an abort the modem may still answer later, so the next job first resyncs:
 *   ESC (leaves a pending `> ` prompt), AT, then a short silence that swallows stale lines.
 */

/** Why a command failed. `offline` and `timeout` can pass by themselves; `refused` is the modem's word. */
export type ModemFailure = 'offline' | 'timeout' | 'refused' | 'aborted' | 'invalid';

export class ModemError extends VigieError {
  constructor(
    readonly reason: ModemFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('VIGIE_ERR_CHANNEL', message, options);
    this.name = 'ModemError';
  }
}

export interface RunOptions {
  /** What the command answers with (`+CPIN:`): such a line is never taken for an unsolicited code. */
  answer?: string;
  /** SMS text, written after the `> ` prompt and ended with Ctrl-Z (TS 27.005 §3.5.1). */
  payload?: Buffer;
}

/** Runs one command of a job and resolves with its information lines (rejects on an error code). */
export type Run = (command: string, opts?: RunOptions) => Promise<string[]>;

export interface AtCommandsOptions {
  /** Limit on one command's answer (ms). */
  timeout: number;
  logger: Logger;
  unsolicited: (line: string) => void;
  /** A resync got no answer: the modem does not even answer AT. */
  stalled: () => void;
}

interface Job {
  work: (run: Run) => Promise<unknown>;
  signal?: AbortSignal;
  settle: (err: Error | undefined, value?: unknown) => void;
}

interface Exchange {
  command: string;
  answer?: string;
  payload?: Buffer;
  lines: string[];
  settle: (err: Error | undefined, lines?: string[]) => void;
}

const CTRL_Z = Buffer.from([0x1a]);
const ESC = Buffer.from([0x1b]);
/** Silence that ends a resync: stale answers of a timed-out command arrive within it. */
const QUIET_MS = 100;

export class AtCommands {
  private write: ((data: Buffer) => void) | undefined;
  private readonly splitter = new LineSplitter();
  private readonly queue: Job[] = [];
  private busy = false;
  private current: Exchange | undefined;
  private needsSync = true;
  private draining: (() => void) | undefined;

  constructor(private readonly o: AtCommandsOptions) {}

  /** A link was opened: commands go to `write`; the first job resyncs. */
  attach(write: (data: Buffer) => void): void {
    this.write = write;
    this.splitter.clear();
    this.needsSync = true;
  }

  /** The link is gone: the running command and every queued job fail with `err`. */
  detach(err: ModemError): void {
    this.write = undefined;
    this.current?.settle(err);
    for (const job of this.queue.splice(0)) job.settle(err);
  }

  get idle(): boolean {
    return !this.busy && this.queue.length === 0;
  }

  command(command: string, answer?: string): Promise<string[]> {
    return this.job((run) => run(command, { answer }));
  }

  /** Queues `work`, which runs its commands through `run` with nothing else in between. */
  job<T>(work: (run: Run) => Promise<T>, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) return reject(new ModemError('aborted', 'send aborted'));
      const onAbort = () => {
        const i = this.queue.indexOf(job);
        if (i >= 0) this.queue.splice(i, 1);
        job.settle(new ModemError('aborted', 'send aborted'));
      };
      let settled = false;
      const job: Job = {
        work,
        signal,
        settle: (err, value) => {
          if (settled) return;
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          if (err) reject(err);
          else resolve(value as T);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(job);
      void this.pump();
    });
  }

  /** Bytes read from the link. */
  receive(chunk: Buffer): void {
    this.draining?.();
    for (const line of this.splitter.push(chunk.toString('latin1'))) this.onLine(line);
    const ex = this.current;
    if (ex?.payload && isPrompt(this.splitter.partial)) {
      this.splitter.clear();
      this.prompted(ex);
    }
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    for (let job = this.queue.shift(); job; job = this.queue.shift()) {
      const deadline = Date.now() + this.o.timeout;
      let first = true;
      const run: Run = (command, opts = {}) => {
        const until = first ? deadline : Date.now() + this.o.timeout;
        first = false;
        return this.exchange(command, until, job.signal, opts);
      };
      if (this.needsSync) {
        try {
          await this.sync(deadline, job.signal);
        } catch (err) {
          job.settle(err as Error);
          // A modem that does not even answer AT is gone for practical purposes.
          if (err instanceof ModemError && err.reason === 'timeout') this.o.stalled();
          continue;
        }
      }
      try {
        job.settle(undefined, await job.work(run));
      } catch (err) {
        job.settle(err as Error);
      }
    }
    this.busy = false;
  }

  private async sync(deadline: number, signal?: AbortSignal): Promise<void> {
    this.splitter.clear();
    this.send(ESC);
    await this.exchange('AT', deadline, signal);
    await new Promise<void>((resolve) => {
      let quiet = setTimeout(done, QUIET_MS);
      const cap = setTimeout(done, 10 * QUIET_MS);
      function done() {
        clearTimeout(quiet);
        clearTimeout(cap);
        resolve();
      }
      this.draining = () => {
        clearTimeout(quiet);
        quiet = setTimeout(done, QUIET_MS);
      };
    });
    this.draining = undefined;
    if (isPrompt(this.splitter.partial)) this.splitter.clear();
    this.needsSync = false;
  }

  /** Writes one command and collects its answer up to the final result code. */
  private exchange(command: string, deadline: number, signal?: AbortSignal, opts: RunOptions = {}) {
    return new Promise<string[]>((resolve, reject) => {
      if (!this.write) return reject(new ModemError('offline', 'modem offline'));
      if (signal?.aborted) return reject(new ModemError('aborted', 'send aborted'));
      const ex: Exchange = {
        command,
        answer: opts.answer,
        payload: opts.payload,
        lines: [],
        settle: (err, lines) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          if (this.current === ex) this.current = undefined;
          if (err) reject(err);
          else resolve(lines ?? []);
        },
      };
      // A late answer would be taken for the next command's: the next job resyncs first.
      const giveUp = (err: ModemError) => {
        this.needsSync = true;
        if (ex.payload) this.send(ESC);
        ex.settle(err);
      };
      const secs = `${Math.round(this.o.timeout / 100) / 10}s`;
      const timer = setTimeout(
        () => giveUp(new ModemError('timeout', `modem did not answer within ${secs}`)),
        Math.max(0, deadline - Date.now()),
      );
      const onAbort = () => giveUp(new ModemError('aborted', 'send aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.current = ex;
      this.send(Buffer.from(command + '\r', 'latin1'));
    });
  }

  private send(data: Buffer): void {
    this.write?.(data);
  }

  private prompted(ex: Exchange): void {
    const payload = ex.payload;
    if (!payload) return;
    ex.payload = undefined;
    this.send(Buffer.concat([payload, CTRL_Z]));
  }

  private onLine(line: string): void {
    const ex = this.draining ? undefined : this.current;
    if (isUnsolicited(line, ex?.answer)) return this.o.unsolicited(line);
    if (!ex) {
      if (!this.draining) this.o.logger.debug('modem said, unasked', { line });
      return;
    }
    if (line.trim() === ex.command) return; // echo, before ATE0
    if (ex.payload && isPrompt(line)) return this.prompted(ex);
    const final = finalResult(line);
    if (!final) {
      ex.lines.push(line);
      return;
    }
    if (final.ok && ex.payload) {
      // AT+CMGS cannot end in OK before its prompt: a late answer of a command that timed out.
      ex.lines = [];
      return;
    }
    if (final.ok) ex.settle(undefined, ex.lines);
    else ex.settle(new ModemError('refused', `modem refused: ${final.text}`));
  }
}
