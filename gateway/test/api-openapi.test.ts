import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openApiDocument } from '../src/api/openapi.js';
import { startApi, type Harness } from './api-fixture.js';

let h: Harness;
before(async () => {
  h = await startApi();
});
after(() => h.close());

type Operation = {
  security: unknown[];
  'x-vigie-min-role': string | null;
  responses: Record<string, unknown>;
};
type Paths = Record<string, Record<string, Operation>>;

// `/api/v1/incidents/:id` in the router is `/api/v1/incidents/{id}` in OpenAPI.
const toOpenApi = (pattern: string) => pattern.replace(/:(\w+)/g, '{$1}');

describe('api - OpenAPI document', () => {
  it('describes every route of the router, and nothing else', () => {
    const paths = openApiDocument().paths as Paths;
    const fromRouter = h.api.router
      .routes()
      .map((r) => `${r.method} ${toOpenApi(r.pattern)}`)
      .sort();
    const fromDoc = Object.entries(paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    assert.deepEqual(fromDoc, fromRouter);
  });

  it('states the same minimum role as the router, with bearer security only where a token is needed', () => {
    const paths = openApiDocument().paths as Paths;
    for (const r of h.api.router.routes()) {
      const op = paths[toOpenApi(r.pattern)][r.method.toLowerCase()];
      assert.equal(op['x-vigie-min-role'], r.minRole, `${r.method} ${r.pattern}`);
      assert.deepEqual(op.security, r.minRole === null ? [] : [{ bearer: [] }], `${r.method} ${r.pattern}`);
      if (r.minRole !== null) assert.ok(op.responses['401'] && op.responses['403']);
    }
  });

  it('resolves every schema reference and names the required schemas', () => {
    const doc = openApiDocument();
    const schemas = (doc.components as { schemas: Record<string, unknown> }).schemas;
    for (const name of ['Incident', 'TimelineEntry', 'Delivery', 'DeviceView', 'Error', 'Problem']) {
      assert.ok(schemas[name], `schema ${name} missing`);
    }
    const refs = JSON.stringify(doc).match(/#\/components\/schemas\/\w+/g) ?? [];
    for (const ref of refs) assert.ok(schemas[ref.split('/').at(-1) ?? ''], `${ref} does not resolve`);
  });

  it('is served without a token at /api/v1/openapi.json', async () => {
    const res = await fetch(`${h.base}/api/v1/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string };
    assert.equal(doc.openapi, '3.1.0');
  });
});
