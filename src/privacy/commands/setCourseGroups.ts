import type { Db } from '../../db/schema';
import { audit } from '../../db/audit';

export interface SetCourseGroupsProps {
  db: Db;
  tenantId: number;
  /** The course the groups belong to. */
  contextId: string;
  /** One group per student (the last line wins for a repeated id); empty clears the course's groups. */
  rows: { userSub: string; group: string }[];
  /** Who uploaded, for the audit log: 'admin'. */
  actor: string;
}

/** Replaces a course's student groups (for the fairness report), with the audit row, in one transaction. */
export async function setCourseGroups(props: SetCourseGroupsProps): Promise<number> {
  const { tenantId, contextId } = props;
  const byUser = new Map(props.rows.map((r) => [r.userSub, r.group]));
  return props.db.transaction().execute(async (tx) => {
    await tx.deleteFrom('student_group').where('tenant_id', '=', tenantId).where('context_id', '=', contextId).execute();
    if (byUser.size) {
      await tx.insertInto('student_group').values([...byUser].map(([user_sub, group_name]) => ({ tenant_id: tenantId, context_id: contextId, user_sub, group_name }))).execute();
    }
    await audit(tx, { tenantId, contextId, actor: props.actor, action: 'privacy.groups.set', subject: `course:${contextId}`, at: Date.now(), details: { students: byUser.size, groups: new Set(byUser.values()).size } });
    return byUser.size;
  });
}
