import type { Logger } from '../../core/log.js';
import { AtCommands, ModemError } from './at-commands.js';
import { parseCmgl, parseCmgr, parseCmti, type StoredSms } from './at-parse.js';
import { encodeGsm, toGsmText } from './gsm-text.js';
import { openSerialPort, type SerialLink } from '../../io/serial-port.js';

/*
 * A GSM modem sending and receiving text-mode SMS (3GPP TS 27.005) over a serial link. The link is
 * opened, initialised, watched and reopened here; commands go through AtCommands. A link that
 * cannot be opened, closes, or stops answering AT is reopened with a doubling delay, and nothing
 * here throws at the owner except the promise of the send it asked for.
 */

export { ModemError, type ModemFailure } from './at-commands.js';

/** What the driver needs of a SerialPort (unit tests give a fake). Emits `data`, `close`, `error`. */
export type { SerialLink } from '../../io/serial-port.js';

export type ModemState = 'stopped' | 'connecting' | 'initialising' | 'ready' | 'offline';

export interface AtModemOptions {
  path: string;
  baudRate: number;
  /** SIM PIN, entered once when AT+CPIN? says `SIM PIN`. */
  pin?: string;
  /** Limit on one command's answer (ms). */
  timeout: number;
  logger: Logger;
  /** Each received SMS, before it is deleted from the modem (a crash in between reads it again). */
  onSms: (sms: StoredSms) => void;
  openLink?: (path: string, baudRate: number) => SerialLink;
  /** Delay before reopening a failed link (ms), doubling from `minMs` up to `maxMs`. */
  reconnect?: { minMs: number; maxMs: number };
  /**
   * How often an idle modem is asked for the messages on its SIM (ms, default 60 s): it proves the
   * modem still answers (else it is reopened) and picks up a message whose +CMTI was lost.
   */
  probeMs?: number;
}

const PHONE = /^\+?\d{3,20}$/;

export class AtModem {
  private stateNow: ModemState = 'stopped';
  private problem = 'not started';
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  private link: SerialLink | undefined;
  private linkClosed: (() => void) | undefined;
  private readonly at: AtCommands;
  /** A refused PIN is never entered again: three wrong tries lock the SIM (PUK). */
  private pinRefused = false;

  constructor(private readonly o: AtModemOptions) {
    this.at = new AtCommands({
      timeout: o.timeout,
      logger: o.logger,
      unsolicited: (line) => this.unsolicited(line),
      stalled: () => {
        if (this.stateNow !== 'ready') return;
        this.noteProblem('modem stopped answering');
        void this.closeLink();
      },
    });
  }

  get state(): ModemState {
    return this.stateNow;
  }

  /** Why the modem is not ready (last open or initialisation failure). */
  get lastProblem(): string {
    return this.problem;
  }

  /** Opens and initialises the modem. Resolves after the first try, whatever its outcome. */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.running = true;
    return new Promise<void>((firstTry) => {
      this.loopDone = this.loop(firstTry);
    });
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake?.();
    this.at.detach(new ModemError('offline', 'modem channel stopped'));
    await this.closeLink();
    await this.loopDone;
    this.stateNow = 'stopped';
  }

  /**
   * Sends `text` (converted to the GSM alphabet, cut to 160 characters) to `to`; resolves with the
   * message reference (+CMGS: <mr>). Rejects with a ModemError.
   */
  sendSms(to: string, text: string, signal?: AbortSignal): Promise<number | undefined> {
    if (!PHONE.test(to)) return Promise.reject(new ModemError('invalid', `not a phone number: ${to}`));
    if (this.stateNow !== 'ready') {
      return Promise.reject(new ModemError('offline', `modem offline: ${this.problem || this.stateNow}`));
    }
    const payload = encodeGsm(toGsmText(text));
    return this.at.job(async (run) => {
      const lines = await run(`AT+CMGS="${to}"`, { payload, answer: '+CMGS:' });
      const ref = lines.map((l) => /^\+CMGS:\s*(\d+)/.exec(l)).find((m) => m !== null);
      return ref ? Number(ref[1]) : undefined;
    }, signal);
  }

  // ---- connection --------------------------------------------------------------------------

  private async loop(firstTry: () => void): Promise<void> {
    const { minMs, maxMs } = this.o.reconnect ?? { minMs: 1000, maxMs: 30_000 };
    let delay = minMs;
    while (this.running) {
      const session = await this.connect();
      firstTry();
      if (session) {
        delay = minMs;
        await this.watch(session.closed);
      }
      if (!this.running) break;
      this.stateNow = 'offline';
      await this.pause(delay);
      delay = Math.min(delay * 2, maxMs);
    }
  }

  /** A delay that stop() cuts short. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.wake?.(), ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** Until the link closes: probes the modem whenever it has been idle for `probeMs`. */
  private async watch(closed: Promise<void>): Promise<void> {
    let isClosed = false;
    void closed.then(() => (isClosed = true));
    while (this.running && !isClosed) {
      await Promise.race([closed, this.pause(this.o.probeMs ?? 60_000)]);
      this.wake?.();
      if (!this.running || isClosed || !this.at.idle) continue;
      try {
        await this.listStored();
      } catch (err) {
        if (!(err instanceof ModemError && err.reason === 'timeout')) continue;
        this.noteProblem('modem stopped answering');
        await this.closeLink();
      }
    }
  }

  /** Opens and initialises; on success, `closed` resolves when the link closes. */
  private async connect(): Promise<{ closed: Promise<void> } | undefined> {
    this.stateNow = 'connecting';
    let link: SerialLink;
    try {
      link = (this.o.openLink ?? openSerialPort)(this.o.path, this.o.baudRate);
      link.on('error', (err: Error) => this.o.logger.warn('modem serial error', { error: err.message }));
      await new Promise<void>((resolve, reject) => link.open((err) => (err ? reject(err) : resolve())));
    } catch (err) {
      this.noteProblem(`cannot open ${this.o.path}: ${(err as Error).message}`);
      return undefined;
    }
    const closed = new Promise<void>((resolve) => (this.linkClosed = resolve));
    this.link = link;
    link.on('data', (chunk: Buffer) => this.at.receive(chunk));
    link.on('close', (err?: Error | null) => this.onClose(link, err));
    this.at.attach((data) => {
      if (!link.isOpen) return;
      link.write(data, (err) => {
        if (err) this.o.logger.warn('modem write failed', { error: err.message });
      });
    });
    if (!this.running) {
      await this.closeLink();
      return undefined;
    }
    this.stateNow = 'initialising';
    try {
      await this.initialise();
    } catch (err) {
      this.noteProblem(`modem initialisation failed: ${(err as Error).message}`);
      await this.closeLink();
      return undefined;
    }
    this.stateNow = 'ready';
    this.problem = '';
    this.o.logger.info('modem ready', { path: this.o.path });
    await this.listStored().catch((err: Error) =>
      this.o.logger.warn('modem could not read stored SMS', { error: err.message }),
    );
    return { closed };
  }

  private onClose(link: SerialLink, err?: Error | null): void {
    if (link !== this.link) return;
    this.link = undefined;
    const why = err ? `modem connection lost: ${err.message}` : 'modem connection closed';
    if (this.running && this.stateNow === 'ready') this.noteProblem(why);
    if (this.stateNow === 'ready') this.stateNow = 'offline';
    this.at.detach(new ModemError('offline', why));
    this.linkClosed?.();
  }

  private async closeLink(): Promise<void> {
    const link = this.link;
    if (!link?.isOpen) return;
    await new Promise<void>((resolve) => link.close(() => resolve()));
    // The close event has run by now on a real port; a link that never emits it still ends here.
    this.onClose(link);
  }

  private noteProblem(problem: string): void {
    if (problem !== this.problem) this.o.logger.warn(problem, { path: this.o.path });
    else this.o.logger.debug(problem, { path: this.o.path });
    this.problem = problem;
  }

  // ---- initialisation ------------------------------------------------------------------------

  private async initialise(): Promise<void> {
    // The first job resyncs (ESC, AT): a prompt left open by a previous run is closed first.
    await this.at.command('ATE0');
    await this.at.command('AT+CMEE=1');
    await this.unlockSim();
    await this.at.command('AT+CMGF=1');
    await this.at.command('AT+CSCS="GSM"');
    try {
      await this.at.command('AT+CNMI=2,1,0,0,0');
    } catch (err) {
      // Some modules refuse mode 2 (buffer while the link is busy); mode 1 still signals +CMTI.
      if (!(err instanceof ModemError && err.reason === 'refused')) throw err;
      await this.at.command('AT+CNMI=1,1,0,0,0');
    }
  }

  private async simState(): Promise<string> {
    const lines = await this.at.command('AT+CPIN?', '+CPIN:');
    const line = lines.find((l) => l.startsWith('+CPIN:'));
    return line ? line.slice('+CPIN:'.length).trim() : 'unknown';
  }

  private async unlockSim(): Promise<void> {
    let state = await this.simState();
    if (state === 'READY') return;
    if (state !== 'SIM PIN') throw new ModemError('refused', `SIM not ready: ${state}`);
    if (!this.o.pin) throw new ModemError('refused', 'the SIM asks for a PIN and none is configured');
    if (this.pinRefused) throw new ModemError('refused', 'the SIM refused the configured PIN (not retried)');
    try {
      await this.at.command(`AT+CPIN="${this.o.pin}"`);
    } catch (err) {
      if (err instanceof ModemError && err.reason === 'refused') this.pinRefused = true;
      throw err;
    }
    // The SIM takes a moment after its PIN before it answers SMS commands.
    for (let i = 0; i < 20 && state !== 'READY'; i++) {
      state = await this.simState();
      if (state !== 'READY') await new Promise((r) => setTimeout(r, 250));
    }
    if (state !== 'READY') throw new ModemError('refused', `SIM not ready after its PIN: ${state}`);
  }

  // ---- received SMS --------------------------------------------------------------------------

  private emit(sms: StoredSms): void {
    if (!sms.status.startsWith('REC')) return;
    try {
      this.o.onSms(sms);
    } catch (err) {
      this.o.logger.error('modem SMS listener failed', { error: (err as Error).message });
    }
  }

  /**
   * What arrived while nobody listened (or was read and not deleted before a crash). One job: a
   * +CMTI for a listed message, queued meanwhile, finds its slot already empty.
   */
  private listStored(): Promise<void> {
    return this.at.job(async (run) => {
      const lines = await run('AT+CMGL="ALL"', { answer: '+CMGL:' });
      for (const sms of parseCmgl(lines).filter((m) => m.status.startsWith('REC'))) {
        this.emit(sms);
        await run(`AT+CMGD=${sms.index}`);
      }
    });
  }

  private unsolicited(line: string): void {
    const cmti = parseCmti(line);
    if (!cmti) {
      this.o.logger.debug('modem unsolicited', { line });
      return;
    }
    const { index } = cmti;
    this.at
      .job(async (run) => {
        const sms = parseCmgr(index, await run(`AT+CMGR=${index}`, { answer: '+CMGR:' }));
        if (!sms) return;
        this.emit(sms);
        await run(`AT+CMGD=${index}`);
      })
      .catch((err: Error) =>
        this.o.logger.warn('modem could not read an SMS', { index, error: err.message }),
      );
  }
}
