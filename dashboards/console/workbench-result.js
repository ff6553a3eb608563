// The replayed result as the workbench shows it (issue 8): a summary, the incidents to filter the
// rest on, the timeline in time order (offset from the start and the site's clock, severity as a
// colour and a word), and the notifications per person and channel with the text each would have
// received. Everything from the gateway goes in as text (dom.js).

import { h, mount } from './dom.js';
import { fmtDuration, fmtNumber, language, t, zoneName } from './i18n.js';
import { SEVERITIES, severityBadge, severityRank, stateBadge } from './labels.js';

/** A week of a large site can give thousands of lines: drawn in pages so the tab stays responsive. */
export const PAGE = 500;
const OUTCOMES = ['sent', 'suppressed', 'cancelled', 'failed'];
const ICON = {
  opened: '▲',
  escalated: '⇡',
  acknowledged: '✔',
  cleared: '○',
  resolved: '✔',
  notification: '✉',
};

/**
 * Draws `r` (a ReplayResult) into `el`: `focus` is the incident key the timeline and notifications
 * are narrowed to ('' for all), `shown` how many timeline lines are drawn; `choose(key)` and
 * `more()` are what the reader's buttons ask for.
 */
export function drawReplayResult(el, r, { focus, shown }, { choose, more }) {
  const incidents = [...(r.incidents ?? [])].sort(
    (a, b) => a.openedAt - b.openedAt || severityRank(a.severity) - severityRank(b.severity),
  );
  const lines = (r.timeline ?? []).filter((l) => !focus || l.incidentKey === focus);
  const notes = (r.notifications ?? []).filter((n) => !focus || n.incidentKey === focus);
  const manyDays = r.to - r.from > 20 * 3600_000;
  mount(
    el,
    h('h2', { tabindex: '-1' }, t('wb.result.title')),
    h('p', { class: 'muted' }, t('wb.result.nothingSent')),
    summary(r),
    (r.problems ?? []).length > 0
      ? h(
          'div',
          { class: 'notice-warn', testid: 'wb-problems' },
          h('b', {}, t('wb.sum.problems')),
          h(
            'ul',
            {},
            r.problems.map((p) => h('li', {}, p)),
          ),
        )
      : null,
    h(
      'section',
      { class: 'panel' },
      h('h3', {}, t('wb.incidents')),
      incidents.length === 0
        ? h('p', { class: 'muted', testid: 'wb-no-incidents' }, t('wb.incidents.none'))
        : incidentFilter(incidents, r, focus, choose),
    ),
    h(
      'section',
      { class: 'panel' },
      h('h3', {}, t('wb.timeline')),
      lines.length === 0
        ? h('p', { class: 'muted' }, t('wb.timeline.empty'))
        : h(
            'ol',
            { class: 'timeline wb-timeline', testid: 'wb-timeline' },
            lines.slice(0, shown).map((l) => timelineLine(l, r.from, manyDays)),
          ),
      lines.length > shown
        ? h(
            'button',
            {
              type: 'button',
              class: 'btn btn-small',
              testid: 'wb-more',
              onclick: more,
            },
            t('wb.timeline.more', { n: Math.min(PAGE, lines.length - shown) }),
          )
        : null,
    ),
    h(
      'section',
      { class: 'panel' },
      h('h3', {}, t('wb.notifications')),
      notes.length === 0
        ? h('p', { class: 'muted' }, t('wb.notifications.none'))
        : notificationTable(notes, r.from),
    ),
  );
}

function incidentFilter(incidents, r, focus, choose) {
  return h(
    'div',
    { class: 'wb-incidents', role: 'group', 'aria-label': t('wb.incidents') },
    h(
      'button',
      {
        type: 'button',
        class: ['chip-toggle', !focus && 'is-on'],
        'aria-pressed': String(!focus),
        testid: 'wb-incident-all',
        dataset: { key: '' },
        onclick: () => choose(''),
      },
      t('wb.incidents.all', { n: incidents.length }),
    ),
    incidents.map((i) =>
      h(
        'button',
        {
          type: 'button',
          class: ['wb-incident', focus === i.key && 'is-on'],
          'aria-pressed': String(focus === i.key),
          testid: 'wb-incident',
          dataset: { key: i.key, rule: i.ruleId, device: i.deviceId, severity: i.severity, state: i.state },
          onclick: () => choose(focus === i.key ? '' : i.key),
        },
        severityBadge(i.severity),
        h(
          'span',
          { class: 'wb-incident-text' },
          h('b', {}, i.ruleName || i.ruleId),
          ` · ${i.deviceName || i.deviceId} (${i.deviceId})`,
          h(
            'span',
            { class: 'muted small' },
            ` · ${offset(i.openedAt - r.from)}`,
            i.damped ? ` · ${t('wb.damped')}` : '',
          ),
        ),
        stateBadge(i.state),
      ),
    ),
  );
}

function summary(r) {
  const bySeverity = SEVERITIES.map((s) => [s, r.incidents.filter((i) => i.severity === s).length]).filter(
    ([, n]) => n > 0,
  );
  const byOutcome = OUTCOMES.map((o) => [o, r.notifications.filter((n) => n.outcome === o).length]).filter(
    ([, n]) => n > 0,
  );
  const tile = (key, label, value, ...details) =>
    h(
      'div',
      { class: 'card tile wb-tile', testid: `wb-sum-${key}` },
      h('div', { class: 'tile-label' }, label),
      h('div', { class: 'wb-tile-value' }, value),
      details.filter(Boolean).length > 0 ? h('div', { class: 'muted small' }, details) : null,
    );
  return h(
    'div',
    { class: 'tiles wb-summary', testid: 'wb-summary' },
    tile(
      'span',
      t('wb.sum.span'),
      fmtDuration(r.to - r.from),
      `${fmtStamp(r.from, true)} → ${fmtStamp(r.to, true)}`,
      h('br'),
      t('wb.sum.rules', { n: r.rules.length, site: r.site }),
    ),
    tile(
      'events',
      t('wb.sum.events'),
      fmtNumber(r.events, 0),
      t('wb.sum.eventsDetail', { actions: fmtNumber(r.actions, 0), skipped: fmtNumber(r.skipped, 0) }),
    ),
    tile(
      'incidents',
      t('wb.sum.incidents'),
      fmtNumber(r.incidents.length, 0),
      h(
        'span',
        { class: 'wb-counts' },
        bySeverity.map(([s, n]) =>
          h('span', { dataset: { severity: s, count: String(n) } }, severityBadge(s), ` ${n}`),
        ),
      ),
    ),
    tile(
      'notifications',
      t('wb.sum.notifications'),
      fmtNumber(r.notifications.length, 0),
      byOutcome.map(([o, n]) => `${t(`wb.outcome.${o}`)} ${n}`).join(' · '),
    ),
    tile('wall', t('wb.sum.wall'), fmtDuration(r.wallMs)),
  );
}

function timelineLine(l, start, withDate) {
  return h(
    'li',
    {
      class: ['tl-item', 'wb-line', `wb-sev-${l.severity}`, `tl-${l.kind}`],
      testid: 'wb-line',
      dataset: { kind: l.kind, severity: l.severity, incident: l.incidentKey },
    },
    h(
      'span',
      { class: 'wb-when' },
      h('span', { class: 'wb-offset mono', title: t('wb.timeline.offset') }, offset(l.at - start)),
      h('span', { class: 'tl-time', title: new Date(l.at).toISOString() }, fmtStamp(l.at, withDate)),
    ),
    h('span', { class: 'tl-icon', 'aria-hidden': 'true' }, ICON[l.kind] ?? '•'),
    h(
      'div',
      { class: 'tl-body' },
      h(
        'div',
        { class: 'tl-title' },
        h('span', { class: 'wb-kind' }, t(`wb.kind.${l.kind}`)),
        ' ',
        h('span', { class: `wb-sev-word sev-text-${l.severity}` }, t(`sev.${l.severity}`)),
      ),
      h('div', { class: 'wb-text' }, l.text),
      h('div', { class: 'muted small mono' }, l.incidentKey),
    ),
  );
}

/** One row per person and channel: how many messages, what became of them, and each message's text. */
function notificationTable(notes, start) {
  const groups = new Map();
  for (const n of notes) {
    const key = `${n.to}\u0000${n.channel}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(n);
  }
  const rows = [...groups.values()].sort(
    (a, b) =>
      (a[0].toName || a[0].to).localeCompare(b[0].toName || b[0].to) ||
      a[0].channel.localeCompare(b[0].channel),
  );
  const head = ['wb.col.to', 'wb.col.channel', 'wb.col.outcomes', 'wb.col.when'];
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'wb-table wb-notifications', testid: 'wb-notifications' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          head.map((k) => h('th', { scope: 'col' }, t(k))),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((list) => {
          const n = list[0];
          const counts = OUTCOMES.map((o) => [o, list.filter((x) => x.outcome === o).length]).filter(
            ([, c]) => c,
          );
          return h(
            'tr',
            {
              testid: 'wb-notification-group',
              dataset: { to: n.to, channel: n.channel, count: String(list.length) },
            },
            h(
              'th',
              { scope: 'row', dataset: { label: t('wb.col.to') } },
              n.toName || n.to,
              h('div', { class: 'muted small' }, n.to),
            ),
            h(
              'td',
              { dataset: { label: t('wb.col.channel') } },
              n.channel,
              n.channelType && n.channelType !== n.channel
                ? h('span', { class: 'muted' }, ` (${n.channelType})`)
                : '',
            ),
            h(
              'td',
              { dataset: { label: t('wb.col.outcomes') } },
              counts.map(([o, c]) =>
                h(
                  'span',
                  { class: ['dl-state', `dl-state-${o}`, 'wb-outcome'] },
                  `${t(`wb.outcome.${o}`)} ${c}`,
                ),
              ),
            ),
            h(
              'td',
              { dataset: { label: t('wb.col.when') } },
              h(
                'details',
                {},
                h('summary', {}, t('wb.messages', { n: list.length })),
                h(
                  'ol',
                  { class: 'wb-messages' },
                  list.map((m) =>
                    h(
                      'li',
                      { testid: 'wb-message', dataset: { outcome: m.outcome, incident: m.incidentKey } },
                      h(
                        'div',
                        { class: 'muted small' },
                        `${offset(m.at - start)} · ${fmtStamp(m.at, false)} · ${m.incidentKey} · `,
                        t('tl.step', { n: m.step + 1 }),
                        ` · ${t(`wb.outcome.${m.outcome}`)}`,
                        m.detail ? ` (${m.detail})` : '',
                      ),
                      h('div', { class: 'wb-message' }, m.message),
                    ),
                  ),
                ),
              ),
            ),
          );
        }),
      ),
    ),
  );
}

// ---- numbers and times ----

/** `+0:00:05`, `+1:02:03`, `+2 d 01:00:00`: how long after the start of the replay. */
export function offset(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const pad = (n) => String(n).padStart(2, '0');
  const rest = `${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
  return d > 0 ? `+${d} ${language() === 'fr' ? 'j' : 'd'} ${pad(hh)}:${rest}` : `+${hh}:${rest}`;
}

export function fmtBytes(n) {
  const units = ['B', 'kB', 'MB', 'GB'];
  let v = Number(n) || 0;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${fmtNumber(v, u === 0 ? 0 : 1)} ${t(`wb.unit.${units[u]}`)}`;
}

// ---- the site's wall clock (the console shows the site's time, wherever it is opened) ----

function wallParts(ms) {
  const f = new Intl.DateTimeFormat('en-CA', {
    timeZone: zoneName(),
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  return Object.fromEntries(f.formatToParts(ms).map((p) => [p.type, p.value]));
}

export function fmtStamp(ms, withDate) {
  const opts = {
    timeZone: zoneName(),
    hourCycle: 'h23',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  };
  if (withDate) Object.assign(opts, { day: 'numeric', month: 'short' });
  return new Intl.DateTimeFormat(language(), opts).format(ms);
}

/** A `datetime-local` value (`2026-03-14T09:30:05`) for an instant, on the site's clock. */
export function toLocalInput(ms) {
  const p = wallParts(ms);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`;
}

/** The instant a `datetime-local` value names on the site's clock; undefined when it is not one. */
export function fromLocalInput(value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/.exec(value ?? '');
  if (!m) return undefined;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] ?? 0));
  const offsetAt = (ms) => {
    const p = wallParts(ms);
    return (
      Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - Math.floor(ms / 1000) * 1000
    );
  };
  // The zone's offset at the guess, then at the result: right on both sides of a DST change.
  const guess = wall - offsetAt(wall);
  return wall - offsetAt(guess);
}
