/**
 * Configuration of the node's own listener: plain HTTP or HTTPS, and per endpoint whether a client
 * certificate (mutual TLS) is required, optional or not asked for.
 *
 * A zod fragment for connector/config.ts (`tls: tlsConfigSchema`), strict like the rest: a
 * misspelt key must stop the start rather than leave an endpoint without client authentication.
 */
import { z } from 'zod';

/**
 * required: a request without a verified client certificate gets a SOAP Sender fault;
 * optional: a request may come without one (a certificate that is presented must still verify);
 * off: the certificate is not looked at (it is still verified by TLS when presented).
 */
export const clientCertificateModeSchema = z.enum(['required', 'optional', 'off']);
export type ClientCertificateMode = z.infer<typeof clientCertificateModeSchema>;

const mode = clientCertificateModeSchema.default('required');

export const tlsConfigSchema = z
  .object({
    /**
     * Serve HTTPS. Off by default so that `npm start` runs a complete demo node without
     * certificates; the node then logs a loud warning at start, because plain HTTP carries
     * health data and assertions in clear text.
     */
    enabled: z.boolean().default(false),
    /** PEM file of the node's server certificate (with its chain). */
    certFile: z.string().min(1).optional(),
    /** PEM file of its private key. */
    keyFile: z.string().min(1).optional(),
    /** Passphrase of the private key, when it is encrypted. */
    passphrase: z.string().optional(),
    /** PEM bundle of the CAs whose client certificates are trusted (mutual TLS). */
    caFile: z.string().min(1).optional(),
    /** Oldest TLS version accepted. */
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
    /** Client certificate per endpoint (mutual TLS). */
    clientCertificates: z
      .object({
        registry: mode,
        repository: mode,
        responding: mode,
        initiating: mode,
        /** The patient-block admin API (it has its own bearer token besides). */
        blocksApi: mode,
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (!v.enabled) return;
    if (!v.certFile) ctx.addIssue({ code: 'custom', path: ['certFile'], message: 'required when tls.enabled is true' });
    if (!v.keyFile) ctx.addIssue({ code: 'custom', path: ['keyFile'], message: 'required when tls.enabled is true' });
    // Asking for client certificates without saying which CAs issue them would accept none.
    const wantsClients = Object.values(v.clientCertificates).some((m) => m !== 'off');
    if (wantsClients && !v.caFile) {
      ctx.addIssue({ code: 'custom', path: ['caFile'], message: "required when an endpoint's client certificate is 'required' or 'optional'" });
    }
  });

export type TlsConfig = z.infer<typeof tlsConfigSchema>;
export type TlsConfigInput = z.input<typeof tlsConfigSchema>;
export type TlsEndpoint = keyof TlsConfig['clientCertificates'];
