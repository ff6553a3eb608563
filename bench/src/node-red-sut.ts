// (b) the same rule as a plain Node-RED v4 flow: mqtt in -> json -> function (threshold with
// hysteresis, per-device flow context) -> mqtt out, on the standalone broker.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startChild } from './proc.js';
import { ROOT, SITE, startBroker, type SystemUnderTest } from './systems.js';

// The function node's body, as an integrator would write it: open above 30, clear at or below 28.
const RULE_FUNCTION = `
const id = msg.topic.split('/')[3];
const c = msg.payload.celsius;
if (typeof c !== 'number') return null;
const open = flow.get(id) === true;
let next = open;
if (!open && c > 30) next = true;
else if (open && c <= 28) next = false;
if (next === open) return null;
flow.set(id, next);
msg.topic = 'vigie/${SITE}/incidents/' + id;
msg.payload = {
  rule: 'bench-temperature-immediate',
  device: id,
  state: next ? 'open' : 'cleared',
  triggerTs: msg.payload.ts,
  at: Date.now(),
};
return msg;
`;

export function benchFlow(brokerPort: number): unknown[] {
  return [
    { id: 'bench-tab', type: 'tab', label: 'Vigie bench' },
    {
      id: 'bench-broker',
      type: 'mqtt-broker',
      name: 'bench broker',
      broker: '127.0.0.1',
      port: String(brokerPort),
      clientid: 'node-red-bench',
      autoConnect: true,
      usetls: false,
      protocolVersion: '4',
      keepalive: '60',
      cleansession: true,
    },
    {
      id: 'bench-in',
      type: 'mqtt in',
      z: 'bench-tab',
      name: 'temperatures',
      topic: `vigie/${SITE}/temperature/+`,
      qos: '0',
      datatype: 'utf8',
      broker: 'bench-broker',
      nl: false,
      rap: true,
      rh: 0,
      inputs: 0,
      wires: [['bench-json']],
    },
    {
      id: 'bench-json',
      type: 'json',
      z: 'bench-tab',
      property: 'payload',
      action: 'obj',
      pretty: false,
      wires: [['bench-fn']],
    },
    {
      id: 'bench-fn',
      type: 'function',
      z: 'bench-tab',
      name: 'temperature threshold with hysteresis',
      func: RULE_FUNCTION,
      outputs: 1,
      wires: [['bench-out']],
    },
    {
      id: 'bench-out',
      type: 'mqtt out',
      z: 'bench-tab',
      name: 'incidents',
      topic: '',
      qos: '0',
      retain: 'false',
      broker: 'bench-broker',
      wires: [],
    },
  ];
}

export async function startNodeRed(): Promise<SystemUnderTest> {
  const broker = await startBroker();
  const userDir = mkdtempSync(join(tmpdir(), 'vigie-bench-nr-'));
  const uiPort = await freePort();
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(benchFlow(broker.port)));
  // Settings of a plain install; the editor is off because nobody looks at it during the run.
  writeFileSync(
    join(userDir, 'settings.js'),
    `module.exports = ${JSON.stringify({
      uiPort,
      uiHost: '127.0.0.1',
      userDir,
      flowFile: 'flows.json',
      credentialSecret: false,
      disableEditor: true,
      logging: { console: { level: 'info', metrics: false, audit: false } },
    })};\n`,
  );
  const red = startChild(process.execPath, [
    new URL('node_modules/node-red/red.js', ROOT).pathname,
    '--settings',
    join(userDir, 'settings.js'),
    '--userDir',
    userDir,
  ]);
  try {
    await red.waitLine((l) => l.includes('Started flows'), 60_000, 'Node-RED to start its flows');
  } catch (err) {
    await Promise.all([red.stop(), broker.child.stop()]);
    throw err;
  }
  return {
    name: 'node-red',
    url: `mqtt://127.0.0.1:${broker.port}`,
    load: {},
    measure: { topic: `vigie/${SITE}/incidents/#`, mode: 'incident' },
    pids: [red.pid, broker.child.pid],
    async stop() {
      await Promise.all([red.stop(), broker.child.stop()]);
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}
