import type { Db } from '../db/schema';
import { auc, expectedCalibrationError, reliabilityBins, type ReliabilityBin } from '../kt/metrics';

/** One answer with the success probability the model predicted when it chose the item. */
export interface Observation {
  contextId: string;
  /** The group the school named for the student (student_group), or null. */
  group: string | null;
  correct: number;
  predicted: number;
}

export interface GroupReport {
  group: string;
  answers: number;
  auc: number;
  ece: number;
  bins: ReliabilityBin[];
  /** Why the model is clearly worse for this group (empty: it is not). */
  flags: ('auc' | 'calibration')[];
}

export interface CourseReport extends Omit<GroupReport, 'group' | 'flags'> {
  contextId: string;
  groups: GroupReport[];
}

/**
 * The rule for "clearly worse": a group with at least MIN_ANSWERS answers whose AUC is at least
 * AUC_GAP below its course's, or whose expected calibration error is at least ECE_GAP above it.
 * Smaller groups are reported but never flagged: their figures are too noisy to accuse the model.
 */
export const FAIRNESS_RULE = { minAnswers: 50, aucGap: 0.05, eceGap: 0.05 } as const;

/** AUC and calibration per course, and per group within it, with the groups the model serves clearly worse. */
export function fairnessReport(observations: Observation[], bins = 10): CourseReport[] {
  const byCourse = new Map<string, Observation[]>();
  for (const o of observations) byCourse.set(o.contextId, [...(byCourse.get(o.contextId) ?? []), o]);
  const measure = (obs: Observation[]) => {
    const labels = obs.map((o) => o.correct);
    const preds = obs.map((o) => o.predicted);
    return { answers: obs.length, auc: auc(labels, preds), ece: expectedCalibrationError(labels, preds, bins), bins: reliabilityBins(labels, preds, bins) };
  };
  return [...byCourse.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([contextId, obs]) => {
    const course = measure(obs);
    const byGroup = new Map<string, Observation[]>();
    for (const o of obs) if (o.group !== null) byGroup.set(o.group, [...(byGroup.get(o.group) ?? []), o]);
    const groups = [...byGroup.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([group, g]) => {
      const m = measure(g);
      const flags: GroupReport['flags'] = [];
      if (m.answers >= FAIRNESS_RULE.minAnswers) {
        // NaN (a group with only right or only wrong answers) never flags: there is nothing to rank.
        if (course.auc - m.auc >= FAIRNESS_RULE.aucGap) flags.push('auc');
        if (m.ece - course.ece >= FAIRNESS_RULE.eceGap) flags.push('calibration');
      }
      return { group, ...m, flags };
    });
    return { contextId, ...course, groups };
  });
}

/**
 * A tenant's answered items with the prediction the live model made when choosing each (the
 * presentation's reason.pSuccess), so the report measures the model as students met it. Preview
 * answers are left out.
 */
export async function loadObservations(db: Db, tenantId: number): Promise<Observation[]> {
  const rows = await db.selectFrom('practice_presentation as p').innerJoin('attempt as a', 'a.id', 'p.attempt_id')
    .leftJoin('student_group as g', (j) => j.onRef('g.tenant_id', '=', 'p.tenant_id').onRef('g.context_id', '=', 'p.context_id').onRef('g.user_sub', '=', 'p.user_sub'))
    .select(['p.context_id', 'p.reason', 'a.correct', 'g.group_name'])
    .where('p.tenant_id', '=', tenantId).where('p.preview', '=', 0).execute();
  return rows.flatMap((r) => {
    const predicted = (JSON.parse(r.reason) as { pSuccess?: unknown }).pSuccess;
    return typeof predicted === 'number' && predicted >= 0 && predicted <= 1
      ? [{ contextId: r.context_id, group: r.group_name, correct: r.correct, predicted }]
      : [];
  });
}
