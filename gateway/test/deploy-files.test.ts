import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, posix, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { configSchema } from '../src/config/schema.js';
import {
  absIn,
  contextFiles as contextOf,
  copies,
  dockerignore,
  execForm,
  last,
  origins,
  parseDockerfile,
  parseUnit,
  workdir,
} from './support/deploy-files.js';
import { ROOT, tempDir } from './support/gateway-process.js';

// Issue 7 items 3 and 4: the Docker and systemd deployment files. No Docker engine runs here, so
// nothing is built or started: the files are parsed and cross-checked (the Dockerfile against the
// repository, .dockerignore and the build's output; the compose file against the Grafana
// provisioning and the gateway config it mounts; that config against the real schema and CLI),
// the unit goes through `systemd-analyze verify`, and the Raspberry Pi installer through
// shellcheck and real runs into a temporary prefix with the system commands stubbed on PATH.

// The checkout: ROOT/package.json through a link when the tests were built into another directory.
const REPO = dirname(realpathSync(join(ROOT, 'package.json')));
const CLI = join(ROOT, 'dist/gateway/src/cli.js');
const read = (p: string) => readFileSync(join(REPO, p), 'utf8');

// ---- running things ----

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function requireTool(cmd: string, pkg: string): void {
  // Not a skip: a CI without the tool would otherwise pass without checking anything.
  const found = spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  assert.ok(found, `${cmd} is not installed: apt-get install -y ${pkg} (scripts/bootstrap.mjs lists it)`);
}

/** A local /healthz answering `status`, to run the healthcheck commands against. */
class FakeHealth {
  status = 200;
  readonly paths: string[] = [];
  private server: Server | undefined;
  port = 0;
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.paths.push(req.url ?? '');
      res.writeHead(req.url === '/healthz' ? this.status : 404).end();
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }
  close(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

const ignored = dockerignore(read('.dockerignore'));
const contextFiles = () => contextOf(REPO, ignored);
const stages = parseDockerfile(read('docker/Dockerfile'));
const [build, runtime] = [stages[0], stages.at(-1)!];
const compose = parse(read('docker/compose.yaml'));
const services = compose.services as Record<string, any>;
const dockerConfig = parse(read('docker/config/vigie.yaml'));
const unit = parseUnit(read('docker/systemd/vigie.service'));
const service = unit.get('Service')!;
const one = (key: string) => service.get(key)?.at(-1);
const COMPOSE_DIR = join(REPO, 'docker');
const isBind = (src: string) => /^[./~]/.test(src);
const mounts = (svc: any): Array<{ source: string; target: string }> =>
  (svc.volumes ?? []).map((v: any) => {
    if (typeof v !== 'string') return { source: v.source, target: v.target };
    const [source, target] = v.split(':');
    return { source, target };
  });

describe('deploy - Dockerfile', () => {
  test('two stages: built on node:20-bookworm for the target platform, run on node:20-bookworm-slim', () => {
    assert.ok(stages.length >= 2, 'multi-stage');
    assert.equal(build.base, 'node:20-bookworm');
    assert.equal(runtime.base, 'node:20-bookworm-slim');
    // A stage pinned to $BUILDPLATFORM would compile the native addons for the wrong CPU.
    for (const s of stages) assert.ok(!s.platform?.includes('BUILDPLATFORM'), `${s.name}: ${s.platform}`);
    const runs = build.body.filter((i) => i.op === 'RUN').map((i) => i.args);
    const at = (what: string) => runs.findIndex((r) => r.includes(what));
    for (const tool of ['python3', 'make', 'g++']) assert.ok(at(tool) >= 0, tool);
    assert.ok(at('npm ci') >= 0 && at('npm ci') <= at('npm run build'), 'npm ci, then the build');
    assert.ok(at('npm prune --omit=dev') >= at('npm run build'), 'pruned after the build');
  });

  test('the runtime runs as the non-root user vigie (uid 10001) with a data volume, two ports, NODE_ENV', () => {
    const user = last(runtime, 'USER');
    assert.ok(user && !/^(root|0)(:|$)/.test(user), `USER ${user}`);
    assert.equal(user.split(':')[0], 'vigie');
    assert.ok(runtime.body.some((i) => i.op === 'RUN' && /useradd .*--uid 10001 .*vigie/.test(i.args)));
    assert.ok(last(runtime, 'VOLUME')?.includes('/var/lib/vigie'));
    assert.deepEqual(last(runtime, 'EXPOSE')?.split(/\s+/).sort(), ['1883', '8080']);
    assert.ok(runtime.body.some((i) => i.op === 'ENV' && /\bNODE_ENV=production\b/.test(i.args)));
  });

  test('every COPY --from names an earlier stage; every source from the context exists and is sent', () => {
    const files = contextFiles();
    stages.forEach((stage, i) => {
      for (const c of copies(stage)) {
        if (c.from) {
          const earlier = stages.slice(0, i).map((s) => s.name);
          assert.ok(earlier.includes(c.from), `COPY --from=${c.from}: no earlier stage of that name`);
          continue;
        }
        for (const src of c.sources) {
          assert.ok(existsSync(join(REPO, src)), `COPY ${src}: not in the repository`);
          assert.ok(!ignored(src), `COPY ${src}: excluded by .dockerignore`);
          const sent = files.has(src) || [...files].some((f) => f.startsWith(src + '/'));
          assert.ok(sent, `COPY ${src}: nothing of it in the build context`);
        }
      }
    });
    // What a developer has locally never leaves the machine.
    for (const p of ['node_modules/x', 'dist/x', '.git/HEAD', 'data/vigie.db', '.tmp/x', 'bench/results/x']) {
      assert.ok(ignored(p), `${p} would be sent to the builder`);
    }
  });

  test('the build stage sees every file its sources import', () => {
    const files = contextFiles();
    const copied = copies(build).flatMap((c) => (c.from ? [] : c.sources));
    assert.ok(copied.includes('tsconfig.json') && copied.includes('package-lock.json'), copied.join(' '));
    const inBuild = [...files].filter((f) => copied.some((s) => f === s || f.startsWith(s + '/')));
    const importRe = /(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g;
    let checked = 0;
    for (const f of inBuild.filter((x) => x.endsWith('.ts'))) {
      for (const m of read(f).matchAll(importRe)) {
        const target = posix.join(posix.dirname(f), m[1].replace(/\.js$/, '.ts'));
        assert.ok(files.has(target), `${f} imports ${m[1]}, which the build context leaves out`);
        checked++;
      }
    }
    assert.ok(checked > 100, `only ${checked} imports found`);
  });

  test('the entrypoint starts the CLI the build produces, as `vigie start --config /etc/vigie/config.yaml`', async () => {
    const argv = [...execForm(last(runtime, 'ENTRYPOINT')!), ...execForm(last(runtime, 'CMD')!)];
    const node = argv.indexOf('node');
    assert.ok(node >= 0, argv.join(' '));
    const [script, ...args] = argv.slice(node + 1);
    assert.deepEqual(args, ['start', '--config', '/etc/vigie/config.yaml']);
    // The image path back to the build stage's output: tsc's outDir, the package's bin.
    const pkg = JSON.parse(read('package.json'));
    const tsconfig = JSON.parse(read('tsconfig.json'));
    const dist = copies(runtime).find((c) => c.from === build.name && c.sources[0] === absIn(build, 'dist'));
    assert.ok(dist, 'the runtime copies the build stage dist/');
    assert.equal(tsconfig.compilerOptions.outDir, 'dist');
    assert.equal(posix.relative(absIn(runtime, dist.dest), script), 'gateway/src/cli.js');
    assert.equal(pkg.bin.vigie, 'dist/gateway/src/cli.js');
    assert.ok(existsSync(CLI), `${CLI} (npm run build)`);
    // And the real CLI reads the file those arguments name (a refused key proves it).
    const dir = tempDir('vigie-deploy-');
    try {
      const file = join(dir, 'config.yaml');
      writeFileSync(file, 'no-such-key: 1\n');
      const r = await run(process.execPath, [CLI, ...args.slice(0, -1), file]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`${file}:1: no-such-key: unknown key`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('deploy - healthchecks', () => {
  const health = new FakeHealth();
  before(() => health.start());
  after(() => health.close());

  const probe = async (argv: string[], env: NodeJS.ProcessEnv = process.env) => {
    assert.equal(argv[0], 'node', argv.join(' '));
    return (await run(process.execPath, argv.slice(1), env)).code;
  };

  test("the image's HEALTHCHECK passes on /healthz 200 and fails on 503 or no answer", async () => {
    const argv = execForm(last(runtime, 'HEALTHCHECK')!);
    const env = { ...process.env, VIGIE_HTTP_PORT: String(health.port) };
    health.status = 200;
    assert.equal(await probe(argv, env), 0);
    assert.deepEqual(health.paths.splice(0), ['/healthz']);
    health.status = 503;
    assert.equal(await probe(argv, env), 1);
    assert.equal(await probe(argv, { ...env, VIGIE_HTTP_PORT: '1' }), 1);
  });

  test("compose's vigie healthcheck asks 127.0.0.1:8080/healthz and reads the answer", async () => {
    const [kind, ...argv] = services.vigie.healthcheck.test as string[];
    assert.equal(kind, 'CMD');
    const script = argv.at(-1)!;
    assert.ok(script.includes('http://127.0.0.1:8080/healthz'), script);
    const local = [...argv.slice(0, -1), script.replace(':8080/', `:${health.port}/`)];
    health.status = 200;
    assert.equal(await probe(local), 0);
    health.status = 500;
    assert.equal(await probe(local), 1);
  });
});

describe('deploy - compose', () => {
  test('four services; vigie built from the repository with docker/Dockerfile, all restarted', () => {
    assert.deepEqual(Object.keys(services).sort(), ['grafana', 'influxdb', 'nats', 'vigie']);
    const b = services.vigie.build;
    assert.equal(realpathSync(join(COMPOSE_DIR, b.context)), realpathSync(REPO));
    assert.ok(existsSync(join(COMPOSE_DIR, b.context, b.dockerfile)), b.dockerfile);
    for (const [name, s] of Object.entries(services)) assert.equal(s.restart, 'unless-stopped', name);
    assert.deepEqual([...services.vigie.ports].sort(), ['1883:1883', '8080:8080']);
  });

  test('vigie waits for healthy nats and influxdb; every awaited service has a healthcheck', () => {
    assert.deepEqual(services.vigie.depends_on, {
      nats: { condition: 'service_healthy' },
      influxdb: { condition: 'service_healthy' },
    });
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, how] of Object.entries<any>(s.depends_on ?? {})) {
        assert.equal(how.condition, 'service_healthy', `${name} -> ${dep}`);
        assert.ok(services[dep]?.healthcheck?.test, `${dep} has no healthcheck`);
      }
    }
    const nats = services.nats;
    assert.ok(nats.command.includes('-js'), 'JetStream on');
    const monitor = nats.command[nats.command.indexOf('-m') + 1];
    assert.ok(nats.healthcheck.test.join(' ').includes(`127.0.0.1:${monitor}/healthz`));
    assert.ok(services.influxdb.image.startsWith('influxdb:1.'), services.influxdb.image);
    assert.ok(services.influxdb.healthcheck.test.join(' ').includes('127.0.0.1:8086/ping'));
  });

  test('every named volume is declared and every bind-mounted path exists in the repository', () => {
    const declared = Object.keys(compose.volumes ?? {});
    for (const [name, s] of Object.entries(services)) {
      for (const m of mounts(s)) {
        if (isBind(m.source)) assert.ok(existsSync(join(COMPOSE_DIR, m.source)), `${name}: ${m.source}`);
        else assert.ok(declared.includes(m.source), `${name}: volume ${m.source} not declared`);
      }
    }
    const data = mounts(services.vigie).find((m) => m.target === '/var/lib/vigie');
    assert.ok(data && !isBind(data.source), 'the gateway data in a named volume');
  });

  test('grafana gets the provisioned data source and the dashboards where the provider reads them', () => {
    const g = services.grafana;
    const hostOf = (target: string) => {
      const m = mounts(g).find((x) => x.target === target);
      assert.ok(m, `nothing mounted at ${target}`);
      return join(COMPOSE_DIR, m.source);
    };
    const datasources = hostOf('/etc/grafana/provisioning/datasources');
    assert.ok(existsSync(join(datasources, 'vigie-influxdb.yaml')));
    const provider = parse(
      readFileSync(join(hostOf('/etc/grafana/provisioning/dashboards'), 'vigie.yaml'), 'utf8'),
    );
    const jsons = readdirSync(hostOf(provider.providers[0].options.path)).filter((f) => f.endsWith('.json'));
    assert.deepEqual(jsons.sort(), [
      'vigie-incidents.json',
      'vigie-notifications.json',
      'vigie-site-overview.json',
    ]);
    // The data source reads ${VIGIE_INFLUX_URL}: the influxdb service, the database the gateway writes.
    const ds = parse(readFileSync(join(datasources, 'vigie-influxdb.yaml'), 'utf8')).datasources[0];
    assert.equal(ds.url, '${VIGIE_INFLUX_URL}');
    assert.equal(g.environment.VIGIE_INFLUX_URL, 'http://influxdb:8086');
    assert.equal(ds.jsonData.dbName, dockerConfig.telemetry.influx.database);
    // The admin password comes from the environment, required, with no default committed.
    assert.match(g.environment.GF_SECURITY_ADMIN_PASSWORD, /^\$\{GRAFANA_ADMIN_PASSWORD:\?[^}]*\}$/);
  });
});

describe('deploy - gateway configuration', () => {
  test('docker/config/vigie.yaml passes the config schema and names the compose services', () => {
    const r = configSchema.safeParse(dockerConfig);
    assert.ok(r.success, JSON.stringify(!r.success && r.error.issues));
    const nats = new URL(r.data.uplink!.servers[0]);
    assert.ok(services[nats.hostname] && nats.port === '4222', nats.href);
    const influx = new URL(r.data.telemetry.influx!.url);
    assert.ok(services[influx.hostname] && influx.port === '8086', influx.href);
    assert.equal(r.data.dataDir, '/var/lib/vigie');
    assert.equal(r.data.http.port, 8080);
  });

  test('its site and rules exist in the container and the real CLI accepts them', async () => {
    // A container path -> the repository file behind it: compose's bind mounts first, then the
    // runtime stage's COPY from the build stage, then the build stage's COPY from the context.
    const toRepo = (p: string): string => {
      for (const m of mounts(services.vigie).filter((x) => isBind(x.source))) {
        if (p === m.target || p.startsWith(m.target + '/'))
          return join(COMPOSE_DIR, m.source, p.slice(m.target.length));
      }
      const under = (path: string, dir: string) => path === dir || path.startsWith(dir + '/');
      for (const c of origins(runtime).filter((o) => o.from === build.name && under(p, o.path))) {
        const inBuild = c.source + p.slice(c.path.length);
        for (const b of origins(build).filter((o) => !o.from && under(inBuild, o.path))) {
          return join(REPO, b.source, inBuild.slice(b.path.length));
        }
      }
      assert.fail(`${p}: not in the image nor mounted`);
    };
    const mounted = mounts(services.vigie).find((m) => m.target === '/etc/vigie/config.yaml');
    assert.equal(
      realpathSync(join(COMPOSE_DIR, mounted!.source)),
      realpathSync(join(REPO, 'docker/config/vigie.yaml')),
    );
    const site = toRepo(dockerConfig.site);
    const rules = toRepo(dockerConfig.rules);
    assert.ok(existsSync(site) && statSync(rules).isDirectory(), `${site} ${rules}`);
    const configFile = join(REPO, 'docker/config/vigie.yaml');
    const r = await run(process.execPath, [
      CLI,
      'validate',
      '--config',
      configFile,
      '--rules',
      rules,
      '--site',
      site,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /rules OK/);
  });

  test('docker/systemd/config.yaml (the Pi) passes the schema and writes only where the unit allows', () => {
    const r = configSchema.safeParse(parse(read('docker/systemd/config.yaml')));
    assert.ok(r.success, JSON.stringify(!r.success && r.error.issues));
    assert.ok(service.get('ReadWritePaths')!.join(' ').split(/\s+/).includes(r.data.dataDir));
  });
});

describe('deploy - systemd unit', () => {
  let dir = '';
  before(() => {
    dir = tempDir('vigie-unit-');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  // verify refuses an ExecStart whose program does not exist: the CI's node may not be
  // /usr/bin/node (Debian's, on the Pi), so the copy points at the node running this test.
  const verify = async (text: string) => {
    requireTool('systemd-analyze', 'systemd');
    const file = join(dir, 'vigie.service');
    writeFileSync(file, text.replaceAll('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `));
    const r = await run('systemd-analyze', ['verify', file]);
    const ours = (r.stdout + r.stderr).split('\n').filter((l) => l.includes('vigie.service'));
    return { code: r.code, ours };
  };

  test('systemd-analyze verify accepts it without a warning (and does flag a broken copy)', async () => {
    const text = read('docker/systemd/vigie.service');
    assert.deepEqual(await verify(text), { code: 0, ours: [] });
    const broken = await verify(text.replace('Restart=always', 'Restart=sometimes'));
    assert.ok(
      broken.ours.some((l) => l.includes('sometimes')),
      broken.ours.join('\n'),
    );
  });

  test('restarted always, watched by the watchdog, ready by notification, hardened', () => {
    assert.equal(one('Type'), 'notify');
    assert.equal(one('NotifyAccess'), 'main');
    assert.match(one('WatchdogSec') ?? '', /^\d+s$/);
    assert.equal(one('Restart'), 'always');
    assert.equal(one('NoNewPrivileges'), 'yes');
    assert.equal(one('ProtectSystem'), 'strict');
    assert.ok(one('ReadWritePaths')!.split(/\s+/).includes('/var/lib/vigie'));
    // sysfs GPIO writes under /sys: neither of these may creep in.
    assert.notEqual(one('ProtectKernelTunables'), 'yes');
    assert.notEqual(one('PrivateDevices'), 'yes');
    assert.equal(one('CapabilityBoundingSet'), '');
    assert.equal(one('User'), 'vigie');
    assert.deepEqual(one('SupplementaryGroups')!.split(/\s+/).sort(), ['dialout', 'gpio']);
    assert.equal(one('DevicePolicy'), 'closed');
    const allowed = service.get('DeviceAllow')!.map((v) => v.split(/\s+/)[0]);
    for (const d of ['char-gpiochip', '/dev/gpiomem', 'char-ttyUSB', 'char-ttyAMA', 'char-ttyS']) {
      assert.ok(allowed.includes(d), `DeviceAllow ${d}`);
    }
  });

  test('it starts the same CLI with the same arguments as the image', () => {
    const argv = [...execForm(last(runtime, 'ENTRYPOINT')!), ...execForm(last(runtime, 'CMD')!)];
    const image = argv.slice(argv.indexOf('node') + 1).join(' ');
    assert.equal(one('ExecStart'), `/usr/bin/node ${image}`);
    assert.equal(one('WorkingDirectory'), workdir(runtime));
    assert.ok(service.get('Environment')!.includes('NODE_ENV=production'));
  });
});

describe('deploy - install-pi.sh', () => {
  const SCRIPT = join(REPO, 'docker/systemd/install-pi.sh');
  let work = '';
  let stubs = '';
  // What the stubs were asked to do, since the last look.
  const calls = () => {
    const log = join(stubs, 'calls.log');
    const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
    rmSync(log, { force: true });
    return text;
  };
  const stub = (name: string, body: string) => {
    writeFileSync(join(stubs, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(stubs, name), 0o755);
  };
  const logged = (name: string, then = 'exit 0') =>
    stub(name, `echo "${name} $*" >> "${stubs}/calls.log"\n${then}`);
  const install = (prefix: string, nodeVersion: string, ...args: string[]) => {
    stub(
      'node',
      `if [ "$1" = --version ]; then echo v${nodeVersion}; exit 0; fi\necho "node $*" >> "${stubs}/calls.log"`,
    );
    return run('bash', [SCRIPT, '--prefix', prefix, ...args], {
      ...process.env,
      PATH: `${stubs}:${process.env.PATH}`,
    });
  };

  before(() => {
    work = tempDir('vigie-install-');
    stubs = join(work, 'bin');
    mkdirSync(stubs);
    // Everything that would change the machine itself; what remains writes under the prefix only.
    for (const cmd of ['apt-get', 'groupadd', 'useradd', 'usermod', 'chown', 'systemctl']) logged(cmd);
    // A machine with no vigie user and no gpio group yet, whatever this one has.
    stub('getent', 'exit 2');
    logged(
      'npm',
      '[ "$1 $2" = "run build" ] && mkdir -p dist/gateway/src && echo built > dist/gateway/src/cli.js; exit 0',
    );
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('shellcheck finds nothing; bash parses it', async () => {
    requireTool('shellcheck', 'shellcheck');
    const sc = await run('shellcheck', [SCRIPT]);
    assert.equal(sc.code, 0, sc.stdout);
    assert.equal((await run('bash', ['-n', SCRIPT])).code, 0);
  });

  test('refuses Node 18 (Raspberry Pi OS bookworm) with what to do, before changing anything', async () => {
    const prefix = join(work, 'old-node');
    const r = await install(prefix, '18.19.0', '--dry-run');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /v18\.19\.0 is too old: Vigie needs Node\.js 20\.19 or later/);
    assert.match(r.stderr, /trixie/);
    assert.match(r.stderr, /NodeSource/);
    assert.doesNotMatch(r.stdout, /^\+ /m);
    assert.ok(!existsSync(prefix));
  });

  test('a dry run lists the user, groups, directories, build and unit, and does none of it', async () => {
    const prefix = join(work, 'dry');
    calls();
    const r = await install(prefix, '20.19.2', '--dry-run');
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout;
    assert.match(out, /^node v20\.19\.2: OK/m);
    assert.match(out, /^\+ groupadd --system gpio$/m);
    assert.match(out, /^\+ useradd --system .*--shell \/usr\/sbin\/nologin .*vigie$/m);
    assert.match(out, /^\+ usermod --append --groups gpio,dialout vigie$/m);
    assert.match(out, new RegExp(`^\\+ install -d -m 0750 ${prefix}/var/lib/vigie$`, 'm'));
    assert.match(out, new RegExp(`^\\+ chown -R vigie:vigie ${prefix}/var/lib/vigie$`, 'm'));
    assert.match(out, new RegExp(`^\\+ install -d -m 0750 ${prefix}/etc/vigie$`, 'm'));
    const npm = [...out.matchAll(/^\+ \(cd .* && npm (\S+)/gm)].map((m) => m[1]);
    assert.deepEqual(npm, ['ci', 'run', 'prune']);
    assert.match(
      out,
      new RegExp(`^\\+ install -m 0644 \\S+/vigie.service ${prefix}/etc/systemd/system/vigie.service$`, 'm'),
    );
    assert.match(out, new RegExp(`^\\+ systemctl --root=${prefix} enable vigie.service$`, 'm'));
    assert.match(out, /VIGIE_ADMIN_TOKEN \/etc\/vigie\/vigie.env/);
    assert.match(out, /http:\/\/\S+:8080\/console\//);
    assert.ok(!existsSync(prefix), 'a dry run created files');
    assert.equal(calls(), '', 'a dry run called a system command');
    const prebuilt = await install(prefix, '20.19.2', '--dry-run', '--prebuilt', '--source', REPO);
    assert.equal(prebuilt.code, 0, prebuilt.stderr);
    assert.match(prebuilt.stdout, /npm ci --omit=dev/);
    assert.doesNotMatch(prebuilt.stdout, /npm run build/);
  });

  test('installed twice: the same files; the configuration kept; the result accepted by the gateway', async () => {
    const prefix = join(work, 'root');
    const snapshot = (): string[] => {
      const out: string[] = [];
      const walk = (d: string) => {
        for (const name of readdirSync(d).sort()) {
          const p = join(d, name);
          const st = statSync(p);
          out.push(
            `${relative(prefix, p)} ${(st.mode & 0o7777).toString(8)}${st.isFile() ? ' ' + readFileSync(p, 'utf8').length : ''}`,
          );
          if (st.isDirectory()) walk(p);
        }
      };
      walk(prefix);
      return out;
    };
    // The stubs only shadow commands named without a path: a real run as root would otherwise
    // create users and enable units on the machine running the tests.
    const shadowed = /\/(apt-get|groupadd|useradd|usermod|chown|systemctl|npm|getent)\b/;
    assert.doesNotMatch(read('docker/systemd/install-pi.sh'), shadowed);
    calls();
    const first = await install(prefix, '20.19.2');
    assert.equal(first.code, 0, first.stderr + first.stdout);
    const log = calls();
    assert.match(log, /^useradd .* vigie$/m);
    assert.match(log, /^usermod --append --groups gpio,dialout vigie$/m);
    assert.match(log, new RegExp(`^chown -R vigie:vigie ${prefix}/var/lib/vigie$`, 'm'));
    assert.match(log, new RegExp(`^systemctl --root=${prefix} enable vigie.service$`, 'm'));
    assert.match(
      log,
      new RegExp(
        `^node ${prefix}/opt/vigie/dist/gateway/src/cli.js validate --config ${prefix}/etc/vigie/config.yaml$`,
        'm',
      ),
    );
    const once = snapshot();
    assert.equal(
      readFileSync(join(prefix, 'etc/vigie/config.yaml'), 'utf8'),
      read('docker/systemd/config.yaml'),
    );
    assert.ok(once.some((l) => l.startsWith('etc/vigie/config.yaml 640')));
    assert.ok(once.some((l) => l.startsWith('var/lib/vigie 750')));
    assert.ok(once.some((l) => l.startsWith('etc/vigie/vigie.env 640')));
    assert.ok(once.some((l) => l.startsWith('etc/systemd/system/vigie.service 644')));
    assert.ok(once.some((l) => l.startsWith('usr/local/bin/vigie 755')));
    const command = spawnSync(join(prefix, 'usr/local/bin/vigie'), ['token'], {
      env: { ...process.env, PATH: `${stubs}:${process.env.PATH}` },
      encoding: 'utf8',
    });
    assert.equal(command.status, 0, command.stderr);
    assert.match(calls(), new RegExp(`^node /opt/vigie/dist/gateway/src/cli.js token$`, 'm'));
    assert.ok(
      !once.some((l) => /(^|\/)(node_modules|test)( |\/)|\.test\.ts /.test(l)),
      'tests or node_modules copied',
    );
    assert.match(
      readFileSync(join(prefix, 'etc/vigie/vigie.env'), 'utf8'),
      /^VIGIE_ADMIN_TOKEN=[0-9a-f]{48}$/m,
    );

    const again = await install(prefix, '20.19.2');
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(snapshot(), once);

    // The installed configuration, site and rules, as the real gateway reads them.
    const installed = join(prefix, 'etc/vigie/config.yaml');
    const v = await run(process.execPath, [CLI, 'validate', '--config', installed]);
    assert.equal(v.code, 0, v.stderr);

    // A site's own changes survive a reinstall: the edited config, a rule deliberately removed.
    writeFileSync(installed, readFileSync(installed, 'utf8') + '\n# edited on site\n');
    rmSync(join(prefix, 'etc/vigie/rules/door.yaml'));
    const token = readFileSync(join(prefix, 'etc/vigie/vigie.env'), 'utf8');
    assert.equal((await install(prefix, '20.19.2')).code, 0);
    assert.match(readFileSync(installed, 'utf8'), /# edited on site/);
    assert.ok(!existsSync(join(prefix, 'etc/vigie/rules/door.yaml')), 'a removed rule came back');
    assert.equal(readFileSync(join(prefix, 'etc/vigie/vigie.env'), 'utf8'), token);
  });
});
