/**
 * What Jejak knows of one student on one skill, with ONE meaning everywhere: the student's bars, the
 * teacher's heatmap, table, chart and flags, the next-item policy, the goal and the grade all read a
 * {@link SkillEstimate}, whichever model serves it (the ability filter below, or a trained DKT).
 *
 * Meaning: `p` is the chance that the student answers a NEW typical item of the skill correctly
 * (averaged over the skill's items and over what Jejak is still unsure of: with little evidence it
 * stays nearer 50%, so uncertainty already holds it back). "Mastered" means the student will very
 * probably answer a new item correctly: enough evidence (MASTERY_EVIDENCE) and `p` at or above the
 * activity's goal — the same number the student and the teacher see, so "82% and not mastered" with a
 * goal of 80% can only mean too few answers. `low` and `high` bound an 80% range of that chance.
 *
 * Why `p` and not the lower bound: bench:practice (bench/practice-report.md) measured both on
 * simulated students. With the lower bound of the 80% range, false mastery was 0% but half the
 * skills students truly mastered were never declared, and almost no student finished an "until
 * mastered" activity in 200 items; with `p` and 4 answers on 2 items, false mastery stays ≤ 5%.
 *
 * The ability filter (the cold start, served from the first answer) keeps per skill a level θ with
 * how sure it is: a normal belief N(mean, variance) in logits. An item has a difficulty b; the chance
 * of answering it is σ(θ − b). After each answer the belief is updated by the Laplace approximation
 * of Bayes' rule for this logistic model (an extended Kalman filter: precision grows by p(1 − p), the
 * mean moves by variance × (answer − p)), then widened a little (`drift`) because students learn.
 * An answer on one skill moves another only through a prerequisite, and only while that other skill
 * has not been tried: its starting level leans toward the levels of the skills it builds on.
 *
 * Bench and tests drive it without a database: `AbilityFilter` (state in, answer in, estimates out)
 * with `difficultiesOf(bank, calibration)` giving the item difficulties the server would use.
 */

import { z } from 'zod';

/** One student's estimate on one skill. */
export interface SkillEstimate {
  /** P(correct) on a new typical item of the skill. */
  p: number;
  /** 90% credible bounds of that chance: the student's level is above the one giving `low` with 90% probability. */
  low: number;
  high: number;
  /** Answers the student gave on items of the skill. */
  answers: number;
  /** Distinct items among those answers. */
  items: number;
}

/** `paused` is the policy's (the student is stuck and rests from the skill); the estimate itself says the others. */
export type EstimateStatus = 'not_tried' | 'learning' | 'mastered';

/** Mastery needs at least this evidence, whatever the numbers say: one lucky answer, or one item answered again and again, is not mastery. */
export const MASTERY_EVIDENCE = { minAnswers: 4, minItems: 2 } as const;

export function statusOf(e: SkillEstimate | undefined, goal: number): EstimateStatus {
  if (!e || e.answers === 0) return 'not_tried';
  return e.answers >= MASTERY_EVIDENCE.minAnswers && e.items >= MASTERY_EVIDENCE.minItems && e.p >= goal ? 'mastered' : 'learning';
}

export const isMastered = (e: SkillEstimate | undefined, goal: number): boolean => statusOf(e, goal) === 'mastered';

/** Parameters of the ability filter. */
export interface AbilityParams {
  /** Spread (SD, logits) of students' levels on a skill they have not tried. */
  priorSd: number;
  /** Variance added after each answer on a skill: how far a level may move by learning. */
  drift: number;
  /** Difficulty (logits) of an item nothing is known about: σ(−b) is an average student's first-try success. */
  difficulty: number;
  /** Difficulty spread across a skill's items by their position in the bank (first easiest), when no attempts tell. */
  positionSpread: number;
  /** Weight of the skills a skill builds on in its starting level, before it is tried. */
  prerequisiteWeight: number;
}

/**
 * priorSd, drift and difficulty fitted on ASSISTments 2009 (akt_assist2009_pid, fold 1) by
 * `npx tsx bench/estimate-defaults.ts`: every item at the default difficulty (as in a bank with no
 * attempts yet), a grid search minimising the log-loss of each next answer of the 2,491 training
 * students from a fresh state; on the 830 held-out test students (60,915 answers) the log-loss is 0.598.
 * positionSpread and prerequisiteWeight cannot be fitted there (ASSISTments has no bank order nor
 * prerequisites): they are stated assumptions, kept mild.
 */
export const ABILITY_DEFAULTS: Readonly<AbilityParams> = { priorSd: 1.2, drift: 0.06, difficulty: -1, positionSpread: 1, prerequisiteWeight: 0.5 };

/** z of a one-sided 90% bound: `low` and `high` together bound an 80% range. */
const Z90 = 1.2816;

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const logit = (p: number): number => Math.log(p / (1 - p));

/** A skill's level as the filter believes it, and the evidence it rests on. */
export interface SkillAbility {
  mean: number;
  variance: number;
  answers: number;
  /** Distinct item ids answered. */
  items: number[];
}

/** One student's beliefs: skills tried so far, by skill id. */
export type AbilityState = Map<number, SkillAbility>;

/** What the filter knows of a bank: its skills' prerequisites and items' difficulties. */
export interface BankDifficulties {
  /** Skill id → ids of the skills it builds on. */
  prerequisites: ReadonlyMap<number, readonly number[]>;
  /** Item id → difficulty b (logits). */
  item: ReadonlyMap<number, number>;
  /** Skill id → its items' difficulties (a typical item is one of these). */
  skillItems: ReadonlyMap<number, readonly number[]>;
}

/** Item and skill difficulties learned from the tool's own attempts (commands/calibrateBank.ts). */
export interface Calibration {
  /** Item id → difficulty, for items with enough answers. */
  items: Record<string, number>;
  /** Skill id → mean difficulty of its items, for skills with answers: the default of its unanswered items. */
  skills: Record<string, number>;
}

/**
 * How much harder (logits) a teacher's difficulty tag (item.difficulty) makes an item than its skill's
 * level. An assumption, not a fit: the public data sets have no such tags. An average student's first-try
 * chance at the default difficulty, 73%, becomes 88% on an easy item and 50% on a hard one: twice the
 * reach of the position spread (±0.5), since a teacher's judgement of one item says more than its place.
 */
export const DIFFICULTY_TAG_OFFSETS = { easy: -1, medium: 0, hard: 1 } as const;

/**
 * Each item's difficulty: learned from the tool's attempts when calibrated; otherwise its skill's level
 * (learned, else the default) plus the teacher's tag offset when tagged, else spread by position in the
 * skill (the bank's first item of a skill the easiest).
 */
export function difficultiesOf(
  bank: {
    skills: readonly { id: number; prerequisites: readonly number[] }[];
    items: ReadonlyMap<number, { id: number; position: number; skillIds: readonly number[]; difficulty?: keyof typeof DIFFICULTY_TAG_OFFSETS | null }>;
  },
  calibration?: Calibration,
  params: AbilityParams = ABILITY_DEFAULTS,
): BankDifficulties {
  const bySkill = new Map<number, { id: number; position: number; difficulty?: keyof typeof DIFFICULTY_TAG_OFFSETS | null }[]>();
  for (const item of bank.items.values()) {
    const skill = item.skillIds.length ? Math.min(...item.skillIds) : undefined;
    if (skill === undefined) continue;
    let list = bySkill.get(skill);
    if (!list) bySkill.set(skill, (list = []));
    list.push(item);
  }
  const item = new Map<number, number>();
  for (const [skill, list] of bySkill) {
    list.sort((a, b) => a.position - b.position || a.id - b.id);
    const base = calibration?.skills[skill] ?? params.difficulty;
    list.forEach((it, rank) => {
      const spread = list.length > 1 ? params.positionSpread * (rank / (list.length - 1) - 0.5) : 0;
      const offset = it.difficulty ? DIFFICULTY_TAG_OFFSETS[it.difficulty] : spread;
      item.set(it.id, calibration?.items[it.id] ?? base + offset);
    });
  }
  const skillItems = new Map<number, number[]>();
  for (const it of bank.items.values()) {
    for (const s of it.skillIds) {
      let list = skillItems.get(s);
      if (!list) skillItems.set(s, (list = []));
      list.push(item.get(it.id) ?? params.difficulty);
    }
  }
  return { prerequisites: new Map(bank.skills.map((s) => [s.id, s.prerequisites])), item, skillItems };
}

/** The predictive chance on an item of difficulty b for a level N(mean, variance) (probit approximation of the average of σ). */
function predictive(mean: number, variance: number, b: number): number {
  return sigmoid((mean - b) / Math.sqrt(1 + (Math.PI * variance) / 8));
}

/** The ability filter over one bank: pure arithmetic on an AbilityState. */
export class AbilityFilter {
  constructor(
    readonly bank: BankDifficulties,
    readonly params: AbilityParams = ABILITY_DEFAULTS,
  ) {}

  initial(): AbilityState {
    return new Map();
  }

  /**
   * A skill's belief now: its own when tried; otherwise the starting belief, leaning toward the skills
   * it builds on (`prerequisiteWeight` × their mean level; 0 is the average student).
   */
  belief(state: AbilityState, skill: number, visiting: Set<number> = new Set()): SkillAbility {
    const own = state.get(skill);
    if (own) return own;
    const prereqs = (this.bank.prerequisites.get(skill) ?? []).filter((p) => !visiting.has(p));
    visiting.add(skill);
    const lean = prereqs.length ? prereqs.reduce((sum, p) => sum + this.belief(state, p, visiting).mean, 0) / prereqs.length : 0;
    visiting.delete(skill);
    return { mean: this.params.prerequisiteWeight * lean, variance: this.params.priorSd ** 2, answers: 0, items: [] };
  }

  /** Folds one answer in, on every skill the item practises (an item of two skills is evidence on both). */
  step(state: AbilityState, itemId: number, skillIds: readonly number[], correct: boolean): void {
    const b = this.difficulty(itemId);
    for (const skill of skillIds) {
      const s = this.belief(state, skill);
      const p = sigmoid(s.mean - b);
      const variance = 1 / (1 / s.variance + p * (1 - p));
      state.set(skill, {
        mean: s.mean + variance * ((correct ? 1 : 0) - p),
        variance: variance + this.params.drift,
        answers: s.answers + 1,
        items: s.items.includes(itemId) ? s.items : [...s.items, itemId],
      });
    }
  }

  difficulty(itemId: number): number {
    return this.bank.item.get(itemId) ?? this.params.difficulty;
  }

  /** P(correct) on one item (its first skill known to the bank). */
  itemSuccess(state: AbilityState, itemId: number, skillIds: readonly number[]): number {
    const skill = skillIds.length ? Math.min(...skillIds) : undefined;
    const s = skill === undefined ? this.belief(state, -1) : this.belief(state, skill);
    return predictive(s.mean, s.variance, this.difficulty(itemId));
  }

  /** The skill's estimate: chance on a typical item of the skill, with the bounds of its 80% range. */
  estimate(state: AbilityState, skill: number): SkillEstimate {
    const s = this.belief(state, skill);
    const bs = this.bank.skillItems.get(skill) ?? [this.params.difficulty];
    const mean = (f: (b: number) => number) => bs.reduce((sum, b) => sum + f(b), 0) / bs.length;
    const sd = Math.sqrt(s.variance);
    return {
      p: mean((b) => predictive(s.mean, s.variance, b)),
      low: mean((b) => sigmoid(s.mean - Z90 * sd - b)),
      high: mean((b) => sigmoid(s.mean + Z90 * sd - b)),
      answers: s.answers,
      items: s.items.length,
    };
  }

  /**
   * The estimate with a trained model's chance `p` as its centre (DKT): the bounds are the filter's
   * uncertainty on the skill, carried around that centre, so that "mastered" means the same whichever
   * model serves.
   */
  estimateAround(state: AbilityState, skill: number, p: number): SkillEstimate {
    const s = this.belief(state, skill);
    const spread = Z90 * Math.sqrt(s.variance);
    const centre = logit(Math.min(1 - 1e-6, Math.max(1e-6, p)));
    return { p, low: sigmoid(centre - spread), high: sigmoid(centre + spread), answers: s.answers, items: s.items.length };
  }
}

/** Float64 layout of a state: per skill [id, mean, variance, answers, item count, item ids…]. */
export function encodeAbility(state: AbilityState): Buffer {
  const values: number[] = [];
  for (const [id, s] of state) values.push(id, s.mean, s.variance, s.answers, s.items.length, ...s.items);
  return Buffer.from(Float64Array.from(values).buffer);
}

export function decodeAbility(bytes: Uint8Array): AbilityState {
  const v = new Float64Array(Uint8Array.from(bytes).buffer);
  const state: AbilityState = new Map();
  for (let at = 0; at + 4 < v.length;) {
    const n = v[at + 4];
    state.set(v[at], { mean: v[at + 1], variance: v[at + 2], answers: v[at + 3], items: Array.from(v.subarray(at + 5, at + 5 + n)) });
    at += 5 + n;
  }
  return state;
}

/** attempt.estimates: the tried skills among `skillIds`, { skill id: [p, low, high, answers, items] }. */
export function recordedEstimates(skillIds: readonly number[], estimates: ReadonlyMap<number, SkillEstimate>): string {
  const out: Record<string, [number, number, number, number, number]> = {};
  const r4 = (x: number) => Math.round(x * 10000) / 10000;
  for (const id of skillIds) {
    const e = estimates.get(id);
    if (e && e.answers > 0) out[id] = [r4(e.p), r4(e.low), r4(e.high), e.answers, e.items];
  }
  return JSON.stringify(out);
}

/** Reads attempt.estimates back (null or unreadable: nothing recorded). */
export function readRecordedEstimates(json: string | null): Map<number, SkillEstimate> {
  const out = new Map<number, SkillEstimate>();
  if (json === null) return out;
  const parsed = recordedSchema.safeParse(JSON.parse(json));
  if (!parsed.success) return out;
  for (const [id, [p, low, high, answers, items]] of Object.entries(parsed.data)) out.set(Number(id), { p, low, high, answers, items });
  return out;
}

const recordedSchema = z.record(z.string(), z.tuple([z.number(), z.number(), z.number(), z.number(), z.number()]));

/** A skill the tracer has no estimate of (not in the bank's model): nothing known, nothing tried. */
export const NOT_TRIED: Readonly<SkillEstimate> = { p: 0, low: 0, high: 1, answers: 0, items: 0 };
