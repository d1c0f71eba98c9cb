/**
 * Every failure a command can meet becomes one CliError: a one-line message and an exit code.
 * run.ts prints the message and exits with the code; nothing else reaches the operator, in
 * particular never a stack trace.
 *
 * Exit codes (also in the help text):
 *   0  done
 *   1  the node answered, but with an error: a RegistryError (its IHE code is in the message), a
 *      SOAP fault, a hash or size that does not match, an import with failed files
 *   2  bad arguments or a bad configuration (with the usage of the command)
 *   3  the node could not be reached, or did not answer in time, or answered something that is not SOAP
 */
import type { RegistryErrorInfo } from '../../registry/model/errors.js';
import { SoapClientError } from '../soap/client.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Bad arguments: exit code 2, and run.ts prints the command's usage after the message. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
    this.name = 'UsageError';
  }
}

/** One RegistryError as the operator reads it: the IHE code first, since that is what to look up. */
export function describeRegistryError(e: RegistryErrorInfo): string {
  const where = e.location !== undefined && e.location !== '' ? ` (at ${e.location})` : '';
  return `${e.code}: ${e.message}${where}`;
}

/** The errors of a registry answer, joined on one line. */
export function describeRegistryErrors(errors: readonly RegistryErrorInfo[]): string {
  return errors.length === 0 ? 'Failure without a RegistryError' : errors.map(describeRegistryError).join('; ');
}

/**
 * A transport failure of the SOAP client as a CliError. A fault is an answer (exit 1); no answer
 * at all, or one that is not SOAP, means the URL is wrong or the node is down (exit 3).
 */
export function fromSoapClientError(e: SoapClientError, url: string): CliError {
  switch (e.kind) {
    case 'fault': {
      const fault = e.details.fault;
      const sub = fault?.subcodes.map((s) => s.local).join('/');
      return new CliError(`the node refused the request: SOAP fault ${fault?.code ?? '?'}${sub ? ` (${sub})` : ''}: ${fault?.reason ?? e.message}`);
    }
    case 'timeout':
      return new CliError(`${url} did not answer in time: ${e.message}`, EXIT.unreachable);
    case 'protocol':
      return new CliError(`${url} did not answer as a koblingspunkt node: ${e.message}`, EXIT.unreachable);
    case 'connection':
    case 'aborted':
      return new CliError(`${e.message} (is the node running? check --url or KOBLINGSPUNKT_URL)`, EXIT.unreachable);
  }
}

/** The message of anything thrown, for the one line on standard error. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
