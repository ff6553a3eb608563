import { z } from 'zod';
import type { Incident, IncidentState } from '../route/model.js';
import { BUILTIN_TEXTS, WORDS } from './templates-default.js';

// Alert texts per template, language and channel type, from the site file's `templates:` section.
//
// Syntax of a text:
//   {device}        a placeholder (PLACEHOLDERS); {Device} capitalises its first letter, {DEVICE}
//                   writes it in capitals.
//   [Camera: {camera}]
//                   an optional segment: it disappears, brackets included, when any placeholder in
//                   it is empty. Spaces around a removed segment shrink to one, and a line left
//                   empty by removed segments goes away, so no "Camera: ." is left dangling.
//                   Segments do not nest; a bracketed part without placeholders stays as written
//                   ("[Vigie] ...").
//   {{ }} [[ ]]     a literal brace or bracket.
// Voice calls never say links: in a text spoken on a call, {camera}, {snapshot}, {incident} and
// {speaker} are errors, and are empty when a call falls back to `text`.

export const TEMPLATE_LANGUAGES = ['en', 'fr'] as const;
export type TemplateLanguage = (typeof TEMPLATE_LANGUAGES)[number];

/** Channel types a language block may have its own text for; `modem` falls back to `sms`. */
const CHANNEL_KEYS = ['sms', 'modem', 'voice', 'email', 'webhook', 'console'] as const;
/** Without `text`, a block must cover these (modem borrows sms). */
const NEEDED_WITHOUT_TEXT = ['sms', 'voice', 'email', 'webhook', 'console'] as const;

export const PLACEHOLDERS = [
  'device',
  'place',
  'zone',
  'duration',
  'value',
  'camera',
  'snapshot',
  'incident',
  'ackCode',
  'severity',
  'state',
  'rule',
  'count',
  'speaker',
  'time',
  'reason',
] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];
const LINKS: ReadonlySet<string> = new Set<Placeholder>(['camera', 'snapshot', 'incident', 'speaker']);

const TEMPLATE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const text = z.string().min(1).max(4000);
const channelTexts = {
  text: text.optional(),
  sms: text.optional(),
  modem: text.optional(),
  voice: text.optional(),
  email: z.strictObject({ subject: z.string().min(1).max(400).optional(), body: text.optional() }).optional(),
  webhook: text.optional(),
  console: text.optional(),
};
const groupedTexts = z.strictObject(channelTexts);
const languageBlock = z.strictObject({
  ...channelTexts,
  /** A recorded WAV played instead of the generated prompt; relative to the site file. */
  voiceFile: z.string().min(1).max(1024).optional(),
  /** Texts for an alert that groups several incidents of one rule ({count}). */
  grouped: groupedTexts.optional(),
});

/** The `templates:` section: template id -> language -> texts. */
export const templatesSchema = z
  .record(
    z.string().max(64).regex(TEMPLATE_ID, 'a template id is letters, digits, _ or -'),
    z.record(z.string(), languageBlock),
  )
  .default({});

export type Templates = z.output<typeof templatesSchema>;
export type TemplateBlock = z.output<typeof languageBlock>;
export type TemplateTexts = z.output<typeof groupedTexts>;

// ---- syntax -------------------------------------------------------------------------------------

type Part = { lit: string } | { ph: string; name: Placeholder | undefined; casing: 'as' | 'cap' | 'upper' };
type Node = Part | { opt: Part[]; raw: string };

interface Parsed {
  nodes: Node[];
  errors: { at: number; message: string }[];
}

function parse(src: string): Parsed {
  const nodes: Node[] = [];
  const errors: Parsed['errors'] = [];
  let opt: { parts: Part[]; start: number } | undefined;
  let nested = 0;
  let lit = '';
  const flush = () => {
    if (lit) (opt ? opt.parts : nodes).push({ lit });
    lit = '';
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if ((c === '{' || c === '}' || c === '[' || c === ']') && src[i + 1] === c) {
      lit += c;
      i++;
    } else if (c === '{') {
      const end = src.slice(i + 1).search(/[{}[\]]/) + i + 1;
      if (end === i || src[end] !== '}') {
        errors.push({
          at: i,
          message: 'unbalanced braces: "{" is not closed (write {{ for a literal brace)',
        });
        continue;
      }
      flush();
      const ph = src.slice(i + 1, end);
      (opt ? opt.parts : nodes).push({ ph, ...placeholder(ph) });
      i = end;
    } else if (c === '}') {
      errors.push({ at: i, message: 'unbalanced braces: "}" without "{" (write }} for a literal brace)' });
    } else if (c === '[') {
      if (opt) {
        errors.push({ at: i, message: 'optional segments [...] cannot be nested' });
        nested++;
      } else {
        flush();
        opt = { parts: [], start: i };
      }
    } else if (c === ']') {
      // The "]" closing a nested "[" already reported.
      if (nested > 0) nested--;
      else if (!opt)
        errors.push({ at: i, message: 'unbalanced brackets: "]" without "[" (write ]] for a literal one)' });
      else {
        flush();
        nodes.push({ opt: opt.parts, raw: src.slice(opt.start, i + 1) });
        opt = undefined;
      }
    } else lit += c;
  }
  if (opt) errors.push({ at: opt.start, message: 'unbalanced brackets: "[" is not closed' });
  flush();
  return { nodes, errors };
}

function placeholder(ph: string): { name: Placeholder | undefined; casing: 'as' | 'cap' | 'upper' } {
  for (const name of PLACEHOLDERS) {
    if (ph === name) return { name, casing: 'as' };
    if (ph === name[0].toUpperCase() + name.slice(1)) return { name, casing: 'cap' };
    if (ph === name.toUpperCase()) return { name, casing: 'upper' };
  }
  return { name: undefined, casing: 'as' };
}

// Site templates are few and fixed between reloads: parsing each text once is enough.
const parsedCache = new Map<string, Parsed>();
function parsed(src: string): Parsed {
  let p = parsedCache.get(src);
  if (!p) {
    if (parsedCache.size > 2000) parsedCache.clear();
    p = parse(src);
    parsedCache.set(src, p);
  }
  return p;
}

// ---- load-time checks ---------------------------------------------------------------------------

type Path = readonly (string | number)[];
export type TemplateReport = (path: Path, message: string, onKey?: boolean) => void;

/**
 * Checks what the schema cannot: languages, placeholders, braces, links in spoken texts, that each
 * language covers every channel. Paths are from the site file's root (`templates.door-held.en.voice`).
 */
export function checkTemplates(
  templates: Templates,
  opts: { defaultLanguage: string },
  report: TemplateReport,
): void {
  const siteLanguage = baseLanguage(opts.defaultLanguage);
  for (const [id, languages] of Object.entries(templates)) {
    const at = ['templates', id];
    if (!languages.en && !(siteLanguage && languages[siteLanguage])) {
      const need =
        siteLanguage && siteLanguage !== 'en' ? `"en" or "${siteLanguage}" (the site's language)` : '"en"';
      report(at, `template "${id}" needs texts in ${need}: other languages fall back to it`, true);
    }
    for (const [language, block] of Object.entries(languages)) {
      if (!isLanguage(language)) {
        report(
          [...at, language],
          `unknown language "${language}" (known: ${TEMPLATE_LANGUAGES.join(', ')})`,
          true,
        );
        continue;
      }
      checkBlock(block, [...at, language], true, report);
      // Grouped texts may cover some channels only: the others use the built-in grouped texts.
      if (block.grouped) checkBlock(block.grouped, [...at, language, 'grouped'], false, report);
      if (block.voiceFile !== undefined && !/\.wav$/i.test(block.voiceFile))
        report([...at, language, 'voiceFile'], 'a recorded prompt must be a .wav file');
    }
  }
}

function checkBlock(block: TemplateTexts, at: Path, complete: boolean, report: TemplateReport): void {
  if (complete && block.text === undefined) {
    const has = (k: string) =>
      k === 'email' ? block.email?.body !== undefined : block[k as 'sms'] !== undefined;
    const missing = NEEDED_WITHOUT_TEXT.filter((k) => !has(k)).map((k) => (k === 'email' ? 'email.body' : k));
    if (missing.length > 0)
      report(
        at,
        `needs "text" (used by every channel without its own) or a text for each channel; missing: ${missing.join(', ')}`,
      );
  }
  if (block.email && block.email.subject === undefined && block.email.body === undefined)
    report([...at, 'email'], 'email needs a subject, a body or both');
  const texts: [Path, string | undefined, boolean][] = [
    [[...at, 'text'], block.text, block.voice === undefined],
    ...CHANNEL_KEYS.filter((k) => k !== 'email').map((k): [Path, string | undefined, boolean] => [
      [...at, k],
      block[k],
      k === 'voice',
    ]),
    [[...at, 'email', 'subject'], block.email?.subject, false],
    [[...at, 'email', 'body'], block.email?.body, false],
  ];
  for (const [path, src, spoken] of texts) {
    if (src === undefined) continue;
    const isVoiceKey = path[path.length - 1] === 'voice';
    for (const problem of checkText(src, spoken ? (isVoiceKey ? 'voice' : 'fallback') : 'written'))
      report(path, problem);
  }
}

function checkText(src: string, use: 'written' | 'voice' | 'fallback'): string[] {
  const { nodes, errors } = parsed(src);
  const out = errors.map((e) => `${e.message} (character ${e.at + 1})`);
  const check = (p: Part, optional: boolean) => {
    if (!('ph' in p)) return;
    if (!p.name) out.push(`unknown placeholder {${p.ph}} (known: ${PLACEHOLDERS.join(', ')})`);
    else if (use === 'voice' && LINKS.has(p.name))
      out.push(`{${p.ph}} is a link and cannot be spoken: leave it out of the voice text`);
    else if (use === 'fallback' && LINKS.has(p.name) && !optional)
      out.push(
        `{${p.ph}} is a link, and this text is also spoken on voice calls (there is no "voice" text): ` +
          `put it in an optional segment [...] or add a "voice" text`,
      );
  };
  for (const n of nodes) {
    if ('opt' in n) n.opt.forEach((p) => check(p, true));
    else check(n, false);
  }
  if (use === 'voice' && /\b(?:https?|rtsp|sips?):\S/i.test(src))
    out.push('a voice text cannot contain a link: it would be read out letter by letter');
  return out;
}

// ---- values -------------------------------------------------------------------------------------

/** A measurement, formatted per language (decimal comma in French) and spoken with its unit. */
export interface Reading {
  /** Field name (`celsius`, `humidity`): gives the unit when it is a known one. */
  field: string;
  value: number;
}

export interface AlertVars {
  device: string;
  /** Location label, else the zone. */
  place: string;
  zone: string;
  /** How long the condition has held. */
  durationMs?: number;
  /** The main reading: a Reading is localised, a string is used as given. */
  value?: string | Reading;
  camera?: string;
  snapshot?: string;
  incidentUrl?: string;
  /** 4 digits; an empty string hides the segments that mention it. */
  ackCode: string;
  severity: string;
  rule: string;
  /** Number of incidents in a grouped alert: 2 or more selects the `grouped` texts. */
  count?: number;
  speaker?: string;
  openedAt: number;
  /** IANA time zone of the site, for {time}. */
  timezone: string;
  reason: string;
  state: IncidentState;
}

/** The usual AlertVars of an incident, from what the route stage attached to it. */
export function varsFromIncident(
  incident: Incident,
  opts: Pick<AlertVars, 'ackCode' | 'timezone' | 'incidentUrl' | 'durationMs' | 'count'> & {
    valueField?: string;
  },
): AlertVars {
  const ctx = incident.context as {
    location?: { label?: unknown };
    camera?: { stream?: unknown; snapshot?: unknown };
    speaker?: { sip?: unknown };
  };
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const field =
    opts.valueField ??
    Object.keys(incident.values).find((f) => Object.hasOwn(WORDS.en.units, f) && f !== 'battery') ??
    singleNumber(incident.values);
  const reading = field !== undefined ? incident.values[field] : undefined;
  return {
    device: incident.deviceName,
    place: str(ctx.location?.label) ?? incident.zone,
    zone: incident.zone,
    durationMs: opts.durationMs,
    value: typeof reading === 'number' && field ? { field, value: reading } : undefined,
    camera: str(ctx.camera?.stream),
    snapshot: str(ctx.camera?.snapshot),
    incidentUrl: opts.incidentUrl,
    ackCode: opts.ackCode,
    severity: incident.severity,
    rule: incident.ruleName,
    count: opts.count,
    speaker: str(ctx.speaker?.sip),
    openedAt: incident.openedAt,
    timezone: opts.timezone,
    reason: incident.reason,
    state: incident.state,
  };
}

function singleNumber(values: Readonly<Record<string, unknown>>): string | undefined {
  const numeric = Object.keys(values).filter((f) => typeof values[f] === 'number' && f !== 'battery');
  return numeric.length === 1 ? numeric[0] : undefined;
}

/** "2 min 5 s", "1 h 3 min", "45 s"; spoken: "2 minutes and 5 seconds". Two units at most, rounded down. */
export function humanDuration(ms: number, language: TemplateLanguage, spoken = false): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  const w = WORDS[language].duration;
  const s = Math.floor(ms / 1000);
  const units: [keyof typeof w.short, number][] = [
    ['d', Math.floor(s / 86400)],
    ['h', Math.floor(s / 3600) % 24],
    ['min', Math.floor(s / 60) % 60],
    ['s', s % 60],
  ];
  const first = units.findIndex(([, n]) => n > 0);
  const shown = first < 0 ? units.slice(3) : units.slice(first, first + 2).filter(([, n]) => n > 0);
  if (!spoken) return shown.map(([u, n]) => `${n} ${w.short[u]}`).join(' ');
  return shown.map(([u, n]) => `${n} ${w.spoken[u][n === 1 ? 0 : 1]}`).join(` ${w.and} `);
}

function localTime(at: number, timezone: string, language: TemplateLanguage, spoken: boolean): string {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-GB', {
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZone: timezone,
    }).formatToParts(at);
  } catch {
    return '';
  }
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return WORDS[language].time(get('hour'), get('minute'), spoken);
}

function formatValue(v: AlertVars['value'], language: TemplateLanguage, spoken: boolean): string {
  if (v === undefined || typeof v === 'string') return v ?? '';
  const n = new Intl.NumberFormat(language, { maximumFractionDigits: 2, useGrouping: false }).format(v.value);
  const unit = Object.hasOwn(WORDS[language].units, v.field) ? WORDS[language].units[v.field] : undefined;
  if (!unit) return n;
  return spoken ? `${n} ${unit[1]}` : unit[0] === '%' && language === 'en' ? `${n}%` : `${n} ${unit[0]}`;
}

function values(vars: AlertVars, language: TemplateLanguage, spoken: boolean): Record<Placeholder, string> {
  const words = WORDS[language];
  const link = (v: string | undefined) => (spoken ? '' : (v ?? ''));
  return {
    device: vars.device,
    place: vars.place,
    zone: vars.zone,
    duration: vars.durationMs === undefined ? '' : humanDuration(vars.durationMs, language, spoken),
    value: formatValue(vars.value, language, spoken),
    camera: link(vars.camera),
    snapshot: link(vars.snapshot),
    incident: link(vars.incidentUrl),
    ackCode: vars.ackCode,
    severity: Object.hasOwn(words.severity, vars.severity) ? words.severity[vars.severity] : vars.severity,
    state: Object.hasOwn(words.state, vars.state) ? words.state[vars.state] : vars.state,
    rule: vars.rule,
    count: vars.count === undefined ? '' : String(vars.count),
    speaker: link(vars.speaker),
    time: localTime(vars.openedAt, vars.timezone, language, spoken),
    reason: vars.reason,
  };
}

// ---- rendering ----------------------------------------------------------------------------------

// Marks where an optional segment was removed, so the spaces and lines around it can be tidied.
const GONE = '\uE000';

/** Renders one text of the syntax above; unknown placeholders (impossible after checkTemplates) stay as written. */
export function renderText(src: string, vals: Readonly<Record<string, string>>): string {
  const show = (p: Part): string => {
    if (!('ph' in p)) return p.lit;
    if (!p.name) return `{${p.ph}}`;
    const v = (vals[p.name] ?? '').replaceAll(GONE, '');
    if (p.casing === 'upper') return v.toUpperCase();
    return p.casing === 'cap' ? v.charAt(0).toUpperCase() + v.slice(1) : v;
  };
  let out = '';
  for (const n of parsed(src).nodes) {
    if (!('opt' in n)) out += show(n);
    else if (!n.opt.some((p) => 'ph' in p)) out += n.raw;
    else {
      const shown = n.opt.map(show);
      out += n.opt.some((p, i) => 'ph' in p && shown[i] === '') ? GONE : shown.join('');
    }
  }
  if (!out.includes(GONE)) return out.trimEnd();
  return out
    .split('\n')
    .filter((line) => !line.includes(GONE) || line.replaceAll(GONE, '').trim() !== '')
    .map((line) =>
      line.replace(/[ \t]*(?:\uE000[ \t]*)+/g, (m: string, at: number) => {
        const edge = at === 0 || at + m.length === line.length || line[at + m.length] === '\r';
        return edge || !/[ \t]/.test(m) ? '' : ' ';
      }),
    )
    .join('\n')
    .trimEnd();
}

export interface RenderedAlert {
  text: string;
  /** E-mail only. */
  subject?: string;
  /** E-mail only: `text` as escaped HTML, links clickable. */
  html?: string;
  /** Voice only: the integrator's recording for this template and language, as written (relative to the site file). */
  voiceFile?: string;
  /** Language of `text`: en or fr. */
  language: TemplateLanguage;
}

/**
 * The alert for one channel type (sms, modem, voice, email, webhook, console) and language.
 * Looks up, first found: the template's text for that channel in `language`, its `text`, the same
 * in `defaultLanguage`, then the built-in text for that channel in `language` (en when `language`
 * is neither en nor fr). With `vars.count >= 2`, the `grouped` texts are used the same way.
 */
export function renderAlert(
  templates: Templates | undefined,
  templateId: string | undefined,
  channelType: string,
  language: string,
  vars: AlertVars,
  defaultLanguage = 'en',
): RenderedAlert {
  const fallback = pickLanguage(defaultLanguage, 'en');
  const wanted = pickLanguage(language, fallback);
  const grouped = (vars.count ?? 0) >= 2;
  const template = templateId !== undefined ? templates?.[templateId] : undefined;
  const chain: { language: TemplateLanguage; texts: TemplateTexts; file?: string }[] = [];
  for (const l of new Set([wanted, fallback])) {
    const block = template?.[l];
    const texts = grouped ? block?.grouped : block;
    if (texts) chain.push({ language: l, texts, file: grouped ? undefined : block?.voiceFile });
  }
  const builtin = BUILTIN_TEXTS[wanted][grouped ? 'grouped' : 'single'];
  chain.push({ language: wanted, texts: builtin });

  const keys = channelKeys(channelType);
  const found =
    chain.find((c) => keys.some((k) => pick(c.texts, k) !== undefined)) ?? chain[chain.length - 1];
  const src = keys.map((k) => pick(found.texts, k)).find((t) => t !== undefined) ?? builtin.text;
  const vals = values(vars, found.language, channelType === 'voice');
  const out: RenderedAlert = { text: renderText(src, vals), language: found.language };
  if (channelType === 'email') {
    const subject =
      chain.find((c) => c.language === found.language && c.texts.email?.subject)?.texts.email?.subject ??
      BUILTIN_TEXTS[found.language][grouped ? 'grouped' : 'single'].email.subject;
    out.subject = renderText(subject, vals).replace(/\s+/g, ' ');
    out.html = toHtml(out.text, found.language);
  }
  if (channelType === 'voice' && found.file) out.voiceFile = found.file;
  return out;
}

function channelKeys(channelType: string): string[] {
  if (channelType === 'modem') return ['modem', 'sms', 'text'];
  if (channelType === 'email') return ['email.body', 'text'];
  return (CHANNEL_KEYS as readonly string[]).includes(channelType) ? [channelType, 'text'] : ['text'];
}

function pick(t: TemplateTexts, key: string): string | undefined {
  if (key === 'email.body') return t.email?.body;
  return t[key as 'text'];
}

function isLanguage(l: string): l is TemplateLanguage {
  return (TEMPLATE_LANGUAGES as readonly string[]).includes(l);
}

/** `fr-FR`, `FR`, `fr_CA` -> `fr`. */
function baseLanguage(l: string): string {
  return l.toLowerCase().split(/[-_]/)[0];
}

function pickLanguage(l: string, otherwise: TemplateLanguage): TemplateLanguage {
  const b = baseLanguage(l);
  return isLanguage(b) ? b : otherwise;
}

const LINK = /\b(?:https?:\/\/|rtsp:\/\/|sips?:)[^\s<>"']+/g;

function toHtml(text: string, language: TemplateLanguage): string {
  const esc = (s: string) =>
    s
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;');
  const line = (l: string) => {
    let html = '';
    let last = 0;
    for (const m of l.matchAll(LINK)) {
      // Punctuation closing a sentence is not part of the link.
      const url = m[0].replace(/[.,;:!?)]+$/, '');
      html += esc(l.slice(last, m.index ?? 0)) + `<a href="${esc(url)}">${esc(url)}</a>`;
      last = (m.index ?? 0) + url.length;
    }
    return html + esc(l.slice(last));
  };
  const paragraphs = text
    .split(/\n\s*\n/)
    .map((p) => `<p>${p.split('\n').map(line).join('<br>\n')}</p>`)
    .join('\n');
  return `<!DOCTYPE html>\n<html lang="${language}"><head><meta charset="utf-8"></head><body>\n${paragraphs}\n</body></html>\n`;
}
