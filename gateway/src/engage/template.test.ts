import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTemplate } from './template.js';

const vars = {
  device: { name: 'Door G12', zone: 'T2', location: { lat: 1, lon: 2, label: 'Gate 12' } },
  values: { celsius: 31.5, open: true },
  reason: 'held open',
};

const cases: [string, string, string][] = [
  ['plain text', 'no placeholders', 'no placeholders'],
  ['nested fields', '{device.name} ({device.zone})', 'Door G12 (T2)'],
  ['numbers and booleans', '{values.celsius} C, open={values.open}', '31.5 C, open=true'],
  ['location by label', 'at {device.location}', 'at Gate 12'],
  ['unknown kept as written', '{camera.stream} {nope}', '{camera.stream} {nope}'],
  ['top-level', 'because {reason}', 'because held open'],
  ['prototype not reachable', '{device.constructor}', '{device.constructor}'],
];

for (const [name, tpl, want] of cases) {
  test(`template - ${name}`, () => assert.equal(renderTemplate(tpl, vars), want));
}
