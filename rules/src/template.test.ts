import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { placeholders, renderTemplate } from './template.js';

describe('renderTemplate', () => {
  const vars = {
    device: { name: 'Door G12', zone: 'gates-g', location: { label: 'Gate G12', lat: 1 } },
    values: { celsius: 31.2, open: true, code: null },
    camera: { stream: 'rtsp://cam' },
    reason: 'open = true for 30s',
  };
  const CASES: [string, string][] = [
    ['{device.name} ({device.zone})', 'Door G12 (gates-g)'],
    ['at {device.location}', 'at Gate G12'],
    ['{values.celsius} °C, open {values.open}, code {values.code}', '31.2 °C, open true, code null'],
    ['{unknown.path} and {device.nope}', '{unknown.path} and {device.nope}'],
    ['{speaker.sip}', '{speaker.sip}'],
    ['{reason}: {camera.stream}', 'open = true for 30s: rtsp://cam'],
    ['no placeholders { just braces }', 'no placeholders { just braces }'],
    ['{device.name.length}', '{device.name.length}'],
    ['{constructor} {toString}', '{constructor} {toString}'],
  ];
  for (const [template, expected] of CASES) {
    it(`${template} -> ${expected}`, () => assert.equal(renderTemplate(template, vars), expected));
  }

  it('never throws, even on cycles', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.equal(renderTemplate('{x}', { x: cyclic }), '{x}');
  });

  it('lists the placeholders', () => {
    assert.deepEqual(placeholders('{device.name} at {device.zone}: {reason}'), [
      'device.name',
      'device.zone',
      'reason',
    ]);
  });
});
