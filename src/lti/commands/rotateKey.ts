import type { Db } from '../../db/schema';
import { audit } from '../../db/audit';
import { LtijsStore } from '../ltijs-store';
import { newToolKey } from '../platforms';

export interface RotateKeyProps {
  db: Db;
  /** The install secret that seals private keys at rest. */
  secret: string;
  issuer: string;
  clientId: string;
  /** How long the old public key stays in the JWKS, so the platform can still check what it signed. */
  overlapMs: number;
  /** The key to replace as the caller saw it (the schedule); when it is no longer current, another process rotated it. */
  fromKid?: string;
  /** Who asked: 'cli', 'system' (schedule), 'admin'. */
  actor: string;
  now: number;
}

export interface RotatedKey {
  oldKid: string;
  newKid: string;
  removeAfter: number;
}

/** Another process rotated the same key first; nothing was changed. */
export class AlreadyRotated extends Error {}

/**
 * Gives a platform a new signing key: the new pair is stored sealed, the platform's record points
 * ltijs at the new kid (every new client assertion and deep-linking answer is signed with it), and the
 * old key is recorded as retired, published until the overlap ends. Cached access tokens are dropped
 * so that the next service call proves at once that the platform accepts the new key (a platform set
 * up with a fixed public key instead of our JWKS URL fails now, visibly, not an hour later).
 */
export async function rotateKey(props: RotateKeyProps): Promise<RotatedKey> {
  const key = await newToolKey();
  try {
    return await props.db.transaction().execute(async (tx) => {
      const store = new LtijsStore(tx, props.secret);
      const platform = (await store.Get(false, 'platform', { platformUrl: props.issuer, clientId: props.clientId }) || [])[0];
      if (!platform) throw new Error(`no platform ${props.issuer} with client_id ${props.clientId}`);
      const oldKid = String(platform.kid);
      if (props.fromKid !== undefined && props.fromKid !== oldKid) throw new AlreadyRotated(`key ${props.fromKid} of ${props.issuer} was already replaced`);
      const removeAfter = props.now + props.overlapMs;
      // First: the primary key on the old kid makes a concurrent rotation of the same key fail here.
      await tx.insertInto('retired_key').values({
        kid: oldKid, issuer: props.issuer, client_id: props.clientId, successor_kid: key.kid, retired_at: props.now, remove_after: removeAfter,
      }).execute();
      const index = { kid: key.kid, platformUrl: props.issuer, clientId: props.clientId };
      await store.Insert('sealed', 'publickey', { key: key.publicKey, kid: key.kid }, index);
      await store.Insert('sealed', 'privatekey', { key: key.privateKey, kid: key.kid }, index);
      await store.Modify(false, 'platform', { platformUrl: props.issuer, clientId: props.clientId }, { kid: key.kid });
      await store.Delete('accesstoken', { platformUrl: props.issuer, clientId: props.clientId });
      await audit(tx, {
        tenantId: null, actor: props.actor, action: 'keys.rotated', subject: `platform:${props.issuer}#${props.clientId}`,
        details: { oldKid, newKid: key.kid, removeAfter: new Date(removeAfter).toISOString() }, at: props.now,
      });
      return { oldKid, newKid: key.kid, removeAfter };
    });
  } catch (e) {
    if (/unique|duplicate/i.test(String((e as Error).message))) throw new AlreadyRotated(`key of ${props.issuer} (${props.clientId}) was rotated by another process`);
    throw e;
  }
}

/** Deletes both halves of retired keys whose overlap has ended; the JWKS no longer lists them. */
export async function removeRetiredKeys(props: { db: Db; secret: string; now: number }): Promise<string[]> {
  return props.db.transaction().execute(async (tx) => {
    const due = await tx.selectFrom('retired_key').selectAll().where('remove_after', '<=', props.now).execute();
    const store = new LtijsStore(tx, props.secret);
    for (const k of due) {
      await store.Delete('publickey', { kid: k.kid });
      await store.Delete('privatekey', { kid: k.kid });
      await tx.deleteFrom('retired_key').where('kid', '=', k.kid).execute();
      await audit(tx, { tenantId: null, actor: 'system', action: 'keys.removed', subject: `platform:${k.issuer}#${k.client_id}`, details: { kid: k.kid }, at: props.now });
    }
    return due.map((k) => k.kid);
  });
}
