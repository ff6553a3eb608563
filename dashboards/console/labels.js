// How incidents, devices and values read on screen: severity with a glyph as well as a colour (for
// colour-blind eyes), states, field values with their unit, actors with a readable name.

import { h } from './dom.js';
import { fmtNumber, has, t } from './i18n.js';

export const SEVERITIES = ['critical', 'major', 'minor', 'info'];
export const STATES = ['open', 'acknowledged', 'cleared', 'resolved'];
export const ACTIVE_STATES = ['open', 'acknowledged'];

const GLYPH = { critical: '▲', major: '◆', minor: '●', info: 'ℹ' };

export function severityBadge(severity) {
  return h(
    'span',
    { class: `sev sev-${severity}`, dataset: { severity } },
    h('span', { class: 'sev-glyph', 'aria-hidden': 'true' }, GLYPH[severity] ?? '?'),
    t(`sev.${severity}`),
  );
}

export function stateBadge(state) {
  return h('span', { class: `state state-${state}`, dataset: { state } }, t(`state.${state}`));
}

export function severityRank(s) {
  const i = SEVERITIES.indexOf(s);
  return i < 0 ? SEVERITIES.length : i;
}

export function stateRank(s) {
  const i = STATES.indexOf(s);
  return i < 0 ? STATES.length : i;
}

const UNITS = { celsius: ' °C', fahrenheit: ' °F', humidity: ' %', battery: ' %', co2: ' ppm', lux: ' lx' };

export function fieldLabel(field) {
  return has(`field.${field}`) ? t(`field.${field}`) : field;
}

export function fieldUnit(field) {
  return UNITS[field] ?? '';
}

export function formatValue(field, value) {
  if (typeof value === 'boolean') {
    const key = `bool.${field}.${value}`;
    return has(key) ? t(key) : t(value ? 'value.yes' : 'value.no');
  }
  if (typeof value === 'number') return fmtNumber(value) + fieldUnit(field);
  return String(value);
}

/** `celsius 21.5 °C · open closed`: the fields people read, battery shown elsewhere. */
export function valueChips(values, skip = ['battery', 'ts']) {
  return Object.entries(values ?? {})
    .filter(([k, v]) => !skip.includes(k) && v !== null && typeof v !== 'object')
    .map(([k, v]) =>
      h(
        'span',
        { class: ['chip', alarming(k, v) && 'chip-alarm'] },
        h('span', { class: 'chip-k' }, fieldLabel(k)),
        ' ',
        h('b', {}, formatValue(k, v)),
      ),
    );
}

function alarming(field, value) {
  return (field === 'present' && value === false) || (field === 'open' && value === true);
}

export function kindLabel(kind) {
  return has(`kind.${kind}`) ? t(`kind.${kind}`) : kind;
}

const names = new Map();

/** Remembers people's names as console notifications name them (`person:sec-amina` -> Amina Diallo). */
export function rememberName(key, name) {
  if (typeof key === 'string' && typeof name === 'string' && name) names.set(key, name);
}

/**
 * `token:ops-console/alice` -> `alice (ops-console)`, `person:sec-amina` -> the person's name when a
 * notification told us, `rule:door-forced` -> `door-forced`, `system` -> the gateway.
 */
export function actorLabel(actor) {
  if (typeof actor !== 'string' || actor === '') return '';
  if (actor === 'system') return t('actor.system');
  if (names.has(actor)) return names.get(actor);
  const m = /^(\w+):(.*)$/.exec(actor);
  if (!m) return actor;
  const [, kind, rest] = m;
  if (kind === 'token') {
    const slash = rest.indexOf('/');
    return slash < 0 ? rest : `${rest.slice(slash + 1)} (${rest.slice(0, slash)})`;
  }
  return rest;
}

export function isLowBattery(battery) {
  return typeof battery === 'number' && battery < 20;
}
