import assert from 'node:assert/strict';
import { test } from 'node:test';
import { distanceKm, travelEstimate } from './geo.js';

const PARIS = { lat: 48.8566, lon: 2.3522 };
const LONDON = { lat: 51.5074, lon: -0.1278 };
const PROFILE = { speedKmh: 40, roadFactor: 1.3, travelMinutes: { 'roissy-north': { 'tech-hugo': 25 } } };

test('geo - great-circle distances match known values', () => {
  const cases: Array<[string, { lat: number; lon: number }, { lat: number; lon: number }, number, number]> = [
    ['Paris - London', PARIS, LONDON, 343.6, 0.5],
    ['same point', PARIS, PARIS, 0, 1e-9],
    ['one degree of latitude', { lat: 0, lon: 0 }, { lat: 1, lon: 0 }, 111.2, 0.1],
    ['one degree of longitude at 60°N is half', { lat: 60, lon: 0 }, { lat: 60, lon: 1 }, 55.6, 0.1],
    ['antipodes: half the circumference', { lat: 0, lon: 0 }, { lat: 0, lon: 180 }, 20015.1, 0.5],
    ['across the date line', { lat: 0, lon: 179.5 }, { lat: 0, lon: -179.5 }, 111.2, 0.1],
  ];
  for (const [name, a, b, km, tolerance] of cases) {
    assert.ok(Math.abs(distanceKm(a, b) - km) <= tolerance, `${name}: ${distanceKm(a, b)}`);
    assert.ok(Math.abs(distanceKm(a, b) - distanceKm(b, a)) < 1e-9, `${name} is symmetric`);
  }
});

test('geo - a configured travel time wins over the distance, which is estimated otherwise', () => {
  const from = { lat: 49.0, lon: 2.5 };
  const to = { lat: 49.09, lon: 2.5 }; // 10.0 km due north
  const km = distanceKm(from, to);
  assert.ok(Math.abs(km - 10.0) < 0.05);

  const estimated = travelEstimate(PROFILE, 'tech-lea', from, to, 'roissy-north');
  assert.equal(estimated.configured, false);
  assert.ok(Math.abs(estimated.minutes! - (km / 40) * 60 * 1.3) < 1e-9, 'km / speed * 60 * roadFactor');

  assert.deepEqual(travelEstimate(PROFILE, 'tech-hugo', from, to, 'roissy-north'), {
    configured: true,
    minutes: 25,
    km,
  });
  assert.equal(travelEstimate(PROFILE, 'tech-hugo', from, to, 'paris-south').configured, false, 'other area');
  assert.equal(travelEstimate(PROFILE, 'tech-hugo', from, to, undefined).configured, false, 'no area');
  assert.equal(travelEstimate(PROFILE, 'constructor', from, to, '__proto__').configured, false);

  // A configured time needs no positions; without either, nobody knows.
  assert.deepEqual(travelEstimate(PROFILE, 'tech-hugo', from, undefined, 'roissy-north'), {
    configured: true,
    minutes: 25,
  });
  assert.deepEqual(travelEstimate(PROFILE, 'tech-lea', from, undefined, 'roissy-north'), {
    configured: false,
  });
});
