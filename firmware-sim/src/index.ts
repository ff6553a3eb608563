// Public surface of the device simulator.
export { startSimulator, type Simulator, type SimulatorOptions } from './simulator.js';
export {
  loadScenario,
  parseScenario,
  topicOf,
  type Scenario,
  type SimDevice,
  type Episode,
} from './scenario.js';
export { planCycle, type PlanItem, type Values } from './plan.js';
export { startPlayer, systemTimers, type Player, type PlayerOptions, type Timers } from './player.js';
export { runLoad, loadDeviceId, preciseNow, type LoadOptions, type LoadReport } from './load.js';
export { encode, statusTopic } from './fleet.js';
