import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  counterTotal,
  cpuMsPer1kEvents,
  cpuPercent,
  footprintMarkdown,
  parseCpuList,
  type FootprintResult,
} from './footprint.js';

test('footprint - CPU lists as taskset and /proc/PID/status write them', () => {
  const cases: Array<[string, number[]]> = [
    ['0', [0]],
    ['0-1', [0, 1]],
    ['0-3\n', [0, 1, 2, 3]],
    ['0,2-3,6', [0, 2, 3, 6]],
  ];
  for (const [text, want] of cases) assert.deepEqual(parseCpuList(text), want, text);
  assert.throws(() => parseCpuList('ff'), /not a CPU list/);
});

test('footprint - CPU from two /proc samples: percent of one core, then per 1,000 events', () => {
  const at = (cpuMs: number) => ({ cpuMs, rssBytes: 0, hwmBytes: 0 });
  // 12 s of CPU over a 60 s window: a fifth of one core.
  assert.equal(cpuPercent(at(3000), at(15_000), 60_000), 20);
  assert.ok(Number.isNaN(cpuPercent(at(0), at(10), 0)));
  const cases: Array<[number, number, number]> = [
    // [percent of one core, events/s, CPU ms per 1,000 events]
    [20, 1000, 200], // 200 ms of CPU each second for 1,000 events
    [100, 5000, 200],
    [5, 1000, 50],
    [40, 2000, 200],
  ];
  for (const [percent, rate, want] of cases) assert.equal(cpuMsPer1kEvents(percent, rate), want);
  assert.ok(Number.isNaN(cpuMsPer1kEvents(10, 0)));
});

test('footprint - a counter summed over its label sets, other metrics ignored', () => {
  const text = [
    '# HELP vigie_events_in_total Sensor events accepted by the listen stage',
    '# TYPE vigie_events_in_total counter',
    'vigie_events_in_total{kind="temperature"} 1500',
    'vigie_events_in_total{kind="door"} 20',
    'vigie_events_in_total_other 7',
    'vigie_events_rejected_total{reason="schema"} 3',
  ].join('\n');
  assert.equal(counterTotal(text, 'vigie_events_in_total'), 1520);
  assert.equal(counterTotal('vigie_events_in_total 42\n', 'vigie_events_in_total'), 42);
  assert.equal(counterTotal('', 'vigie_events_in_total'), 0);
});

test('footprint - the report section names the core, the sizes and a rate not kept up', () => {
  const rss = { startMb: 88.6, maxMb: 101.4, finalMb: 96.2, trendMb: [95, 96] };
  const f: FootprintResult = {
    gatewayCpus: '0',
    loadCpus: '1-3',
    devices: 1000,
    startup: { readyMs: 1840, firstIncidentMs: 2090, firstEventMs: 12.4, rssAtReadyMb: 88 },
    idle: { seconds: 20, cpuPercent: 0.42, rss },
    loads: [
      {
        ...{ rate: 1000, windowS: 60, sentPerS: 1000, recvPerS: 999.7, p50Ms: 0.81, p99Ms: 7.3, maxMs: 31 },
        ...{ cpuPercent: 38.2, cpuMsPer1kEvents: 382, rss, sustained: true, problems: [] },
      },
      {
        ...{ rate: 5000, windowS: 10, sentPerS: 4990, recvPerS: 3100, p50Ms: 250, p99Ms: 900, maxMs: 1200 },
        ...{ cpuPercent: 99, cpuMsPer1kEvents: 198, rss, sustained: false, problems: ['delivered 3100/s'] },
      },
    ],
    errors: [],
  };
  const md = footprintMarkdown(f).join('\n');
  assert.match(md, /^## Footprint \(one core\)/);
  assert.match(md, /`taskset -c 0`/);
  assert.match(md, /on CPU 1-3/);
  assert.match(md, /\| start-up: spawn to `\/readyz` 200 \| 1\.84 s \|/);
  assert.match(md, /first incident published .*\| 2\.09 s \(12 ms after its event\) \|/);
  assert.match(md, /\| idle 20 s after start: RSS start \/ max \/ final \| 89 \/ 101 \/ 96 MB \|/);
  const row =
    /\| 1000 \| 60 \| 1000 \| 1000 \| 0\.81 \| 7\.30 \| 31\.0 \| 38 \| 382 \| 89 \/ 101 \/ 96 \| yes \|/;
  assert.match(md, row);
  assert.match(md, /\| 5000 .* \| NO: delivered 3100\/s \|/);
  // Without a second core the load shares the gateway's: the reader must be told.
  assert.match(footprintMarkdown({ ...f, loadCpus: null }).join('\n'), /share that core/);
  const lost = { ...f, startup: { readyMs: 1840, rssAtReadyMb: 88 } };
  assert.match(footprintMarkdown(lost).join('\n'), /first incident published .*\| none within 10 s \|/);
});
