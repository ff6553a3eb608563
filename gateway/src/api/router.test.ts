import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Router } from './router.js';

const noop = () => undefined;

describe('Router', () => {
  const router = new Router()
    .add('GET', '/api/v1/incidents', 'viewer', noop)
    .add('GET', '/api/v1/incidents/:id', 'viewer', noop)
    .add('POST', '/api/v1/incidents/:id/acknowledge', 'operator', noop);

  it('matches literal and parameter segments, decoding parameters', () => {
    const m = router.match('GET', '/api/v1/incidents/door%2012');
    assert.equal(m.kind, 'found');
    if (m.kind === 'found') {
      assert.equal(m.route.pattern, '/api/v1/incidents/:id');
      assert.deepEqual(m.params, { id: 'door 12' });
    }
    assert.equal(router.match('GET', '/api/v1/incidents/').kind, 'found');
  });

  it('tells a wrong method from an unknown path', () => {
    assert.deepEqual(router.match('DELETE', '/api/v1/incidents/x'), {
      kind: 'method-not-allowed',
      allow: ['GET'],
    });
    assert.deepEqual(router.match('GET', '/api/v1/incident'), { kind: 'not-found' });
    assert.deepEqual(router.match('GET', '/api/v1/incidents/x/acknowledge/more'), { kind: 'not-found' });
  });

  it('answers malformed percent-encoding with a bad request', () => {
    assert.throws(() => router.match('GET', '/api/v1/incidents/%E0%A4%A'), { code: 'VIGIE_ERR_BAD_REQUEST' });
  });

  it('refuses the same route twice', () => {
    assert.throws(() => router.add('GET', '/api/v1/incidents', null, noop));
  });
});
