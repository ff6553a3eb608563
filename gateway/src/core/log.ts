// One JSON line per log record on stdout (journald and docker both read it), human-readable prefix
// kept short. Secrets never go through here: callers pass ids, never tokens or passwords.

export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
  /** Whether a record at this level would be written (skip building costly messages otherwise). */
  enabled(level: Level): boolean;
}

export interface LogSink {
  write(line: string): void;
}

const stdoutSink: LogSink = { write: (line) => process.stdout.write(line + '\n') };

export function createLogger(
  level: Level = 'info',
  component = 'vigie',
  sink: LogSink = stdoutSink,
  format: 'json' | 'pretty' = 'pretty',
): Logger {
  const min = ORDER[level];
  const emit = (lvl: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < min) return;
    if (format === 'json') {
      sink.write(JSON.stringify({ t: new Date().toISOString(), level: lvl, component, msg, ...fields }));
    } else {
      const extra = fields && Object.keys(fields).length > 0 ? ' ' + JSON.stringify(fields) : '';
      sink.write(`${new Date().toISOString()} ${lvl.toUpperCase().padEnd(5)} [${component}] ${msg}${extra}`);
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (c) => createLogger(level, c, sink, format),
    enabled: (lvl) => ORDER[lvl] >= min,
  };
}

/** A logger that records lines, for tests. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger('debug', 'test', { write: (l) => lines.push(l) }, 'json');
  return Object.assign(logger, { lines });
}

/** A logger that writes nothing (defaults for optional dependencies). */
export const silentLogger: Logger = createLogger('error', 'silent', { write: () => {} });
