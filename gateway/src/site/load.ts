import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { checkTemplates, type TemplateBlock, type Templates } from '../engage/templates.js';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { parseDuration } from '../../../rules/src/duration.js';
import type { FileProblem } from '../../../rules/src/model.js';
import { ConfigError } from '../core/errors.js';
import { parseHash } from '../listen/credentials.js';
import { isValidFilter, isValidTopic } from '../listen/acl.js';
import { BUILTIN_ADAPTERS } from '../listen/presets.js';
import { BUILTIN_KINDS, RESERVED_KINDS, type KindSpec } from './kinds.js';
import type {
  AdapterSpec,
  Device,
  DispatchProfile,
  OnCallSchedule,
  Person,
  Policy,
  PolicyTier,
  SerialLine,
  Site,
  Technician,
} from './model.js';
import { parseLocalDateTime, siteFileSchema, type SiteFile } from './schema.js';
import { buildGpio, buildLines, buildSerial, checkHardwareUnique } from './load-hardware.js';

type Path = readonly (string | number)[];
type Report = (path: Path, message: string, onKey?: boolean) => void;

export interface SiteCheckOptions {
  /** Channel names the gateway configures: when given, any other name in the site file is a problem. */
  channels?: readonly string[];
}

/** Reads and checks a site file; throws ConfigError(VIGIE_ERR_SITE_INVALID) listing every problem. */
export function loadSite(file: string, opts: SiteCheckOptions = {}): Site {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('VIGIE_ERR_SITE_INVALID', [
      { file, line: 0, message: `cannot read the site file: ${(err as Error).message}` },
    ]);
  }
  const { site, problems } = parseSite(file, text, opts);
  if (!site || problems.length > 0) throw new ConfigError('VIGIE_ERR_SITE_INVALID', problems);
  return site;
}

export function parseSite(
  file: string,
  text: string,
  opts: SiteCheckOptions = {},
): { site?: Site; problems: FileProblem[] } {
  // The YAML document model (needed for line numbers) costs ~100 MB for a 10,000-device site: a
  // site generated as JSON (which is YAML too) is read with JSON.parse, and the YAML model is only
  // built if there is a problem to locate.
  let raw: unknown = tryJson(text);
  let located: { doc: Document; lc: LineCounter } | undefined;
  const locate = () => {
    if (!located) {
      const lc = new LineCounter();
      located = { doc: parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true }), lc };
    }
    return located;
  };
  if (raw === undefined) {
    const { doc, lc } = locate();
    if (doc.errors.length > 0) {
      const problems = doc.errors.map((e) => ({
        file,
        line: lc.linePos(e.pos[0]).line,
        message: e.message.split('\n')[0],
      }));
      return { problems };
    }
    raw = doc.toJS() ?? {};
  }
  const problems: FileProblem[] = [];
  const report: Report = (path, message, onKey = false) => {
    const { doc, lc } = locate();
    problems.push({ file, line: lineOf(doc, lc, path, onKey), message: `${label(path)}: ${message}` });
  };
  const parsed = siteFileSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys) report([...path, k], 'unknown key', true);
      } else report(path, issue.message);
    }
    return { problems: sortByLine(problems) };
  }
  const site = resolveChannels(build(parsed.data, dirname(file), report), opts.channels, report);
  return problems.length > 0 ? { problems: sortByLine(problems) } : { site: deepFreeze(site), problems };
}

/** The value of a JSON text, or undefined when the text is not JSON (then it is read as YAML). */
function tryJson(text: string): unknown {
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function build(f: SiteFile, dir: string, report: Report): Site {
  checkTimezone(f.timezone, ['timezone'], report);
  checkTemplates(f.templates, { defaultLanguage: f.language }, report);
  const templates = resolveVoiceFiles(f.templates, dir, report);
  for (const [name, s] of Object.entries(f.schedules)) {
    if (s.timezone) checkTimezone(s.timezone, ['schedules', name, 'timezone'], report);
  }
  f.people.forEach((p, i) => {
    if (p.quietHours?.timezone)
      checkTimezone(p.quietHours.timezone, ['people', i, 'quietHours', 'timezone'], report);
  });
  const kinds: Record<string, KindSpec> = { ...BUILTIN_KINDS };
  for (const [name, spec] of Object.entries(f.kinds)) {
    if (RESERVED_KINDS.has(name))
      report(['kinds', name], `"${name}" is reserved and cannot be a device kind`, true);
    else if (BUILTIN_KINDS[name]) report(['kinds', name], `"${name}" is a built-in kind`, true);
    for (const [field, fs] of Object.entries(spec.fields)) {
      if (fs.min !== undefined && fs.max !== undefined && fs.min > fs.max) {
        report(['kinds', name, 'fields', field], 'min is greater than max');
      }
    }
    kinds[name] = spec;
  }
  const adapters: Record<string, AdapterSpec> = { ...BUILTIN_ADAPTERS };
  for (const [name, spec] of Object.entries(f.adapters)) {
    if (BUILTIN_ADAPTERS[name]) report(['adapters', name], `"${name}" is a built-in adapter`, true);
    adapters[name] = spec;
  }
  const lines = buildLines(f, report);
  const devices = f.devices.map((d, i) =>
    buildDevice(f.site, d, ['devices', i], kinds, adapters, lines, report),
  );
  checkHardwareUnique(f.devices, lines, report);
  checkUnique(
    f.devices.map((d) => d.id),
    'devices',
    'device id',
    report,
  );
  checkUnique(
    f.people.map((p) => p.id),
    'people',
    'person id',
    report,
  );
  checkUnique(
    f.teams.map((t) => t.id),
    'teams',
    'team id',
    report,
  );
  checkUnique(
    f.technicians.map((t) => t.id),
    'technicians',
    'technician id',
    report,
  );
  const people = new Set(f.people.map((p) => p.id));
  const oncall = buildOnCall(f, people, report);
  const technicians = buildTechnicians(f, report);
  const dispatch = buildDispatch(f, report);
  const policies = buildPolicies(f, oncall, report);
  f.teams.forEach((t, i) =>
    t.members.forEach((m, j) => {
      if (!people.has(m)) report(['teams', i, 'members', j], `"${m}" is not one of the people`);
    }),
  );
  const usernames = new Map<string, string>();
  const claim = (name: string, path: Path) => {
    if (usernames.has(name))
      report(path, `MQTT username "${name}" is already used by ${usernames.get(name)}`);
    else usernames.set(name, label(path));
  };
  f.devices.forEach(
    (d, i) => d.credentials && claim(d.credentials.username ?? d.id, ['devices', i, 'credentials']),
  );
  f.clients.forEach((c, i) => {
    claim(c.username, ['clients', i, 'username']);
    if (!parseHash(c.passwordHash)) report(['clients', i, 'passwordHash'], HASH_HELP);
    for (const key of ['publish', 'subscribe'] as const) {
      c[key].forEach((flt, j) => {
        if (!isValidFilter(flt)) report(['clients', i, key, j], `"${flt}" is not a valid MQTT topic filter`);
      });
    }
  });
  const sources = new Map<string, number>();
  f.devices.forEach((d, i) => {
    if (!d.source) return;
    if (sources.has(d.source.topic))
      report(['devices', i, 'source', 'topic'], 'another device already reads this topic');
    sources.set(d.source.topic, i);
  });
  return {
    id: f.site,
    name: f.name ?? f.site,
    timezone: f.timezone,
    language: f.language,
    kinds,
    devices,
    people: f.people,
    teams: f.teams,
    clients: f.clients,
    adapters,
    badgeLists: f.badgeLists,
    schedules: f.schedules,
    oncall,
    templates,
    policies,
    technicians,
    dispatch,
    lines,
  };
}

function buildOnCall(
  f: SiteFile,
  people: ReadonlySet<string>,
  report: Report,
): Record<string, OnCallSchedule> {
  const out: Record<string, OnCallSchedule> = {};
  for (const [name, s] of Object.entries(f.oncall)) {
    const path = ['oncall', name];
    if (s.timezone) checkTimezone(s.timezone, [...path, 'timezone'], report);
    const { members, every, start } = s.rotation;
    members.forEach((m, j) => {
      if (!people.has(m)) report([...path, 'rotation', 'members', j], `"${m}" is not one of the people`);
    });
    const everyMs = durationMs(every, [...path, 'rotation', 'every'], report, parsePeriod);
    s.overrides.forEach((o, j) => {
      if (!people.has(o.person))
        report([...path, 'overrides', j, 'person'], `"${o.person}" is not one of the people`);
      // Both parse: the schema checked them.
      if (parseLocalDateTime(o.to)! <= parseLocalDateTime(o.from)!)
        report([...path, 'overrides', j, 'to'], `${o.to} is not after ${o.from}`);
    });
    out[name] = {
      id: name,
      timezone: s.timezone ?? f.timezone,
      // A bad `every` was reported: the site is then dropped, so 0 is never used.
      rotation: { members, everyMs: everyMs ?? 0, start },
      overrides: s.overrides,
    };
  }
  return out;
}

function buildPolicies(
  f: SiteFile,
  oncall: Readonly<Record<string, OnCallSchedule>>,
  report: Report,
): Record<string, Policy> {
  const people = new Map(f.people.map((p) => [p.id, p]));
  const teams = new Map(f.teams.map((t) => [t.id, t.members]));
  const typed = (raw: string): string | undefined => {
    const m = /^(person|team|oncall):(.*)$/.exec(raw);
    const [kind, id] = m ? [m[1], m[2]] : ['', raw];
    if ((kind === 'person' || kind === '') && people.has(id)) return `person:${id}`;
    if ((kind === 'team' || kind === '') && teams.has(id)) return `team:${id}`;
    if ((kind === 'oncall' || kind === '') && Object.hasOwn(oncall, id)) return `oncall:${id}`;
    return undefined;
  };
  // The people an entry can reach, to check they can be reached on some channel.
  const reach = (entry: string): readonly string[] => {
    const [kind, id] = [entry.slice(0, entry.indexOf(':')), entry.slice(entry.indexOf(':') + 1)];
    if (kind === 'person') return [id];
    if (kind === 'team') return teams.get(id) ?? [];
    const s = oncall[id];
    return s ? [...s.rotation.members, ...s.overrides.map((o) => o.person)] : [];
  };
  const out: Record<string, Policy> = {};
  for (const [name, p] of Object.entries(f.policies)) {
    const path = ['policies', name];
    const tiers = p.tiers.map((t, i): PolicyTier => {
      const at = [...path, 'tiers', i];
      const notify = t.notify.map((raw, j) => {
        const entry = typed(raw);
        if (!entry) {
          const what = raw.includes(':')
            ? 'write person:ID, team:ID or oncall:ID'
            : 'no person, team or on-call schedule has this id';
          report([...at, 'notify', j], `unknown "${raw}" (${what})`);
          return raw;
        }
        if (!t.via) {
          const silent = new Set(reach(entry).filter((id) => !people.get(id)?.channels));
          for (const id of silent)
            report(
              [...at, 'notify', j],
              `"${id}" has no channels: give the person channels or this tier a via`,
            );
        }
        return entry;
      });
      const tier: PolicyTier = { notify, via: t.via ?? [], mode: t.mode };
      if (t.every !== undefined && t.mode === 'parallel')
        report([...at, 'every'], 'every is for sequential tiers (mode: sequential)', true);
      else if (t.every !== undefined) tier.everyMs = durationMs(t.every, [...at, 'every'], report);
      else if (t.mode === 'sequential')
        report([...at, 'mode'], 'a sequential tier needs every: the delay between two people');
      if (t.wait !== undefined) tier.waitMs = durationMs(t.wait, [...at, 'wait'], report);
      else if (i < p.tiers.length - 1) report(at, 'needs wait: how long before the next tier starts');
      return tier;
    });
    const policy: Policy = { id: name, tiers };
    if (p.repeat > 0) {
      const afterMs =
        p.repeatAfter !== undefined
          ? durationMs(p.repeatAfter, [...path, 'repeatAfter'], report)
          : tiers.at(-1)!.waitMs;
      if (afterMs !== undefined) policy.repeat = { times: p.repeat, afterMs };
      else if (p.repeatAfter === undefined)
        report(
          [...path, 'repeat'],
          'give repeatAfter, or a wait on the last tier: the pause before a repeat',
        );
    }
    out[name] = policy;
  }
  return out;
}

function buildTechnicians(f: SiteFile, report: Report): Technician[] {
  return f.technicians.map((t, i) => {
    const out: Technician = { id: t.id, name: t.name, phone: t.phone, skills: t.skills, base: t.base };
    if (t.email) out.email = t.email;
    if (t.language) out.language = t.language;
    if (t.shift) {
      if (t.shift.timezone) checkTimezone(t.shift.timezone, ['technicians', i, 'shift', 'timezone'], report);
      // from = to is a whole-day shift on the days listed (as in schedules).
      out.shift = t.shift;
    }
    return out;
  });
}

function buildDispatch(f: SiteFile, report: Report): Record<string, DispatchProfile> {
  const teams = new Map(f.teams.map((t) => [t.id, t.members]));
  const people = new Map(f.people.map((p) => [p.id, p]));
  const skillsHeld = new Set(f.technicians.flatMap((t) => t.skills));
  const technicianIds = new Set(f.technicians.map((t) => t.id));
  const out: Record<string, DispatchProfile> = {};
  for (const [name, d] of Object.entries(f.dispatch)) {
    const path = ['dispatch', name];
    const m = /^(?:(\w+):)?(.*)$/.exec(d.dispatchers)!;
    const team = m[2];
    if (m[1] !== undefined && m[1] !== 'team')
      report([...path, 'dispatchers'], `dispatchers is a team of the site: write team:ID or the team id`);
    else if (!teams.has(team))
      report(
        [...path, 'dispatchers'],
        `unknown team "${team}" (teams: ${[...teams.keys()].join(', ') || 'none'})`,
      );
    else {
      for (const member of teams.get(team) ?? []) {
        const p = people.get(member);
        if (p && !p.phone && !(d.email && p.email))
          report(
            [...path, 'dispatchers'],
            `"${member}" of team "${team}" has no phone${d.email ? ' or e-mail' : ''}: the dispatchers are told by ${d.email ? 'SMS or e-mail' : 'SMS'}`,
          );
      }
    }
    if (f.technicians.length === 0)
      report(path, 'the site has no technicians: every job would go straight to the dispatchers', true);
    for (const [code, skills] of Object.entries(d.skills)) {
      skills.forEach((skill, j) => {
        if (f.technicians.length > 0 && !skillsHeld.has(skill))
          report([...path, 'skills', code, j], `no technician has the skill "${skill}"`);
      });
    }
    for (const [area, times] of Object.entries(d.travelMinutes)) {
      for (const tech of Object.keys(times)) {
        if (!technicianIds.has(tech))
          report([...path, 'travelMinutes', area, tech], `unknown technician "${tech}"`, true);
      }
    }
    let notifyCustomer: ('sms' | 'email')[];
    if (d.notifyCustomer === undefined) notifyCustomer = d.email ? ['sms', 'email'] : ['sms'];
    else {
      notifyCustomer = [...new Set(d.notifyCustomer)];
      if (notifyCustomer.includes('email') && !d.email)
        report(
          [...path, 'notifyCustomer'],
          'tells the customer by e-mail, but the profile names no email channel',
        );
    }
    const profile: DispatchProfile = {
      id: name,
      skills: d.skills,
      // A bad timeout was reported: the site is then dropped, so 0 is never used.
      offerTimeoutMs: durationMs(d.offerTimeout, [...path, 'offerTimeout'], report) ?? 0,
      dispatchers: `team:${team}`,
      sms: d.sms,
      speedKmh: d.speedKmh,
      roadFactor: d.roadFactor,
      travelMinutes: d.travelMinutes,
      notifyCustomer,
    };
    if (d.email) profile.email = d.email;
    out[name] = profile;
  }
  return out;
}

/** Every channel name the site file uses, with where it is (for the gateway to check against its config). */
export function channelNamesUsed(site: Site): { name: string; where: string }[] {
  return channelUses(site).map((u) => ({ name: u.name, where: label(u.path) }));
}

function channelUses(site: Site): { name: string; path: Path }[] {
  const out: { name: string; path: Path }[] = [];
  site.people.forEach((p: Person, i) => {
    for (const [severity, names] of Object.entries(p.channels ?? {}))
      names?.forEach((name, j) => out.push({ name, path: ['people', i, 'channels', severity, j] }));
  });
  for (const [id, policy] of Object.entries(site.policies)) {
    policy.tiers.forEach((t, i) =>
      t.via.forEach((name, j) => out.push({ name, path: ['policies', id, 'tiers', i, 'via', j] })),
    );
  }
  for (const [id, d] of Object.entries(site.dispatch)) {
    out.push({ name: d.sms, path: ['dispatch', id, 'sms'] });
    if (d.email !== undefined) out.push({ name: d.email, path: ['dispatch', id, 'email'] });
  }
  return out;
}

/**
 * Channel names in people's preferences and policy tiers, checked against the configuration when
 * the gateway gives it. As in rules, `name?` marks a channel as optional: kept where this gateway
 * configures it, dropped where it does not (one site file serves the bare demo and the real site);
 * without `?`, an unknown name is a typo and the file is refused.
 */
function resolveChannels(site: Site, configured: readonly string[] | undefined, report: Report): Site {
  const known = configured && new Set(configured);
  const list = configured?.join(', ') || 'none';
  for (const u of channelUses(site)) {
    const base = u.name.endsWith('?') ? u.name.slice(0, -1) : u.name;
    if (known && !known.has(base) && base === u.name)
      report(
        u.path,
        `unknown channel "${u.name}" (configured: ${list}; write "${u.name}?" if it is optional)`,
      );
  }
  const keep = (names: readonly string[]) =>
    names.flatMap((n) => {
      const base = n.endsWith('?') ? n.slice(0, -1) : n;
      return n !== base && known && !known.has(base) ? [] : [base];
    });
  return {
    ...site,
    people: site.people.map((p) =>
      p.channels
        ? {
            ...p,
            channels: Object.fromEntries(Object.entries(p.channels).map(([k, v]) => [k, v && keep(v)])),
          }
        : p,
    ),
    policies: Object.fromEntries(
      Object.entries(site.policies).map(([id, pol]) => [
        id,
        { ...pol, tiers: pol.tiers.map((t) => ({ ...t, via: keep(t.via) })) },
      ]),
    ),
    dispatch: Object.fromEntries(
      Object.entries(site.dispatch).map(([id, d]) => {
        // An optional e-mail channel this gateway lacks: the customer is told by SMS only.
        const { email, ...rest } = d;
        const kept = email === undefined ? [] : keep([email]);
        const profile: DispatchProfile = kept.length > 0 ? { ...rest, email: kept[0] } : rest;
        // `sms?` where no SMS channel is configured (the demo): offers and customer updates are
        // shown on the console instead, so the job flow still runs end to end.
        profile.sms = keep([d.sms])[0] ?? 'console';
        if (kept.length === 0) profile.notifyCustomer = d.notifyCustomer.filter((n) => n !== 'email');
        return [id, profile];
      }),
    ),
  };
}

/** `parseDuration` plus weeks (`1w`, `2w3d`): rotations are often counted in weeks. */
function parsePeriod(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^\s*(\d+)w(.*)$/.exec(text);
  if (!m) return parseDuration(text);
  const rest = m[2].trim() === '' ? 0 : parseDuration(m[2]);
  return rest === undefined ? undefined : Number(m[1]) * 7 * 86_400_000 + rest;
}

function durationMs(
  value: string | number,
  path: Path,
  report: Report,
  parse: (text: unknown) => number | undefined = parseDuration,
): number | undefined {
  const ms = parse(value);
  if (ms === undefined) report(path, `"${value}" is not a duration (use 30s, 2m, 1h)`);
  else if (ms <= 0) report(path, `"${value}" must be longer than 0`);
  return ms !== undefined && ms > 0 ? ms : undefined;
}

/** Recorded prompts are written relative to the site file; they must exist when the site loads. */
function resolveVoiceFiles(t: Templates, dir: string, report: Report): Templates {
  const out: Record<string, Record<string, TemplateBlock>> = {};
  for (const [id, langs] of Object.entries(t)) {
    out[id] = {};
    for (const [lang, block] of Object.entries(langs)) {
      if (!block.voiceFile) {
        out[id][lang] = block;
        continue;
      }
      const file = resolvePath(dir, block.voiceFile);
      if (!existsSync(file)) report(['templates', id, lang, 'voiceFile'], `no such file: ${file}`);
      out[id][lang] = { ...block, voiceFile: file };
    }
  }
  return out;
}

const HASH_HELP = 'not a password hash (scrypt$N$r$p$salt$key; make one with `vigie hash-password`)';

function buildDevice(
  site: string,
  d: SiteFile['devices'][number],
  path: Path,
  kinds: Readonly<Record<string, KindSpec>>,
  adapters: Readonly<Record<string, AdapterSpec>>,
  lines: Readonly<Record<string, SerialLine>>,
  report: Report,
): Device {
  const kind = kinds[d.kind];
  if (RESERVED_KINDS.has(d.kind))
    report([...path, 'kind'], `"${d.kind}" is reserved and cannot be a device kind`);
  else if (!kind)
    report([...path, 'kind'], `unknown kind "${d.kind}" (known: ${Object.keys(kinds).join(', ')})`);
  const out: Device = { id: d.id, kind: d.kind, name: d.name ?? d.id, site, zone: d.zone, tags: d.tags };
  if (d.location) out.location = d.location;
  if (d.camera) out.camera = d.camera;
  if (d.speaker) out.speaker = d.speaker;
  if (d.serial) out.serial = d.serial;
  if (d.heartbeat !== undefined) {
    const ms = durationMs(d.heartbeat, [...path, 'heartbeat'], report);
    if (ms !== undefined) out.heartbeatMs = ms;
  }
  if (d.credentials) {
    if (!parseHash(d.credentials.passwordHash)) report([...path, 'credentials', 'passwordHash'], HASH_HELP);
    out.credentials = { username: d.credentials.username ?? d.id, passwordHash: d.credentials.passwordHash };
  }
  if (d.source) {
    const { topic, adapter } = d.source;
    if (!isValidTopic(topic) || topic.startsWith('$') || topic.startsWith('vigie/')) {
      report([...path, 'source', 'topic'], `"${topic}" cannot be a source topic (no wildcards, $ or vigie/)`);
    }
    const spec = adapters[adapter];
    if (!spec)
      report(
        [...path, 'source', 'adapter'],
        `unknown adapter "${adapter}" (known: ${Object.keys(adapters).join(', ')})`,
      );
    else if (kind) checkAdapterFits(adapter, spec, d.kind, kind, [...path, 'source', 'adapter'], report);
    out.source = { topic, adapter };
  }
  const gpio = buildGpio(d, kind, path, report);
  if (gpio) out.gpio = gpio;
  const line = buildSerial(d, kind, lines, path, report);
  if (line) out.line = line;
  return out;
}

function checkAdapterFits(
  name: string,
  a: AdapterSpec,
  kindName: string,
  kind: KindSpec,
  path: Path,
  report: Report,
): void {
  for (const field of Object.keys(a.fields)) {
    if (field !== 'ts' && field !== 'battery' && !kind.fields[field]) {
      report(path, `adapter "${name}" produces "${field}", which kind "${kindName}" does not have`);
    }
  }
  for (const [field, spec] of Object.entries(kind.fields)) {
    if (spec.required && !a.fields[field])
      report(path, `adapter "${name}" does not produce "${field}", required by kind "${kindName}"`);
  }
}

function checkTimezone(tz: string, path: Path, report: Report): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    report(path, `unknown time zone "${tz}"`);
  }
}

function checkUnique(ids: readonly string[], section: string, what: string, report: Report): void {
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    if (seen.has(id)) report([section, i, 'id'], `duplicate ${what} "${id}"`);
    seen.add(id);
  });
}

function label(path: Path): string {
  return path.length === 0
    ? '(root)'
    : path
        .map((p) => (typeof p === 'number' ? `[${p}]` : p))
        .join('.')
        .replace(/\.\[/g, '[');
}

/** The line of the node at `path`, or of its key when `onKey`; the nearest existing parent otherwise. */
function lineOf(doc: Document, lc: LineCounter, path: Path, onKey: boolean): number {
  for (let n = path.length; n >= 0; n--) {
    const sub = path.slice(0, n);
    if (onKey && n === path.length && n > 0) {
      const parent = doc.getIn(sub.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === sub[n - 1]);
        const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
        if (range) return lc.linePos(range[0]).line;
      }
      continue;
    }
    const node = n === 0 ? doc.contents : doc.getIn(sub, true);
    const range = (node as { range?: [number, number] } | null | undefined)?.range;
    if (range) return lc.linePos(range[0]).line;
  }
  return 1;
}

function sortByLine(problems: FileProblem[]): FileProblem[] {
  return problems.sort((a, b) => a.line - b.line);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
