// The GPIO lines of the gateway, behind the smallest interface the inputs (door contacts, panic
// buttons) and the relay outputs (siren, strobe) need. One real implementation (onoff, the Linux
// sysfs GPIO interface) and a fake for tests; nothing else in the gateway knows which one runs.

export type Level = 0 | 1;

export interface InputPin {
  /** The line's current logical level (after active-low inversion, if the factory applied one). */
  read(): Promise<Level>;
  /**
   * Called for every edge the kernel reports, with the level after it, or with an error (the line
   * vanished, EIO). Edges can be lost under load: callers also read the line back now and then.
   */
  watch(cb: (err: Error | null | undefined, level: Level) => void): void;
  unwatchAll(): void;
  /** Releases the line (unexport). */
  close(): void;
}

export interface OutputPin {
  write(level: Level): Promise<void>;
  /** Releases the line; the level it was left at is the caller's business (write 0 first). */
  close(): void;
}

export interface PinFactory {
  /** False where there is no GPIO (a PC, a container without the device): nothing can be opened. */
  readonly available: boolean;
  /** Why not, for the log and the self-watch (`/sys/class/gpio not found`). */
  readonly unavailableReason?: string;
  /** Throws when the line cannot be exported (busy, no permission, no such line). */
  input(line: number): InputPin;
  output(line: number): OutputPin;
  /** Bias resistor; resolves false (and says why) where the platform gives no way to set it. */
  pull(line: number, pull: 'up' | 'down' | 'none'): Promise<{ ok: true } | { ok: false; reason: string }>;
}
