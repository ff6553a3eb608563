import { readdirSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';

// Small readers for the deployment files (gateway/test/deploy-files.test.ts): a Dockerfile's
// stages and instructions, .dockerignore as Docker applies it, a systemd unit's settings. Enough
// for the files in docker/, not general parsers.

// ---- Dockerfile: instructions and stages ----

export interface Instruction {
  op: string;
  args: string;
}
export interface Stage {
  base: string;
  name?: string;
  platform?: string;
  body: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const globals = new Map<string, string>();
  const stages: Stage[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    // Comment lines go, even inside a continuation (as Docker's parser does).
    if (/^\s*#/.test(raw) || (pending && raw.trim() === '')) continue;
    if (raw.trimEnd().endsWith('\\')) {
      pending += raw.trimEnd().slice(0, -1) + ' ';
      continue;
    }
    const line = (pending + raw).trim();
    pending = '';
    if (!line) continue;
    const [, op, args] = /^(\S+)\s*(.*)$/.exec(line)!;
    const ins = { op: op.toUpperCase(), args };
    if (ins.op === 'FROM') {
      const expanded = args.replace(/\$\{?(\w+)\}?/g, (_, n: string) => globals.get(n) ?? '');
      const words = expanded.split(/\s+/);
      const platform = words.find((w) => w.startsWith('--platform='))?.slice(11);
      const [base, as, name] = words.filter((w) => !w.startsWith('--'));
      stages.push({ base, name: as?.toUpperCase() === 'AS' ? name : undefined, platform, body: [] });
    } else if (stages.length === 0 && ins.op === 'ARG') {
      const [n, v = ''] = args.split('=');
      globals.set(n, v);
    } else stages.at(-1)!.body.push(ins);
  }
  return stages;
}

export interface Copy {
  from?: string;
  sources: string[];
  dest: string;
}
export function copies(stage: Stage): Copy[] {
  return stage.body
    .filter((i) => i.op === 'COPY')
    .map((i) => {
      const words = i.args.split(/\s+/);
      const from = words.find((w) => w.startsWith('--from='))?.slice(7);
      const paths = words.filter((w) => !w.startsWith('--'));
      return { from, sources: paths.slice(0, -1), dest: paths.at(-1)! };
    });
}

/** [path in the stage, where it comes from] per COPY source (several sources go into a directory). */
export function origins(stage: Stage): Array<{ from?: string; path: string; source: string }> {
  return copies(stage).flatMap((c) => {
    const dest = absIn(stage, c.dest);
    const intoDir = c.sources.length > 1 || c.dest.endsWith('/');
    return c.sources.map((source) => ({
      from: c.from,
      source,
      path: intoDir ? posix.join(dest, posix.basename(source)) : dest,
    }));
  });
}

export const last = (stage: Stage, op: string) => stage.body.filter((i) => i.op === op).at(-1)?.args;
export const workdir = (stage: Stage) => last(stage, 'WORKDIR') ?? '/';
export const absIn = (stage: Stage, p: string) => posix.resolve(workdir(stage), p);
export const execForm = (args: string): string[] => JSON.parse(args.slice(args.indexOf('[')));

// ---- .dockerignore, as Docker reads it (patterns anchored at the context root; a pattern that
// matches a directory excludes everything in it; the last matching pattern wins; ! re-includes) ----

export function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const clean = posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, '')).replace(/\/$/, '');
      let re = '';
      for (let i = 0; i < clean.length; i++) {
        const c = clean[i];
        if (c === '*' && clean[i + 1] === '*') {
          re += clean[i + 2] === '/' ? '(?:.*/)?' : '.*';
          i += clean[i + 2] === '/' ? 2 : 1;
        } else if (c === '*') re += '[^/]*';
        else if (c === '?') re += '[^/]';
        else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { negate, re: new RegExp(`^${re}$`) };
    });
  return (path) => {
    const parts = path.split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const r of rules) if (candidates.some((c) => r.re.test(c))) excluded = !r.negate;
    return excluded;
  };
}

/** Files of a build context (paths relative to it), what `docker build` would send. */
export function contextFiles(root: string, ignored: (path: string) => boolean): Set<string> {
  const out = new Set<string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel))) {
      const p = rel ? `${rel}/${name}` : name;
      // An ignored directory is pruned whole: right while no `!` pattern re-includes something in it.
      if (ignored(p)) continue;
      if (statSync(join(root, p)).isDirectory()) walk(p);
      else out.add(p);
    }
  };
  walk('');
  return out;
}

// ---- systemd unit: section -> key -> values (a key may repeat) ----

export function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let cur: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) sections.set(header[1], (cur = new Map()));
    else {
      const i = line.indexOf('=');
      const key = line.slice(0, i);
      cur!.set(key, [...(cur!.get(key) ?? []), line.slice(i + 1)]);
    }
  }
  return sections;
}
