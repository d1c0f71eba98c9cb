/** Why a call to a community produced no answer; the gateway turns these into RegistryErrors located at the community. */
export type CommunityErrorKind =
  /** Timed out, refused, reset: XDSUnavailableCommunity. */
  | 'unavailable'
  /** Answered, but with a SOAP fault or something unusable: XDSRegistryError. */
  | 'failed';

export class CommunityError extends Error {
  constructor(
    readonly kind: CommunityErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'CommunityError';
  }
}
