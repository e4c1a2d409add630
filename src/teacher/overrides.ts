import type { Db } from '../db/schema';
import { upsert } from '../db/writes';
import type { TeacherOverrides } from '../practice/policy';
import { loadActivity, type Activity } from '../practice/activities';

export interface StudentInActivity {
  tenantId: number;
  activityId: number;
  /** The student's LTI sub. */
  userSub: string;
}

/** What the teacher decided for this student in this activity; the practice policy honours it. */
export async function studentOverrides(db: Db, key: StudentInActivity): Promise<TeacherOverrides> {
  const row = await db.selectFrom('student_override').selectAll()
    .where('tenant_id', '=', key.tenantId).where('activity_id', '=', key.activityId).where('user_sub', '=', key.userSub)
    .executeTakeFirst();
  if (!row) return { unlockedSkills: [], skippedSkills: [], fixedOrder: false };
  return { unlockedSkills: JSON.parse(row.unlocked_skills) as number[], skippedSkills: JSON.parse(row.skipped_skills) as number[], fixedOrder: row.fixed_order === 1 };
}

/** Applies `change` to the student's overrides (inside the caller's transaction) and returns the result. */
export async function changeOverrides(tx: Db, key: StudentInActivity, actor: string, change: (o: TeacherOverrides) => TeacherOverrides): Promise<TeacherOverrides> {
  const next = change(await studentOverrides(tx, key));
  const values = {
    unlocked_skills: JSON.stringify([...new Set(next.unlockedSkills)].sort((a, b) => a - b)),
    skipped_skills: JSON.stringify([...new Set(next.skippedSkills)].sort((a, b) => a - b)),
    fixed_order: next.fixedOrder ? 1 : 0,
    updated_by: actor,
    updated_at: Date.now(),
  };
  await upsert(tx, 'student_override', { tenant_id: key.tenantId, activity_id: key.activityId, user_sub: key.userSub, ...values },
    ['tenant_id', 'activity_id', 'user_sub'], values);
  return next;
}

/** Thrown when a teacher command names an activity or skill outside the teacher's course. */
export class NotInCourse extends Error {}

/** The activity, checked to belong to the teacher's course (tenant and context); NotInCourse otherwise. */
export async function courseActivity(db: Db, tenantId: number, contextId: string, activityId: number): Promise<Activity> {
  const activity = await loadActivity(db, tenantId, activityId);
  if (!activity || activity.contextId !== contextId) throw new NotInCourse(`activity ${activityId} is not in course ${contextId} of tenant ${tenantId}`);
  return activity;
}

/** What every teacher command about one student in one activity is told. */
export interface StudentCommandProps {
  /** The database; the command runs its own transaction. */
  db: Db;
  tenantId: number;
  /** The teacher's course: the activity must belong to it. */
  contextId: string;
  activityId: number;
  /** The student's LTI sub. */
  userSub: string;
  /** Who acted, for the audit log: 'lti:<sub>' of the teacher. */
  actor: string;
}
