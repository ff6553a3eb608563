import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backlogGrowing, numberField, percentile, Samples } from './stats.js';

test('stats - nearest-rank percentiles', () => {
  const xs = Float64Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
  const cases: Array<[number, number]> = [
    [50, 50],
    [99, 99],
    [100, 100],
    [0, 1],
    [1, 1],
    [99.9, 100],
  ];
  for (const [p, want] of cases) assert.equal(percentile(xs, p), want, `p${p}`);
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('stats - samples grow past their first buffer and summarise sorted values', () => {
  const s = new Samples();
  for (let i = 200_000; i >= 1; i--) s.add(i / 1000);
  const sum = s.summary();
  assert.equal(sum.count, 200_000);
  assert.equal(sum.p50, 100);
  assert.equal(sum.p99, 198);
  assert.equal(sum.max, 200);
  assert.ok(Math.abs(sum.mean - 100.0005) < 1e-6);
  assert.ok(Number.isNaN(new Samples().summary().p50));
});

test('stats - a backlog is latency that keeps climbing, not a noisy but flat run', () => {
  assert.equal(backlogGrowing([0.3, 0.4, 2, 0.3, 0.5]), false);
  assert.equal(backlogGrowing([20, 30, 25]), false);
  assert.equal(backlogGrowing([5, 80, 300, 900]), true);
  assert.equal(backlogGrowing([900]), false);
});

test('stats - timestamps are read from payload text without parsing the whole message', () => {
  assert.equal(numberField('{"celsius":35,"ts":1732390000123.456}', 'ts'), 1732390000123.456);
  assert.equal(
    numberField('{"id":"x","triggerTs": 1700000000001,"state":"open"}', 'triggerTs'),
    1700000000001,
  );
  assert.equal(numberField('{"ts":"2024-01-01T00:00:00Z"}', 'ts'), undefined);
  assert.equal(numberField('{"celsius":35}', 'ts'), undefined);
});
