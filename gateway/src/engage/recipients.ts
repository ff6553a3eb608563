import type { Person, Site } from '../site/model.js';
import { recipientKey, type Recipient } from './channel.js';
import type { EngageStep } from '../route/rule-info.js';

export interface PlannedDelivery {
  channel: string;
  recipient: Recipient;
}

export interface ExpandOptions {
  /** Channels that show a notification once to a team/person as written, not per person. */
  isConsole(channel: string): boolean;
  /** Called for a `notify` entry that names nobody in the site file. */
  onUnknown?(entry: string): void;
}

/**
 * Turns one escalation step into deliveries: one per recipient x channel, teams expanded to their
 * members (each person once per channel even if named twice), and one per entry for console channels.
 */
export function expandStep(site: Site, step: EngageStep, opts: ExpandOptions): PlannedDelivery[] {
  const people = new Map(site.people.map((p) => [p.id, p]));
  const teams = new Map(site.teams.map((t) => [t.id, t]));
  const persons: Person[] = [];
  const seen = new Set<string>();
  const entries: Recipient[] = [];
  for (const raw of step.notify) {
    const [kind, id] = splitEntry(raw, people, teams);
    if (kind === 'person') {
      const p = people.get(id);
      if (!p) {
        opts.onUnknown?.(raw);
        continue;
      }
      entries.push(personRecipient(p));
      if (!seen.has(p.id)) persons.push(p);
      seen.add(p.id);
    } else {
      const t = teams.get(id);
      if (!t) {
        opts.onUnknown?.(raw);
        continue;
      }
      entries.push({ kind: 'team', id: t.id, name: t.name });
      for (const m of t.members) {
        const p = people.get(m);
        if (p && !seen.has(p.id)) persons.push(p);
        if (p) seen.add(p.id);
      }
    }
  }
  const out: PlannedDelivery[] = [];
  for (const channel of step.via) {
    const targets = opts.isConsole(channel) ? entries : persons.map((p) => personRecipient(p, site.language));
    const once = new Set<string>();
    for (const recipient of targets) {
      const key = recipientKey(recipient);
      if (once.has(key)) continue;
      once.add(key);
      out.push({ channel, recipient });
    }
  }
  return out;
}

function splitEntry(
  raw: string,
  people: ReadonlyMap<string, unknown>,
  teams: ReadonlyMap<string, unknown>,
): ['person' | 'team', string] {
  if (raw.startsWith('person:')) return ['person', raw.slice(7)];
  if (raw.startsWith('team:')) return ['team', raw.slice(5)];
  // README "Rules": a bare id is a person first, then a team.
  if (people.has(raw) || !teams.has(raw)) return ['person', raw];
  return ['team', raw];
}

export function personRecipient(p: Person, siteLanguage?: string): Recipient {
  const r: Recipient = { kind: 'person', id: p.id, name: p.name };
  const language = p.language ?? siteLanguage;
  if (language) r.language = language;
  if (p.phone) r.phone = p.phone;
  if (p.email) r.email = p.email;
  if (p.webhook) r.webhook = p.webhook;
  return r;
}
