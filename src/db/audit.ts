import type { Db } from './schema';

/**
 * The audit log: who did what to whose data. It is append-only: this module is the only writer and
 * offers no update or delete; migration 0007 adds database triggers that refuse UPDATE and DELETE
 * on audit_event, so not even a stray query can rewrite history.
 */
export interface AuditEntry {
  tenantId: number | null;
  contextId?: string | null;
  /** Who acted: 'lti:<sub>', 'admin', 'cli', 'system'. */
  actor: string;
  action: string;
  subject: string | null;
  details: Record<string, unknown>;
  at: number;
}

/** Appends to the audit log (inside the transaction of the action it records, when there is one). */
export async function audit(tx: Db, e: AuditEntry): Promise<void> {
  await tx.insertInto('audit_event').values({
    tenant_id: e.tenantId,
    context_id: e.contextId ?? null,
    actor: e.actor,
    action: e.action,
    subject: e.subject,
    details: JSON.stringify(e.details),
    created_at: e.at,
  }).execute();
}
