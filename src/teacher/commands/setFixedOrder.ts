import { audit } from '../../db/audit';
import type { TeacherOverrides } from '../../practice/policy';
import { changeOverrides, courseActivity, type StudentCommandProps } from '../overrides';

export interface SetFixedOrderProps extends StudentCommandProps {
  /** True: the student gets the activity's items in the bank's order, without adaptivity. */
  fixedOrder: boolean;
}

/** Lets one student practise without adaptivity (items in order), or gives adaptivity back. */
export async function setFixedOrder(props: SetFixedOrderProps): Promise<TeacherOverrides> {
  return props.db.transaction().execute(async (tx) => {
    const activity = await courseActivity(tx, props.tenantId, props.contextId, props.activityId);
    const result = await changeOverrides(tx, props, props.actor, (o) => ({ ...o, fixedOrder: props.fixedOrder }));
    await audit(tx, {
      tenantId: props.tenantId, contextId: props.contextId, actor: props.actor, action: 'teacher.fixed_order.set',
      subject: `activity:${activity.id}:user:${props.userSub}`, details: { fixedOrder: props.fixedOrder }, at: Date.now(),
    });
    return result;
  });
}
