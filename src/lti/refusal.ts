/** Why a login, launch or registration was refused: a code that names a translated message. */
export type RefusalReason =
  | 'missing_params' | 'unknown_platform' | 'ambiguous_client' | 'unknown_deployment' | 'bad_target'
  | 'missing_token' | 'unknown_state' | 'browser_mismatch' | 'bad_token' | 'bad_signature' | 'wrong_issuer'
  | 'wrong_audience' | 'expired' | 'not_yet_valid' | 'too_old' | 'nonce_mismatch' | 'replayed'
  | 'bad_message_type' | 'bad_version' | 'missing_claim' | 'target_mismatch' | 'platform_unreachable'
  | 'cookies_disabled' | 'oversize_params' | 'too_many_logins';

/**
 * A refused LTI request. `reason` is shown to the user in their language; `detail` is the precise
 * cause, for the log only.
 */
export class Refusal extends Error {
  constructor(readonly reason: RefusalReason, readonly detail: string, readonly status = 400) {
    super(`${reason}: ${detail}`);
  }
}
