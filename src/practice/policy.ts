/**
 * The next-item policy: which item a student should practise now, and why. Pure: everything it needs
 * (the activity's skills, the engine's estimates, what the student did, the teacher's overrides) comes
 * in as data, so its properties can be tested and simulated without a database.
 */

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
  /** The engine's mastery of that skill when the item was shown. */
  masteryBefore: number;
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
  /** A skill is "stuck" after this many attempts on it… */
  stuckAttempts: number;
  /** …during which its mastery rose by less than this. */
  stuckMinGain: number;
  /** A stuck skill rests for this many items on other skills before it is tried again. */
  stuckRest: number;
}

export const DEFAULT_POLICY: PolicyOptions = { band: [0.6, 0.8], reviewEvery: 6, stuckAttempts: 10, stuckMinGain: 0.05, stuckRest: 10 };

export interface PolicyInput {
  /** The activity's skills, in the teacher's order. */
  skills: PolicySkill[];
  /** Items of the bank that practise at least one of the activity's skills. */
  items: PolicyItem[];
  /** The engine's P(skill mastered), per skill id. */
  mastery: ReadonlyMap<number, number>;
  /** The engine's P(correct) on each item's next attempt, per item id. */
  pSuccess: ReadonlyMap<number, number>;
  /** The activity's mastery goal (0–1). */
  threshold: number;
  history: PolicyHistoryEntry[];
  overrides: TeacherOverrides;
  /** Uniform in [0, 1): breaks ties, so two students in the same state do not see the same items. */
  random: () => number;
  options?: Partial<PolicyOptions>;
}

/**
 * - learn: an unmastered skill whose prerequisites are mastered;
 * - review: a mastered skill brought back so it is not forgotten (also when everything is mastered);
 * - fixed: the teacher chose a fixed order;
 * - fallback: every remaining skill waits for a stuck prerequisite, so one is tried anyway.
 */
export type ChoiceKind = 'learn' | 'review' | 'fixed' | 'fallback';

export interface PolicyChoice {
  itemId: number;
  skillId: number;
  kind: ChoiceKind;
  /** The engine's estimates the choice was made on, to explain it to the student. */
  mastery: number;
  pSuccess: number;
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
  const mastery = (skill: number) => input.mastery.get(skill) ?? 0;
  const pSuccess = (item: number) => input.pSuccess.get(item) ?? 0.5;
  const isMastered = (skill: number) => mastery(skill) >= input.threshold;
  const paused = scope.filter((s) => !unlocked.has(s.id) && isResting(s.id, input.history, mastery(s.id), input.threshold, o)).map((s) => s.id);
  const pausedSet = new Set(paused);
  const choice = (item: PolicyItem, skillId: number, kind: ChoiceKind): PolicyChoice => ({
    itemId: item.id, skillId, kind, mastery: mastery(skillId), pSuccess: pSuccess(item.id),
    movedFromStuck: last && pausedSet.has(last.skillId) ? last.skillId : null, pausedSkills: paused,
  });

  if (input.overrides.fixedOrder) {
    const order = new Map(scope.map((s, i) => [s.id, i]));
    const ordered = [...items].sort((a, b) => order.get(a.skillIds[0])! - order.get(b.skillIds[0])! || a.position - b.position || a.id - b.id);
    const seen = new Set(input.history.map((h) => h.itemId));
    // Every item once, in order; then round again from the first, never the one just answered.
    const next = ordered.find((i) => !seen.has(i.id)) ?? ordered[0];
    return choice(next, next.skillIds[0], 'fixed');
  }

  const itemsOf = (skill: number) => items.filter((i) => i.skillIds.includes(skill));
  const ready = (s: PolicySkill) => unlocked.has(s.id) || s.prerequisites.every((p) => !scopeIds.has(p) || isMastered(p));
  const learnable = scope.filter((s) => !isMastered(s.id) && !pausedSet.has(s.id) && ready(s) && itemsOf(s.id).length > 0);
  const reviewable = scope.filter((s) => isMastered(s.id) && itemsOf(s.id).length > 0);

  const pick = (skill: number, kind: ChoiceKind) => choice(bestInBand(itemsOf(skill), pSuccess, o.band, input.history, input.random), skill, kind);

  const sinceReview = itemsSinceReview(input.history, input.threshold);
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
  // Nothing learnable nor reviewable: every unmastered skill rests or waits on a resting one.
  const remaining = scope.filter((s) => itemsOf(s.id).length > 0);
  const target = remaining.find((s) => !pausedSet.has(s.id)) ?? leastRecentlyPractisedSkill(remaining, input.history);
  return pick(target.id, 'fallback');
}

/**
 * Stuck: the last `stuckAttempts` attempts on the skill raised its mastery by less than `stuckMinGain`
 * and it is still below the goal. It then rests while the student answers `stuckRest` other items.
 */
export function isResting(skill: number, history: PolicyHistoryEntry[], masteryNow: number, threshold: number, o: PolicyOptions): boolean {
  if (masteryNow >= threshold) return false;
  const onSkill: number[] = [];
  history.forEach((h, i) => h.skillId === skill && onSkill.push(i));
  if (onSkill.length < o.stuckAttempts) return false;
  const windowStart = history[onSkill[onSkill.length - o.stuckAttempts]];
  if (masteryNow - windowStart.masteryBefore >= o.stuckMinGain) return false;
  const itemsSince = history.length - 1 - onSkill[onSkill.length - 1];
  return itemsSince < o.stuckRest;
}

/** Items answered since the last review of a skill that was mastered at the time (or since the start). */
function itemsSinceReview(history: PolicyHistoryEntry[], threshold: number): number {
  for (let i = history.length - 1; i >= 0; i--) if (history[i].masteryBefore >= threshold) return history.length - 1 - i;
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

function leastRecentlyPractisedSkill(skills: PolicySkill[], history: PolicyHistoryEntry[]): PolicySkill {
  const id = leastRecentlyPractised(skills.map((s) => s.id), history);
  return skills.find((s) => s.id === id)!;
}

/**
 * The item whose predicted success is nearest the band (inside it when any is), preferring items the
 * student has seen least; random among equals.
 */
function bestInBand(candidates: PolicyItem[], pSuccess: (i: number) => number, [lo, hi]: [number, number], history: PolicyHistoryEntry[], random: () => number): PolicyItem {
  const timesSeen = new Map<number, number>();
  for (const h of history) timesSeen.set(h.itemId, (timesSeen.get(h.itemId) ?? 0) + 1);
  const distance = (p: number) => (p < lo ? lo - p : p > hi ? p - hi : 0);
  let best: PolicyItem[] = [];
  let bestKey: [number, number] = [Infinity, Infinity];
  for (const item of candidates) {
    // Outside the band, distances within 0.05 of each other count as equal, so a fresh item beats a slightly better-fitting old one.
    const key: [number, number] = [Math.ceil(distance(pSuccess(item.id)) / 0.05), timesSeen.get(item.id) ?? 0];
    const cmp = key[0] - bestKey[0] || key[1] - bestKey[1];
    if (cmp < 0) {
      best = [item];
      bestKey = key;
    } else if (cmp === 0) {
      best.push(item);
    }
  }
  return best[Math.floor(random() * best.length)];
}
