import type { Role } from './ports.js';

// The building blocks of the OpenAPI document (openapi.ts), shared by the files that describe a
// group of paths.

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
export const errorResponse = (description: string) => ({ description, ...json(ref('Error')) });

const ROLE_NOTE: Record<Role, string> = {
  viewer: 'Needs a token with role viewer or above.',
  operator: 'Needs a token with role operator or above.',
  integrator: 'Needs a token with role integrator or above.',
  admin: 'Needs the admin token or a token with role admin.',
};

export interface Op {
  summary: string;
  description?: string;
  role: Role | null;
  parameters?: unknown[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
}

export function operation(id: string, op: Op): Record<string, unknown> {
  const responses: Record<string, unknown> = { ...op.responses };
  if (op.role !== null) {
    responses['401'] = errorResponse('No token, or a token that is not configured.');
    responses['403'] = errorResponse('The token role is below the one this operation needs.');
  }
  return {
    operationId: id,
    summary: op.summary,
    description: [op.description, op.role ? ROLE_NOTE[op.role] : 'No authentication.']
      .filter(Boolean)
      .join('\n\n'),
    security: op.role === null ? [] : [{ bearer: [] }],
    'x-vigie-min-role': op.role,
    ...(op.parameters ? { parameters: op.parameters } : {}),
    ...(op.requestBody ? { requestBody: op.requestBody } : {}),
    responses,
  };
}

export function obj(properties: Record<string, unknown>): unknown {
  return { type: 'object', required: Object.keys(properties), properties };
}
