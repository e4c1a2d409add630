import { audit } from '../../db/audit';
import type { TeacherOverrides } from '../../practice/policy';
import { changeOverrides, courseActivity, NotInCourse, type StudentCommandProps } from '../overrides';

export interface UnlockSkillProps extends StudentCommandProps {
  /** A skill of the activity. */
  skillId: number;
  /** True: the student may practise it whatever its prerequisites and however stuck; false: the policy decides again. */
  unlocked: boolean;
}

/** Opens (or closes again) one skill of the activity for one student, overruling the policy. */
export async function unlockSkill(props: UnlockSkillProps): Promise<TeacherOverrides> {
  return props.db.transaction().execute(async (tx) => {
    const activity = await courseActivity(tx, props.tenantId, props.contextId, props.activityId);
    if (!activity.settings.skillIds.includes(props.skillId)) throw new NotInCourse(`skill ${props.skillId} is not practised in activity ${activity.id}`);
    const result = await changeOverrides(tx, props, props.actor, (o) => ({
      ...o,
      unlockedSkills: props.unlocked ? [...o.unlockedSkills, props.skillId] : o.unlockedSkills.filter((s) => s !== props.skillId),
      // Unlocking a skipped skill brings it back.
      skippedSkills: props.unlocked ? o.skippedSkills.filter((s) => s !== props.skillId) : o.skippedSkills,
    }));
    await audit(tx, {
      tenantId: props.tenantId, contextId: props.contextId, actor: props.actor, action: props.unlocked ? 'teacher.skill.unlocked' : 'teacher.skill.unlock_removed',
      subject: `activity:${activity.id}:user:${props.userSub}`, details: { skillId: props.skillId }, at: Date.now(),
    });
    return result;
  });
}
