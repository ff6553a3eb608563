// Public surface of the Twilio adapter: REST client, webhook signatures, TwiML, the webhook routes.
export { TwilioRest, parseTwilioDate, twilioDay } from './rest.js';
export type { TwilioAccount, TwilioAnswer, TwilioFailure, TwilioRecord, TwilioResource } from './rest.js';
export { twilioSignature, verifyTwilioSignature, type SignedParams } from './signature.js';
export * as TwiML from './twiml.js';
export { registerTwilioHooks, type TwilioAccountKey, type TwilioHookDeps } from './webhooks.js';
