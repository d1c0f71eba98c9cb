/** The HTTP(S) layer: listener, deadlines and memory budget, mutual-TLS guard and client identity. */
export {
  tlsConfigSchema,
  httpConfigSchema,
  clientCertificateModeSchema,
  type TlsConfig,
  type TlsConfigInput,
  type TlsEndpoint,
  type ClientCertificateMode,
  type HttpConfig,
  type HttpConfigInput,
} from './config.js';
export {
  clientIdentity,
  clientCertificateGuard,
  clientCertificateRefusal,
  refuseWithSoapFault,
  refuseWithJson,
  type ClientIdentity,
  type ClientCertificateGuardOptions,
} from './client-cert.js';
export { listen, httpsOptions, type Listener } from './server.js';
export { BufferBudget, BUSY_RETRY_AFTER_SECONDS, requestBuffers, type RequestBuffers } from './budget.js';
export { serverTimeouts, type ServerTimeouts } from './deadlines.js';
