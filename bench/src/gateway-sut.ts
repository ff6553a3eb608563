// (a) the Vigie gateway with its embedded broker: a generated site of 10,000 temperature devices,
// a `loadgen` client allowed to publish vigie/bench/#, a `measure` client allowed to subscribe to
// vigie/bench/incidents/#, and the example rules plus bench/rules/temperature-immediate.yaml.
import { randomBytes, scrypt } from 'node:crypto';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { loadDeviceId } from '../../firmware-sim/src/load.js';
import { freePort, sleep, startChild } from './proc.js';
import { DEVICES, PROBE_DEVICE, ROOT, SITE, type SystemUnderTest } from './systems.js';

/** A password hash in the site file's format: scrypt$N$r$p$saltB64$keyB64, 32-byte key. */
export async function scryptHash(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await new Promise<Buffer>((resolve, reject) =>
    scrypt(password, salt, 32, { N: 16384, r: 8, p: 1 }, (err, k) => (err ? reject(err) : resolve(k))),
  );
  return `scrypt$16384$8$1$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Channels (other than console) the rules of a file require; `name?` is optional, skipped when absent. */
export function channelsUsed(text: string): string[] {
  const names = new Set<string>();
  for (const doc of parseAllDocuments(text)) {
    const rule = doc.toJS() as { engage?: { steps?: Array<{ via?: unknown }> } } | null;
    for (const step of rule?.engage?.steps ?? []) {
      if (Array.isArray(step.via))
        for (const v of step.via)
          if (typeof v === 'string' && v !== 'console' && !v.endsWith('?')) names.add(v);
    }
  }
  return [...names];
}

export interface GatewayFiles {
  dir: string;
  adminToken: string;
  config: string;
  mqttPort: number;
  httpPort: number;
  load: { username: string; password: string };
  measure: { username: string; password: string };
}

/** Writes the bench site, rules and gateway config into a fresh temp directory. */
export async function writeGatewayFiles(opts: GatewayBenchOptions = {}): Promise<GatewayFiles> {
  const dir = mkdtempSync(join(tmpdir(), 'vigie-bench-gw-'));
  const example = parse(readFileSync(new URL('rules/examples/site.yaml', ROOT), 'utf8')) as Record<
    string,
    unknown
  >;
  const load = { username: 'loadgen', password: randomBytes(12).toString('hex') };
  const measure = { username: 'measure', password: randomBytes(12).toString('hex') };
  const ids = [...Array.from({ length: opts.devices ?? DEVICES }, (_, i) => loadDeviceId(i)), PROBE_DEVICE];
  const site = {
    site: SITE,
    name: 'Vigie benchmark site',
    timezone: example.timezone ?? 'UTC',
    // People, teams, rotations, policies, templates, schedules and badge lists of the example
    // site, so its rules compile here too.
    schedules: example.schedules ?? {},
    badgeLists: example.badgeLists ?? {},
    teams: example.teams ?? [],
    people: example.people ?? [],
    oncall: example.oncall ?? {},
    policies: example.policies ?? {},
    templates: example.templates ?? {},
    technicians: example.technicians ?? [],
    dispatch: example.dispatch ?? {},
    clients: [
      {
        username: load.username,
        passwordHash: await scryptHash(load.password),
        publish: [`vigie/${SITE}/#`],
        subscribe: [],
      },
      {
        username: measure.username,
        passwordHash: await scryptHash(measure.password),
        publish: [],
        subscribe: [`vigie/${SITE}/incidents/#`],
      },
    ],
    devices: ids.map((id) => ({
      id,
      kind: 'temperature',
      name: `Bench sensor ${id}`,
      zone: 'bench',
      tags: ['bench'],
    })),
  };
  // JSON is YAML: 10,000 devices written in a few milliseconds.
  writeFileSync(join(dir, 'site.yaml'), JSON.stringify(site));
  const rulesDir = join(dir, 'rules');
  mkdirSync(rulesDir);
  const channels = new Set<string>();
  if (opts.exampleRules !== false) {
    const examples = new URL('rules/examples/', ROOT);
    for (const f of readdirSync(examples)) {
      if (!/\.ya?ml$/.test(f) || f === 'site.yaml') continue;
      const text = readFileSync(new URL(f, examples), 'utf8');
      if (!/^rule:/m.test(text)) continue;
      copyFileSync(new URL(f, examples), join(rulesDir, f));
      for (const name of channelsUsed(text)) channels.add(name);
    }
  }
  const dataDir = join(dir, 'data');
  if (opts.flowRule) {
    // The same rule authored in Node-RED: the embedded editor starts with the bench flow (as if
    // deployed earlier), whose nodes hand the rule to the gateway's engine.
    mkdirSync(join(dataDir, 'node-red'), { recursive: true });
    copyFileSync(
      new URL('bench/flows/temperature-immediate.json', ROOT),
      join(dataDir, 'node-red', 'flows.json'),
    );
  } else {
    const benchRule = readFileSync(new URL('bench/rules/temperature-immediate.yaml', ROOT), 'utf8');
    // Steady traffic: the same rule, but no event crosses it (35 °C stays below 100 °C), as most
    // telemetry on a real site: every event is evaluated, none changes an incident.
    writeFileSync(
      join(rulesDir, 'temperature-immediate.yaml'),
      opts.steady ? benchRule.replace('above: 30,', 'above: 100,') : benchRule,
    );
  }
  const adminToken = randomBytes(24).toString('hex');
  const mqttPort = await freePort();
  const httpPort = await freePort();
  const config = join(dir, 'vigie.yaml');
  writeFileSync(
    config,
    JSON.stringify({
      site: join(dir, 'site.yaml'),
      rules: rulesDir,
      dataDir,
      mqtt: { host: '127.0.0.1', port: mqttPort },
      http: { host: '127.0.0.1', port: httpPort },
      log: { level: 'warn' },
      // The example rules' other channels, as webhooks to a closed local port: configured (so the
      // rules load) but never a real outside system the measurement would wait for.
      channels: Object.fromEntries(
        [...channels].map((name) => [
          name,
          {
            type: 'webhook',
            url: 'http://127.0.0.1:9/bench-discard',
            secret: randomBytes(16).toString('hex'),
            maxAttempts: 1,
          },
        ]),
      ),
      auth: { adminToken },
      ...(opts.flowRule ? { nodeRed: { enabled: true } } : {}),
    }),
  );
  return { dir, adminToken, config, mqttPort, httpPort, load, measure };
}

export interface GatewayBenchOptions {
  exampleRules?: boolean;
  steady?: boolean;
  /** The bench rule authored as a Node-RED flow (embedded Node-RED) instead of a YAML file. */
  flowRule?: boolean;
  /** Devices of the generated site (default DEVICES); the load must not address more. */
  devices?: number;
  /** Runs the gateway under `taskset -c <cpus>` (e.g. '0': one core, as on a small box). */
  pinCpus?: string;
}

const BENCH_RULE = 'bench-temperature-immediate';

async function waitReady(
  files: GatewayFiles,
  exited: () => boolean,
  timeoutMs: number,
  flowRule: boolean,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end && !exited()) {
    try {
      const res = await fetch(`http://127.0.0.1:${files.httpPort}/readyz`);
      // The flow's rule reaches the engine once Node-RED has started its flows.
      if (res.status === 200 && (!flowRule || (await hasRule(files, BENCH_RULE)))) return;
    } catch {
      // not listening yet
    }
    // Fine enough to time the start-up (footprint), cheap for a gateway still starting.
    await sleep(50);
  }
  throw new Error(
    exited() ? 'the gateway exited during start-up' : `the gateway was not ready after ${timeoutMs} ms`,
  );
}

async function hasRule(files: GatewayFiles, id: string): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${files.httpPort}/api/v1/rules`, {
    headers: { authorization: `Bearer ${files.adminToken}` },
  });
  if (res.status !== 200) return false;
  const body = (await res.json()) as { rules: Array<{ id: string }> };
  return body.rules.some((r) => r.id === id);
}

export interface StartedGateway extends SystemUnderTest {
  httpPort: number;
  /** performance.now() when the process was spawned. */
  spawnedAt: number;
  /** From spawn to the first GET /readyz = 200 (polled every 50 ms). */
  readyMs: number;
}

/** Starts `node dist/gateway/src/cli.js start --config <generated>` and waits for GET /readyz = 200. */
export async function startVigieGateway(opts: GatewayBenchOptions = {}): Promise<StartedGateway> {
  const files = await writeGatewayFiles(opts);
  const node = [
    process.execPath,
    new URL('gateway/src/cli.js', new URL('../../', import.meta.url)).pathname,
    'start',
    '--config',
    files.config,
  ];
  // taskset execs node in place: the pid stays the gateway's, and its threads inherit the mask.
  const [command, ...args] = opts.pinCpus === undefined ? node : ['taskset', '-c', opts.pinCpus, ...node];
  const spawnedAt = performance.now();
  const gw = startChild(command, args, { cwd: files.dir });
  let exited = false;
  void gw.exited.then(() => (exited = true));
  let readyMs: number;
  try {
    await waitReady(files, () => exited, 60_000, opts.flowRule === true);
    readyMs = performance.now() - spawnedAt;
  } catch (err) {
    await gw.stop();
    rmSync(files.dir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}; stderr: ${gw.stderr.slice(-10).join(' | ')}`, { cause: err });
  }
  return {
    name: opts.flowRule ? 'vigie-flow-rule' : 'vigie-gateway',
    httpPort: files.httpPort,
    url: `mqtt://127.0.0.1:${files.mqttPort}`,
    load: files.load,
    measure: { ...files.measure, topic: `vigie/${SITE}/incidents/#`, mode: 'incident' },
    pids: [gw.pid],
    spawnedAt,
    readyMs,
    async stop() {
      await gw.stop(10_000);
      rmSync(files.dir, { recursive: true, force: true });
    },
  };
}
