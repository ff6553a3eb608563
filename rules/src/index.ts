// Public surface of the rules package: parse -> compile -> run.
export type {
  Clock,
  DeviceInfo,
  DeviceRecord,
  FileProblem,
  KeyRecord,
  RuleContext,
  Scalar,
  ScheduleSpec,
  ScheduleWindow,
  SensorEvent,
  Severity,
  Transition,
} from './model.js';
export { SEVERITIES } from './model.js';
export { parseDuration, formatDuration } from './duration.js';
export { parseRuleFile } from './parse.js';
export type { RuleSpec, ConditionSpec, SelectorSpec, StepSpec } from './spec.js';
export { compileRules, loadRuleSet, CONTEXT_KEYS } from './compile.js';
export type { CompiledRule, CompiledStep, DeviceSelector, RuleEnv } from './compile.js';
export { Engine } from './engine.js';
export type { EngineStats } from './engine.js';
export type { DeviceView } from './device-state.js';
export { renderTemplate, placeholders } from './template.js';
export { compileSchedule, localTime, isTimeZone } from './schedule.js';
