import type { IncomingMessage, ServerResponse } from 'node:http';
import { VigieError } from '../core/errors.js';
import type { Principal } from './auth.js';
import type { Role } from './ports.js';

// A tiny method + path router. Patterns are literal segments and `:param` segments; no wildcards,
// no regexes, so the route table stays readable and the OpenAPI test can compare it one to one.

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  /** Undefined on public routes (minRole: null). */
  principal: Principal | undefined;
}

/** What a handler returns: a JSON body (status 200 unless given), or `undefined` when it wrote `res` itself. */
export type HandlerResult = { status?: number; body: unknown } | undefined;

export type Handler = (ctx: RequestContext) => HandlerResult | Promise<HandlerResult>;

export interface Route {
  method: Method;
  pattern: string;
  /** Minimum role, or null for a public route (health, metrics, OpenAPI). */
  minRole: Role | null;
  handler: Handler;
}

export type Match =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allow: Method[] }
  | { kind: 'not-found' };

interface Compiled {
  route: Route;
  segments: string[];
}

export class Router {
  private readonly compiled: Compiled[] = [];

  add(method: Method, pattern: string, minRole: Role | null, handler: Handler): this {
    if (this.compiled.some((c) => c.route.method === method && c.route.pattern === pattern)) {
      throw new Error(`route ${method} ${pattern} registered twice`);
    }
    this.compiled.push({ route: { method, pattern, minRole, handler }, segments: split(pattern) });
    return this;
  }

  routes(): readonly Route[] {
    return this.compiled.map((c) => c.route);
  }

  match(method: string, path: string): Match {
    const parts = split(path);
    const allow: Method[] = [];
    for (const c of this.compiled) {
      const params = matchSegments(c.segments, parts);
      if (!params) continue;
      if (c.route.method === method) return { kind: 'found', route: c.route, params };
      allow.push(c.route.method);
    }
    return allow.length > 0 ? { kind: 'method-not-allowed', allow } : { kind: 'not-found' };
  }
}

// A trailing slash is ignored: `/api/v1/incidents/` is `/api/v1/incidents`.
function split(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

function matchSegments(
  pattern: readonly string[],
  parts: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p.startsWith(':')) {
      params[p.slice(1)] = decodeSegment(parts[i]);
    } else if (p !== parts[i]) {
      return undefined;
    }
  }
  return params;
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch (cause) {
    throw new VigieError('VIGIE_ERR_BAD_REQUEST', 'malformed percent-encoding in the path', { cause });
  }
}
