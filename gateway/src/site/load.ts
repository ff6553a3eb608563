import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { parseDuration } from '../../../rules/src/duration.js';
import type { FileProblem } from '../../../rules/src/model.js';
import { ConfigError } from '../core/errors.js';
import { parseHash } from '../listen/credentials.js';
import { isValidFilter, isValidTopic } from '../listen/acl.js';
import { BUILTIN_ADAPTERS } from '../listen/presets.js';
import { BUILTIN_KINDS, RESERVED_KINDS, type KindSpec } from './kinds.js';
import type { AdapterSpec, Device, Site } from './model.js';
import { siteFileSchema, type SiteFile } from './schema.js';

type Path = readonly (string | number)[];
type Report = (path: Path, message: string, onKey?: boolean) => void;

/** Reads and checks a site file; throws ConfigError(VIGIE_ERR_SITE_INVALID) listing every problem. */
export function loadSite(file: string): Site {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('VIGIE_ERR_SITE_INVALID', [
      { file, line: 0, message: `cannot read the site file: ${(err as Error).message}` },
    ]);
  }
  const { site, problems } = parseSite(file, text);
  if (!site || problems.length > 0) throw new ConfigError('VIGIE_ERR_SITE_INVALID', problems);
  return site;
}

export function parseSite(file: string, text: string): { site?: Site; problems: FileProblem[] } {
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
  const site = build(parsed.data, report);
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

function build(f: SiteFile, report: Report): Site {
  checkTimezone(f.timezone, ['timezone'], report);
  for (const [name, s] of Object.entries(f.schedules)) {
    if (s.timezone) checkTimezone(s.timezone, ['schedules', name, 'timezone'], report);
  }
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
  const devices = f.devices.map((d, i) => buildDevice(f.site, d, ['devices', i], kinds, adapters, report));
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
  const people = new Set(f.people.map((p) => p.id));
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
    kinds,
    devices,
    people: f.people,
    teams: f.teams,
    clients: f.clients,
    adapters,
    badgeLists: f.badgeLists,
    schedules: f.schedules,
  };
}

const HASH_HELP = 'not a password hash (scrypt$N$r$p$salt$key; make one with `vigie hash-password`)';

function buildDevice(
  site: string,
  d: SiteFile['devices'][number],
  path: Path,
  kinds: Readonly<Record<string, KindSpec>>,
  adapters: Readonly<Record<string, AdapterSpec>>,
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
    const ms = parseDuration(d.heartbeat);
    if (ms === undefined || ms <= 0)
      report([...path, 'heartbeat'], `"${d.heartbeat}" is not a duration (use 30s, 2m, 1h)`);
    else out.heartbeatMs = ms;
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
