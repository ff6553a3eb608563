import type { Device, MqttClientGrant, Site } from '../site/model.js';

// Who may publish or subscribe what on the embedded broker. Pure: the broker hooks call it with the
// principal found at login. Topics are split once per check; each device's own topics are strings
// compared directly, so the hot path (one authorizePublish per message) costs a few comparisons.

export type Principal =
  | {
      type: 'device';
      username: string;
      passwordHash: string;
      device: Device;
      data: string;
      status: string;
      root: string;
    }
  | { type: 'client'; username: string; passwordHash: string; grant: MqttClientGrant };

/** True when `filter` (with + and #) matches the concrete `topic`. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  // [MQTT-4.7.2-1] a filter starting with a wildcard does not match topics starting with $.
  if (t[0].startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** True when every topic `inner` can match is also matched by `outer`. */
export function filterWithin(inner: string, outer: string): boolean {
  const a = inner.split('/');
  const b = outer.split('/');
  if (a[0].startsWith('$') && (b[0] === '+' || b[0] === '#')) return false;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === '#') return true;
    if (i >= a.length) return false;
    if (a[i] === '#') return false;
    if (b[i] === '+') continue;
    if (a[i] !== b[i]) return false;
  }
  return a.length === b.length;
}

/** A topic name a client may publish to: not empty, no wildcard, no NUL ([MQTT-3.3.2-2], [MQTT-1.5.3-2]). */
export function isValidTopic(topic: string): boolean {
  return topic.length > 0 && !topic.includes('+') && !topic.includes('#') && !topic.includes('\u0000');
}

/** A well-formed topic filter: + alone in its level, # alone and last ([MQTT-4.7.1-2], [MQTT-4.7.1-3]). */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i];
    if (l === '#') {
      if (i !== levels.length - 1) return false;
    } else if (l !== '+' && /[+#]/.test(l)) return false;
  }
  return true;
}

/** Topics nobody but the gateway itself may publish: broker internals and incident announcements. */
export function isReservedTopic(topic: string): boolean {
  if (topic.startsWith('$')) return true;
  const parts = topic.split('/', 4);
  return parts[0] === 'vigie' && parts[2] === 'incidents';
}

export function deviceTopics(
  site: string,
  d: Pick<Device, 'id' | 'kind'>,
): { data: string; status: string; root: string } {
  const data = `vigie/${site}/${d.kind}/${d.id}`;
  return { data, status: `${data}/status`, root: `${data}/#` };
}

export class TopicAcl {
  private readonly byUsername = new Map<string, Principal>();

  constructor(site: Site) {
    for (const c of site.clients) {
      this.byUsername.set(c.username, {
        type: 'client',
        username: c.username,
        passwordHash: c.passwordHash,
        grant: c,
      });
    }
    for (const d of site.devices) {
      if (!d.credentials) continue;
      const t = deviceTopics(site.id, d);
      const { username, passwordHash } = d.credentials;
      this.byUsername.set(username, { type: 'device', username, passwordHash, device: d, ...t });
    }
  }

  /** The principal a username logs in as; undefined for unknown users (anonymous included). */
  principal(username: string | undefined): Principal | undefined {
    if (username === undefined || username === '') return undefined;
    return this.byUsername.get(username);
  }

  canPublish(p: Principal, topic: string): boolean {
    if (p.type === 'device') return topic === p.data || topic === p.status;
    if (!isValidTopic(topic) || isReservedTopic(topic)) return false;
    return p.grant.publish.some((f) => topicMatches(f, topic));
  }

  canSubscribe(p: Principal, filter: string): boolean {
    if (!isValidFilter(filter)) return false;
    if (p.type === 'device') return filterWithin(filter, p.root);
    return p.grant.subscribe.some((f) => filterWithin(filter, f));
  }

  /** A device's last will must be its own status topic; a client's must be one it may publish. */
  canWill(p: Principal, topic: string): boolean {
    if (p.type === 'device') return topic === p.status;
    return this.canPublish(p, topic);
  }
}
