// The systems under test. Each phase starts its own fresh instance (per-device state from a
// previous rate would change which events cross the threshold) and stops it afterwards.
import { startChild, type Child } from './proc.js';

export const SITE = 'bench';
export const DEVICES = 10_000;
/** The readiness probe's device: part of the bench site, never used by the load generator. */
export const PROBE_DEVICE = 'probe';

export interface Credentials {
  username?: string;
  password?: string;
}

export interface SystemUnderTest {
  name: string;
  /** Broker the load generator publishes to and the subscriber listens on. */
  url: string;
  load: Credentials;
  measure: Credentials & { topic: string; mode: 'incident' | 'raw' };
  /** The processes whose CPU and memory are the system's cost. */
  pids: number[];
  stop(): Promise<void>;
}

/** `vigie-flow-rule`: the gateway with the bench rule authored in Node-RED (embedded) instead of YAML. */
export type SystemName = 'vigie-gateway' | 'vigie-flow-rule' | 'node-red' | 'bare-broker';

export const DIST = new URL('../../', import.meta.url); // dist/ (this file is dist/bench/src/systems.js)
export const ROOT = new URL('../../../', import.meta.url);

/** The standalone aedes broker of the Node-RED and bare-forward phases. */
export async function startBroker(): Promise<{ child: Child; port: number }> {
  const child = startChild(process.execPath, [new URL('bench/src/broker.js', DIST).pathname]);
  const line = await child.waitLine((l) => l.startsWith('{"port"'), 10_000, 'the standalone broker');
  return { child, port: (JSON.parse(line) as { port: number }).port };
}

/** (c) the bare broker forward: the subscriber listens to the raw sensor topics. */
export async function startBareBroker(): Promise<SystemUnderTest> {
  const { child, port } = await startBroker();
  return {
    name: 'bare-broker',
    url: `mqtt://127.0.0.1:${port}`,
    load: {},
    measure: { topic: `vigie/${SITE}/temperature/+`, mode: 'raw' },
    pids: [child.pid],
    stop: () => child.stop(),
  };
}
