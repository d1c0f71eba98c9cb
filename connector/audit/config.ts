/**
 * The `audit` section of the node configuration (zod, strict like the rest of connector/config.ts):
 *
 *   "audit": {
 *     "nodeId": "urn:oid:2.16.578.1.12.4.5.100.1",
 *     "syslog": { "host": "arr.example.no", "port": 6514, "transport": "tls",
 *                 "ca": "/etc/koblingspunkt/arr-ca.pem", "cert": "…/node.pem", "key": "…/node.key" },
 *     "accessLog": { "token": "…", "path": "/audit/access-log" }
 *   }
 *
 * ca / cert / key are file paths (PEM). The access log is served only when a token is set.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { TlsSyslogSender, UdpSyslogSender, type SyslogSender } from './syslog.js';

export const auditConfigSchema = z
  .object({
    /** AuditSourceID of this node; default: the homeCommunityId, else the host name. */
    nodeId: z.string().min(1).optional(),
    /** AuditEnterpriseSiteID (e.g. the organisation number of the operator). */
    enterpriseSiteId: z.string().min(1).optional(),
    syslog: z
      .object({
        host: z.string().min(1),
        /** 6514 is the registered port for syslog over TLS, 514 for UDP. */
        port: z.number().int().min(1).max(65535),
        transport: z.enum(['tls', 'udp']).default('tls'),
        /** PEM file of the CA that signs the repository's certificate. */
        ca: z.string().min(1).optional(),
        /** PEM files of this node's client certificate and key (mutual TLS). */
        cert: z.string().min(1).optional(),
        key: z.string().min(1).optional(),
        /** Most messages sent on one TLS connection and not yet confirmed; reaching it closes the connection to confirm them. */
        maxInFlight: z.number().int().positive().default(100),
        /** Close (and so confirm) the TLS connection after this long without a new message (ms). */
        confirmIdleMs: z.number().int().positive().default(200),
        /** Under continuous traffic, close the TLS connection once its oldest unconfirmed message is this old (ms). */
        confirmMaxMs: z.number().int().positive().default(2000),
        /** Abandon the TLS connection when pending writes made no progress for this long: a hung repository (ms). */
        writeTimeoutMs: z.number().int().positive().default(10_000),
        /** Abandon the TLS connection when the repository does not answer our close within this long (ms). */
        closeTimeoutMs: z.number().int().positive().default(5000),
        /** Give up a connection attempt after this long (ms). */
        connectTimeoutMs: z.number().int().positive().default(5000),
      })
      .strict()
      .refine((s) => (s.cert === undefined) === (s.key === undefined), { message: 'cert and key must be given together' })
      .optional(),
    /** How long a transaction waits for the audit store before leaving the event to the on-disk queue (ms). */
    storeTimeoutMs: z.number().int().positive().default(2000),
    /** Longest delay between delivery retries to an unavailable sink (ms). */
    retryMaxMs: z.number().int().positive().default(60_000),
    accessLog: z
      .object({
        /** Bearer token of the patient access-log API; the API is off while unset. */
        token: z.string().min(16, 'expected a token of at least 16 characters').optional(),
        path: z.string().regex(/^\/[A-Za-z0-9/_.-]*$/, 'expected an absolute URL path').default('/audit/access-log'),
        maxResults: z.number().int().positive().max(100_000).default(1000),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

export type AuditConfig = z.infer<typeof auditConfigSchema>;

/** The syslog sender the configuration asks for (PEM files read now, so a bad path stops the start). */
export function createSyslogSender(syslog: NonNullable<AuditConfig['syslog']>): SyslogSender {
  if (syslog.transport === 'udp') return new UdpSyslogSender({ host: syslog.host, port: syslog.port });
  const read = (path: string): Buffer => readFileSync(path);
  return new TlsSyslogSender({
    host: syslog.host,
    port: syslog.port,
    maxInFlight: syslog.maxInFlight,
    confirmIdleMs: syslog.confirmIdleMs,
    confirmMaxMs: syslog.confirmMaxMs,
    writeTimeoutMs: syslog.writeTimeoutMs,
    closeTimeoutMs: syslog.closeTimeoutMs,
    connectTimeoutMs: syslog.connectTimeoutMs,
    ...(syslog.ca !== undefined ? { ca: read(syslog.ca) } : {}),
    ...(syslog.cert !== undefined ? { cert: read(syslog.cert) } : {}),
    ...(syslog.key !== undefined ? { key: read(syslog.key) } : {}),
  });
}
