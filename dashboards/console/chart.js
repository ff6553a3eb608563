// A device's recent values as an SVG chart: numbers as a line, booleans (door open, AED present) as
// steps held until the next change. Drawn at the container's real width so text stays readable on a
// phone, redrawn when that width changes; a crosshair follows the pointer and reads the value out.

import { s } from './dom.js';
import { fmtAxisTime, fmtNumber, fmtTime } from './i18n.js';
import { fieldUnit, formatValue } from './labels.js';

const HEIGHT = 190;
const PAD = { top: 16, right: 14, bottom: 26 };
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((m) => m * 60_000);

/**
 * Draws into `container` (emptied first). `series`: `{ field, points: [[t, v]...] }`; `boolean`:
 * values are 1/0 states; `markers`: `[{ at, label }]` vertical lines (the incident's opening).
 */
export function drawChart(container, { series, from, to, boolean, markers = [] }) {
  const draw = () => {
    const width = Math.max(260, Math.floor(container.clientWidth || 600));
    container.replaceChildren(svgChart(width, series, from, to, boolean, markers));
  };
  draw();
  let lastWidth = container.clientWidth;
  const ro = new ResizeObserver(() => {
    if (Math.abs(container.clientWidth - lastWidth) < 4) return;
    lastWidth = container.clientWidth;
    draw();
  });
  ro.observe(container);
  return () => ro.disconnect();
}

function svgChart(width, series, from, to, boolean, markers) {
  const { field, points } = series;
  const values = points.map((p) => p[1]);
  let [lo, hi] = boolean ? [-0.2, 1.2] : [Math.min(...values), Math.max(...values)];
  if (!boolean) {
    const span = hi - lo || Math.max(1, Math.abs(hi) * 0.1);
    lo -= span * 0.15;
    hi += span * 0.15;
  }
  const yTicks = boolean ? [0, 1] : niceTicks(lo, hi, 4);
  if (!boolean) [lo, hi] = [Math.min(lo, yTicks[0]), Math.max(hi, yTicks[yTicks.length - 1])];
  const yLabel = (v) => (boolean ? formatValue(field, v === 1) : fmtNumber(v, 2) + fieldUnit(field));
  // As wide as the longest axis label ("cabinet closed" is longer than "21 °C").
  const padLeft = Math.min(120, Math.max(36, Math.max(...yTicks.map((v) => yLabel(v).length)) * 6.4 + 12));
  const w = width - padLeft - PAD.right;
  const hgt = HEIGHT - PAD.top - PAD.bottom;
  const x = (t) => padLeft + ((t - from) / (to - from)) * w;
  const y = (v) => PAD.top + (1 - (v - lo) / (hi - lo || 1)) * hgt;

  const svg = s('svg', {
    class: ['chart', boolean && 'chart-bool'],
    width,
    height: HEIGHT,
    viewBox: `0 0 ${width} ${HEIGHT}`,
    role: 'img',
    'aria-label': `${field}: ${points.length}`,
    dataset: {
      testid: 'chart',
      field,
      points: String(points.length),
      min: String(Math.min(...values)),
      max: String(Math.max(...values)),
    },
  });

  const grid = s('g', { class: 'chart-grid' });
  for (const v of yTicks) {
    grid.append(s('line', { x1: padLeft, x2: padLeft + w, y1: y(v), y2: y(v) }));
    grid.append(s('text', { class: 'chart-ylabel', x: padLeft - 6, y: y(v) + 4 }, yLabel(v)));
  }
  for (const tt of timeTicks(from, to, Math.max(2, Math.floor(w / 90)))) {
    grid.append(s('line', { class: 'chart-vgrid', x1: x(tt), x2: x(tt), y1: PAD.top, y2: PAD.top + hgt }));
    grid.append(s('text', { class: 'chart-xlabel', x: x(tt), y: HEIGHT - 8 }, fmtAxisTime(tt, to - from)));
  }
  svg.append(grid);

  for (const m of markers) {
    if (m.at < from || m.at > to) continue;
    svg.append(
      s('line', { class: 'chart-marker', x1: x(m.at), x2: x(m.at), y1: PAD.top, y2: PAD.top + hgt }),
      s(
        'text',
        {
          class: 'chart-marker-label',
          x: x(m.at) > padLeft + w - 80 ? x(m.at) - 4 : x(m.at) + 4,
          y: PAD.top - 4,
          'text-anchor': x(m.at) > padLeft + w - 80 ? 'end' : 'start',
        },
        m.label,
      ),
    );
  }

  const coords = points.map(([t, v]) => [x(t), y(v)]);
  let d = '';
  if (boolean) {
    // A state holds until the next reading says otherwise, and until now for the last one.
    coords.forEach(([px, py], i) => {
      d += i === 0 ? `M${px},${py}` : `H${px}V${py}`;
    });
    if (coords.length > 0) d += `H${x(Math.min(to, Date.now()))}`;
  } else {
    d = coords.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${px.toFixed(1)},${py.toFixed(1)}`).join('');
    if (coords.length > 1) {
      const area = `${d}L${coords[coords.length - 1][0].toFixed(1)},${PAD.top + hgt}L${coords[0][0].toFixed(1)},${PAD.top + hgt}Z`;
      svg.append(s('path', { class: 'chart-area', d: area }));
    }
  }
  svg.append(s('path', { class: 'chart-line', d }));
  if (!boolean && points.length <= 60) {
    for (const [px, py] of coords) svg.append(s('circle', { class: 'chart-dot', cx: px, cy: py, r: 2.5 }));
  }
  if (points.length > 0) {
    const [lt, lv] = points[points.length - 1];
    const [px, py] = coords[coords.length - 1];
    svg.append(s('circle', { class: 'chart-last', cx: px, cy: py, r: 4 }));
    const anchorEnd = px > padLeft + w - 70;
    svg.append(
      s(
        'text',
        {
          class: 'chart-last-label',
          x: anchorEnd ? px - 8 : px + 8,
          y: py - 8,
          'text-anchor': anchorEnd ? 'end' : 'start',
        },
        label(field, lv, boolean),
      ),
      s('title', {}, `${fmtTime(lt)} ${label(field, lv, boolean)}`),
    );
  }
  crosshair(svg, points, coords, field, boolean, hgt);
  return svg;
}

function label(field, v, boolean) {
  return boolean ? formatValue(field, v === 1) : formatValue(field, v);
}

function crosshair(svg, points, coords, field, boolean, hgt) {
  if (points.length === 0) return;
  const line = s('line', { class: 'chart-cross', y1: PAD.top, y2: PAD.top + hgt });
  const dot = s('circle', { class: 'chart-cross-dot', r: 4 });
  const text = s('text', { class: 'chart-cross-label', y: PAD.top + 12 });
  const g = s('g', { class: 'chart-crosshair', visibility: 'hidden' }, line, dot, text);
  svg.append(g);
  svg.addEventListener('pointermove', (ev) => {
    const box = svg.getBoundingClientRect();
    const px = ((ev.clientX - box.left) / box.width) * Number(svg.getAttribute('width'));
    let best = 0;
    for (let i = 1; i < coords.length; i++) {
      if (Math.abs(coords[i][0] - px) < Math.abs(coords[best][0] - px)) best = i;
    }
    const [cx, cy] = coords[best];
    for (const a of ['x1', 'x2']) line.setAttribute(a, String(cx));
    dot.setAttribute('cx', String(cx));
    dot.setAttribute('cy', String(cy));
    const right = cx > Number(svg.getAttribute('width')) / 2;
    text.setAttribute('x', String(right ? cx - 6 : cx + 6));
    text.setAttribute('text-anchor', right ? 'end' : 'start');
    text.textContent = `${fmtTime(points[best][0])} · ${label(field, points[best][1], boolean)}`;
    g.setAttribute('visibility', 'visible');
  });
  svg.addEventListener('pointerleave', () => g.setAttribute('visibility', 'hidden'));
}

/** Round values (1, 2, 2.5, 5 × 10^n) covering lo..hi in about `count` steps. */
export function niceTicks(lo, hi, count) {
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => st >= raw) ?? 10 * mag;
  const ticks = [];
  for (let v = Math.floor(lo / step) * step; v <= hi + step * 1e-9; v += step)
    ticks.push(Number(v.toFixed(10)));
  if (ticks[ticks.length - 1] < hi) ticks.push(Number((ticks[ticks.length - 1] + step).toFixed(10)));
  return ticks;
}

function timeTicks(from, to, count) {
  const step = TIME_STEPS.find((st) => (to - from) / st <= count) ?? TIME_STEPS[TIME_STEPS.length - 1];
  const ticks = [];
  for (let tt = Math.ceil(from / step) * step; tt <= to; tt += step) ticks.push(tt);
  return ticks;
}
