import type { Db } from '../../db/schema';
import { audit } from '../../db/audit';
import { sha256 } from '../../crypto';

export interface SignOutAdminProps {
  db: Db;
  /** The session token from the admin cookie. */
  token: string;
  /** The client address, for the audit log. */
  address: string;
}

/** Ends an admin session on the server (its cookie is worthless afterwards, wherever it was copied), with its audit row. */
export async function signOutAdmin(props: SignOutAdminProps): Promise<void> {
  await props.db.transaction().execute(async (tx) => {
    const gone = await tx.deleteFrom('admin_session').where('token_hash', '=', sha256(props.token)).executeTakeFirst();
    if (Number(gone.numDeletedRows) === 0) return;
    await audit(tx, { tenantId: null, actor: 'admin', action: 'admin.signed_out', subject: 'admin', details: { address: props.address }, at: Date.now() });
  });
}
