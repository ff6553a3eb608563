import type { Scalar } from '../../../../rules/src/model.js';

// Devices the gateway reads itself (GPIO lines, serial lines) produce readings; the gateway turns
// each into the MQTT message such a device would have sent (vigie/{site}/{kind}/{id}, or its
// /status topic) and hands it to the same listen stage, so every rule works unchanged.

export interface LocalReading {
  deviceId: string;
  /** Field values, in the kind's types (door: { open: true }). Absent on a status change. */
  values?: Readonly<Record<string, Scalar>>;
  /** The device (or the line it is on) stopped answering, or answers again. */
  status?: 'online' | 'offline';
  /** When the value was read (epoch ms); the receive time when absent. */
  ts?: number;
}

export type EmitReading = (r: LocalReading) => void;

/** One GPIO bank or serial line and the devices on it. Never throws after construction. */
export interface LocalSource {
  /** `gpio`, `line:rs485-1`: for logs, metrics and the health report. */
  readonly name: string;
  /** Resolves once the source tried to open its hardware (it keeps retrying on its own after). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** For /readyz and the self-watch: is the hardware open and answering? */
  health(): { ok: boolean; detail?: string };
}
