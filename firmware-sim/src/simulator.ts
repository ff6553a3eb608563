// startSimulator: what the gateway's demo (in-process) and the CLI call.
import type { Clock } from '../../rules/src/model.js';
import { createLogger, type Logger } from '../../gateway/src/core/log.js';
import { createFleet } from './fleet.js';
import { planCycle } from './plan.js';
import { startPlayer, systemTimers, type Player, type Timers } from './player.js';
import { loadScenario, type Scenario } from './scenario.js';

export interface SimulatorOptions {
  /** Broker URL, e.g. mqtt://127.0.0.1:1883. */
  url: string;
  /** A parsed scenario, or the path of a scenario file. */
  scenario: Scenario | string;
  /** Overrides the scenario's site id. */
  site?: string;
  /** Stop publishing after this long (ms); connections stay until stop(). */
  durationMs?: number;
  logger?: Logger;
  clock?: Clock;
  timers?: Timers;
}

export interface Simulator {
  readonly scenario: Scenario;
  stop(): Promise<void>;
}

export function startSimulator(o: SimulatorOptions): Simulator {
  const loaded = typeof o.scenario === 'string' ? loadScenario(o.scenario) : o.scenario;
  const scenario: Scenario = o.site ? { ...loaded, site: o.site } : loaded;
  const logger = o.logger ?? createLogger('info', 'simulator');
  const clock = o.clock ?? { now: () => Date.now() };
  const fleet = createFleet(o.url, scenario, logger);
  logger.info('simulator started', {
    site: scenario.site,
    devices: scenario.devices.length,
    loopMs: scenario.loop,
  });
  let player: Player | undefined;
  let stopped = false;
  // Statuses first: the story starts once every device has said `online`.
  void fleet.ready(5000).then(() => {
    if (stopped) return;
    player = startPlayer({
      clock,
      timers: o.timers ?? systemTimers,
      cycleMs: scenario.loop,
      durationMs: o.durationMs,
      planCycle: (c) => planCycle(scenario, c),
      onCycle: (c) => {
        if (c > 0) fleet.reviveAll();
      },
      onItem: (item) => {
        if ('die' in item) fleet.kill(item.device);
        else fleet.send(item, clock.now());
      },
    });
  });
  let stopping: Promise<void> | undefined;
  return {
    scenario,
    stop() {
      stopping ??= (async () => {
        stopped = true;
        player?.stop();
        await fleet.close();
        logger.info('simulator stopped');
      })();
      return stopping;
    },
  };
}
