/**
 * Configuration of the node's own listener: plain HTTP or HTTPS, per endpoint whether a client
 * certificate (mutual TLS) is required, optional or not asked for, and the deadlines and memory
 * budget that bound slow or large requests.
 *
 * Zod fragments for connector/config.ts (`tls: tlsConfigSchema`, `http: httpConfigSchema`), strict
 * like the rest: a misspelt key must stop the start rather than leave an endpoint without client
 * authentication or a listener without its limits.
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

/**
 * Deadlines and the memory budget of the listener (deadlines.ts, budget.ts): what a client that
 * sends slowly, or sends much at once, can hold of the node.
 */
export const httpConfigSchema = z
  .object({
    /**
     * Time for a request's line and headers, from its first byte (for a new connection, from
     * accepting it; with TLS, the handshake gets the same time before that); then 408 and the
     * connection is closed. Enforced by Node's own connection check, which runs every tenth of it.
     */
    headersTimeoutMs: z.number().int().min(100).max(600_000).default(20_000),
    /**
     * The slowest accepted body: after the floor, a body must keep arriving at this average rate,
     * so a body of N bytes has at most bodyTimeoutFloorMs + N / rate; then 408 and the connection
     * is closed.
     */
    bodyMinBytesPerSecond: z.number().int().positive().default(64 * 1024),
    /** Time every body gets regardless of its size (a slow start, a small body). */
    bodyTimeoutFloorMs: z.number().int().min(100).max(3_600_000).default(20_000),
    /**
     * Request bytes that all requests in flight may hold in memory together (the bodies read
     * into memory and the envelopes of streamed MTOM uploads, not their spooled documents). A body
     * that would exceed what is left gets 503 with Retry-After. Keep it above
     * limits.maxRequestBytes: a larger declared body could never fit and is refused with 413.
     */
    maxBufferedBytes: z.number().int().positive().default(512 * 1024 * 1024),
  })
  .strict();

export type HttpConfig = z.infer<typeof httpConfigSchema>;
export type HttpConfigInput = z.input<typeof httpConfigSchema>;
