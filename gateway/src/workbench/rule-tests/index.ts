// Rule tests (`*.test.yaml` beside the rules, run by `vigie test-rules`): the public surface.
export { runRuleTests, type RuleTestOptions, type RuleTestOutcome, type RuleTestReport } from './run.js';
export { formatRuleTestReport } from './output.js';
export { parseRuleTestFile } from './format.js';
export { matchExpectations, type Failure, type Mismatch, type MatchClock } from './match.js';
export type * from './spec.js';
