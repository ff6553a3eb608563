import { NotFoundError, VigieError } from '../core/errors.js';
import type { Registry } from '../core/metrics.js';
import { HttpError, isJsonType, isYamlType, readBody } from './http-io.js';
import { registerConsoleRoutes } from './console-routes.js';
import { registerIncidentRoutes } from './incident-routes.js';
import { openApiDocument } from './openapi.js';
import type { ApiPorts } from './ports.js';
import { Router, type RequestContext } from './router.js';
import { registerSourceRoutes } from './source-routes.js';

export const STREAM_PATH = '/api/v1/stream';

const bad = (message: string) => new VigieError('VIGIE_ERR_BAD_REQUEST', message);

/** The whole route table. `apiMetrics` holds the API's own series, rendered after the gateway's. */
export function buildRouter(ports: ApiPorts, apiMetrics: Registry, now: () => number = Date.now): Router {
  const router = new Router();
  registerIncidentRoutes(router, ports);
  registerSourceRoutes(router, ports);
  registerConsoleRoutes(router, ports, now);

  router.add('GET', '/api/v1/devices', 'viewer', () => ({ body: { devices: ports.devices.list() } }));
  router.add('GET', '/api/v1/devices/:id', 'viewer', ({ params }) => {
    const device = ports.devices.get(params.id);
    if (!device) throw new NotFoundError(`device ${params.id}`);
    return { body: { device } };
  });

  router.add('GET', '/api/v1/rules', 'viewer', () => ({ body: { rules: ports.rules.list() } }));
  // Problems in the file are a 200 with ok:false: finding them is what this endpoint is for.
  router.add('POST', '/api/v1/rules/validate', 'integrator', async (ctx) => {
    const { file, text } = await readRuleFile(ctx);
    return { body: ports.rules.validate(file, text) };
  });

  // A plain GET on the stream means the client did not ask to upgrade; the real work is in stream.ts.
  router.add('GET', STREAM_PATH, 'viewer', () => {
    throw new HttpError(
      426,
      'VIGIE_ERR_BAD_REQUEST',
      'this is a WebSocket endpoint: connect with Upgrade: websocket',
      {
        Upgrade: 'websocket',
      },
    );
  });

  router.add('GET', '/api/v1/openapi.json', null, () => ({ body: openApiDocument() }));
  router.add('GET', '/healthz', null, () =>
    ports.health.live() ? { body: { status: 'ok' } } : { status: 503, body: { status: 'unhealthy' } },
  );
  router.add('GET', '/readyz', null, () => {
    const { ready, checks, problems } = ports.health.ready();
    return {
      status: ready ? 200 : 503,
      body: { status: ready ? 'ready' : 'not ready', checks, ...(problems ? { problems } : {}) },
    };
  });
  // Public on purpose, on the API port: Prometheus scrapes without credentials, and the series hold
  // counts only (no incident text, no device values). Keep the port off untrusted networks if that
  // is too much.
  router.add('GET', '/metrics', null, ({ res }) => {
    const text = ports.metrics.render() + apiMetrics.render();
    res.writeHead(200, {
      'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-store',
    });
    res.end(text);
    return undefined;
  });
  return router;
}

const FILE_NAME = /^[\w][\w.-]{0,127}\.ya?ml$/;

/** The rule text as YAML (`?file=` names it) or as JSON `{ file, text }`. */
async function readRuleFile(ctx: RequestContext): Promise<{ file: string; text: string }> {
  const raw = await readBody(ctx.req);
  let file: unknown = ctx.query.get('file') ?? 'rules.yaml';
  let text: unknown;
  if (isJsonType(ctx.req)) {
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (cause) {
      throw bad(`the body is not valid JSON: ${(cause as Error).message}`);
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw bad('the body must be a JSON object');
    const b = body as Record<string, unknown>;
    file = b.file ?? file;
    text = b.text;
    if (typeof text !== 'string') throw bad('text must be the rule file as a string');
  } else if (isYamlType(ctx.req)) {
    text = raw.toString('utf8');
  } else {
    throw new HttpError(
      415,
      'VIGIE_ERR_BAD_REQUEST',
      'send the rule file as text/yaml, or as JSON { file, text }',
    );
  }
  if (typeof file !== 'string' || !FILE_NAME.test(file)) {
    throw bad('file must be a bare file name ending in .yaml or .yml');
  }
  return { file, text: text as string };
}
