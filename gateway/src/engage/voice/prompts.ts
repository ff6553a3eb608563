import { spawn } from 'node:child_process';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { copyFile, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { silentLogger, type Logger } from '../../core/log.js';
import type { PromptSource } from './prompt-source.js';

/*
 * Voice prompts as WAV files the provider fetches (<Play>): generated once per (text, language)
 * with espeak-ng, or the integrator's own recording for a template. Every prompt ends up in `dir`
 * as {id}.wav, so a restart between answering a call and the provider's fetch loses nothing.
 * URLs are signed and expire: GET {publicUrl}/hooks/prompts/{id}.wav?exp=<epoch s>&sig=<hex
 * HMAC-SHA256(secret, "{id}:{exp}")>. The alert text is in the audio, so the URL is the credential.
 */

export interface PromptStoreOptions {
  /** Cache directory of the WAV files. */
  dir: string;
  /** The espeak-ng executable. */
  espeak: string;
  /** Lifetime of a signed URL, ms. */
  urlTtl: number;
  /** espeak-ng voice per language; the language itself is tried when it has none. */
  voices: Readonly<Record<string, string>>;
  publicUrl?: string;
  /** Key of the URL signatures; keep it across restarts so URLs already handed out stay valid. */
  secret: string | Uint8Array;
  logger?: Logger;
  /** Limit on one espeak-ng run, ms (default 30 s). */
  generateTimeout?: number;
}

/** What the prompt route needs besides PromptSource. */
export interface ServedPrompts extends PromptSource {
  /** Whether `sig` signs `id` until `exp` (epoch s) and `exp` is not past at `now` (epoch ms). */
  verify(id: string, exp: string, sig: string, now: number): boolean;
  /** The WAV bytes of prompt `id`, or undefined. */
  read(id: string): Promise<Buffer | undefined>;
}

const ID = /^[0-9a-f]{20}$/;
/** espeak-ng runs at once: a burst of alerts must not take every core of a small gateway. */
const MAX_RUNS = 2;

export class PromptStore implements ServedPrompts {
  private readonly pending = new Map<string, Promise<string | undefined>>();
  private readonly warned = new Set<string>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly logger: Logger;

  constructor(private readonly opts: PromptStoreOptions) {
    this.logger = opts.logger ?? silentLogger;
  }

  async prepare(text: string, language: string, file?: string): Promise<string | undefined> {
    try {
      if (file) {
        const id = await this.register(file);
        if (id) return id;
      }
      const words = text.trim();
      if (words === '') return undefined;
      const voice = this.opts.voices[language] ?? language;
      const id = shortHash(`tts\0${language}\0${voice}\0${words}`);
      if (await isFile(this.pathOf(id))) return id;
      let job = this.pending.get(id);
      if (!job) {
        job = this.generate(id, words, voice).finally(() => this.pending.delete(id));
        this.pending.set(id, job);
      }
      return await job;
    } catch (err) {
      this.warnOnce('prompt-error', 'voice prompt unavailable: the call will use text-to-speech', err);
      return undefined;
    }
  }

  url(id: string, now: number): string {
    const exp = String(Math.floor((now + this.opts.urlTtl) / 1000));
    const base = (this.opts.publicUrl ?? '').replace(/\/+$/, '');
    return `${base}/hooks/prompts/${id}.wav?exp=${exp}&sig=${this.sign(id, exp)}`;
  }

  verify(id: string, exp: string, sig: string, now: number): boolean {
    if (!ID.test(id) || !/^\d{1,12}$/.test(exp) || !/^[0-9a-f]{64}$/.test(sig)) return false;
    if (Number(exp) * 1000 < now) return false;
    return timingSafeEqual(Buffer.from(sig, 'hex'), Buffer.from(this.sign(id, exp), 'hex'));
  }

  async read(id: string): Promise<Buffer | undefined> {
    if (!ID.test(id)) return undefined;
    return readFile(this.pathOf(id)).catch(() => undefined);
  }

  private sign(id: string, exp: string): string {
    return createHmac('sha256', this.opts.secret).update(`${id}:${exp}`).digest('hex');
  }

  private pathOf(id: string): string {
    return join(this.opts.dir, `${id}.wav`);
  }

  /** Copies the integrator's WAV into the cache under an id that changes when the file does. */
  private async register(file: string): Promise<string | undefined> {
    const abs = resolve(file);
    const info = await stat(abs).catch(() => undefined);
    if (!info?.isFile() || !(await isWave(abs))) {
      this.warnOnce(`file:${abs}`, 'prompt file is missing or not a WAV: using a generated prompt', {
        file: abs,
      });
      return undefined;
    }
    const id = shortHash(`file\0${abs}\0${info.size}\0${info.mtimeMs}`);
    if (!(await isFile(this.pathOf(id)))) {
      await this.atomically(id, (tmp) => copyFile(abs, tmp));
    }
    return id;
  }

  private async generate(id: string, text: string, voice: string): Promise<string | undefined> {
    try {
      await this.atomically(id, async (tmp) => {
        await this.limited(() => this.espeak(['-v', voice, '-w', tmp, '--stdin'], text));
        if (!(await isWave(tmp))) throw new Error('espeak-ng wrote no WAV');
      });
      return id;
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      this.warnOnce(
        missing ? 'espeak-missing' : 'espeak-failed',
        missing
          ? `${this.opts.espeak} is not installed: voice calls use the provider's text-to-speech`
          : 'espeak-ng failed: voice calls use the provider text-to-speech for this prompt',
        err,
      );
      return undefined;
    }
  }

  /** Writes through a temporary file and a rename, so a reader never sees half a WAV. */
  private async atomically(id: string, write: (tmp: string) => Promise<void>): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true });
    const tmp = join(this.opts.dir, `.${id}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await write(tmp);
      await rename(tmp, this.pathOf(id));
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
  }

  private async limited<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= MAX_RUNS) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await job();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  // The text goes on stdin: an alert starting with "-" must not be read as an option.
  private espeak(args: string[], text: string): Promise<void> {
    return new Promise((done, fail) => {
      const child = spawn(this.opts.espeak, args, { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), this.opts.generateTimeout ?? 30_000);
      child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-500)));
      child.stdin.on('error', () => {}); // EPIPE when the program dies early: `close` reports it.
      child.on('error', (err) => {
        clearTimeout(timer);
        fail(err);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) done();
        else fail(new Error(`exit ${code ?? signal}${stderr ? `: ${stderr.trim()}` : ''}`));
      });
      child.stdin.end(text);
    });
  }

  private warnOnce(key: string, msg: string, detail: unknown): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    const fields = detail instanceof Error ? { error: detail.message } : (detail as Record<string, unknown>);
    this.logger.warn(msg, fields);
  }
}

function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 20);
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

/** RIFF....WAVE: the header every WAV starts with. */
async function isWave(path: string): Promise<boolean> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return false;
  try {
    const head = Buffer.alloc(12);
    const { bytesRead } = await fh.read(head, 0, 12, 0);
    return (
      bytesRead === 12 &&
      head.toString('latin1', 0, 4) === 'RIFF' &&
      head.toString('latin1', 8, 12) === 'WAVE'
    );
  } finally {
    await fh.close();
  }
}
