import { IllegalTransitionError } from '../core/errors.js';
import type { IncidentState } from './model.js';

/**
 * Every allowed incident state change, in one place (see route/model.ts). `cleared` is not
 * acknowledgeable: it would make the incident active again and collide with a new incident for the
 * same rule and device; an operator closes a cleared incident by resolving it.
 */
export const ALLOWED_TRANSITIONS: Readonly<Record<IncidentState, readonly IncidentState[]>> = {
  open: ['acknowledged', 'cleared', 'resolved'],
  acknowledged: ['cleared', 'resolved'],
  cleared: ['resolved'],
  resolved: [],
};

/** States in which an incident counts for dedup and may escalate. */
export const ACTIVE_STATES: readonly IncidentState[] = ['open', 'acknowledged'];

export function canTransition(from: IncidentState, to: IncidentState): boolean {
  return ALLOWED_TRANSITIONS[from].includes(to);
}

/** Throws IllegalTransitionError unless `from -> to` is in the table. */
export function assertTransition(from: IncidentState, to: IncidentState): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
}

export function isActive(state: IncidentState): boolean {
  return ACTIVE_STATES.includes(state);
}
