import type { Db } from '../db/schema';

/** Audit rows as the admin reads them, newest first; `before` pages back by id. Reading only: the log is append-only. */
export async function auditLog(db: Db, o: { before?: number; limit?: number }) {
  let q = db.selectFrom('audit_event').select(['id', 'tenant_id', 'context_id', 'actor', 'action', 'subject', 'details', 'created_at']).orderBy('id', 'desc');
  if (o.before !== undefined) q = q.where('id', '<', o.before);
  if (o.limit !== undefined) q = q.limit(o.limit);
  return (await q.execute()).map((e) => ({ ...e, when: new Date(Number(e.created_at)).toISOString().replace('T', ' ').slice(0, 19) }));
}
