/**
 * The node's listener: HTTPS with optional client certificates (mutual TLS) when `tls.enabled`,
 * otherwise plain HTTP with a loud warning, because a plain-HTTP connection point carries
 * patient data and SAML assertions in clear text and must never be mistaken for a secure one.
 * Either way with deadlines for headers and bodies and a memory budget for request bodies
 * (deadlines.ts, budget.ts), so that no client can hold the node's sockets or memory at will.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type express from 'express';
import type winston from 'winston';
import { httpConfigSchema, type HttpConfig, type TlsConfig } from './config.js';
import { BufferBudget } from './budget.js';
import { bodyDeadlines, guardRequests, serverTimeouts } from './deadlines.js';

export interface Listener {
  readonly server: http.Server;
  readonly port: number;
  /** 'https' or 'http'. */
  readonly scheme: 'https' | 'http';
  /** The request bytes held in memory by the requests in flight (http.maxBufferedBytes). */
  readonly budget: BufferBudget;
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read the TLS ${what} ${file}: ${(e as Error).message}`);
  }
}

/** The https.ServerOptions for a TLS configuration (exported for tests and tools). */
export function httpsOptions(tls: TlsConfig): https.ServerOptions {
  if (!tls.certFile || !tls.keyFile) throw new Error('tls.certFile and tls.keyFile are required when tls.enabled is true');
  const wantsClients = Object.values(tls.clientCertificates).some((m) => m !== 'off');
  return {
    cert: readPem(tls.certFile, 'certificate'),
    key: readPem(tls.keyFile, 'private key'),
    ...(tls.passphrase !== undefined ? { passphrase: tls.passphrase } : {}),
    ...(tls.caFile ? { ca: readPem(tls.caFile, 'client CA bundle') } : {}),
    minVersion: tls.minVersion,
    requestCert: wantsClients,
    // Verified, but not enforced during the handshake: the per-endpoint guard (client-cert.ts)
    // answers with a SOAP fault instead, and optional endpoints stay reachable without one.
    rejectUnauthorized: false,
  };
}

/** Creates the listener and waits until it is bound. */
export async function listen(
  app: express.Express | ((req: http.IncomingMessage, res: http.ServerResponse) => void),
  options: {
    tls: TlsConfig;
    /** Deadlines and budget; the defaults when absent. */
    http?: HttpConfig;
    /** The largest request body (limits.maxRequestBytes): sets the backstop of Node's request timeout. */
    maxRequestBytes?: number;
    port: number;
    host: string;
    logger: winston.Logger;
  },
): Promise<Listener> {
  const { tls, logger } = options;
  const limits = options.http ?? httpConfigSchema.parse({});
  const budget = new BufferBudget(limits.maxBufferedBytes);
  const handler = guardRequests(app, bodyDeadlines(limits, budget, logger));
  const timeouts = serverTimeouts(limits, options.maxRequestBytes);
  let server: http.Server;
  if (tls.enabled) {
    // The handshake comes before the headers and gets the same time (Node's default is 120 s).
    const s = https.createServer({ ...httpsOptions(tls), ...timeouts, handshakeTimeout: limits.headersTimeoutMs }, handler);
    // A failed handshake (plain HTTP on the TLS port, a scanner, an expired client) only concerns
    // that one connection; log it quietly and carry on.
    s.on('tlsClientError', (err, socket) => {
      logger.debug('TLS handshake failed', { error: err.message, remoteAddress: socket.remoteAddress });
    });
    server = s;
  } else {
    server = http.createServer(timeouts, handler);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  if (!tls.enabled) {
    logger.warn(
      '*** PLAIN HTTP: this node serves patient data WITHOUT TLS and without client certificates. ' +
        'Use it only for local testing; set tls.enabled with certFile, keyFile and caFile in production. ***',
      { port },
    );
  }
  return { server, port, scheme: tls.enabled ? 'https' : 'http', budget };
}
