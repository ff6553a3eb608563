import { errorResponse, json, obj, operation } from './openapi-ops.js';

// The live console's reads: who is logged in, a device's chart, the KPI tiles, telemetry health.

const epochParam = (name: string, description: string) => ({
  name,
  in: 'query',
  required: false,
  schema: { type: 'integer', minimum: 0 },
  description,
});
const ms = { type: 'number', description: 'Milliseconds.' };
const source = {
  type: 'string',
  enum: ['influx', 'store'],
  description: 'InfluxDB when configured and answering, else the gateway’s own store.',
};

const series = {
  type: 'object',
  required: ['device', 'field', 'source', 'points'],
  properties: {
    device: { type: 'string' },
    field: { type: 'string' },
    source,
    points: {
      type: 'array',
      description: '[epoch ms, value] ascending; booleans as 1 / 0; at most about 300 points.',
      items: {
        type: 'array',
        prefixItems: [{ type: 'integer' }, { type: 'number' }],
        minItems: 2,
        maxItems: 2,
      },
    },
  },
};
const zone = {
  type: 'object',
  required: ['zone', 'open', 'opened'],
  properties: {
    zone: { type: 'string' },
    open: { type: 'integer' },
    opened: { type: 'integer' },
    mttaMs: ms,
    mttrMs: ms,
  },
};
const kpis = {
  type: 'object',
  required: ['source', 'since', 'until', 'open', 'opened', 'zones'],
  properties: {
    source,
    since: { type: 'integer' },
    until: { type: 'integer' },
    open: { type: 'integer', description: 'Open or acknowledged now (always from the store).' },
    opened: { type: 'integer', description: 'Opened in the window.' },
    mttaMs: { ...ms, description: 'Mean time to acknowledge over the window.' },
    mttrMs: { ...ms, description: 'Mean time to resolve over the window.' },
    zones: { type: 'array', items: zone },
  },
};
const telemetry = {
  type: 'object',
  required: ['enabled', 'connected', 'buffered', 'dropped', 'written'],
  properties: {
    enabled: { type: 'boolean', description: 'False when no InfluxDB is configured.' },
    connected: { type: 'boolean' },
    buffered: { type: 'integer', description: 'Points waiting in memory and on disk.' },
    dropped: { type: 'integer', description: 'Points dropped since start because the disk buffer was full.' },
    written: { type: 'integer' },
    lastError: { type: 'string' },
  },
};

export function consolePaths(): Record<string, unknown> {
  return {
    '/': {
      get: operation('home', {
        summary: 'Redirects a browser to the live console (/console/)',
        role: null,
        responses: { '302': { description: 'To `console/`.' } },
      }),
    },
    '/api/v1/me': {
      get: operation('me', {
        summary: 'The token’s name and role, and the site (name, language, time zone)',
        role: 'viewer',
        responses: {
          '200': {
            description: 'Who is asking.',
            ...json(
              obj({
                name: { type: 'string' },
                role: { type: 'string', enum: ['viewer', 'operator', 'integrator', 'admin'] },
                site: obj({
                  id: { type: 'string' },
                  name: { type: 'string' },
                  language: { type: 'string', enum: ['en', 'fr'] },
                  timezone: { type: 'string' },
                }),
              }),
            ),
          },
        },
      }),
    },
    '/api/v1/devices/{id}/history': {
      get: operation('deviceHistory', {
        summary: 'A device’s recent values of one field, for a chart',
        role: 'viewer',
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
          {
            name: 'field',
            in: 'query',
            required: true,
            schema: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' },
            description: 'celsius, open, battery...',
          },
          epochParam('since', 'Start, epoch ms (default: 6 hours before until).'),
          epochParam('until', 'End, epoch ms (default: now).'),
        ],
        responses: {
          '200': { description: 'The series.', ...json(series) },
          '400': errorResponse('Bad field or window.'),
          '404': errorResponse('No such device.'),
        },
      }),
    },
    '/api/v1/kpis': {
      get: operation('kpis', {
        summary: 'KPI tiles: open incidents, mean time to acknowledge and to resolve, per zone',
        role: 'viewer',
        parameters: [
          epochParam('since', 'Start, epoch ms (default: 24 hours before until).'),
          epochParam('until', 'End, epoch ms (default: now).'),
        ],
        responses: {
          '200': { description: 'The figures.', ...json(kpis) },
          '400': errorResponse('Bad window.'),
        },
      }),
    },
    '/api/v1/telemetry': {
      get: operation('telemetryStatus', {
        summary: 'Whether telemetry reaches InfluxDB, and what is buffered or was dropped',
        role: 'viewer',
        responses: { '200': { description: 'Status.', ...json(telemetry) } },
      }),
    },
  };
}
