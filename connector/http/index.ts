/** The HTTP(S) layer: listener, mutual-TLS guard and client identity. */
export { tlsConfigSchema, clientCertificateModeSchema, type TlsConfig, type TlsConfigInput, type TlsEndpoint, type ClientCertificateMode } from './config.js';
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
