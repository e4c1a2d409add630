import crypto from 'node:crypto';
import type { Db } from '../db/schema';
import { insertIfAbsent } from '../db/writes';
import { sha256 } from '../crypto';
import { clientKey } from '../web/rate-limit';

/**
 * How many sign-in attempts a bucket allows before each further one waits, doubling from one second up
 * to `capMs`. Delays, not a lockout: the longest wait is bounded, and a browser that signed in before
 * counts in a bucket of its own, so strangers guessing from many addresses cannot keep the real admin out.
 */
const RULES = {
  /** One client address (an IPv6 client's /64). */
  ip: { free: 5, capMs: 15 * 60_000 },
  /** Every attempt from a browser without the device cookie, whatever its address. */
  all: { free: 20, capMs: 5 * 60_000 },
  /** A browser that signed in before (it holds a device cookie signed by the install). */
  device: { free: 5, capMs: 15 * 60_000 },
} as const;
/** A bucket quiet this long starts again from zero. */
const QUIET_MS = 3600_000;

export type SignInBucket = { kind: keyof typeof RULES; bucket: string };

/** The buckets an attempt counts in: its browser's when it holds a device cookie, else its address's and the overall one. */
export function bucketsFor(address: string, deviceId: string | undefined): SignInBucket[] {
  if (deviceId !== undefined) return [{ kind: 'device', bucket: `device:${deviceId}` }];
  return [{ kind: 'ip', bucket: `ip:${clientKey(address)}` }, { kind: 'all', bucket: 'all' }];
}

/** Wait after the n-th attempt in a bucket before the next may be made. */
function delayAfter(kind: keyof typeof RULES, n: number): number {
  const rule = RULES[kind];
  return n < rule.free ? 0 : Math.min(rule.capMs, 1000 * 2 ** Math.min(n - rule.free, 30));
}

/**
 * Counts one attempt in each bucket, if every bucket allows one now; answers how many seconds to wait
 * otherwise. Compare-and-set on the bucket's count: of simultaneous attempts only one is counted and
 * allowed, the others wait (so parallel guesses get no more tries than sequential ones).
 */
export async function claimAttempt(tx: Db, buckets: SignInBucket[], now: number): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }> {
  const rows = await tx.selectFrom('admin_sign_in_limit').selectAll().where('bucket', 'in', buckets.map((b) => b.bucket)).execute();
  const waitMs = Math.max(0, ...rows.map((r) => Number(r.next_allowed_at) - now));
  if (waitMs > 0) return { allowed: false, retryAfterSeconds: Math.ceil(waitMs / 1000) };
  for (const b of buckets) {
    const row = rows.find((r) => r.bucket === b.bucket);
    const before = row && Number(row.last_attempt_at) > now - QUIET_MS ? row.attempts : 0;
    const values = { attempts: before + 1, last_attempt_at: now, next_allowed_at: now + delayAfter(b.kind, before + 1) };
    const counted = row
      ? Number((await tx.updateTable('admin_sign_in_limit').set(values).where('bucket', '=', b.bucket).where('attempts', '=', row.attempts).executeTakeFirst()).numUpdatedRows) === 1
      : await insertIfAbsent(tx, 'admin_sign_in_limit', { bucket: b.bucket, ...values }, ['bucket']);
    if (!counted) return { allowed: false, retryAfterSeconds: 1 };
  }
  return { allowed: true };
}

/** Clears the buckets of a successful attempt. */
export async function clearAttempts(tx: Db, buckets: SignInBucket[]): Promise<void> {
  await tx.deleteFrom('admin_sign_in_limit').where('bucket', 'in', buckets.map((b) => b.bucket)).execute();
}

/** What a session row keeps of the password it signed in with (keyed by the install secret): a new password ends old sessions. */
export function passwordTag(secret: string, password: string): string {
  return crypto.createHmac('sha256', secret).update(`admin-password:${password}`).digest('base64url');
}

/** Whether the admin cookie `token` names a live session signed in with the current password. */
export async function validAdminSession(db: Db, token: unknown, tag: string, now: number): Promise<boolean> {
  if (typeof token !== 'string' || token.length > 100) return false;
  const row = await db.selectFrom('admin_session').select('password_tag').where('token_hash', '=', sha256(token)).where('expires_at', '>', now).executeTakeFirst();
  return row !== undefined && row.password_tag === tag;
}

/** The device cookie: `<id>.<HMAC>`, proof that this browser signed in before. */
export function deviceCookie(secret: string, id: string): string {
  return `${id}.${crypto.createHmac('sha256', secret).update(`admin-device:${id}`).digest('base64url')}`;
}

/** The device id of a genuine device cookie, or undefined. */
export function deviceIdOf(secret: string, value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 200) return undefined;
  const id = value.split('.')[0]!;
  const good = Buffer.from(deviceCookie(secret, id));
  const given = Buffer.from(value);
  return good.length === given.length && crypto.timingSafeEqual(good, given) ? id : undefined;
}

/** Drops ended admin sessions and sign-in buckets that went quiet (the periodic purge). */
export async function purgeAdminSignIns(db: Db, now: number): Promise<void> {
  await db.deleteFrom('admin_session').where('expires_at', '<=', now).execute();
  await db.deleteFrom('admin_sign_in_limit').where('last_attempt_at', '<', now - QUIET_MS).where('next_allowed_at', '<=', now).execute();
}
