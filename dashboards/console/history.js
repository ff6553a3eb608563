// The "recent values" panel of an incident or a device: one chart per numeric or on/off field of the
// device, over a window the reader picks, with where the points came from (InfluxDB or the gateway).

import { drawChart } from './chart.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { fieldLabel } from './labels.js';

const RANGES = [
  ['1h', 3600_000],
  ['6h', 6 * 3600_000],
  ['24h', 24 * 3600_000],
];
const MAX_FIELDS = 4;

/** The fields worth a chart: numbers and booleans the device reports (not its bookkeeping). */
export function chartFields(values) {
  return Object.entries(values ?? {})
    .filter(([k, v]) => k !== 'ts' && (typeof v === 'number' || typeof v === 'boolean'))
    .sort(([a], [b]) => (a === 'battery') - (b === 'battery') || a.localeCompare(b))
    .slice(0, MAX_FIELDS)
    .map(([k, v]) => ({ field: k, boolean: typeof v === 'boolean' }));
}

/** `markers`: `[{ at, label }]`. Returns the panel element; `dispose()` stops its resize watchers. */
export function historyPanel(api, deviceId, fields, { markers = [], rangeMs = 6 * 3600_000 } = {}) {
  const body = h('div', { class: 'history-body' });
  const buttons = RANGES.map(([label, ms]) =>
    h(
      'button',
      {
        type: 'button',
        class: ['btn', 'btn-small', ms === rangeMs && 'is-on'],
        'aria-pressed': String(ms === rangeMs),
        onclick: () => {
          rangeMs = ms;
          for (const b of buttons) {
            const on = b.dataset.ms === String(ms);
            b.classList.toggle('is-on', on);
            b.setAttribute('aria-pressed', String(on));
          }
          void load();
        },
        dataset: { ms: String(ms) },
      },
      label,
    ),
  );
  const panel = h(
    'section',
    { class: 'panel history', testid: 'history' },
    h(
      'div',
      { class: 'panel-head' },
      h('h3', {}, t('detail.chart')),
      h('div', { class: 'seg', role: 'group', 'aria-label': t('detail.range') }, buttons),
    ),
    body,
  );
  let disposers = [];
  let generation = 0;

  async function load() {
    const mine = ++generation;
    const until = Date.now();
    const since = until - rangeMs;
    const results = await Promise.all(
      fields.map((f) =>
        api.history(deviceId, f.field, since, until).then(
          (r) => ({ f, r }),
          (err) => ({ f, err }),
        ),
      ),
    );
    if (mine !== generation) return;
    for (const d of disposers) d();
    disposers = [];
    body.replaceChildren();
    for (const { f, r, err } of results) {
      const box = h('div', { class: 'chart-box' });
      const head = h(
        'div',
        { class: 'chart-head' },
        h('span', { class: 'chart-title' }, fieldLabel(f.field)),
      );
      body.append(h('figure', { class: 'chart-fig' }, head, box));
      if (err) {
        box.append(h('p', { class: 'muted' }, t('detail.chartError', { message: err.message })));
        continue;
      }
      head.append(
        h(
          'span',
          { class: ['source', `source-${r.source}`], testid: 'chart-source', dataset: { source: r.source } },
          t(`detail.source.${r.source === 'influx' ? 'influx' : 'store'}`),
        ),
      );
      const points = Array.isArray(r.points) ? r.points.filter((p) => Number.isFinite(p[1])) : [];
      if (points.length === 0) {
        box.append(h('p', { class: 'muted chart-empty' }, t('detail.chartEmpty')));
        continue;
      }
      // Fitted to the data (and the incident's opening): five points in the last ten minutes of
      // a six-hour window would otherwise be a smudge at the right edge.
      const first = Math.min(points[0][0], ...markers.map((m) => m.at).filter(Number.isFinite));
      const span = Math.max(until - first, 10 * 60_000) * 1.08;
      disposers.push(
        drawChart(box, {
          series: { field: f.field, points },
          from: Math.max(since, until - span),
          to: until,
          boolean: f.boolean,
          markers,
        }),
      );
    }
  }

  if (fields.length === 0) body.append(h('p', { class: 'muted' }, t('devices.noValues')));
  else void load();
  return {
    el: panel,
    reload: load,
    dispose() {
      generation++;
      for (const d of disposers) d();
    },
  };
}
