import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, sep } from 'node:path';

// The live console's files (dashboards/console), read once at start and served from memory: a
// handful of small files, and no path from a request ever reaches the file system.

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/**
 * Scripts and styles only from here; camera snapshots may come from any camera on the site's
 * network (http or https); the API and the live stream are same-origin.
 */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: http: https:; " +
  "connect-src 'self'; media-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

interface File {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * A handler for requests under `prefix` (`/console`). `/console` itself redirects to `/console/`, so
 * the page's relative module paths resolve. Files are revalidated on every load (ETag), so an
 * upgraded gateway never leaves a console running yesterday's script.
 */
export function consoleFiles(
  dir: string,
  prefix: string,
): (req: IncomingMessage, res: ServerResponse) => void {
  const files = new Map<string, File>();
  for (const path of walk(dir)) {
    const rel = relative(dir, path).split(sep).join('/');
    const type = TYPES[extname(path)];
    if (!type) continue;
    const body = readFileSync(path);
    files.set(rel, {
      body,
      type,
      etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 20)}"`,
    });
  }
  return (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': 0 });
      return void res.end();
    }
    if (path === prefix) {
      res.writeHead(301, { Location: `${prefix}/`, 'Content-Length': 0 });
      return void res.end();
    }
    // Mounted under `prefix`, so anything else is not ours (a client that normalised `..` away).
    let rel = path.startsWith(`${prefix}/`) ? path.slice(prefix.length + 1) : undefined;
    if (rel === undefined) return notFound(res);
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    const file = files.get(rel);
    if (!file) return notFound(res);
    const headers: Record<string, string | number> = {
      'Content-Type': file.type,
      'Cache-Control': 'no-cache',
      ETag: file.etag,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Content-Security-Policy': CONSOLE_CSP,
    };
    if (req.headers['if-none-match'] === file.etag) {
      res.writeHead(304, headers);
      return void res.end();
    }
    res.writeHead(200, { ...headers, 'Content-Length': file.body.length });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  };
}

function notFound(res: ServerResponse): void {
  const body = 'Not found';
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length });
  res.end(body);
}

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}
