// A serial line kept open: opened at start, reopened after a hang-up or an error with a doubling
// delay, for ever. The text-line and Modbus sources sit on top of it and never see a SerialPort.

export interface LineIo {
  readonly isOpen: boolean;
  /** Every chunk of bytes as read (no framing: the protocol above does it). */
  onData(cb: (chunk: Buffer) => void): void;
  /** The port opened, or closed (with why: unplugged, permission, no such device). */
  onState(cb: (open: boolean, reason?: string) => void): void;
  /** Rejects when the port is not open or the write fails. */
  write(data: Buffer): Promise<void>;
  /** Opens (and keeps reopening); resolves after the first attempt, successful or not. */
  start(): Promise<void>;
  stop(): Promise<void>;
}
