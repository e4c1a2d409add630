/**
 * Knowledge tracing inside the running tool: each student's state per (tenant, course, student,
 * bank, model) in `kt_state`, advanced by one step per answer, and the predictions practice and
 * teacher pages read from it.
 *
 * Two estimators keep state side by side:
 * - 'coldstart' (Elo, coldstart.ts, no trained parameters) is always kept, so it serves from a
 *   student's first answer, for a bank with no trained model, and for skills or items added to the
 *   bank after its model was trained;
 * - 'dkt:<model id>' is kept for the bank's active model. When another model becomes active, its
 *   states do not exist yet and are rebuilt from the attempts history on first use (lazily).
 *
 * A stored state says how many answers it has folded in (`steps`). It is used only when that equals
 * the number of the student's non-preview attempts on the bank; otherwise it is rebuilt from the
 * history. So the state is always what a full recompute would give, whoever wrote the attempts.
 *
 * Multi-skill items: every estimator takes exactly one step per answer, on the item's *primary*
 * skill — the lowest skill id among the item's skills that the estimator knows. Training from
 * attempts (commands/trainBankModel.ts) uses the same rule, so serving sees what training saw.
 */
import { z } from 'zod';
import type { Db } from '../db/schema';
import { upsert } from '../db/writes';
import type { Logger } from '../log';
import { EloModel, type EloState } from './coldstart';
import { activeModel, ModelCache, type LoadedModel } from './models';
import type { DktState } from './predict';

export interface StudentKey {
  tenantId: number;
  contextId: string;
  userSub: string;
  bankId: number;
}

/** One answer as `recordAnswer` receives it. */
export interface TracedAnswer {
  itemId: number;
  /** The item's skill ids (database ids, any order). */
  skillIds: number[];
  correct: boolean;
  /** Epoch milliseconds. */
  at: number;
}

export interface KnowledgeTracer {
  /** Per skill id of the bank: the probability the student answers a typical item of that skill correctly next. */
  skillMastery(student: StudentKey): Promise<Map<number, number>>;
  /** P(correct) for each candidate item id (item-aware where the model is). Ids not in the bank are left out. */
  itemSuccess(student: StudentKey, itemIds: number[]): Promise<Map<number, number>>;
  /**
   * Folds ONE answer into the student's stored state; called inside the attempt's own transaction
   * (`db` is that transaction), after the attempt row is inserted. Not for preview attempts.
   */
  recordAnswer(db: Db, student: StudentKey, answer: TracedAnswer): Promise<void>;
  /** Mastery of many students of a course at once (teacher views), in one batch call. */
  classMastery(tenantId: number, contextId: string, bankId: number, userSubs: string[]): Promise<Map<string, Map<number, number>>>;
  /**
   * Forget a student's states (erasure, reset). States are rebuilt from the attempts, so a reset
   * must also remove (or mark as preview) the attempts it should no longer count.
   */
  forget(db: Db, key: Partial<StudentKey> & { tenantId: number }): Promise<void>;
}

export interface TracerDeps {
  db: Db;
  log: Logger;
  /** Loaded models (default: one cache for the whole process, so that tracers made per transaction share it). */
  models?: ModelCache;
}

/** What an estimator folds in. */
interface Answer {
  itemId: number;
  skillIds: readonly number[];
  correct: boolean;
}

/** A per-student knowledge estimator stored under one model_key. */
interface Estimator<S> {
  readonly key: string;
  initial(): S;
  /** Exactly one step. */
  fold(state: S, answer: Answer): void;
  encode(state: S): Buffer;
  decode(bytes: Uint8Array): S;
  /** Per student, P(correct) for the skills it knows among `skillIds`. */
  mastery(states: S[], skillIds: readonly number[]): Map<number, number>[];
  /** P(correct) for the items it can predict. */
  itemSuccess(state: S, items: ReadonlyMap<number, readonly number[]>): Map<number, number>;
}

type Course = Omit<StudentKey, 'userSub'>;

// ---------------------------------------------------------------------------------------------
// Cold start: Elo with per-skill abilities keyed by database skill id, so that skills added to the
// bank later simply start at 0.

interface ColdState {
  global: number;
  globalCount: number;
  skills: Map<number, { theta: number; count: number }>;
}

function coldEstimator(): Estimator<ColdState> {
  // One-skill Elo: each step or prediction views the student's global ability and one skill's.
  const elo = EloModel.untrained(1);
  const view = (s: ColdState, skillId: number | undefined): EloState => {
    const own = skillId === undefined ? undefined : s.skills.get(skillId);
    return { global: s.global, globalCount: s.globalCount, skill: Float64Array.of(own?.theta ?? 0), skillCount: Uint32Array.of(own?.count ?? 0) };
  };
  const primary = (skillIds: readonly number[]): number | undefined => (skillIds.length ? Math.min(...skillIds) : undefined);
  return {
    key: 'coldstart',
    initial: () => ({ global: 0, globalCount: 0, skills: new Map() }),
    fold(state, answer) {
      const skillId = primary(answer.skillIds);
      const v = view(state, skillId);
      elo.step(v, 0, undefined, answer.correct);
      state.global = v.global;
      state.globalCount = v.globalCount;
      if (skillId !== undefined) state.skills.set(skillId, { theta: v.skill[0], count: v.skillCount[0] });
    },
    // Float64: [global, globalCount, then (skill id, θ, count) per skill seen].
    encode(state) {
      const out = new Float64Array(2 + 3 * state.skills.size);
      out[0] = state.global;
      out[1] = state.globalCount;
      let at = 2;
      for (const [id, s] of state.skills) out.set([id, s.theta, s.count], (at += 3) - 3);
      return Buffer.from(out.buffer);
    },
    decode(bytes) {
      const v = new Float64Array(Uint8Array.from(bytes).buffer);
      const skills = new Map<number, { theta: number; count: number }>();
      for (let at = 2; at + 2 < v.length; at += 3) skills.set(v[at], { theta: v[at + 1], count: v[at + 2] });
      return { global: v[0], globalCount: v[1], skills };
    },
    mastery: (states, skillIds) => states.map((s) => new Map(skillIds.map((id) => [id, elo.predictItem(view(s, id), 0)]))),
    itemSuccess(state, items) {
      const out = new Map<number, number>();
      for (const [itemId, skillIds] of items) out.set(itemId, elo.predictItem(view(state, primary(skillIds)), 0));
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// DKT: the LSTM's (h, c).

function dktEstimator(m: LoadedModel): Estimator<DktState> {
  const p = m.predictor;
  const primarySkill = (skillIds: readonly number[]): number | undefined => {
    let best: number | undefined;
    for (const id of skillIds) if (m.skillIndex.has(id) && (best === undefined || id < best)) best = id;
    return best === undefined ? undefined : m.skillIndex.get(best);
  };
  return {
    key: `dkt:${m.id}`,
    initial: () => p.initialState(),
    fold(state, answer) {
      const skill = primarySkill(answer.skillIds);
      // An answer on skills the model never saw leaves (h, c) as they are; the cold-start state covers it.
      if (skill !== undefined) p.step(state, skill, m.itemIndex.get(answer.itemId), answer.correct);
    },
    // Float32: h then c.
    encode(state) {
      const out = new Float32Array(2 * state.h.length);
      out.set(state.h);
      out.set(state.c, state.h.length);
      return Buffer.from(out.buffer);
    },
    decode(bytes) {
      const v = new Float32Array(Uint8Array.from(bytes).buffer);
      const H = v.length / 2;
      return { h: v.slice(0, H), c: v.slice(H) };
    },
    mastery(states, skillIds) {
      return p.predictBatch(states).map((probs) => {
        const out = new Map<number, number>();
        for (const id of skillIds) {
          const k = m.skillIndex.get(id);
          if (k !== undefined) out.set(id, probs[k]);
        }
        return out;
      });
    },
    itemSuccess(state, items) {
      const out = new Map<number, number>();
      for (const [itemId, skillIds] of items) {
        const skill = primarySkill(skillIds);
        if (skill !== undefined) out.set(itemId, p.predictItem(state, skill, m.itemIndex.get(itemId)));
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------

const skillIdsJson = z.array(z.number().int());

/** The attempts a course's students made on a bank's items (non-preview), narrowed to `subs`. */
function attemptsOf(db: Db, course: Course, subs: readonly string[]) {
  return db.selectFrom('attempt')
    .innerJoin('activity', 'activity.id', 'attempt.activity_id')
    .where('attempt.tenant_id', '=', course.tenantId)
    .where('attempt.context_id', '=', course.contextId)
    .where('activity.bank_id', '=', course.bankId)
    .where('attempt.preview', '=', 0)
    .where('attempt.user_sub', 'in', subs);
}

/** Answers each student has given, by user sub. */
async function answerCounts(db: Db, course: Course, subs: readonly string[]): Promise<Map<string, number>> {
  const rows = await attemptsOf(db, course, subs)
    .select((eb) => ['attempt.user_sub', eb.fn.countAll().as('n')])
    .groupBy('attempt.user_sub')
    .execute();
  return new Map(rows.map((r) => [r.user_sub, Number(r.n)]));
}

/** Each student's answers in the order they were given (created_at, then id). */
async function histories(db: Db, course: Course, subs: readonly string[]): Promise<Map<string, Answer[]>> {
  const rows = await attemptsOf(db, course, subs)
    .select(['attempt.user_sub', 'attempt.item_id', 'attempt.skill_ids', 'attempt.correct'])
    .orderBy('attempt.user_sub').orderBy('attempt.created_at').orderBy('attempt.id')
    .execute();
  const out = new Map<string, Answer[]>();
  for (const r of rows) {
    let list = out.get(r.user_sub);
    if (!list) out.set(r.user_sub, (list = []));
    list.push({ itemId: r.item_id, skillIds: skillIdsJson.parse(JSON.parse(r.skill_ids)), correct: Boolean(r.correct) });
  }
  return out;
}

async function storedStates(db: Db, course: Course, subs: readonly string[], key: string): Promise<Map<string, { state: Uint8Array; steps: number }>> {
  const rows = await db.selectFrom('kt_state').select(['user_sub', 'state', 'steps'])
    .where('tenant_id', '=', course.tenantId).where('context_id', '=', course.contextId)
    .where('bank_id', '=', course.bankId).where('model_key', '=', key).where('user_sub', 'in', subs)
    .execute();
  return new Map(rows.map((r) => [r.user_sub, { state: r.state, steps: r.steps }]));
}

async function saveState(db: Db, course: Course, userSub: string, key: string, state: Buffer, steps: number, at: number): Promise<void> {
  await upsert(db, 'kt_state',
    { tenant_id: course.tenantId, context_id: course.contextId, user_sub: userSub, bank_id: course.bankId, model_key: key, state, steps, updated_at: at },
    ['tenant_id', 'context_id', 'user_sub', 'bank_id', 'model_key'], { state, steps, updated_at: at });
}

/**
 * Every student's state under `est`, as a full recompute of their history would give: the stored
 * one when it has folded in exactly `counts` answers, else rebuilt from the attempts and stored.
 */
async function currentStates<S>(db: Db, course: Course, subs: readonly string[], est: Estimator<S>, counts: ReadonlyMap<string, number>): Promise<S[]> {
  const stored = await storedStates(db, course, subs, est.key);
  const stale = subs.filter((sub) => stored.get(sub)?.steps !== (counts.get(sub) ?? 0));
  const rebuilt = new Map<string, S>();
  if (stale.length) {
    const history = await histories(db, course, stale);
    const now = Date.now();
    for (const sub of stale) {
      const answers = history.get(sub) ?? [];
      const state = est.initial();
      for (const a of answers) est.fold(state, a);
      rebuilt.set(sub, state);
      await saveState(db, course, sub, est.key, est.encode(state), answers.length, now);
    }
  }
  return subs.map((sub) => rebuilt.get(sub) ?? est.decode(stored.get(sub)!.state));
}

const processModels = new ModelCache();

export function createTracer(deps: TracerDeps): KnowledgeTracer {
  const { db, log } = deps;
  const models = deps.models ?? processModels;
  const cold = coldEstimator();

  /** The active model's estimator for a tenant's bank, or null while the cold start serves. */
  async function dktFor(conn: Db, tenantId: number, bankId: number): Promise<Estimator<DktState> | null> {
    const active = await activeModel(conn, tenantId, bankId);
    return active ? dktEstimator(await models.get(conn, active.id)) : null;
  }

  async function bankSkillIds(bankId: number): Promise<number[]> {
    const rows = await db.selectFrom('skill').select('id').where('bank_id', '=', bankId).orderBy('id').execute();
    return rows.map((r) => r.id);
  }

  /** Mastery per student: the model's where it knows the skill, the cold start's elsewhere. */
  async function mastery(course: Course, subs: string[]): Promise<Map<number, number>[]> {
    if (subs.length === 0) return [];
    const [skillIds, counts, dkt] = await Promise.all([bankSkillIds(course.bankId), answerCounts(db, course, subs), dktFor(db, course.tenantId, course.bankId)]);
    const fromModel = dkt ? dkt.mastery(await currentStates(db, course, subs, dkt, counts), skillIds) : [];
    const uncovered = skillIds.filter((id) => !fromModel[0]?.has(id));
    const fromCold = uncovered.length ? cold.mastery(await currentStates(db, course, subs, cold, counts), uncovered) : [];
    return subs.map((_, i) => new Map(skillIds.map((id) => [id, fromModel[i]?.get(id) ?? fromCold[i].get(id)!])));
  }

  return {
    async skillMastery(student) {
      return (await mastery(student, [student.userSub]))[0];
    },

    async itemSuccess(student, itemIds) {
      if (itemIds.length === 0) return new Map();
      const rows = await db.selectFrom('item').leftJoin('item_skill', 'item_skill.item_id', 'item.id')
        .select(['item.id as itemId', 'item_skill.skill_id as skillId'])
        .where('item.bank_id', '=', student.bankId).where('item.id', 'in', itemIds)
        .execute();
      const items = new Map<number, number[]>();
      for (const r of rows) {
        let skills = items.get(r.itemId);
        if (!skills) items.set(r.itemId, (skills = []));
        if (r.skillId !== null) skills.push(r.skillId);
      }
      const subs = [student.userSub];
      const [counts, dkt] = await Promise.all([answerCounts(db, student, subs), dktFor(db, student.tenantId, student.bankId)]);
      const fromModel = dkt ? dkt.itemSuccess((await currentStates(db, student, subs, dkt, counts))[0], items) : new Map<number, number>();
      const uncovered = new Map([...items].filter(([id]) => !fromModel.has(id)));
      if (uncovered.size === 0) return fromModel;
      const fromCold = cold.itemSuccess((await currentStates(db, student, subs, cold, counts))[0], uncovered);
      return new Map([...items.keys()].map((id) => [id, fromModel.get(id) ?? fromCold.get(id)!]));
    },

    async recordAnswer(tx, student, answer) {
      const subs = [student.userSub];
      const answered = (await answerCounts(tx, student, subs)).get(student.userSub) ?? 0;
      const advance = async <S>(est: Estimator<S>): Promise<void> => {
        const stored = (await storedStates(tx, student, subs, est.key)).get(student.userSub);
        if (stored && stored.steps === answered - 1) {
          const state = est.decode(stored.state);
          est.fold(state, answer);
          await saveState(tx, student, student.userSub, est.key, est.encode(state), answered, answer.at);
        } else {
          // No state under this model yet, or it missed answers: the history (which holds this answer) rebuilds it.
          if (stored) log.debug('kt state rebuilt', { model: est.key, steps: stored.steps, answered });
          await currentStates(tx, student, subs, est, new Map([[student.userSub, answered]]));
        }
      };
      await advance(cold);
      const dkt = await dktFor(tx, student.tenantId, student.bankId);
      if (dkt) await advance(dkt);
    },

    async classMastery(tenantId, contextId, bankId, userSubs) {
      const subs = [...new Set(userSubs)];
      const all = await mastery({ tenantId, contextId, bankId }, subs);
      return new Map(subs.map((sub, i) => [sub, all[i]]));
    },

    async forget(tx, key) {
      let q = tx.deleteFrom('kt_state').where('tenant_id', '=', key.tenantId);
      if (key.contextId !== undefined) q = q.where('context_id', '=', key.contextId);
      if (key.userSub !== undefined) q = q.where('user_sub', '=', key.userSub);
      if (key.bankId !== undefined) q = q.where('bank_id', '=', key.bankId);
      await q.execute();
    },
  };
}
