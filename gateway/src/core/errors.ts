// Every error Vigie raises on purpose has a stable code; tests assert the code, people read the text.

export type ErrorCode =
  | 'VIGIE_ERR_CONFIG_INVALID'
  | 'VIGIE_ERR_SITE_INVALID'
  | 'VIGIE_ERR_RULE_INVALID'
  | 'VIGIE_ERR_PAYLOAD_REJECTED'
  | 'VIGIE_ERR_NOT_FOUND'
  | 'VIGIE_ERR_ILLEGAL_TRANSITION'
  | 'VIGIE_ERR_UNAUTHORIZED'
  | 'VIGIE_ERR_FORBIDDEN'
  | 'VIGIE_ERR_BAD_REQUEST'
  | 'VIGIE_ERR_CHANNEL'
  | 'VIGIE_ERR_STORE';

export class VigieError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'VigieError';
  }
}

import type { FileProblem } from '../../../rules/src/model.js';
export type { FileProblem };

export function formatProblems(problems: readonly FileProblem[]): string {
  return problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n');
}

export class ConfigError extends VigieError {
  readonly problems: readonly FileProblem[];
  constructor(code: 'VIGIE_ERR_CONFIG_INVALID' | 'VIGIE_ERR_SITE_INVALID', problems: readonly FileProblem[]) {
    super(code, formatProblems(problems));
    this.problems = problems;
    this.name = 'ConfigError';
  }
}

export class IllegalTransitionError extends VigieError {
  constructor(from: string, to: string) {
    super('VIGIE_ERR_ILLEGAL_TRANSITION', `an incident cannot go from ${from} to ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

export class NotFoundError extends VigieError {
  constructor(what: string) {
    super('VIGIE_ERR_NOT_FOUND', `${what} not found`);
    this.name = 'NotFoundError';
  }
}
