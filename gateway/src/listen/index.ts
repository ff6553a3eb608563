// The listen stage's public surface.
export type { MqttTransport } from './transport.js';
export { EmbeddedBroker, type EmbeddedBrokerOptions } from './embedded-broker.js';
export { ExternalBroker, type ExternalBrokerOptions } from './external-broker.js';
export { createTransport } from './create-transport.js';
export { Ingest } from './ingest.js';
export { REJECT_REASONS, type RejectReason, compileKind, parseTs } from './validate.js';
export { compileAdapter } from './adapters.js';
export { BUILTIN_ADAPTERS, availabilityTopic } from './presets.js';
export {
  TopicAcl,
  topicMatches,
  filterWithin,
  isValidTopic,
  isValidFilter,
  isReservedTopic,
  type Principal,
} from './acl.js';
export { hashPassword, verifyPassword, parseHash } from './credentials.js';
