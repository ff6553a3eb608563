import type { Severity } from '../../../rules/src/model.js';

// The part of a compiled rule the route and engage stages need. Structural on purpose: the rules
// package's CompiledRule satisfies it without this stage importing the compiler.

export interface EngageStep {
  /** Delay after the previous step (ignored for the first step, which runs at once). */
  afterMs: number;
  /** `team:ID` or `person:ID` (a bare ID is looked up as a person first, then a team). */
  notify: readonly string[];
  /** Channel names from the configuration. */
  via: readonly string[];
}

export interface EngagePlan {
  message: string;
  steps: readonly EngageStep[];
  /**
   * Run again `times` more times, `everyMs` apart, while nobody acknowledges: the last step (rules),
   * or from `fromStep` on (a policy repeats all its tiers).
   */
  repeat?: { everyMs: number; times: number; fromStep?: number };
  /** Site template for the messages (engage/templates). */
  template?: string;
}

export interface RuleInfo {
  id: string;
  name: string;
  severity: Severity;
  route?: {
    team?: string;
    context?: readonly string[];
    crm?: boolean;
    dispatch?: string;
    contactCenter?: boolean;
  };
  engage: EngagePlan & { policy?: string };
}
