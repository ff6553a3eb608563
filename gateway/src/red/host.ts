import { mkdirSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { TokenAuth } from '../api/auth.js';
import type { ApiServer } from '../api/server.js';
import type { NodeRedConfig } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import { createAdminAuth } from './admin-auth.js';
import type { GatewayLink } from './link.js';

// Node-RED embedded in the gateway's process and HTTP server (issue 5, "Hosting"). Node-RED is
// CommonJS and a process-wide singleton: it is started at most once per process (its own docs:
// "once stopped, Node-RED should not be restarted until the process is restarted").

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** The part of the `node-red` module the host uses (the package ships no types). */
interface NodeRedModule {
  init(server: Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly httpAdmin: Handler;
  readonly httpNode: Handler;
}

interface ExpressApp extends Handler {
  use(path: string, handler: Handler): void;
  disable(setting: string): void;
}

export interface NodeRedHostOptions {
  config: Readonly<NodeRedConfig>;
  /** The gateway's data directory; a relative `userDir` is taken from there. */
  dataDir: string;
  api: Pick<ApiServer, 'server' | 'mount'>;
  auth: TokenAuth;
  /** Encrypts the flows' credentials file; must stay the same across restarts. */
  credentialSecret: string;
  link: GatewayLink;
  /** Node packages loaded besides the core nodes (the Vigie nodes); a missing one is skipped. */
  nodesDirs: readonly string[];
  logger: Logger;
}

export interface NodeRedHost {
  /** True from a successful start until stop(). */
  readonly running: boolean;
  /** Where the editor answers (the configured path). */
  readonly path: string;
  readonly userDir: string;
  stop(): Promise<void>;
}

let startedInThisProcess = false;

/**
 * Starts Node-RED on the gateway's HTTP server (which must be listening). Never throws: a Node-RED
 * that cannot start is logged and reported as not running, and the gateway (rules included, since
 * flow rules run from the store) goes on without its editor.
 */
export async function startNodeRed(opts: NodeRedHostOptions): Promise<NodeRedHost> {
  const { config, logger } = opts;
  const userDir = resolve(opts.dataDir, config.userDir ?? 'node-red');
  let running = false;
  let unmount: (() => void) | undefined;
  let red: NodeRedModule | undefined;
  const host: NodeRedHost = {
    get running() {
      return running;
    },
    path: config.path,
    userDir,
    async stop() {
      if (!red) return;
      const r = red;
      red = undefined;
      running = false;
      try {
        await r.stop();
      } catch (err) {
        logger.warn('Node-RED did not stop cleanly', { error: describe(err) });
      }
      // After stop: the editor's WebSocket would otherwise keep the HTTP server from closing.
      unmount?.();
      await opts.link.close();
    },
  };
  if (startedInThisProcess) {
    logger.error('Node-RED was already started in this process; it cannot be started twice');
    return host;
  }
  startedInThisProcess = true;
  try {
    mkdirSync(userDir, { recursive: true });
    const require = createRequire(import.meta.url);
    const nodeRed = require('node-red') as NodeRedModule;
    // Node-RED's own express, so the mount behaves exactly as in its standalone server.
    const express = createRequire(require.resolve('node-red'))('express') as () => ExpressApp;
    red = nodeRed;
    nodeRed.init(opts.api.server, settingsFor(opts, userDir));
    const app = express();
    app.disable('x-powered-by');
    app.use(`${config.path}/http`, nodeRed.httpNode);
    app.use(config.path, nodeRed.httpAdmin);
    // Mounted before start: the editor answers as soon as the runtime does.
    unmount = opts.api.mount(config.path, app);
    await nodeRed.start();
    running = true;
    logger.info(`Node-RED editor at ${config.path}/`, { userDir });
  } catch (err) {
    logger.error('Node-RED could not start; rules and alerts go on without the editor', {
      error: describe(err),
    });
    unmount?.();
    unmount = undefined;
  }
  return host;
}

function settingsFor(opts: NodeRedHostOptions, userDir: string): Record<string, unknown> {
  const { config, logger } = opts;
  return {
    userDir,
    flowFile: 'flows.json',
    credentialSecret: opts.credentialSecret,
    httpAdminRoot: config.path,
    httpNodeRoot: `${config.path}/http`,
    nodesDir: [...opts.nodesDirs],
    adminAuth: createAdminAuth(config.users, opts.auth, logger),
    logging: {
      // Node-RED's console logger would write past the gateway's log format.
      console: { level: 'off' },
      vigie: {
        level: logger.enabled('debug') ? 'info' : 'warn',
        handler: () => (msg: NodeRedLogMessage) => bridgeLog(logger, msg),
      },
    },
    // A gateway on a site network phones nobody.
    diagnostics: { enabled: false, ui: false },
    telemetry: { enabled: false, updateNotification: false },
    externalModules: {
      autoInstall: false,
      palette: { allowInstall: config.allowInstall, allowUpload: config.allowInstall },
      modules: { allowInstall: config.allowInstall },
    },
    editorTheme: {
      projects: { enabled: false },
      // A welcome tour would hide the editor from people and from headless screenshots alike.
      tours: false,
      page: { title: 'Vigie · Node-RED' },
      header: { title: 'Vigie · Node-RED' },
    },
    // How Vigie's nodes find this gateway (RED.settings.vigie); never sent to the editor.
    vigie: { link: opts.link, sourceId: 'node-red' },
  };
}

interface NodeRedLogMessage {
  level: number;
  msg: unknown;
  type?: string;
  id?: string;
  name?: string;
}

/** Node-RED's levels: 10 fatal, 20 error, 30 warn, 40 info, 50 debug, 60 trace, 98 audit, 99 metric. */
function bridgeLog(logger: Logger, m: NodeRedLogMessage): void {
  if (m.level > 60) return;
  const text = m.msg instanceof Error ? (m.msg.stack ?? m.msg.message) : String(m.msg);
  // Asked for by our own settings: not worth a warning at every start.
  if (text.includes('editorTheme.projects.enabled=false')) return;
  const fields = m.type ? { node: m.type, id: m.id, name: m.name } : undefined;
  if (m.level <= 20) logger.error(text, fields);
  else if (m.level <= 30) logger.warn(text, fields);
  else if (m.level <= 40) logger.info(text, fields);
  else logger.debug(text, fields);
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
