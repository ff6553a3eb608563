import { NotFoundError, VigieError } from '../core/errors.js';
import type { FlowRuleDoc } from '../red/link.js';
import { HttpError, isJsonType, MAX_BODY_BYTES, readBody } from './http-io.js';
import type { ApiPorts } from './ports.js';
import type { RequestContext, Router } from './router.js';

// Rules authored outside the rule directory (Node-RED flows, one set per source), what an editor
// needs to author them (the catalog), and a door into listen for messages that do not come over MQTT.

export const SOURCE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** A whole flow set can be much larger than one request of the rest of the API. */
export const MAX_SOURCE_BODY_BYTES = 1024 * 1024;
export const MAX_SOURCE_RULES = 1000;
const MAX_TEXT = 200;

const bad = (message: string) => new VigieError('VIGIE_ERR_BAD_REQUEST', message);

export function registerSourceRoutes(router: Router, ports: ApiPorts): void {
  const base = '/api/v1/rule-sources';
  router.add('GET', '/api/v1/catalog', 'viewer', () => ({ body: ports.catalog() }));
  router.add('GET', base, 'viewer', () => ({ body: { sources: ports.ruleSources.list() } }));
  // Problems are a 200 with ok:false, as for rule files: finding them is what a dry run is for.
  router.add('POST', `${base}/:id/validate`, 'integrator', async (ctx) => {
    const id = sourceId(ctx);
    const body = await readObject(ctx, ['rules']);
    return { body: ports.ruleSources.validate(id, flowRules(body.rules)) };
  });
  router.add('PUT', `${base}/:id`, 'integrator', async (ctx) => {
    const id = sourceId(ctx);
    const body = await readObject(ctx, ['label', 'rules']);
    const label = text(body.label, 'label');
    const result = ports.ruleSources.put(id, label, flowRules(body.rules));
    return { status: result.ok ? 200 : 422, body: result };
  });
  router.add('DELETE', `${base}/:id`, 'integrator', (ctx) => {
    const id = sourceId(ctx);
    if (!ports.ruleSources.remove(id)) throw new NotFoundError(`rule source ${id}`);
    ctx.res.writeHead(204, { 'Cache-Control': 'no-store' });
    ctx.res.end();
    return undefined;
  });
  router.add('POST', '/api/v1/ingest', 'integrator', async (ctx) => {
    const body = await readObject(ctx, ['topic', 'payload'], MAX_BODY_BYTES);
    const topic = body.topic;
    if (typeof topic !== 'string' || topic === '') throw bad('topic must be an MQTT topic');
    if (body.payload === undefined || body.payload === null)
      throw bad('payload must be the message: a text or a JSON value');
    const payload = typeof body.payload === 'string' ? body.payload : JSON.stringify(body.payload);
    const result = ports.ingest.inject(topic, Buffer.from(payload, 'utf8'));
    if (!result.ok) throw new HttpError(400, 'VIGIE_ERR_PAYLOAD_REJECTED', result.error);
    return { status: 202, body: { deviceId: result.deviceId } };
  });
}

function sourceId(ctx: RequestContext): string {
  const id = ctx.params.id;
  if (!SOURCE_ID.test(id))
    throw bad(`"${id}" is not a rule source id (lower-case letters, digits and -, at most 63)`);
  return id;
}

async function readObject(
  ctx: RequestContext,
  allowed: readonly string[],
  limit = MAX_SOURCE_BODY_BYTES,
): Promise<Record<string, unknown>> {
  if (ctx.req.headers['content-type'] !== undefined && !isJsonType(ctx.req))
    throw new HttpError(415, 'VIGIE_ERR_BAD_REQUEST', 'send the body as application/json');
  const raw = await readBody(ctx.req, limit);
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch (cause) {
    throw bad(`the body is not valid JSON: ${(cause as Error).message}`);
  }
  if (!isObject(value)) throw bad('the body must be a JSON object');
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw bad(`unknown field "${key}" (use ${allowed.join(', ')})`);
  }
  return value;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function text(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_TEXT || /\p{Cc}/u.test(v))
    throw bad(`${field} must be a text of 1 to ${MAX_TEXT} characters`);
  return v;
}

function optionalText(v: unknown, field: string): string | undefined {
  return v === undefined ? undefined : text(v, field);
}

/**
 * The shape of each FlowRuleDoc; what the rule document says is the compiler's business (its
 * problems come back on the nodes). Fields other than doc, nodes and flow are dropped.
 */
function flowRules(v: unknown): FlowRuleDoc[] {
  if (!Array.isArray(v)) throw bad('rules must be a list of rule documents ({ doc, nodes, flow? })');
  if (v.length > MAX_SOURCE_RULES) throw bad(`rules: at most ${MAX_SOURCE_RULES} rules per source`);
  return v.map((item: unknown, i) => {
    const at = `rules[${i}]`;
    if (!isObject(item)) throw bad(`${at} must be an object { doc, nodes, flow? }`);
    if (!isObject(item.doc)) throw bad(`${at}.doc must be the rule document (an object)`);
    if (!isObject(item.nodes)) throw bad(`${at}.nodes must name the nodes of the rule ({ condition, ... })`);
    const nodes: FlowRuleDoc['nodes'] = { condition: text(item.nodes.condition, `${at}.nodes.condition`) };
    for (const k of ['listen', 'route', 'engage'] as const) {
      const id = optionalText(item.nodes[k], `${at}.nodes.${k}`);
      if (id !== undefined) nodes[k] = id;
    }
    const out: FlowRuleDoc = { doc: item.doc, nodes };
    if (item.flow !== undefined) {
      if (!isObject(item.flow)) throw bad(`${at}.flow must be { id, label? }`);
      const label = optionalText(item.flow.label, `${at}.flow.label`);
      out.flow = { id: text(item.flow.id, `${at}.flow.id`), ...(label !== undefined ? { label } : {}) };
    }
    return out;
  });
}
