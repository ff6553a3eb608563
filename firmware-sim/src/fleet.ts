// The simulated devices' MQTT side: one connection per native device (its own credentials, a
// retained last will `offline`), one per bridge (Zigbee2MQTT publishes for the devices behind it).
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../../gateway/src/core/log.js';
import type { PlanItem, Values } from './plan.js';
import { topicOf, type Scenario, type SimDevice } from './scenario.js';

export interface Fleet {
  /** Settles when every connection is up (or after `timeoutMs`: a late broker gets queued messages). */
  ready(timeoutMs: number): Promise<void>;
  send(item: Extract<PlanItem, { values: Values }>, ts: number): void;
  /** Drops the device's socket without DISCONNECT, so the broker publishes its last will. */
  kill(deviceId: string): void;
  /** Brings dead devices back (a new loop cycle). */
  reviveAll(): void;
  close(): Promise<void>;
}

interface Conn {
  client: MqttClient;
  /** Resolves once the broker acknowledged this connection's `online` status. */
  online: Promise<void>;
  dead: boolean;
  will: { topic: string; payload: string };
}

export function statusTopic(site: string, d: SimDevice): string {
  return `vigie/${site}/${d.kind}/${d.id}/status`;
}

export function encode(d: SimDevice, values: Values, ts: number, battery?: number): string {
  if (d.format === 'zigbee2mqtt') {
    // Zigbee2MQTT polarity: contact true = the reed switch is closed = the door is shut.
    const body =
      d.kind === 'door'
        ? { contact: !values.open, battery: battery ?? d.battery ?? 100, linkquality: 120 }
        : {
            temperature: values.celsius,
            humidity: d.humidity,
            battery: battery ?? d.battery ?? 100,
            linkquality: 120,
          };
    return JSON.stringify(body);
  }
  return JSON.stringify({ ...values, ts, ...(battery === undefined ? {} : { battery }) });
}

export function createFleet(url: string, s: Scenario, logger: Logger): Fleet {
  const conns = new Map<string, Conn>();
  const devices = new Map(s.devices.map((d) => [d.id, d]));

  const open = (
    username: string,
    password: string,
    will: { topic: string; payload: string },
    online: string,
  ) => {
    const client = mqtt.connect(url, {
      clientId: username,
      username,
      password,
      clean: true,
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true },
    });
    // The broker stores a retained QoS 1 message before forwarding it, so data sent right after it
    // could overtake it: devices wait for the PUBACK before their story starts.
    const acked = new Promise<void>((resolve) =>
      client.on('connect', () =>
        client.publish(will.topic, online, { qos: 1, retain: true }, () => resolve()),
      ),
    );
    client.on('error', (err) => logger.warn('mqtt error', { client: username, error: err.message }));
    return { client, online: acked };
  };

  for (const b of s.bridges) {
    const topic = 'zigbee2mqtt/bridge/state';
    const will = { topic, payload: '{"state":"offline"}' };
    conns.set(b.username, {
      ...open(b.username, b.password ?? `demo-${b.username}`, will, '{"state":"online"}'),
      dead: false,
      will,
    });
  }
  for (const d of s.devices) {
    if (d.via !== undefined) continue;
    const status = statusTopic(s.site, d);
    const will = { topic: status, payload: 'offline' };
    conns.set(d.id, { ...open(d.id, d.password ?? `demo-${d.id}`, will, 'online'), dead: false, will });
  }

  const connOf = (d: SimDevice) => conns.get(d.via ?? d.id);

  return {
    ready(timeoutMs) {
      const all = [...conns.values()].map((c) => c.online);
      return new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        void Promise.all(all).then(() => {
          clearTimeout(t);
          resolve();
        });
      });
    },
    send(item, ts) {
      const d = devices.get(item.device);
      const c = d && connOf(d);
      if (!d || !c || c.dead) return;
      c.client.publish(topicOf(s.site, d), encode(d, item.values, ts, item.battery), { qos: 0 });
    },
    kill(deviceId) {
      const c = conns.get(deviceId);
      if (!c || c.dead) return;
      c.dead = true;
      logger.info('device dies (socket dropped, no DISCONNECT)', { device: deviceId });
      c.client.options.reconnectPeriod = 0;
      c.client.stream.destroy();
    },
    reviveAll() {
      for (const [name, c] of conns) {
        if (!c.dead) continue;
        c.dead = false;
        logger.info('device back', { device: name });
        c.client.options.reconnectPeriod = 2000;
        c.client.reconnect();
      }
    },
    async close() {
      // A device switched off properly says so; only a crash leaves the last will to the broker.
      await Promise.all(
        [...conns.values()].map(async (c) => {
          if (!c.dead && c.client.connected) {
            await c.client
              .publishAsync(c.will.topic, c.will.payload, { qos: 1, retain: true })
              .catch(() => undefined);
          }
          await c.client.endAsync(c.dead);
        }),
      );
    },
  };
}
