/**
 * Patient ids for a runner session. The node has no Patient Identity Feed, so the runner plays the
 * feed's role: it hands out ids in the assigning authority the node accepts, and ids in another
 * authority where a plan wants an unknown patient (AltPatientId → XDSUnknownPatientId).
 */
import { randomBytes } from 'node:crypto';

export const DEFAULT_PATIENT_AUTHORITY = '1.3.6.1.4.1.21367.2005.13.20.1000';
/** An authority the node is not configured for, so ids in it are unknown patients. */
export const DEFAULT_ALT_PATIENT_AUTHORITY = '1.3.6.1.4.1.21367.2005.13.20.3000';

export class PatientIdAllocator {
  private counter = 0;
  private readonly runTag = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`.toUpperCase();
  constructor(
    readonly authority = DEFAULT_PATIENT_AUTHORITY,
    readonly altAuthority = DEFAULT_ALT_PATIENT_AUTHORITY,
  ) {}

  /** A patient id never handed out before (unique per run and across runs). */
  fresh(): string {
    return `${this.nextLocal()}^^^&${this.authority}&ISO`;
  }

  /** A patient id in the alternate (unaccepted) authority. */
  alternate(): string {
    return `${this.nextLocal()}^^^&${this.altAuthority}&ISO`;
  }

  private nextLocal(): string {
    this.counter += 1;
    return `KP${this.runTag}${this.counter}`;
  }
}
