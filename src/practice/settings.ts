import { z } from 'zod';
import { isMastered, MASTERY_EVIDENCE, statusOf, type SkillEstimate } from '../kt/estimate';

/**
 * An activity's settings, as the teacher chose them when placing it (stored as activity.settings).
 * - length: 'range' ends after `max` items, or earlier once the goal is reached and `min` items were
 *   answered; 'until_mastered' ends when the goal is reached.
 * - gradeMode: 'mastery' grades each chosen skill by its estimate (skillCredit); 'accuracy' the share of
 *   correct answers.
 */
export const ActivitySettings = z.object({
  skillIds: z.array(z.number().int().positive()).min(1).max(100),
  masteryThreshold: z.number().min(0.5).max(0.99),
  length: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('range'), min: z.number().int().min(1).max(500), max: z.number().int().min(1).max(500) })
      .refine((l) => l.min <= l.max, { message: 'min must not exceed max' }),
    z.object({ kind: z.literal('until_mastered') }),
  ]),
  gradeMode: z.enum(['mastery', 'accuracy']),
});
export type ActivitySettings = z.infer<typeof ActivitySettings>;

export function parseSettings(json: string): ActivitySettings {
  return ActivitySettings.parse(JSON.parse(json));
}

/** The goal: every skill still in the student's practice is mastered (src/kt/estimate.ts: evidence and lower bound). */
export function goalReached(skillIds: number[], estimates: ReadonlyMap<number, SkillEstimate>, threshold: number): boolean {
  return skillIds.every((s) => isMastered(estimates.get(s), threshold));
}

/** Whether the student has finished the activity after `answered` items. */
export function activityFinished(s: ActivitySettings, answered: number, goal: boolean): boolean {
  if (s.length.kind === 'until_mastered') return goal;
  return answered >= s.length.max || (goal && answered >= s.length.min);
}

/** A skill not mastered yet counts at most this much in a mastery grade: only mastery earns the full share. */
export const UNMASTERED_CREDIT = 0.9;

/**
 * A skill's share in a mastery grade, from the same estimate the student and teacher see: 1 when
 * mastered, 0 when not tried, else the estimate over the goal (at most UNMASTERED_CREDIT).
 */
export function skillCredit(e: SkillEstimate | undefined, threshold: number): number {
  const status = statusOf(e, threshold);
  return status === 'mastered' ? 1 : status === 'not_tried' ? 0 : Math.min(UNMASTERED_CREDIT, e!.p / threshold);
}

/** Score out of 100 per the activity's grading mode, rounded to hundredths. */
export function activityScore(s: ActivitySettings, skillIds: number[], estimates: ReadonlyMap<number, SkillEstimate>, correct: number, answered: number): number {
  const raw = s.gradeMode === 'accuracy'
    ? (answered ? correct / answered : 0)
    : (skillIds.length ? skillIds.reduce((sum, id) => sum + skillCredit(estimates.get(id), s.masteryThreshold), 0) / skillIds.length : 0);
  return Math.round(raw * 10000) / 100;
}

/** Different items a skill should have so that mastery can be shown on new items, not on repeats. */
export const ITEMS_PER_SKILL = 5;

/** What placing an activity warns about: a skill with too few items, or a length beyond the items there are. */
export interface ItemShortage {
  kind: 'skill' | 'length';
  /** For 'skill'. */
  skillId?: number;
  items: number;
  needed: number;
}

/**
 * The activity's items are those entirely inside its skills (as the policy takes them). A skill needs
 * ITEMS_PER_SKILL of them (at least MASTERY_EVIDENCE.minItems to be mastered at all); a range needs
 * as many items as its maximum, or items repeat.
 */
export function itemShortages(s: ActivitySettings, bankItems: Iterable<{ skillIds: readonly number[] }>): ItemShortage[] {
  const chosen = new Set(s.skillIds);
  const items = [...bankItems].filter((i) => i.skillIds.length && i.skillIds.every((id) => chosen.has(id)));
  const needed = Math.max(ITEMS_PER_SKILL, MASTERY_EVIDENCE.minItems);
  const out: ItemShortage[] = s.skillIds.flatMap((skillId) => {
    const n = items.filter((i) => i.skillIds.includes(skillId)).length;
    return n < needed ? [{ kind: 'skill' as const, skillId, items: n, needed }] : [];
  });
  if (s.length.kind === 'range' && items.length < s.length.max) out.push({ kind: 'length', items: items.length, needed: s.length.max });
  return out;
}

/** Minutes a student takes per question (reading it, answering, reading the feedback): the planning figure placing an activity states. */
export const MINUTES_PER_ITEM = 1.5;

/**
 * Answers a student usually gives on a skill before it is mastered: the fewest Jejak accepts
 * (MASTERY_EVIDENCE.minAnswers, a student who already knows it) to about 25, near the 90th
 * percentile (27) bench/practice-report.md measured on simulated students.
 */
export const ANSWERS_TO_MASTERY = { fewest: MASTERY_EVIDENCE.minAnswers, most: 25 } as const;

/**
 * A rough range of questions and minutes for a length and a number of skills, for the teacher placing
 * the activity: minutes rounded to 5 above 10, as the figures are assumptions, not measurements.
 */
export function timeEstimate(length: ActivitySettings['length'], skills: number): { items: [number, number]; minutes: [number, number] } {
  const items: [number, number] = length.kind === 'range' ? [length.min, length.max]
    : [skills * ANSWERS_TO_MASTERY.fewest, skills * ANSWERS_TO_MASTERY.most];
  const round = (m: number) => (m <= 10 ? Math.max(1, Math.round(m)) : Math.round(m / 5) * 5);
  return { items, minutes: [round(items[0] * MINUTES_PER_ITEM), round(items[1] * MINUTES_PER_ITEM)] };
}
