import type { Transition } from '../../../rules/src/model.js';
import type { WatchConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Registry } from '../core/metrics.js';
import type { RuleInfo } from '../route/rule-info.js';
import type { Site } from '../site/model.js';
import { Checks, type CheckOutcome, type Sample } from './checks.js';
import type { FallbackAlarm } from './fallback-alarm.js';
import { PROBLEM_IDS, PROBLEMS, type ProblemId } from './model.js';
import type { Probes } from './probes.js';
import { clearTransition, openTransition, systemRules } from './system-rules.js';

/** Where the wall clock of the last run is kept across restarts (clock-behind). */
export interface LastRun {
  get(): number | undefined;
  set(ms: number): void;
}

export interface SelfWatchOptions {
  config: WatchConfig;
  site: Site;
  clock: Clock;
  logger: Logger;
  metrics: Registry;
  probes: Probes;
  /** Commits the transitions like the engine's (the pipeline retries them while the store fails). */
  raise: (transitions: Transition[]) => void;
  /** False while the pipeline cannot commit (its own view of the store, besides the probe). */
  storeHealthy: () => boolean;
  fallback: FallbackAlarm;
  lastRun: LastRun;
  /** `gateway-*` incidents a previous run left active: they clear once their condition is gone. */
  inherited?: readonly ProblemId[];
}

/**
 * The gateway watching itself: every `watch.interval` a sample of readings, the checks' verdicts
 * turned into incidents of the built-in `gateway-*` rules on the `gateway` pseudo-device. When the
 * store is what fails, the fallback alarm tells people directly, and the transitions wait in the
 * pipeline until the store takes them (the record then appears).
 */
export class SelfWatch {
  private readonly checks: Checks;
  private readonly rules: ReadonlyMap<string, RuleInfo>;
  private readonly log: Logger;
  private readonly checksRun;
  private readonly clockJumps;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<CheckOutcome> | undefined;
  private lastRunSavedAt: number | undefined;
  private diskErrorLogged = false;

  constructor(private readonly o: SelfWatchOptions) {
    this.log = o.logger;
    this.rules = systemRules(o.config);
    this.checks = new Checks(o.config, { lastRun: readLastRun(o.lastRun, this.log), inherited: o.inherited });
    this.checksRun = o.metrics.counter('vigie_gateway_checks_total', 'Self-watch check rounds run').labels();
    this.clockJumps = o.metrics
      .counter('vigie_gateway_clock_jumps_total', 'Wall clock jumps seen by the self-watch')
      .labels();
    // A clock jump is an event, counted above; the gauge shows conditions.
    o.metrics.gauge('vigie_gateway_problem', "The gateway's own problems (1: raised now)", () => {
      const now = new Set(this.checks.problems());
      return PROBLEM_IDS.filter((p) => PROBLEMS[p].clear === 'auto').map((p) => [
        { problem: p },
        now.has(p) ? 1 : 0,
      ]);
    });
  }

  /** The first check at once, then every `watch.interval`; the timer does not hold the process. */
  start(): void {
    if (this.timer) return;
    void this.check();
    this.timer = setInterval(() => void this.check(), this.o.config.interval);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.checks.problems().includes('clock-behind')) this.saveLastRun(this.o.clock.now());
  }

  /** Problems raised now, for the heartbeat and /readyz (a clock jump is an event, not one of them). */
  problems(): ProblemId[] {
    return this.checks.problems();
  }

  /** The built-in rule for a `gateway-*` id (the pipeline's rule lookup asks here first). */
  rule(id: string): RuleInfo | undefined {
    return this.rules.get(id);
  }

  /** One round; a round still running (a disk that hangs) is not doubled. Never rejects. */
  check(): Promise<CheckOutcome> {
    this.running ??= this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(): Promise<CheckOutcome> {
    try {
      const s = await this.o.probes.sample();
      const outcome = this.checks.check(this.withPipelineView(s));
      this.checksRun.inc();
      this.report(s, outcome);
      if (!this.checks.problems().includes('clock-behind')) this.maybeSaveLastRun(s);
      return outcome;
    } catch (err) {
      this.log.error('self-watch check failed', { error: (err as Error).message });
      return { started: [], ended: [] };
    }
  }

  /** The probe may pass while the pipeline's commits fail (another table, a lock): either is failing. */
  private withPipelineView(s: Sample): Sample {
    if (s.diskError && !this.diskErrorLogged) {
      this.diskErrorLogged = true;
      this.log.warn('cannot read the free space of the data directory', { error: s.diskError });
    }
    if (!s.storeOk || this.o.storeHealthy()) return s;
    return { ...s, storeOk: false, storeError: 'incident changes cannot be committed (retrying)' };
  }

  private report(s: Sample, outcome: CheckOutcome): void {
    const transitions: Transition[] = [];
    for (const c of outcome.started) {
      this.log[PROBLEMS[c.problem].severity === 'critical' ? 'error' : 'warn'](
        `gateway problem: ${PROBLEMS[c.problem].name}: ${c.reason}`,
        { problem: c.problem, ...c.values },
      );
      transitions.push(openTransition(c.problem, s.at, c.reason, c.values));
      if (c.problem === 'clock-jump') this.clockJumps.inc();
      if (c.problem === 'store-failing') void this.o.fallback.raise(c.problem, c.reason);
    }
    for (const c of outcome.ended) {
      this.log.info(`gateway problem over: ${PROBLEMS[c.problem].name}: ${c.reason}`, { problem: c.problem });
      transitions.push(clearTransition(c.problem, s.at, c.reason, c.values));
      if (c.problem === 'store-failing') void this.o.fallback.settle(c.problem, c.reason);
    }
    if (transitions.length === 0) return;
    try {
      this.o.raise(transitions);
    } catch (err) {
      this.log.error('could not hand the self-watch transitions over', { error: (err as Error).message });
    }
  }

  /** Not at every round: each save is a write on an SD card. Often enough to stay within the tolerance. */
  private maybeSaveLastRun(s: Sample): void {
    const every = Math.min(60_000, this.o.config.clockJump / 2);
    if (this.lastRunSavedAt !== undefined && s.mono - this.lastRunSavedAt < every) return;
    if (this.saveLastRun(s.at)) this.lastRunSavedAt = s.mono;
  }

  private saveLastRun(at: number): boolean {
    try {
      this.o.lastRun.set(at);
      return true;
    } catch (err) {
      this.log.debug('could not record the wall clock of this run', { error: (err as Error).message });
      return false;
    }
  }
}

function readLastRun(lastRun: LastRun, log: Logger): number | undefined {
  try {
    return lastRun.get();
  } catch (err) {
    log.warn('cannot read the wall clock of the last run: clock-behind is not checked', {
      error: (err as Error).message,
    });
    return undefined;
  }
}
