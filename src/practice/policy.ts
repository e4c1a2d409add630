/**
 * The next-item policy: which item a student should practise now, and why. Pure: everything it needs
 * (the activity's skills, the engine's estimates, what the student did, the teacher's overrides) comes
 * in as data, so its properties can be tested and simulated without a database.
 */
import { isMastered, type SkillEstimate } from '../kt/estimate';

export interface PolicySkill {
  id: number;
  /** Skills that should be mastered first; only those inside the activity are waited for. */
  prerequisites: number[];
}

export interface PolicyItem {
  id: number;
  skillIds: number[];
  /** Order in the bank, for the teacher's fixed order. */
  position: number;
}

/** One answered presentation of this activity, oldest first. */
export interface PolicyHistoryEntry {
  itemId: number;
  /** The skill the item was chosen to practise. */
  skillId: number;
  /** The estimate's p (src/kt/estimate.ts) of that skill when the item was shown. */
  masteryBefore: number;
  /** Why it was chosen. */
  kind: ChoiceKind;
}

export interface TeacherOverrides {
  /** Skills the student may practise whatever their prerequisites and however stuck. */
  unlockedSkills: number[];
  /** Skills left out of this student's practice. */
  skippedSkills: number[];
  /** No adaptivity: the activity's items in the bank's order. */
  fixedOrder: boolean;
}

export const NO_OVERRIDES: TeacherOverrides = { unlockedSkills: [], skippedSkills: [], fixedOrder: false };

export interface PolicyOptions {
  /** Predicted success the policy aims for: hard enough to learn from, easy enough not to discourage. */
  band: [number, number];
  /** At most this many learning items in a row before a mastered skill comes back for review. */
  reviewEvery: number;
  /** A skill is "stuck" after this many attempts on it (counted afresh after each pause)… */
  stuckAttempts: number;
  /** …during which its estimate rose by less than this, ending below the band's upper edge (a student who answers most items right is gathering evidence, not stuck). */
  stuckMinGain: number;
  /** A stuck skill rests for this many items on other skills before it is tried again. */
  stuckRest: number;
}

export const DEFAULT_POLICY: PolicyOptions = { band: [0.6, 0.8], reviewEvery: 10, stuckAttempts: 6, stuckMinGain: 0.05, stuckRest: 4 };

export interface PolicyInput {
  /** The activity's skills, in the teacher's order. */
  skills: PolicySkill[];
  /** Items of the bank that practise at least one of the activity's skills. */
  items: PolicyItem[];
  /** The one estimate per skill id (src/kt/estimate.ts); "mastered" is its status against `threshold`. */
  estimates: ReadonlyMap<number, SkillEstimate>;
  /** The engine's P(correct) on each item's next attempt (with the item's difficulty), per item id. */
  pSuccess: ReadonlyMap<number, number>;
  /** The activity's mastery goal (0–1). */
  threshold: number;
  history: PolicyHistoryEntry[];
  overrides: TeacherOverrides;
  /** Uniform in [0, 1): breaks ties, so two students in the same state do not see the same items. */
  random: () => number;
  /**
   * The student asked for another question of this skill ("try a similar question"): an item of it
   * the student has not seen, when the skill may be practised now (in scope, prerequisites mastered or
   * unlocked, not resting). It goes before a review falling due (which comes next), not before the
   * teacher's fixed order. Otherwise the usual choice.
   */
  preferSkill?: number;
  options?: Partial<PolicyOptions>;
}

/**
 * - learn: an unmastered skill whose prerequisites are mastered;
 * - review: a mastered skill brought back so it is not forgotten (also when everything is mastered);
 *   mastery needs several answers, so a first exposure is never a review;
 * - fixed: the teacher chose a fixed order;
 * - fallback: every unmastered skill the student may practise is resting (stuck), and nothing is
 *   mastered to review: the one that has rested longest is tried again. Never a skill whose
 *   prerequisites are not mastered.
 */
export type ChoiceKind = 'learn' | 'review' | 'fixed' | 'fallback';

export interface PolicyChoice {
  itemId: number;
  skillId: number;
  kind: ChoiceKind;
  /** The estimate's p of the skill and the item's predicted success the choice was made on, to explain it to the student. */
  mastery: number;
  pSuccess: number;
  /** The student has not answered this skill before: the first item of it. */
  firstTime: boolean;
  /** The stuck skill the policy just moved away from, when it did. */
  movedFromStuck: number | null;
  /** Skills resting because the student is stuck on them. */
  pausedSkills: number[];
}

/** The next item, or null when the activity has no item inside its skills. */
export function chooseNextItem(input: PolicyInput): PolicyChoice | null {
  const o = { ...DEFAULT_POLICY, ...input.options };
  const skipped = new Set(input.overrides.skippedSkills);
  const unlocked = new Set(input.overrides.unlockedSkills);
  const scope = input.skills.filter((s) => !skipped.has(s.id));
  const scopeIds = new Set(scope.map((s) => s.id));
  // Stay inside the activity: an item counts only when every skill it practises is one of the activity's.
  const inScope = input.items.filter((i) => i.skillIds.length > 0 && i.skillIds.every((s) => scopeIds.has(s)));
  if (!inScope.length) return null;
  const last = input.history.at(-1);
  // Never the item just answered, unless the activity has no other.
  const items = inScope.length > 1 && last ? inScope.filter((i) => i.id !== last.itemId) : inScope;
  const estimate = (skill: number) => input.estimates.get(skill);
  const mastery = (skill: number) => estimate(skill)?.p ?? 0;
  const pSuccess = (item: number) => input.pSuccess.get(item) ?? 0;
  const isMasteredSkill = (skill: number) => isMastered(estimate(skill), input.threshold);
  const paused = scope.filter((s) => !unlocked.has(s.id) && stuckState(s.id, input.history, mastery(s.id), isMasteredSkill(s.id), o).resting).map((s) => s.id);
  const pausedSet = new Set(paused);
  const choice = (item: PolicyItem, skillId: number, kind: ChoiceKind): PolicyChoice => ({
    itemId: item.id, skillId, kind, mastery: mastery(skillId), pSuccess: pSuccess(item.id), firstTime: (estimate(skillId)?.answers ?? 0) === 0,
    movedFromStuck: last && pausedSet.has(last.skillId) ? last.skillId : null, pausedSkills: paused,
  });

  const seen = new Set(input.history.map((h) => h.itemId));

  if (input.overrides.fixedOrder) {
    const order = new Map(scope.map((s, i) => [s.id, i]));
    const ordered = [...items].sort((a, b) => order.get(a.skillIds[0])! - order.get(b.skillIds[0])! || a.position - b.position || a.id - b.id);
    // Every item once, in order; then round again from the first, never the one just answered.
    const next = ordered.find((i) => !seen.has(i.id)) ?? ordered[0];
    return choice(next, next.skillIds[0], 'fixed');
  }

  const itemsOf = (skill: number) => items.filter((i) => i.skillIds.includes(skill));
  // A prerequisite is waited for only when the student can practise it here (in the activity, with items).
  const ready = (s: PolicySkill) => unlocked.has(s.id) || s.prerequisites.every((p) => !scopeIds.has(p) || !inScope.some((i) => i.skillIds.includes(p)) || isMasteredSkill(p));
  const open = scope.filter((s) => !isMasteredSkill(s.id) && ready(s) && itemsOf(s.id).length > 0);
  const learnable = open.filter((s) => !pausedSet.has(s.id));
  const reviewable = scope.filter((s) => isMasteredSkill(s.id) && ready(s) && itemsOf(s.id).length > 0);

  const pick = (skill: number, kind: ChoiceKind) => choice(bestInBand(itemsOf(skill), pSuccess, o.band, input.history, input.random), skill, kind);

  const preferred = [...learnable, ...reviewable].find((s) => s.id === input.preferSkill && itemsOf(s.id).some((i) => !seen.has(i.id)));
  if (preferred) return pick(preferred.id, isMasteredSkill(preferred.id) ? 'review' : 'learn');

  const sinceReview = itemsSinceReview(input.history);
  if (reviewable.length && (!learnable.length || sinceReview >= o.reviewEvery)) {
    return pick(leastRecentlyPractised(reviewable.map((s) => s.id), input.history), 'review');
  }
  if (learnable.length) {
    const stuck = last && pausedSet.has(last.skillId) ? input.skills.find((s) => s.id === last.skillId) : undefined;
    // Moving away from a stuck skill: its own prerequisites first, they are the likely gap.
    const prerequisites = stuck ? learnable.filter((s) => stuck.prerequisites.includes(s.id)) : [];
    const target = prerequisites[0] ?? chooseLearningSkill(learnable, last?.skillId, mastery);
    return pick(target.id, 'learn');
  }
  // Nothing learnable nor reviewable: every skill the student may practise rests; the one resting longest comes back.
  if (open.length) return pick(leastRecentlyPractised(open.map((s) => s.id), input.history), 'fallback');
  // Every skill is waiting on a prerequisite the student cannot practise here (or there are no items): review anything.
  const any = scope.filter((s) => itemsOf(s.id).length > 0 && ready(s));
  if (!any.length) return null;
  return pick(leastRecentlyPractised(any.map((s) => s.id), input.history), 'fallback');
}

/**
 * A skill's pauses: going through the student's attempts on it, each time `stuckAttempts` attempts
 * (counted since the start or since the last pause) raised its estimate by less than `stuckMinGain`,
 * leaving it below the band's upper edge, while it was not mastered, the skill was paused. It rests (is `resting`) from its latest pause
 * until the student has answered `stuckRest` items of other skills — or the policy, with nothing
 * else to offer, brings it back; tried again, a further run of failures pauses it again.
 */
export function stuckState(skill: number, history: PolicyHistoryEntry[], pNow: number, masteredNow: boolean, o: PolicyOptions): { pauses: number; resting: boolean } {
  const onSkill: number[] = [];
  history.forEach((h, i) => h.skillId === skill && onSkill.push(i));
  const after = (j: number) => (j + 1 < onSkill.length ? history[onSkill[j + 1]].masteryBefore : pNow);
  let pauses = 0;
  let pausedAt = -1;
  let windowStart = 0;
  for (let j = 0; j < onSkill.length; j++) {
    if (j - windowStart + 1 < o.stuckAttempts) continue;
    const from = history[onSkill[j - o.stuckAttempts + 1]].masteryBefore;
    if (after(j) - from < o.stuckMinGain && after(j) < o.band[1] && !(j === onSkill.length - 1 && masteredNow)) {
      pauses++;
      pausedAt = j;
      windowStart = j + 1;
    }
  }
  const lastOnSkill = onSkill.length - 1;
  const resting = !masteredNow && pausedAt >= 0 && pausedAt === lastOnSkill && history.length - 1 - onSkill[lastOnSkill] < o.stuckRest;
  return { pauses, resting };
}

/** Items answered since the last review (or since the start). */
function itemsSinceReview(history: PolicyHistoryEntry[]): number {
  for (let i = history.length - 1; i >= 0; i--) if (history[i].kind === 'review') return history.length - 1 - i;
  return history.length;
}

/** Stay on the skill in progress while it is learnable (fewer context switches); else the one closest to mastery. */
function chooseLearningSkill(learnable: PolicySkill[], current: number | undefined, mastery: (s: number) => number): PolicySkill {
  return learnable.find((s) => s.id === current) ?? [...learnable].sort((a, b) => mastery(b.id) - mastery(a.id))[0];
}

function leastRecentlyPractised(skills: number[], history: PolicyHistoryEntry[]): number {
  const lastSeen = new Map<number, number>();
  history.forEach((h, i) => lastSeen.set(h.skillId, i));
  return [...skills].sort((a, b) => (lastSeen.get(a) ?? -1) - (lastSeen.get(b) ?? -1))[0];
}

/**
 * Among the skill's items the student has seen least (unseen ones while any are left: no item comes
 * back while the skill has new ones), the one whose predicted success is nearest the band (inside it
 * when any is); random among equals.
 */
function bestInBand(candidates: PolicyItem[], pSuccess: (i: number) => number, [lo, hi]: [number, number], history: PolicyHistoryEntry[], random: () => number): PolicyItem {
  const timesSeen = new Map<number, number>();
  for (const h of history) timesSeen.set(h.itemId, (timesSeen.get(h.itemId) ?? 0) + 1);
  const leastSeen = Math.min(...candidates.map((i) => timesSeen.get(i.id) ?? 0));
  const fresh = candidates.filter((i) => (timesSeen.get(i.id) ?? 0) === leastSeen);
  const distance = (p: number) => (p < lo ? lo - p : p > hi ? p - hi : 0);
  let best: PolicyItem[] = [];
  let bestKey = Infinity;
  for (const item of fresh) {
    // Outside the band, distances within 0.05 of each other count as equal.
    const key = Math.ceil(distance(pSuccess(item.id)) / 0.05);
    if (key < bestKey) {
      best = [item];
      bestKey = key;
    } else if (key === bestKey) {
      best.push(item);
    }
  }
  return best[Math.floor(random() * best.length)];
}
