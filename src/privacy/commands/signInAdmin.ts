import type { Db } from '../../db/schema';
import { audit } from '../../db/audit';
import { randomToken, sameSecret, sha256 } from '../../crypto';
import { bucketsFor, claimAttempt, clearAttempts, passwordTag } from '../admin-sign-in';

export interface SignInAdminProps {
  db: Db;
  /** The install secret: keys the password tag kept with the session. */
  secret: string;
  /** The configured ADMIN_PASSWORD. */
  password: string;
  /** What the browser typed. */
  given: string;
  /** The client address as express sees it through the trusted proxies. */
  address: string;
  /** The id of the browser's genuine device cookie (it signed in before), if it sent one. */
  deviceId: string | undefined;
  /** How long a session lasts. */
  sessionMs: number;
}

export type SignInResult =
  | { kind: 'signed_in'; token: string }
  | { kind: 'wrong' }
  | { kind: 'wait'; retryAfterSeconds: number };

/**
 * One attempt to sign in to /admin: counted against its address and the overall budget (or its known
 * browser's), refused while a delay runs, and audited when the password was checked. A right password
 * clears its buckets and creates a server-side session, so sign-out and a new password end it.
 */
export async function signInAdmin(props: SignInAdminProps): Promise<SignInResult> {
  const { db, address } = props;
  const now = Date.now();
  const buckets = bucketsFor(address, props.deviceId);
  return db.transaction().execute(async (tx) => {
    const claim = await claimAttempt(tx, buckets, now);
    // A refused attempt is not audited: checking nothing, it has nothing to record, and a flood must not fill the log.
    if (!claim.allowed) return { kind: 'wait', retryAfterSeconds: claim.retryAfterSeconds } as const;
    const details = { address, knownBrowser: props.deviceId !== undefined };
    if (!sameSecret(props.given, props.password)) {
      await audit(tx, { tenantId: null, actor: 'anonymous', action: 'admin.sign_in_failed', subject: 'admin', details, at: now });
      return { kind: 'wrong' } as const;
    }
    await clearAttempts(tx, buckets);
    const token = randomToken(32);
    await tx.insertInto('admin_session').values({
      token_hash: sha256(token), password_tag: passwordTag(props.secret, props.password), created_at: now, expires_at: now + props.sessionMs,
    }).execute();
    await audit(tx, { tenantId: null, actor: 'admin', action: 'admin.signed_in', subject: 'admin', details, at: now });
    return { kind: 'signed_in', token } as const;
  });
}
