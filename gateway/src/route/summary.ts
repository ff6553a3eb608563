import type { Incident } from './model.js';

/**
 * The incident as the outside world sees it: the MQTT incident topic, the live stream and the
 * webhook body all carry this one shape (README "Contracts"), so a field added here reaches all.
 */
export function incidentSummary(i: Incident) {
  return {
    id: i.id,
    site: i.site,
    rule: i.ruleId,
    ruleName: i.ruleName,
    device: i.deviceId,
    deviceName: i.deviceName,
    zone: i.zone,
    severity: i.severity,
    state: i.state,
    reason: i.reason,
    message: i.message,
    triggerTs: i.triggerTs,
    openedAt: i.openedAt,
    at: i.updatedAt,
    escalationStep: i.escalationStep,
    values: i.values,
  };
}
