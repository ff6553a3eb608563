// The site plan without map tiles (no internet on site): devices placed by their coordinates, one
// floor at a time, zones drawn as the area their devices cover, each device coloured by its status
// and open incidents. A tap opens the device.

import { h, isObject, mount, s } from './dom.js';
import { t } from './i18n.js';
import { deviceStatus } from './devices.js';
import { iconPath } from './icons.js';
import { patch } from './router.js';

const M_PER_DEG_LAT = 110_540;
const M_PER_DEG_LON = 111_320;

function located(d) {
  const l = d.location;
  return isObject(l) && Number.isFinite(l.lat) && Number.isFinite(l.lon);
}

const floorOf = (d) => (Number.isFinite(d.location.floor) ? d.location.floor : 0);

export function createPlan(root, ctx) {
  const floors = h('div', { class: 'seg floors', role: 'group', testid: 'plan-floors' });
  const canvas = h('div', { class: 'plan-canvas' });
  const legend = h('ul', { class: 'plan-legend', testid: 'plan-list' });
  const note = h('p', { class: 'muted small' });
  mount(root, h('div', { class: 'plan-head' }, floors), canvas, note, legend);
  let floor;
  let lastWidth = 0;
  new ResizeObserver(() => {
    if (Math.abs(canvas.clientWidth - lastWidth) > 4 && !root.hidden) draw();
  }).observe(canvas);

  function draw() {
    const devices = ctx.store.devices();
    const incidents = ctx.store.incidents();
    const placed = devices.filter(located);
    if (placed.length === 0) {
      mount(canvas, h('p', { class: 'muted' }, t('plan.none')));
      floors.replaceChildren();
      legend.replaceChildren();
      return;
    }
    const allFloors = [...new Set(placed.map(floorOf))].sort((a, b) => a - b);
    if (floor === undefined || !allFloors.includes(floor)) floor = allFloors.includes(0) ? 0 : allFloors[0];
    mount(
      floors,
      allFloors.map((f) => {
        const trouble = placed.some((d) => floorOf(d) === f && deviceStatus(d, incidents).status !== 'ok');
        return h(
          'button',
          {
            type: 'button',
            class: ['btn', 'btn-small', f === floor && 'is-on', trouble && 'has-trouble'],
            'aria-pressed': String(f === floor),
            testid: `plan-floor-${f}`,
            onclick: () => patch({ floor: String(f) }),
          },
          t('plan.floor', { n: f }),
          trouble ? ' ⚠' : '',
        );
      }),
    );

    // Fitted to this floor's devices: a floor plan is read one floor at a time, and a phone has
    // no room to spare for the others' extent.
    const here = placed.filter((d) => floorOf(d) === floor);
    const lat0 = here.reduce((a, d) => a + d.location.lat, 0) / here.length;
    const kx = M_PER_DEG_LON * Math.cos((lat0 * Math.PI) / 180);
    const minLon = Math.min(...here.map((d) => d.location.lon));
    const maxLat = Math.max(...here.map((d) => d.location.lat));
    const mx = (d) => (d.location.lon - minLon) * kx;
    const my = (d) => (maxLat - d.location.lat) * M_PER_DEG_LAT;
    const spanX = Math.max(20, Math.max(...here.map(mx)));
    const spanY = Math.max(20, Math.max(...here.map(my)));
    const width = Math.max(280, canvas.clientWidth || 800);
    lastWidth = canvas.clientWidth;
    const pad = Math.min(80, Math.round(width * 0.14));
    const height = Math.min(620, Math.max(300, Math.round(((width - 2 * pad) * spanY) / spanX + 2 * pad)));
    const scale = Math.min((width - 2 * pad) / spanX, (height - 2 * pad) / spanY);
    const ox = (width - spanX * scale) / 2;
    const oy = (height - spanY * scale) / 2;
    const px = (d) => ox + mx(d) * scale;
    const py = (d) => oy + my(d) * scale;

    const svg = s('svg', {
      class: 'plan',
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: 'img',
      'aria-label': t('plan.floor', { n: floor }),
      testid: 'plan',
      dataset: { floor: String(floor) },
    });
    svg.append(s('rect', { class: 'plan-bg', x: 0, y: 0, width, height, rx: 12 }));
    const grid = s('g', { class: 'plan-grid' });
    const stepM = niceMetres(spanX / 6);
    for (let m = 0; ox + m * scale < width; m += stepM)
      grid.append(s('line', { x1: ox + m * scale, x2: ox + m * scale, y1: 0, y2: height }));
    for (let m = 0; oy + m * scale < height; m += stepM)
      grid.append(s('line', { x1: 0, x2: width, y1: oy + m * scale, y2: oy + m * scale }));
    for (let m = -stepM; ox + m * scale > 0; m -= stepM)
      grid.append(s('line', { x1: ox + m * scale, x2: ox + m * scale, y1: 0, y2: height }));
    for (let m = -stepM; oy + m * scale > 0; m -= stepM)
      grid.append(s('line', { x1: 0, x2: width, y1: oy + m * scale, y2: oy + m * scale }));
    svg.append(grid);

    const zones = new Map();
    const zoneLabels = [];
    for (const d of here) {
      if (!zones.has(d.zone)) zones.set(d.zone, []);
      zones.get(d.zone).push(d);
    }
    for (const [zone, ds] of zones) {
      const xs = ds.map(px);
      const ys = ds.map(py);
      const [x0, x1, y0, y1] = [
        Math.min(...xs) - 44,
        Math.max(...xs) + 44,
        Math.min(...ys) - 46,
        Math.max(...ys) + 42,
      ];
      svg.append(
        s('rect', { class: 'plan-zone', x: x0, y: y0, width: x1 - x0, height: y1 - y0, rx: 14 }),
        s('text', { class: 'plan-zone-label', x: x0 + 10, y: y0 + 16 }, zone),
      );
      zoneLabels.push([x0 + 6, y0 + 2, zone.length * 8.5 + 10, 18]);
    }

    const pulses = s('g', { class: 'plan-pulses', 'aria-hidden': 'true' });
    svg.append(pulses);
    // Labels keep off every dot, not only off each other.
    const taken = [...zoneLabels, ...here.map((d) => [px(d) - 14, py(d) - 14, 28, 28])];
    for (const d of here.sort((a, b) => py(a) - py(b))) {
      const { status } = deviceStatus(d, incidents);
      const x = px(d);
      const y = py(d);
      const label = d.location.label ?? d.name;
      // The pulse sits in its own layer: a device's tap target must not grow and shrink with it.
      if (status === 'incident-critical') {
        pulses.append(s('circle', { class: 'plan-pulse', cx: x.toFixed(1), cy: y.toFixed(1), r: 20 }));
      }
      const g = s(
        'g',
        {
          class: ['plan-device', `status-${status}`, ctx.selectedDevice() === d.id && 'is-selected'],
          transform: `translate(${x.toFixed(1)},${y.toFixed(1)})`,
          tabindex: '0',
          role: 'button',
          'aria-label': `${d.name}: ${status}`,
          dataset: { testid: 'plan-device', id: d.id, status },
        },
        s('title', {}, `${d.name} · ${d.zone}`),
        s('circle', { class: 'plan-dot', r: 13 }),
        iconPath(d.kind),
      );
      const pos = labelPosition(x, y, label.length * 6.6 + 8, taken);
      g.append(s('text', { class: 'plan-label', x: pos.dx, y: pos.dy, 'text-anchor': pos.anchor }, label));
      const open = () => ctx.openDevice(d.id);
      g.addEventListener('click', open);
      g.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          open();
        }
      });
      svg.append(g);
    }
    svg.append(scaleBar(stepM, scale, width, height));
    canvas.replaceChildren(svg);

    const unplaced = devices.filter((d) => !located(d));
    note.textContent =
      unplaced.length > 0 ? t('plan.unplaced', { list: unplaced.map((d) => d.name).join(', ') }) : '';
    mount(
      legend,
      here
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((d) => {
          const { status } = deviceStatus(d, incidents);
          return h(
            'li',
            {},
            h(
              'a',
              { href: ctx.deviceHref(d.id), class: ['plan-item', `status-${status}`], dataset: { id: d.id } },
              h('span', { class: 'plan-swatch', 'aria-hidden': 'true' }),
              h('span', {}, d.name),
              h('span', { class: 'muted plan-item-place' }, `${d.zone} · ${d.location.label ?? ''}`),
            ),
          );
        }),
    );
  }

  return {
    route(params) {
      const f = params.get('floor');
      floor = f !== null && f !== '' && Number.isFinite(Number(f)) ? Number(f) : undefined;
      draw();
    },
    draw,
  };
}

/** Below the dot, else above, else to the right: the first place that does not cover another label. */
function labelPosition(x, y, w, taken) {
  const tries = [
    { dx: 0, dy: 30, anchor: 'middle', box: [x - w / 2, y + 18, w, 16] },
    { dx: 0, dy: -20, anchor: 'middle', box: [x - w / 2, y - 32, w, 16] },
    { dx: 18, dy: 5, anchor: 'start', box: [x + 16, y - 8, w, 16] },
    { dx: -18, dy: 5, anchor: 'end', box: [x - 16 - w, y - 8, w, 16] },
  ];
  const free = tries.find((p) => !taken.some((b) => overlap(b, p.box))) ?? tries[0];
  taken.push(free.box);
  return free;
}

function overlap(a, b) {
  return a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];
}

function niceMetres(m) {
  return [5, 10, 20, 25, 50, 100, 200, 500, 1000].find((x) => x >= m) ?? 1000;
}

function scaleBar(stepM, scale, width, height) {
  const len = stepM * scale;
  return s(
    'g',
    { class: 'plan-scale', transform: `translate(${width - len - 48},${height - 14})` },
    s('path', { d: `M0,-5V0H${len.toFixed(1)}V-5` }),
    s('text', { x: len / 2, y: -8, 'text-anchor': 'middle' }, `${stepM} m`),
    s('text', { class: 'plan-north', x: len + 20, y: -2 }, '↑N'),
  );
}
