import type { Db } from '../../db/schema';
import { audit } from '../../db/audit';
import { NotInCourse } from '../../teacher/overrides';
import { learnerDataCounts, studentData, type StudentData } from '../data';

export interface ExportStudentDataProps {
  db: Db;
  /** The student's tenant (deployment). */
  tenantId: number;
  /** The student's LTI user id (`sub`). */
  userSub: string;
  /** Only this course (a teacher's export); null or absent = every course of the tenant. */
  contextId?: string | null;
  /**
   * Refuse (NotInCourse) a user who has no part in the course — not on its roster, never launched
   * there, no data there: a teacher exports only their own course's students, whatever id the URL names.
   */
  membersOnly?: boolean;
  /** Who asked, for the audit log: 'lti:<sub>' (the student or a teacher), 'admin', 'cli'. */
  actor: string;
  /** The format handed out, for the audit log. */
  format: 'json' | 'csv';
}

/** Reads a student's complete data and records who exported it, in one transaction (the read is what is logged). */
export async function exportStudentData(props: ExportStudentDataProps): Promise<StudentData> {
  const { tenantId, userSub } = props;
  const contextId = props.contextId ?? null;
  return props.db.transaction().execute(async (tx) => {
    if (props.membersOnly) {
      if (contextId === null) throw new NotInCourse('a members-only export needs a course');
      const counts = await learnerDataCounts(tx, { tenantId, contextId, userSub });
      if (!Object.values(counts).some((n) => n > 0)) throw new NotInCourse(`user ${userSub} has no part in course ${contextId} of tenant ${tenantId}`);
    }
    const now = Date.now();
    const data = await studentData(tx, { tenantId, userSub, contextId }, now);
    const rows = Object.fromEntries(Object.entries(data.tables).map(([t, r]) => [t, r.length]));
    await audit(tx, { tenantId, contextId, actor: props.actor, action: 'privacy.exported', subject: `user:${userSub}`, at: now, details: { format: props.format, rows } });
    return data;
  });
}
