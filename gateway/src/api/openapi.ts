import { schemas } from './openapi-schemas.js';
import { errorResponse, json, obj, operation, ref } from './openapi-ops.js';
import { sourcePaths } from './openapi-sources.js';
import { consolePaths } from './openapi-console.js';
import { workbenchPaths } from './openapi-workbench.js';

// The OpenAPI 3.1 description of /api/v1, written by hand so it reads well; api-openapi.test.ts checks
// it against the router's table (paths, methods, minimum roles) so the two cannot drift apart.

const idParam = (what: string) => ({
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: `The ${what} id.`,
});
const query = (name: string, description: string, schema: unknown = { type: 'string' }) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});

const transition = (verb: string) => ({
  summary: `${verb[0].toUpperCase()}${verb.slice(1)} an incident`,
  description: 'The actor recorded is `token:<token name>`, or `token:<token name>/<by>` when `by` is given.',
  role: 'operator' as const,
  parameters: [idParam('incident')],
  requestBody: { required: false, ...json(ref('TransitionRequest')) },
  responses: {
    '200': { description: `The incident once ${verb}d.`, ...json(obj({ incident: ref('Incident') })) },
    '400': errorResponse('Malformed body.'),
    '404': errorResponse('No such incident.'),
    '409': errorResponse('The incident is in a state this transition cannot leave.'),
    '413': errorResponse('Body larger than 64 KiB.'),
  },
});

const severityList = { type: 'string', description: 'Comma-separated list.', examples: ['critical,major'] };

// Provider webhooks (engage/twilio/webhooks.ts): public, authenticated by the provider's signature.
const signatureHeader = {
  name: 'X-Twilio-Signature',
  in: 'header',
  required: true,
  schema: { type: 'string' },
  description:
    'base64 HMAC-SHA1 with the account auth token over the public URL called (query included) followed by each form parameter name and value, sorted by name.',
};
const deliveryParam = {
  name: 'deliveryId',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'The delivery the provider was given this URL for.',
};
const form = (schema: string) => ({
  required: true,
  content: { 'application/x-www-form-urlencoded': { schema: ref(schema) } },
});
const twimlAnswer = (description: string) => ({
  description,
  content: { 'text/xml': { schema: { type: 'string', description: 'A TwiML <Response> document.' } } },
});
const hookErrors = {
  '400': errorResponse('A required parameter is missing.'),
  '403': errorResponse('Missing or wrong X-Twilio-Signature, or an AccountSid the gateway does not use.'),
  '413': errorResponse('Body larger than 64 KiB.'),
  '415': errorResponse('Not application/x-www-form-urlencoded.'),
};

function hookPaths(): Record<string, unknown> {
  const hook = (id: string, summary: string, description: string, schema: string, responses: object) =>
    operation(id, {
      summary,
      description,
      role: null,
      parameters: id === 'twilioInboundSms' ? [signatureHeader] : [deliveryParam, signatureHeader],
      requestBody: form(schema),
      responses: { ...responses, ...hookErrors },
    });
  return {
    '/hooks/twilio/sms': {
      post: hook(
        'twilioInboundSms',
        'An SMS a person sent to the alert number (provider webhook)',
        'Replies such as ACK acknowledge the incident the person was alerted for; the answer is a TwiML <Message> back to them.',
        'TwilioInboundSms',
        { '200': twimlAnswer('TwiML with the reply as <Message>, or an empty <Response/>.') },
      ),
    },
    '/hooks/twilio/status/{deliveryId}': {
      post: hook(
        'twilioStatus',
        'Status of a message or call the gateway placed (provider status callback)',
        'delivered / completed settle the delivery; undelivered, failed, busy, no-answer make it retry or fail over.',
        'TwilioStatus',
        { '204': { description: 'Recorded.' } },
      ),
    },
    '/hooks/twilio/voice/{deliveryId}': {
      post: hook(
        'twilioVoice',
        'What an answered alert call plays (provider voice webhook)',
        'The alert and the keypad menu inside a <Gather>; with no key pressed the call plays again up to twice (`?n=` counts), then hangs up.',
        'TwilioVoice',
        { '200': twimlAnswer('TwiML: <Gather> with <Play> or <Say>, <Redirect>, <Hangup>.') },
      ),
    },
    '/hooks/twilio/voice/{deliveryId}/menu': {
      post: hook(
        'twilioVoiceMenu',
        'A key pressed during an alert call (provider <Gather> action)',
        '1 acknowledges, 2 escalates now, 3 repeats the alert, 4 bridges the call to the device speaker over SIP when there is one.',
        'TwilioVoice',
        { '200': twimlAnswer('TwiML: <Say> then <Hangup>, <Redirect> or <Dial><Sip>.') },
      ),
    },
    '/hooks/prompts/{file}': {
      get: operation('voicePrompt', {
        summary: 'A voice prompt for the provider to play',
        description:
          'The URL is handed out in TwiML, signed and valid for `prompts.urlTtl`; it is the credential.',
        role: null,
        parameters: [
          {
            name: 'file',
            in: 'path',
            required: true,
            schema: { type: 'string', pattern: '^[0-9a-f]+\\.wav$' },
            description: 'The prompt id followed by .wav.',
          },
          query('exp', 'Expiry, epoch seconds.'),
          query('sig', 'Hex HMAC-SHA256 of `{id}:{exp}` with the gateway prompt secret.'),
        ],
        responses: {
          '200': {
            description: 'The WAV file.',
            content: { 'audio/wav': { schema: { type: 'string', format: 'binary' } } },
          },
          '403': errorResponse('The signature does not match, or the URL has expired.'),
          '404': errorResponse('No such prompt.'),
        },
      }),
    },
  };
}

// Technician jobs (route/dispatch): the API for dispatchers, and the pages a technician's or a
// customer's link opens (public: the signed token in the path is the credential).
const html = (description: string) => ({
  description,
  content: { 'text/html': { schema: { type: 'string' } } },
});
const tokenParam = {
  name: 'token',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'The signed link token (an offer or a survey, with its expiry; `dispatch.linkTtl`).',
};
const pageErrors = {
  '400': html('Unknown action or score.'),
  '404': html('Unknown, tampered or expired link (no detail given).'),
  '409': html(
    'The job is in a state where this action does not apply (another technician took it, already resolved...).',
  ),
  '413': html('Form larger than 4 KiB.'),
  '415': html('Not application/x-www-form-urlencoded.'),
};
const page = (id: string, summary: string, description: string, post: boolean) =>
  operation(id, {
    summary,
    description,
    role: null,
    parameters: [tokenParam],
    ...(post
      ? {
          requestBody: {
            required: true,
            content: {
              'application/x-www-form-urlencoded': {
                schema: obj(
                  id === 'jobAction'
                    ? { action: { enum: ['accept', 'decline', 'enroute', 'arrived', 'resolved'] } }
                    : { score: { type: 'integer', minimum: 1, maximum: 5 } },
                ),
              },
            },
          },
          responses: { '303': { description: 'Done: back to the page, which confirms it.' }, ...pageErrors },
        }
      : { responses: { '200': html('A small mobile page.'), '404': pageErrors['404'] } }),
  });

function jobPaths(): Record<string, unknown> {
  return {
    '/api/v1/jobs': {
      get: operation('listJobs', {
        summary: 'Technician jobs, newest first',
        role: 'viewer',
        parameters: [
          query('state', 'One job state.', {
            enum: ['offered', 'accepted', 'enroute', 'arrived', 'resolved', 'unassigned'],
          }),
          query('limit', 'At most this many (default 100).', { type: 'integer', minimum: 1, maximum: 1000 }),
        ],
        responses: {
          '200': { description: 'Jobs.', ...json(obj({ jobs: { type: 'array', items: ref('Job') } })) },
          '400': errorResponse('Unknown state or bad limit.'),
        },
      }),
    },
    '/api/v1/technicians': {
      get: operation('listTechnicians', {
        summary: 'Technicians with their availability, shift, current job and last known position',
        role: 'viewer',
        responses: {
          '200': {
            description: 'Technicians.',
            ...json(obj({ technicians: { type: 'array', items: { type: 'object' } } })),
          },
        },
      }),
    },
    '/api/v1/technicians/{id}/availability': {
      post: operation('setTechnicianAvailability', {
        summary: 'Take a technician off the rota or put them back, and/or report where they are',
        role: 'operator',
        parameters: [idParam('technician')],
        requestBody: {
          required: true,
          ...json({
            type: 'object',
            properties: {
              available: { type: 'boolean' },
              lat: { type: 'number', minimum: -90, maximum: 90 },
              lon: { type: 'number', minimum: -180, maximum: 180 },
            },
          }),
        },
        responses: {
          '200': { description: 'The technician as dispatch sees them now.', ...json({ type: 'object' }) },
          '400': errorResponse('Malformed body or coordinates.'),
          '404': errorResponse('No such technician.'),
        },
      }),
    },
    '/j/{token}': {
      get: page(
        'jobPage',
        "A technician's job page",
        'What, where, for whom, and the buttons valid now.',
        false,
      ),
      post: page(
        'jobAction',
        'A technician answers (accept, decline, on my way, arrived, resolved)',
        'Resolved also resolves the incident (actor `technician:ID`).',
        true,
      ),
    },
    '/s/{token}': {
      get: page('surveyPage', "The customer's one-question survey", 'How was the visit, 1 to 5.', false),
      post: page('surveyAnswer', 'The customer answers the survey', 'One answer per job.', true),
    },
  };
}

function build(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Vigie gateway API',
      version: '1.0.0',
      description:
        'Incidents, devices and rules of one Vigie gateway. Errors are `{ "error": { "code", "message" } }` with a stable `VIGIE_ERR_*` code. Roles are ordered viewer < operator < integrator < admin; each operation lists its minimum role in `x-vigie-min-role`.',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A token from the gateway configuration (auth.tokens, stored as sha256) or the admin token.',
        },
      },
      schemas,
    },
    paths: {
      '/api/v1/incidents': {
        get: operation('listIncidents', {
          summary: 'List incidents, newest first',
          role: 'viewer',
          parameters: [
            query('state', 'Comma-separated states.', { ...severityList, examples: ['open,acknowledged'] }),
            query('severity', 'Comma-separated severities.', severityList),
            query('zone', 'Zone id.'),
            query('device', 'Device id.'),
            query('rule', 'Rule id.'),
            query('limit', 'At most this many (default 100).', {
              type: 'integer',
              minimum: 1,
              maximum: 1000,
            }),
            query('since', 'Opened at or after: epoch ms or ISO 8601 date-time with zone.'),
          ],
          responses: {
            '200': {
              description: 'Matching incidents.',
              ...json(obj({ incidents: { type: 'array', items: ref('Incident') } })),
            },
            '400': errorResponse('Unknown parameter or value.'),
          },
        }),
      },
      '/api/v1/incidents/{id}': {
        get: operation('getIncident', {
          summary: 'One incident with its timeline and deliveries',
          role: 'viewer',
          parameters: [idParam('incident')],
          responses: {
            '200': {
              description: 'The incident.',
              ...json(
                obj({
                  incident: ref('Incident'),
                  timeline: { type: 'array', items: ref('TimelineEntry') },
                  deliveries: { type: 'array', items: ref('Delivery') },
                }),
              ),
            },
            '404': errorResponse('No such incident.'),
          },
        }),
      },
      '/api/v1/incidents/{id}/acknowledge': {
        post: operation('acknowledgeIncident', transition('acknowledge')),
      },
      '/api/v1/incidents/{id}/resolve': { post: operation('resolveIncident', transition('resolve')) },
      '/api/v1/devices': {
        get: operation('listDevices', {
          summary: 'Every device of the site with its live state',
          role: 'viewer',
          responses: {
            '200': {
              description: 'Devices.',
              ...json(obj({ devices: { type: 'array', items: ref('DeviceView') } })),
            },
          },
        }),
      },
      '/api/v1/devices/{id}': {
        get: operation('getDevice', {
          summary: 'One device',
          role: 'viewer',
          parameters: [idParam('device')],
          responses: {
            '200': { description: 'The device.', ...json(obj({ device: ref('DeviceView') })) },
            '404': errorResponse('No such device.'),
          },
        }),
      },
      '/api/v1/rules': {
        get: operation('listRules', {
          summary: 'Rules currently loaded',
          role: 'viewer',
          responses: {
            '200': {
              description: 'Rules.',
              ...json(obj({ rules: { type: 'array', items: ref('RuleSummary') } })),
            },
          },
        }),
      },
      '/api/v1/rules/validate': {
        post: operation('validateRules', {
          summary: 'Check a rule file against the running site without loading it',
          description:
            'Problems in the file are answered 200 with `ok: false`: finding them is the purpose. Send YAML (`text/yaml`, name it with `?file=`) or JSON `{ "file", "text" }`.',
          role: 'integrator',
          parameters: [query('file', 'File name used in problems (YAML bodies only).')],
          requestBody: {
            required: true,
            content: {
              'text/yaml': { schema: { type: 'string' } },
              'application/json': { schema: obj({ file: { type: 'string' }, text: { type: 'string' } }) },
            },
          },
          responses: {
            '200': { description: 'The verdict.', ...json(ref('ValidationResult')) },
            '400': errorResponse('Malformed body or file name.'),
            '413': errorResponse('Body larger than 64 KiB.'),
            '415': errorResponse('Neither YAML nor JSON.'),
          },
        }),
      },
      '/api/v1/stream': {
        get: operation('liveStream', {
          summary: 'Live events over WebSocket',
          description:
            'Upgrade to WebSocket; each text frame is a LiveEvent as JSON. Browsers cannot set headers on a WebSocket, so the token may also be passed as `?token=`. The server pings every 30 s and drops sockets that do not answer.',
          role: 'viewer',
          parameters: [
            query('token', 'The bearer token, when the Authorization header cannot be set.'),
            query(
              'sensor',
              '`1`: also send every accepted sensor event (type `sensor`, data a SensorEvent).',
              {
                enum: ['1'],
              },
            ),
          ],
          responses: {
            '101': {
              description: 'Switching to WebSocket; frames carry LiveEvent.',
              ...json(ref('LiveEvent')),
            },
            '426': errorResponse('Plain HTTP request without Upgrade: websocket.'),
          },
        }),
      },
      '/api/v1/openapi.json': {
        get: operation('openApi', {
          summary: 'This document',
          role: null,
          responses: { '200': { description: 'OpenAPI 3.1 document.', ...json({ type: 'object' }) } },
        }),
      },
      '/healthz': {
        get: operation('health', {
          summary: 'Liveness',
          role: null,
          responses: {
            '200': { description: 'Alive.', ...json(obj({ status: { const: 'ok' } })) },
            '503': {
              description: 'The process is wedged.',
              ...json(obj({ status: { const: 'unhealthy' } })),
            },
          },
        }),
      },
      '/readyz': {
        get: operation('readiness', {
          summary: 'Readiness: store, broker, rules',
          role: null,
          responses: {
            '200': { description: 'Ready.', ...json(ref('Readiness')) },
            '503': { description: 'Not ready; checks say what is missing.', ...json(ref('Readiness')) },
          },
        }),
      },
      '/metrics': {
        get: operation('metrics', {
          summary: 'Prometheus metrics (text format 0.0.4)',
          description: 'Public so Prometheus can scrape it; it holds counts only.',
          role: null,
          responses: {
            '200': {
              description: 'Metrics.',
              content: { 'text/plain; version=0.0.4': { schema: { type: 'string' } } },
            },
          },
        }),
      },
      ...sourcePaths(),
      ...consolePaths(),
      ...workbenchPaths(),
      ...hookPaths(),
      ...jobPaths(),
    },
  };
}

let cached: string | undefined;

/** A fresh copy each call, so a caller cannot alter what the next one gets. */
export function openApiDocument(): Record<string, unknown> {
  cached ??= JSON.stringify(build());
  return JSON.parse(cached) as Record<string, unknown>;
}
