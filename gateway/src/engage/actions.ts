// What people's answers do, whatever channel brings them: an SMS reply through the provider's
// webhook or the GSM modem, a key pressed during a voice call, a provider's status callback.
// The webhook and modem adapters only parse and verify; the decisions live behind this interface
// (engage/responder.ts is the one implementation).

/** An SMS that came back from a person. */
export interface InboundText {
  /** Sender number, E.164. */
  from: string;
  text: string;
  via: 'sms' | 'modem';
  /** The provider's id for the inbound message (Twilio MessageSid), for the audit trail. */
  providerId?: string;
}

export interface ReplyResult {
  outcome: 'acknowledged' | 'escalated' | 'already' | 'unknown-sender' | 'no-incident' | 'not-understood';
  incidentId?: string;
  /** Text to send back to the person (a TwiML <Message>, or an SMS through the modem). */
  reply: string;
}

export interface KeypadResult {
  outcome: 'acknowledged' | 'escalated' | 'repeat' | 'speaker' | 'not-understood' | 'gone';
  /** Sentence to say before hanging up (or before bridging), in the call's language. */
  say: string;
  /** With outcome `speaker`: the SIP URI to bridge the call to. */
  sip?: string;
}

/** What a voice call for one delivery says. */
export interface CallScript {
  /** BCP-47-ish language code of the person (`en`, `fr`). */
  language: string;
  /** The alert, rendered for voice in that language. */
  text: string;
  /** A WAV the integrator recorded for this template and language, played instead of a generated prompt. */
  promptFile?: string;
  /** The two-way speaker beside the device, when it has one (menu choice 4). */
  sip?: string;
}

/**
 * A provider's status callback for one outbound attempt. `status` is the provider's word as sent:
 * Messages: queued, sending, sent, delivered, undelivered, failed;
 * Calls: queued, initiated, ringing, in-progress, completed, busy, no-answer, canceled, failed.
 */
export interface ProviderStatus {
  deliveryId: string;
  providerId: string;
  status: string;
  errorCode?: string;
  /** Calls: `human`, `machine_start`... when answering-machine detection is on. */
  answeredBy?: string;
}

export interface EngageActions {
  inboundText(m: InboundText): ReplyResult;
  /** A key pressed in the call placed for `deliveryId`. */
  keypad(deliveryId: string, digits: string): KeypadResult;
  /** Undefined when the delivery does not exist (a forged or stale URL). */
  callScript(deliveryId: string): CallScript | undefined;
  providerStatus(s: ProviderStatus): void;
}
