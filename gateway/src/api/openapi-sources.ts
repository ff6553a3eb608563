import { errorResponse, json, obj, operation, ref } from './openapi-ops.js';
import { MAX_SOURCE_RULES, SOURCE_ID } from './source-routes.js';

// Rules authored in Node-RED (one set per rule source), the editor's catalog, and the ingest door.

const sourceParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: SOURCE_ID.source },
  description: 'The rule source id (`node-red` for the embedded Node-RED).',
};
const sourceErrors = {
  '400': errorResponse('Malformed body, or a bad source id.'),
  '413': errorResponse('Body larger than 1 MiB.'),
  '415': errorResponse('Not application/json.'),
};
const rulesBody = (withLabel: boolean) => ({
  required: true,
  ...json({
    type: 'object',
    additionalProperties: false,
    required: withLabel ? ['label', 'rules'] : ['rules'],
    properties: {
      ...(withLabel ? { label: { type: 'string', maxLength: 200, examples: ['Embedded Node-RED'] } } : {}),
      rules: { type: 'array', maxItems: MAX_SOURCE_RULES, items: ref('FlowRuleDoc') },
    },
  }),
});

export function sourcePaths(): Record<string, unknown> {
  return {
    '/api/v1/catalog': {
      get: operation('catalog', {
        summary: 'What a rule editor offers and checks: devices, kinds, teams, policies, channels, rules',
        role: 'viewer',
        responses: { '200': { description: 'The catalog.', ...json(ref('Catalog')) } },
      }),
    },
    '/api/v1/rule-sources': {
      get: operation('listRuleSources', {
        summary: 'Rule sources (Node-RED instances) and the rules each runs',
        role: 'viewer',
        responses: {
          '200': {
            description: 'Sources.',
            ...json(obj({ sources: { type: 'array', items: ref('RuleSourceInfo') } })),
          },
        },
      }),
    },
    '/api/v1/rule-sources/{id}/validate': {
      post: operation('validateRuleSource', {
        summary: 'Check a rule set of a source without running it',
        description: 'Problems are answered 200 with `ok: false`; each names the node it is about.',
        role: 'integrator',
        parameters: [sourceParam],
        requestBody: rulesBody(false),
        responses: { '200': { description: 'The verdict.', ...json(ref('SourceResult')) }, ...sourceErrors },
      }),
    },
    '/api/v1/rule-sources/{id}': {
      put: operation('putRuleSource', {
        summary: 'Replace every rule of a source (all or nothing), stored and run at once',
        description:
          "Sending the set that already runs changes nothing. A set with any problem is refused (422) and the source's previous rules keep running; a rule id another source or a rule file already defines is a problem.",
        role: 'integrator',
        parameters: [sourceParam],
        requestBody: rulesBody(true),
        responses: {
          '200': { description: 'The set runs now.', ...json(ref('SourceResult')) },
          '422': { description: 'Refused; the problems say why.', ...json(ref('SourceResult')) },
          ...sourceErrors,
        },
      }),
      delete: operation('deleteRuleSource', {
        summary: 'Stop and forget every rule of a source',
        role: 'integrator',
        parameters: [sourceParam],
        responses: {
          '204': { description: 'Removed.' },
          '400': errorResponse('A bad source id.'),
          '404': errorResponse('No such source.'),
        },
      }),
    },
    '/api/v1/ingest': {
      post: operation('ingest', {
        summary: 'Feed a message into listen as if it came over MQTT',
        description: 'Same topic rules, validation, counters and rules as a published message.',
        role: 'integrator',
        requestBody: {
          required: true,
          ...json({
            type: 'object',
            additionalProperties: false,
            required: ['topic', 'payload'],
            properties: {
              topic: { type: 'string', examples: ['vigie/airport/temperature/temp-hall-b'] },
              payload: {
                description: 'The message: a text as is, any other JSON value as its JSON text.',
                examples: [{ celsius: 21.5 }],
              },
            },
          }),
        },
        responses: {
          '202': { description: 'Accepted by listen.', ...json(obj({ deviceId: { type: 'string' } })) },
          '400': errorResponse('Malformed body, or the message was rejected (VIGIE_ERR_PAYLOAD_REJECTED).'),
          '413': errorResponse('Body larger than 64 KiB.'),
          '415': errorResponse('Not application/json.'),
        },
      }),
    },
  };
}
