import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SerialLink } from '../../src/engage/modem/at-modem.js';
import { decodeGsm, encodeGsm, toGsmText } from '../../src/engage/modem/gsm-text.js';
import { openSerialPort } from '../../src/io/serial-port.js';

/*
 * A GSM modem on the far end of a pty, strict the way a module's firmware is (3GPP TS 27.005/27.007):
 * commands end in CR and start with AT, echo is on until ATE0, SMS commands need the SIM unlocked,
 * AT+CMGS needs text mode and a quoted number, the text is only taken after the `> ` prompt and ends
 * with Ctrl-Z (ESC cancels), at most 160 septets of the GSM alphabet. Unknown commands get ERROR.
 * Received messages sit in numbered slots until AT+CMGD, announced by +CMTI when AT+CNMI asks.
 */

export type EmulatorMode = 'ok' | 'error' | 'silent';

export interface SentSms {
  to: string;
  text: string;
  /** The bytes between the prompt and Ctrl-Z. */
  raw: Buffer;
  reference: number;
}

interface Slot {
  status: 'REC UNREAD' | 'REC READ';
  from: string;
  text: string;
  timestamp: string;
}

const SLOTS = 20;
const CTRL_Z = 0x1a;
const ESC = 0x1b;

export class ModemEmulator extends EventEmitter {
  /** `error`: the network refuses every SMS (+CMS ERROR: 500); `silent`: reads nothing, says nothing. */
  mode: EmulatorMode = 'ok';
  readonly sent: SentSms[] = [];
  readonly deleted: number[] = [];
  /** Every command line received, in order. */
  readonly commands: string[] = [];
  readonly pinTries: string[] = [];
  private readonly slots = new Map<number, Slot>();
  private echo = true;
  private cmee = 0;
  private textMode = false;
  private charset = 'IRA';
  private cnmi = [0, 0, 0, 0, 0];
  private simLocked: boolean;
  private state: 'command' | 'text' = 'command';
  private acc: number[] = [];
  private to = '';
  private reference = 0;

  private constructor(
    private readonly port: SerialLink,
    private readonly pin: string | undefined,
  ) {
    super();
    this.simLocked = pin !== undefined;
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    // socat killed: the emulator's end drops too; a test that unplugs the modem expects that.
    port.on('error', () => undefined);
  }

  static async open(path: string, opts: { pin?: string } = {}): Promise<ModemEmulator> {
    const port = openSerialPort(path, 115200);
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    return new ModemEmulator(port, opts.pin);
  }

  /** An SMS from `from` arrives: stored in the first free slot and announced if AT+CNMI asked. */
  receive(from: string, text: string): number {
    const index = this.store(from, text);
    const [mode, mt] = this.cnmi;
    if (mode > 0 && mt === 1) this.say(`+CMTI: "SM",${index}`);
    return index;
  }

  /** An SMS that arrived while nobody listened: stored, not announced. */
  store(from: string, text: string): number {
    let index = 1;
    while (this.slots.has(index)) index++;
    if (index > SLOTS) throw new Error('emulated SIM full');
    const ts = new Date().toISOString();
    const timestamp = `${ts.slice(2, 4)}/${ts.slice(5, 7)}/${ts.slice(8, 10)},${ts.slice(11, 19)}+00`;
    this.slots.set(index, { status: 'REC UNREAD', from, text, timestamp });
    return index;
  }

  /** Slots still holding a message. */
  get stored(): number[] {
    return [...this.slots.keys()].sort((a, b) => a - b);
  }

  async waitFor(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > until) throw new Error(`modem emulator: ${what} not seen in ${timeoutMs} ms`);
      await sleep(10);
    }
  }

  async close(): Promise<void> {
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }

  // ---- input ---------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.mode === 'silent') return;
    if (this.echo) this.port.write(chunk, () => undefined);
    for (const b of chunk) {
      if (this.state === 'text') this.textByte(b);
      else this.commandByte(b);
    }
  }

  private commandByte(b: number): void {
    if (b === 0x0a || b === ESC) return;
    if (b !== 0x0d) {
      this.acc.push(b);
      return;
    }
    const line = Buffer.from(this.acc).toString('latin1').trim();
    this.acc = [];
    // A modem waits for "AT" and ignores whatever comes before it.
    if (!/^AT/i.test(line)) return;
    this.commands.push(line);
    this.emit('command', line);
    this.command(line);
  }

  private textByte(b: number): void {
    if (b === ESC) {
      this.state = 'command';
      this.acc = [];
      this.ok();
    } else if (b === 0x0d) {
      // TS 27.005 §3.5.1: a CR inside the text gives a new prompt, the text goes on.
      this.acc.push(0x0a);
      this.prompt();
    } else if (b === CTRL_Z) {
      this.state = 'command';
      const raw = Buffer.from(this.acc);
      this.acc = [];
      this.submit(raw);
    } else this.acc.push(b);
  }

  private submit(raw: Buffer): void {
    if (raw.length > 160 || raw.some((b) => b > 0x7f)) return this.cmsError(305);
    if (this.mode === 'error') return this.cmsError(500);
    this.reference = (this.reference + 1) % 256;
    const text = this.charset === 'GSM' ? decodeGsm(raw.toString('latin1')) : raw.toString('latin1');
    this.sent.push({ to: this.to, text, raw, reference: this.reference });
    this.emit('sms', this.sent[this.sent.length - 1]);
    this.say(`+CMGS: ${this.reference}`, 'OK');
  }

  // ---- commands ------------------------------------------------------------------------------

  private command(line: string): void {
    const cmd = line.slice(2);
    const upper = cmd.toUpperCase();
    if (upper === '') return this.ok();
    if (/^E[01]$/.test(upper)) {
      this.echo = upper === 'E1';
      return this.ok();
    }
    if (/^\+CMEE=[012]$/.test(upper)) {
      this.cmee = Number(upper.slice(6));
      return this.ok();
    }
    if (upper === '+CPIN?') return this.say(`+CPIN: ${this.simLocked ? 'SIM PIN' : 'READY'}`, 'OK');
    const pin = /^\+CPIN="?(\d{4,8})"?$/i.exec(cmd);
    if (pin) return this.enterPin(pin[1]);
    if (upper === '+CSQ') return this.say('+CSQ: 20,99', 'OK');
    if (this.simLocked) return upper.startsWith('+CM') ? this.cmsError(311) : this.cmeError(11);
    if (/^\+CMGF=[01]$/.test(upper)) {
      this.textMode = upper.endsWith('1');
      return this.ok();
    }
    const cscs = /^\+CSCS="(GSM|IRA|UCS2)"$/.exec(upper);
    if (cscs) {
      this.charset = cscs[1];
      return this.ok();
    }
    if (/^\+CNMI=\d(,\d){0,4}$/.test(upper)) {
      const values = upper.slice(6).split(',').map(Number);
      if (values[0] > 2 || values[1] > 3) return this.cmsError(303);
      this.cnmi = [0, 1, 2, 3, 4].map((i) => values[i] ?? 0);
      return this.ok();
    }
    if (upper.startsWith('+CMGS=')) return this.cmgs(cmd);
    if (upper.startsWith('+CMGR=')) return this.cmgr(upper.slice(6));
    if (upper.startsWith('+CMGL')) return this.cmgl(cmd);
    if (upper.startsWith('+CMGD=')) return this.cmgd(upper.slice(6));
    this.say('ERROR');
  }

  private enterPin(pin: string): void {
    this.pinTries.push(pin);
    if (!this.simLocked) return this.cmeError(3);
    if (pin !== this.pin) return this.cmeError(16);
    this.simLocked = false;
    this.ok();
  }

  private cmgs(cmd: string): void {
    if (!this.textMode) return this.cmsError(304);
    const m = /^\+CMGS="(\+?\d{3,20})"(,\d+)?$/i.exec(cmd);
    if (!m) return this.cmsError(305);
    this.to = m[1];
    this.state = 'text';
    this.acc = [];
    this.prompt();
  }

  private slotIndex(arg: string): number | undefined {
    const i = Number(arg);
    return Number.isInteger(i) && i >= 1 && i <= SLOTS ? i : undefined;
  }

  private cmgr(arg: string): void {
    const index = this.slotIndex(arg);
    if (index === undefined || !this.textMode) return this.cmsError(index === undefined ? 321 : 302);
    const slot = this.slots.get(index);
    if (!slot) return this.ok();
    const head = `+CMGR: "${slot.status}","${slot.from}",,"${slot.timestamp}"`;
    slot.status = 'REC READ';
    this.sayRaw(
      Buffer.concat([this.frame(head), this.frame(encodeGsm(toGsmText(slot.text))), this.frame('OK')]),
    );
  }

  private cmgl(cmd: string): void {
    const m = /^\+CMGL(?:="(ALL|REC UNREAD|REC READ)")?$/i.exec(cmd);
    if (!m || !this.textMode) return this.cmsError(302);
    const which = (m[1] ?? 'REC UNREAD').toUpperCase();
    const parts: Buffer[] = [];
    for (const index of this.stored) {
      const slot = this.slots.get(index);
      if (!slot || (which !== 'ALL' && slot.status !== which)) continue;
      parts.push(this.frame(`+CMGL: ${index},"${slot.status}","${slot.from}",,"${slot.timestamp}"`));
      parts.push(this.frame(encodeGsm(toGsmText(slot.text))));
      slot.status = 'REC READ';
    }
    this.sayRaw(Buffer.concat([...parts, this.frame('OK')]));
  }

  private cmgd(arg: string): void {
    const index = this.slotIndex(arg.split(',')[0]);
    if (index === undefined) return this.cmsError(321);
    this.slots.delete(index);
    this.deleted.push(index);
    this.ok();
  }

  // ---- output --------------------------------------------------------------------------------

  private frame(line: string | Buffer): Buffer {
    const body = typeof line === 'string' ? Buffer.from(line, 'latin1') : line;
    return Buffer.concat([Buffer.from('\r\n'), body, Buffer.from('\r\n')]);
  }

  private say(...lines: string[]): void {
    this.sayRaw(Buffer.concat(lines.map((l) => this.frame(l))));
  }

  private sayRaw(data: Buffer): void {
    if (this.mode === 'silent' || !this.port.isOpen) return;
    this.port.write(data, () => undefined);
  }

  private prompt(): void {
    this.sayRaw(Buffer.from('\r\n> '));
    this.emit('prompt');
  }

  private ok(): void {
    this.say('OK');
  }

  private cmeError(n: number): void {
    this.say(this.cmee === 0 ? 'ERROR' : `+CME ERROR: ${n}`);
  }

  private cmsError(n: number): void {
    this.say(`+CMS ERROR: ${n}`);
  }
}
