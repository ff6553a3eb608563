// Indicator tiles for managers: open incidents now, opened over a window, mean time to acknowledge
// and to resolve, per zone, with where the durations came from (InfluxDB or the gateway's store).
// Refetched when incidents change (debounced by the caller), not on a timer.

import { h, mount } from './dom.js';
import { fmtDuration, fmtNumber, fmtTime, t } from './i18n.js';

const WINDOWS = [
  ['kpi.24h', 24 * 3600_000],
  ['kpi.7d', 7 * 24 * 3600_000],
  ['kpi.30d', 30 * 24 * 3600_000],
];

export function createKpis(root, ctx) {
  let windowMs = WINDOWS[0][1];
  let generation = 0;
  const body = h('div', { class: 'kpis-body' });
  const head = h('div', { class: 'kpi-head' });
  mount(root, head, body);

  function drawHead() {
    mount(
      head,
      h('h2', {}, t('kpi.title')),
      h(
        'div',
        { class: 'seg', role: 'group', 'aria-label': t('kpi.window') },
        WINDOWS.map(([key, ms]) =>
          h(
            'button',
            {
              type: 'button',
              class: ['btn', 'btn-small', ms === windowMs && 'is-on'],
              'aria-pressed': String(ms === windowMs),
              onclick: () => {
                windowMs = ms;
                drawHead();
                void load();
              },
            },
            t(key),
          ),
        ),
      ),
    );
  }

  async function load() {
    const mine = ++generation;
    const [k, tel] = await Promise.all([
      ctx.api.kpis(Date.now() - windowMs).catch((err) => ({ err })),
      ctx.api.telemetry().catch(() => undefined),
    ]);
    if (mine !== generation) return;
    if (k.err) {
      mount(body, h('p', { class: 'notice-warn' }, t('error.failed', { message: k.err.message })));
      return;
    }
    const windowLabel = t(WINDOWS.find(([, ms]) => ms === windowMs)[0]);
    mount(
      body,
      h(
        'div',
        { class: 'tiles', testid: 'kpis' },
        tile('open', t('kpi.open'), fmtNumber(k.open, 0), k.open > 0 ? 'tile-alert' : 'tile-calm'),
        tile('opened', `${t('kpi.opened')} · ${windowLabel}`, fmtNumber(k.opened, 0)),
        tile('mtta', t('kpi.mtta'), k.mttaMs === undefined ? t('kpi.none') : fmtDuration(k.mttaMs)),
        tile('mttr', t('kpi.mttr'), k.mttrMs === undefined ? t('kpi.none') : fmtDuration(k.mttrMs)),
      ),
      h(
        'p',
        { class: 'muted small kpi-source', testid: 'kpi-source', dataset: { source: k.source } },
        t(k.source === 'influx' ? 'kpi.source.influx' : 'kpi.source.store'),
        ` · ${t('detail.updated', { time: fmtTime(Date.now()) })}`,
        tel ? ` · ${telemetryLine(tel)}` : '',
      ),
      (k.zones ?? []).length > 0 ? zoneTable(k.zones, windowLabel) : null,
    );
  }

  return {
    show() {
      drawHead();
      void load();
    },
    reload: () => load(),
    relabel() {
      drawHead();
      void load();
    },
  };
}

function tile(key, label, value, tone) {
  return h(
    'div',
    { class: ['card', 'tile', tone], testid: `kpi-${key}` },
    h('div', { class: 'tile-value' }, value),
    h('div', { class: 'tile-label' }, label),
  );
}

function zoneTable(zones, windowLabel) {
  const rows = [...zones].sort(
    (a, b) => b.open - a.open || b.opened - a.opened || a.zone.localeCompare(b.zone),
  );
  return h(
    'section',
    { class: 'panel' },
    h('h3', {}, t('kpi.perZone')),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'zone-kpis', testid: 'kpi-zones' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, t('detail.zone')),
            h('th', { scope: 'col' }, t('kpi.open')),
            h('th', { scope: 'col' }, `${t('kpi.opened')} · ${windowLabel}`),
            h('th', { scope: 'col' }, t('kpi.mtta')),
            h('th', { scope: 'col' }, t('kpi.mttr')),
          ),
        ),
        h(
          'tbody',
          {},
          rows.map((z) =>
            h(
              'tr',
              { dataset: { zone: z.zone } },
              h('th', { scope: 'row', dataset: { label: t('detail.zone') } }, z.zone),
              h(
                'td',
                { class: z.open > 0 ? 'is-alert' : '', dataset: { label: t('kpi.open') } },
                fmtNumber(z.open, 0),
              ),
              h('td', { dataset: { label: t('kpi.opened') } }, fmtNumber(z.opened, 0)),
              h(
                'td',
                { dataset: { label: t('kpi.mtta') } },
                z.mttaMs === undefined ? t('kpi.none') : fmtDuration(z.mttaMs),
              ),
              h(
                'td',
                { dataset: { label: t('kpi.mttr') } },
                z.mttrMs === undefined ? t('kpi.none') : fmtDuration(z.mttrMs),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

function telemetryLine(s) {
  if (!s.enabled) return t('kpi.telemetry.off');
  return t('kpi.telemetry.on', {
    state: t(s.connected ? 'kpi.telemetry.connected' : 'kpi.telemetry.down'),
    written: fmtNumber(s.written ?? 0, 0),
    buffered: fmtNumber(s.buffered ?? 0, 0),
    dropped: fmtNumber(s.dropped ?? 0, 0),
  });
}
