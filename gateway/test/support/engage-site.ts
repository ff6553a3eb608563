import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { hashPassword } from '../../src/listen/credentials.js';

// A small site with real channels for the engage scenarios: the reference scenarios of DESIGN.md
// with short timings (2 s instead of 30 s, tiers 4 s apart) so they run in seconds.

export const PASSWORD = 'sensor-password';
export const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, ...Buffer.from('vigie-snapshot'), 0xff, 0xd9]);

export const PHONES = {
  amina: '+33612345601',
  lucas: '+33612345602',
  claire: '+33612345603',
  hugo: '+33612345604',
  desk: '+33612345607',
} as const;

export async function siteYaml(cameraBase: string): Promise<string> {
  const hash = await hashPassword(PASSWORD);
  return `
site: t3
name: Terminal 3
timezone: Europe/Paris
badgeLists: { staff: [A1234] }
teams:
  - { id: security, name: Security, members: [amina, lucas] }
  - { id: supervisors, name: Supervisors, members: [claire] }
  - { id: maintenance, name: Maintenance, members: [hugo] }
  - { id: emergency, name: Fire desk, members: [desk] }
people:
  - { id: amina, name: Amina Diallo, phone: '${PHONES.amina}', email: amina@example.org, language: fr, channels: { default: [sms, email] } }
  - { id: lucas, name: Lucas Bernard, phone: '${PHONES.lucas}', email: lucas@example.org, channels: { default: [sms, email] } }
  - { id: claire, name: Claire Moreau, phone: '${PHONES.claire}', email: claire@example.org, channels: { default: [voice, sms] } }
  - { id: hugo, name: Hugo Petit, phone: '${PHONES.hugo}', email: hugo@example.org, channels: { default: [sms, email] } }
  - { id: desk, name: Fire desk, phone: '${PHONES.desk}', email: desk@example.org, channels: { default: [voice, sms, email] } }
oncall:
  duty:
    rotation: { members: [lucas, amina], every: 1w, start: '2026-01-05T08:00' }
    # Amina covers, whatever week the test runs in.
    overrides: [{ person: amina, from: '2020-01-01T00:00', to: '2099-01-01T00:00' }]
policies:
  door:
    tiers:
      - { notify: [oncall:duty], via: [voice, sms], wait: 4s }
      - { notify: [team:supervisors], via: [voice, sms] }
  temperature:
    tiers:
      - { notify: [team:maintenance], wait: 8s }
      - { notify: [team:supervisors], via: [sms] }
  aed:
    tiers:
      - { notify: [team:emergency, team:security], via: [voice, sms, email], wait: 1m }
clients:
  - { username: sensors, passwordHash: '${hash}', publish: ['vigie/t3/#'] }
devices:
  - id: door-g12
    kind: door
    name: Door G12
    zone: gates
    location: { lat: 49.0, lon: 2.57, label: Gate G12 }
    camera: { snapshot: '${cameraBase}/g12.jpg', stream: 'rtsp://cam.t3.example/g12' }
  - id: door-staff
    kind: door
    name: Staff door
    zone: hall
    tags: [badge-reader]
    location: { lat: 49.0, lon: 2.57, label: Staff corridor }
  - id: temp-hall
    kind: temperature
    name: Hall temperature
    zone: hall
    location: { lat: 49.0, lon: 2.57, label: Hall B }
  - id: aed-1
    kind: aed
    name: AED Hall B
    zone: hall
    location: { lat: 49.0, lon: 2.57, label: 'Hall B, pillar 14' }
    camera: { snapshot: '${cameraBase}/aed.jpg', stream: 'rtsp://cam.t3.example/aed' }
    speaker: { sip: 'sip:aed-1@pbx.t3.example' }
`;
}

export const RULES = `
rule: door-held-open
name: Door held open
severity: major
listen:
  devices: { kind: door }
  when: { state: { open: true } }
  for: 2s
engage: { policy: door }
---
rule: door-forced
name: Door forced
severity: major
listen:
  devices: { kind: door, tags: [badge-reader] }
  when:
    all:
      - state: { open: true }
      - not: { badge: { before: open, within: 10s, allow: staff } }
engage: { policy: door }
---
rule: temperature
name: Temperature out of range
severity: minor
listen:
  devices: { kind: temperature }
  when: { threshold: { field: celsius, above: 27, hysteresis: 1 } }
  for: 2s
engage: { policy: temperature }
---
rule: aed-removed
name: AED removed
severity: critical
listen:
  devices: { kind: aed }
  when: { state: { present: false } }
engage: { policy: aed }
`;

export interface Mail {
  to: string[];
  raw: string;
}

/** A real SMTP server (smtp-server) keeping what it receives. */
export async function startSmtp(): Promise<{ port: number; mails: Mail[]; close(): Promise<void> }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString(),
        });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A camera answering snapshots. */
export async function startCamera(): Promise<{ base: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'image/jpeg' }).end(JPEG),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * Writes the site and rules into `dir` and returns the gateway configuration around them:
 * the HTTP port fixed in advance (the provider is given the public URL before the gateway starts)
 * and the provider's credentials for the sms and voice channels.
 */
export async function engageConfig(
  dir: string,
  o: {
    cameraBase: string;
    port: number;
    twilio: { baseUrl: string; accountSid: string; authToken: string };
    channels: (provider: Record<string, string>) => Record<string, unknown>;
    extra?: Record<string, unknown>;
  },
): Promise<Record<string, unknown>> {
  const rules = join(dir, 'rules');
  mkdirSync(rules, { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), await siteYaml(o.cameraBase));
  writeFileSync(join(rules, 'rules.yaml'), RULES);
  const provider = {
    baseUrl: o.twilio.baseUrl,
    accountSid: o.twilio.accountSid,
    authToken: o.twilio.authToken,
    from: '+15005550006',
  };
  return {
    site: join(dir, 'site.yaml'),
    rules,
    http: { port: o.port, publicUrl: `http://127.0.0.1:${o.port}` },
    channels: o.channels(provider),
    ...o.extra,
  };
}
