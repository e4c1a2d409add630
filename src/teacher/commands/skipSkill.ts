import { audit } from '../../db/audit';
import type { TeacherOverrides } from '../../practice/policy';
import { changeOverrides, courseActivity, NotInCourse, type StudentCommandProps } from '../overrides';

export interface SkipSkillProps extends StudentCommandProps {
  /** A skill of the activity. */
  skillId: number;
  /** True: leave the skill out of this student's practice (and goal); false: bring it back. */
  skipped: boolean;
}

/** Leaves one skill of the activity out of one student's practice, or brings it back. */
export async function skipSkill(props: SkipSkillProps): Promise<TeacherOverrides> {
  return props.db.transaction().execute(async (tx) => {
    const activity = await courseActivity(tx, props.tenantId, props.contextId, props.activityId);
    if (!activity.settings.skillIds.includes(props.skillId)) throw new NotInCourse(`skill ${props.skillId} is not practised in activity ${activity.id}`);
    const result = await changeOverrides(tx, props, props.actor, (o) => ({
      ...o,
      skippedSkills: props.skipped ? [...o.skippedSkills, props.skillId] : o.skippedSkills.filter((s) => s !== props.skillId),
      unlockedSkills: props.skipped ? o.unlockedSkills.filter((s) => s !== props.skillId) : o.unlockedSkills,
    }));
    await audit(tx, {
      tenantId: props.tenantId, contextId: props.contextId, actor: props.actor, action: props.skipped ? 'teacher.skill.skipped' : 'teacher.skill.restored',
      subject: `activity:${activity.id}:user:${props.userSub}`, details: { skillId: props.skillId }, at: Date.now(),
    });
    return result;
  });
}
