// Public surface of the HTTP API.
export { createApiServer, type ApiServer, type ApiServerOptions } from './server.js';
export {
  TokenAuth,
  generateToken,
  sha256Hex,
  roleAtLeast,
  bearerToken,
  ROLES,
  type AuthConfig,
  type Principal,
} from './auth.js';
export { openApiDocument } from './openapi.js';
export { MAX_BODY_BYTES, type ApiErrorCode } from './http-io.js';
export { STREAM_PATH } from './routes.js';
export type { ApiPorts, DeviceView, LiveEvent, Role, RuleSummary } from './ports.js';
