import type { Incident } from '../route/model.js';
import type { Recipient } from './channel.js';

/** An alert as one channel shows it to one person. */
export interface Composed {
  message: string;
  subject?: string;
  html?: string;
  language: string;
  /** A recorded prompt for voice (absolute path), when the template has one. */
  voiceFile?: string;
}

/** Renders an incident for a channel type (`sms`, `voice`...) and a recipient, at `now` (durations). */
export type Compose = (
  incident: Incident,
  recipient: Recipient,
  channelType: string,
  now: number,
) => Composed;

/** Without templates: the rule's own message, as the incident carries it. */
export const plainCompose: Compose = (incident, recipient) => ({
  message: incident.message,
  language: recipient.language ?? 'en',
});
