import type { Scalar, ScheduleSpec, Severity } from './model.js';

// What the parser hands to the compiler: the rule as written, checked for shape and types, with
// the line of every part a later check (references, duplicates) may have to point at.

export interface Ref {
  value: string;
  line: number;
}

export type ConditionSpec =
  | { type: 'state'; line: number; fields: Readonly<Record<string, readonly Scalar[]>> }
  | { type: 'threshold'; line: number; field: string; above?: number; below?: number; hysteresis: number }
  | { type: 'absent'; line: number; ms?: number; heartbeat: boolean }
  | { type: 'status'; line: number; status: 'online' | 'offline' }
  | { type: 'schedule'; line: number; name?: string; spec?: ScheduleSpec }
  | {
      type: 'badge';
      line: number;
      before: string;
      withinMs: number;
      allowList?: string;
      allowIds?: readonly string[];
    }
  | { type: 'count'; line: number; where: ConditionSpec; atLeast: number; withinMs: number }
  | { type: 'all' | 'any'; line: number; children: readonly ConditionSpec[] }
  | { type: 'not'; line: number; child: ConditionSpec };

export interface SelectorSpec {
  line: number;
  all?: boolean;
  kind?: Ref;
  ids?: readonly string[];
  zones?: readonly string[];
  tags?: readonly string[];
}

export interface StepSpec {
  line: number;
  afterMs: number;
  notify: readonly Ref[];
  via?: readonly Ref[];
}

export interface RuleSpec {
  file: string;
  line: number;
  id: string;
  name: string;
  severity: Severity;
  description?: string;
  selector: SelectorSpec;
  when: ConditionSpec;
  forMs: number;
  clear: 'auto' | 'manual';
  route: {
    team?: Ref;
    context?: readonly Ref[];
    /** Look the customer up in the CRM (appliance serial, device, site). */
    crm?: boolean;
    /** A dispatch profile of the site file: send a technician. */
    dispatch?: Ref;
    /** Forward the incident to the contact center as a work item (default true). */
    contactCenter?: boolean;
  };
  engage: {
    message: string;
    steps: readonly StepSpec[];
    repeat?: { everyMs: number; times: number };
    /** An escalation policy of the site file, instead of steps. */
    policy?: Ref;
    /** A message template of the site file (per channel and language). */
    template?: Ref;
  };
}
