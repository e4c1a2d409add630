/**
 * Knowledge tracing inside the running tool: each student's state per (tenant, course, student,
 * bank, model) in `kt_state`, advanced by one step per answer, and the estimates (src/kt/estimate.ts)
 * practice and teacher pages read from it.
 *
 * Two estimators keep state side by side:
 * - 'ability:<calibration version>' (the ability filter, estimate.ts) is always kept: it serves from a
 *   student's first answer, for a bank with no trained model, and for skills or items added to the
 *   bank after its model was trained; it also holds the evidence (answers, distinct items) and the
 *   uncertainty every estimate carries, whichever model gives its centre. Its item difficulties come
 *   from the bank's calibration (commands/calibrateBank.ts); a new calibration has a new version, so
 *   states are rebuilt from the history with it (lazily, on first use);
 * - 'dkt:<model id>' is kept for the bank's active model. When another model becomes active, its
 *   states do not exist yet and are rebuilt from the attempts history on first use (lazily).
 *
 * A stored state says how many answers it has folded in (`steps`). It is used only when that equals
 * the number of the student's non-preview attempts on the bank; otherwise it is rebuilt from the
 * history. So the state is always what a full recompute would give, whoever wrote the attempts.
 *
 * Multi-skill items: DKT takes exactly one step per answer, on the item's *primary* skill — the
 * lowest skill id among the item's skills that the model knows (training, commands/trainBankModel.ts,
 * uses the same rule). The ability filter counts the answer as evidence on each of the item's skills.
 */
import { z } from 'zod';
import type { Db } from '../db/schema';
import { upsert } from '../db/writes';
import type { Logger } from '../log';
import { Lru } from '../lru';
import { BankContents, type BankContent } from '../content/bank-content';
import { AbilityFilter, decodeAbility, difficultiesOf, encodeAbility, type AbilityState, type Calibration, type SkillEstimate } from './estimate';
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

/** What the tracer knows of one student at one moment. */
export interface StudentKnowledge {
  /** Per skill id of the bank: the one estimate (estimate.ts) every page, the policy, the goal and the grade read. */
  estimates: Map<number, SkillEstimate>;
  /** P(correct) for each candidate item id (with the item's difficulty). Ids not in the bank are left out. */
  itemSuccess(itemIds: readonly number[]): Map<number, number>;
}

export interface KnowledgeTracer {
  /** The student's current knowledge, read once (a page asks this once and uses it throughout). */
  knowledge(student: StudentKey): Promise<StudentKnowledge>;
  /**
   * Folds ONE answer into the student's stored state and returns the knowledge after it; called inside
   * the attempt's own transaction (`db` is that transaction), after the attempt row is inserted. Not
   * for preview attempts.
   */
  recordAnswer(db: Db, student: StudentKey, answer: TracedAnswer, before?: Reading): Promise<StudentKnowledge>;
  /**
   * What recordAnswer reads, read before the attempt's transaction begins (so that the transaction
   * holds only writes). If another answer of the student lands in between, the state stored is found
   * stale on the next read and rebuilt from the history: never wrong, only recomputed.
   */
  readBeforeAnswer(student: StudentKey): Promise<Reading>;
  /** Estimates of many students of a course at once (teacher views), in one batch call. */
  classEstimates(tenantId: number, contextId: string, bankId: number, userSubs: string[]): Promise<Map<string, Map<number, SkillEstimate>>>;
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
  /** Banks' skills and items (default: a cache of this tracer's own). */
  banks?: BankContents;
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
}

type Course = Omit<StudentKey, 'userSub'>;

// ---------------------------------------------------------------------------------------------
// The ability filter (estimate.ts), over one bank and one calibration.

function abilityEstimator(filter: AbilityFilter, version: number): Estimator<AbilityState> {
  return {
    key: `ability:${version}`,
    initial: () => filter.initial(),
    fold: (state, answer) => filter.step(state, answer.itemId, answer.skillIds, answer.correct),
    encode: encodeAbility,
    decode: decodeAbility,
  };
}

// ---------------------------------------------------------------------------------------------
// DKT: the LSTM's (h, c).

interface DktEstimator extends Estimator<DktState> {
  /** Per student, the model's P(correct) for the skills it knows among `skillIds`. */
  chances(states: DktState[], skillIds: readonly number[]): Map<number, number>[];
  /** P(correct) for the items it can predict. */
  itemSuccess(state: DktState, items: ReadonlyMap<number, readonly number[]>): Map<number, number>;
}

function dktEstimator(m: LoadedModel): DktEstimator {
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
    chances(states, skillIds) {
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

/** Stored states by model key, then by user sub. */
type StoredStates = Map<string, Map<string, { state: Uint8Array; steps: number }>>;

/** The students' stored states under every model key, in one statement. */
async function storedStates(db: Db, course: Course, subs: readonly string[]): Promise<StoredStates> {
  const rows = await db.selectFrom('kt_state').select(['model_key', 'user_sub', 'state', 'steps'])
    .where('tenant_id', '=', course.tenantId).where('context_id', '=', course.contextId)
    .where('bank_id', '=', course.bankId).where('user_sub', 'in', subs)
    .execute();
  return groupStates(rows);
}

/** kt_state rows by model key, then by user sub (rows of a left join without a state are skipped). */
function groupStates(rows: { model_key: string | null; user_sub: string | null; state: Uint8Array | null; steps: number | null }[]): StoredStates {
  const out: StoredStates = new Map();
  for (const r of rows) {
    if (r.model_key === null || r.user_sub === null || r.state === null || r.steps === null) continue;
    let byUser = out.get(r.model_key);
    if (!byUser) out.set(r.model_key, (byUser = new Map()));
    byUser.set(r.user_sub, { state: r.state, steps: r.steps });
  }
  return out;
}

/**
 * What the tracer reads of a course's students before it can answer: answers given, the active model,
 * stored states (for one student, also what recordAnswer is given when read before the transaction).
 */
export interface Reading {
  counts: Map<string, number>;
  modelId: number | null;
  /** The bank's calibration version for the tenant (0: none yet, the defaults). */
  calibration: number;
  stored: StoredStates;
}

/** The tenant's calibration version of a bank, as a subquery. */
function calibrationVersion(db: Db, course: Course) {
  return db.selectFrom('kt_calibration').select('version').where('tenant_id', '=', course.tenantId).where('bank_id', '=', course.bankId);
}

/** One student's reading in one statement: what every page and every answer needs. */
async function readStudent(db: Db, student: StudentKey): Promise<Reading> {
  const subs = [student.userSub];
  const head = db.selectNoFrom((eb) => [
    attemptsOf(db, student, subs).select(eb.fn.countAll().as('n')).as('answered'),
    eb.selectFrom('kt_model').select('id')
      .where('tenant_id', '=', student.tenantId).where('bank_id', '=', student.bankId).where('status', '=', 'active')
      .limit(1).as('model_id'),
    calibrationVersion(db, student).as('calibration'),
  ]);
  // The counts and the model as one row, with the student's states (if any) joined to it.
  const rows = await db.selectFrom(head.as('h'))
    .leftJoin('kt_state as s', (join) => join
      .on('s.tenant_id', '=', student.tenantId).on('s.context_id', '=', student.contextId)
      .on('s.bank_id', '=', student.bankId).on('s.user_sub', '=', student.userSub))
    .select(['h.answered', 'h.model_id', 'h.calibration', 's.model_key', 's.user_sub', 's.state', 's.steps'])
    .execute();
  return {
    counts: new Map([[student.userSub, Number(rows[0]?.answered ?? 0)]]), modelId: rows[0]?.model_id ?? null,
    calibration: Number(rows[0]?.calibration ?? 0), stored: groupStates(rows),
  };
}

async function readClass(db: Db, course: Course, subs: readonly string[]): Promise<Reading> {
  const [counts, active, calibration, stored] = await Promise.all([
    answerCounts(db, course, subs), activeModel(db, course.tenantId, course.bankId), calibrationVersion(db, course).executeTakeFirst(), storedStates(db, course, subs),
  ]);
  return { counts, modelId: active?.id ?? null, calibration: calibration?.version ?? 0, stored };
}

async function saveState(db: Db, course: Course, userSub: string, key: string, state: Buffer, steps: number, at: number): Promise<void> {
  await upsert(db, 'kt_state',
    { tenant_id: course.tenantId, context_id: course.contextId, user_sub: userSub, bank_id: course.bankId, model_key: key, state, steps, updated_at: at },
    ['tenant_id', 'context_id', 'user_sub', 'bank_id', 'model_key'], { state, steps, updated_at: at });
}

/**
 * Every student's state under `est`, as a full recompute of their history would give: the stored
 * one when it has folded in exactly the answers counted, else rebuilt from the attempts and stored.
 */
async function currentStates<S>(db: Db, course: Course, subs: readonly string[], est: Estimator<S>, r: Reading): Promise<S[]> {
  const stored = r.stored.get(est.key);
  const stale = subs.filter((sub) => stored?.get(sub)?.steps !== (r.counts.get(sub) ?? 0));
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
  return subs.map((sub) => rebuilt.get(sub) ?? est.decode(stored!.get(sub)!.state));
}

const processModels = new ModelCache();
/** Calibrations read, by tenant, bank and version (a version's row never changes: a new calibration is a new version). */
const processCalibrations = new Lru<string, Promise<Calibration | undefined>>(256);

const calibrationSchema = z.object({ items: z.record(z.string(), z.number()), skills: z.record(z.string(), z.number()) });

export function createTracer(deps: TracerDeps): KnowledgeTracer {
  const { db, log } = deps;
  const models = deps.models ?? processModels;
  const banks = deps.banks ?? new BankContents();

  const dktOf = async (conn: Db, modelId: number | null): Promise<DktEstimator | null> => (modelId === null ? null : dktEstimator(await models.get(conn, modelId)));

  /** The ability filter of the bank under the tenant's calibration `version` (0: defaults only). */
  async function filterOf(conn: Db, course: Course, bank: BankContent, version: number): Promise<{ filter: AbilityFilter; est: Estimator<AbilityState> }> {
    const key = `${course.tenantId}:${course.bankId}:${version}`;
    let calibration = version === 0 ? Promise.resolve(undefined) : processCalibrations.get(key);
    if (!calibration) {
      calibration = conn.selectFrom('kt_calibration').select('params')
        .where('tenant_id', '=', course.tenantId).where('bank_id', '=', course.bankId).where('version', '=', version)
        .executeTakeFirst().then((r) => r && calibrationSchema.parse(JSON.parse(r.params)));
      calibration.catch(() => processCalibrations.delete(key));
      processCalibrations.set(key, calibration);
    }
    const filter = new AbilityFilter(difficultiesOf(bank, await calibration));
    return { filter, est: abilityEstimator(filter, version) };
  }

  /**
   * Each student's knowledge from their states: the model's chances where it knows the skill or item,
   * the ability filter's elsewhere; evidence and uncertainty always from the ability filter.
   */
  function knowledgeFrom(bank: BankContent, filter: AbilityFilter, dkt: DktEstimator | null, dktStates: DktState[], abilities: AbilityState[]): StudentKnowledge[] {
    const fromModel = dkt ? dkt.chances(dktStates, bank.skillIds) : [];
    return abilities.map((ability, i) => ({
      estimates: new Map(bank.skillIds.map((id) => {
        const p = fromModel[i]?.get(id);
        return [id, p === undefined ? filter.estimate(ability, id) : filter.estimateAround(ability, id, p)];
      })),
      itemSuccess(itemIds) {
        const items = new Map<number, readonly number[]>();
        for (const id of itemIds) {
          const item = bank.items.get(id);
          if (item) items.set(id, item.skillIds);
        }
        const model = dkt ? dkt.itemSuccess(dktStates[i], items) : new Map<number, number>();
        return new Map([...items].map(([id, skillIds]) => [id, model.get(id) ?? filter.itemSuccess(ability, id, skillIds)]));
      },
    }));
  }

  async function knowledgeOf(conn: Db, course: Course, subs: readonly string[], r: Reading): Promise<StudentKnowledge[]> {
    const [bank, dkt] = await Promise.all([banks.bank(conn, course.bankId), dktOf(conn, r.modelId)]);
    const { filter, est } = await filterOf(conn, course, bank, r.calibration);
    const dktStates = dkt ? await currentStates(conn, course, subs, dkt, r) : [];
    return knowledgeFrom(bank, filter, dkt, dktStates, await currentStates(conn, course, subs, est, r));
  }

  return {
    async knowledge(student) {
      return (await knowledgeOf(db, student, [student.userSub], await readStudent(db, student)))[0];
    },

    readBeforeAnswer: (student) => readStudent(db, student),

    async recordAnswer(tx, student, answer, before) {
      const sub = student.userSub;
      // Read before the attempt was inserted, the count is one short of it.
      const r = before ? { ...before, counts: new Map([[sub, (before.counts.get(sub) ?? 0) + 1]]) } : await readStudent(tx, student);
      const answered = r.counts.get(sub) ?? 0;
      const advance = async <S>(est: Estimator<S>): Promise<S> => {
        const stored = r.stored.get(est.key)?.get(sub);
        if (stored && stored.steps === answered - 1) {
          const state = est.decode(stored.state);
          est.fold(state, answer);
          await saveState(tx, student, sub, est.key, est.encode(state), answered, answer.at);
          return state;
        }
        // No state under this model yet, or it missed answers: the history (which holds this answer) rebuilds it.
        if (stored) log.debug('kt state rebuilt', { model: est.key, steps: stored.steps, answered });
        return (await currentStates(tx, student, [sub], est, r))[0];
      };
      const [bank, dkt] = await Promise.all([banks.bank(tx, student.bankId), dktOf(tx, r.modelId)]);
      const { filter, est } = await filterOf(tx, student, bank, r.calibration);
      const ability = await advance(est);
      const dktState = dkt ? await advance(dkt) : undefined;
      return knowledgeFrom(bank, filter, dkt, dktState ? [dktState] : [], [ability])[0];
    },

    async classEstimates(tenantId, contextId, bankId, userSubs) {
      const subs = [...new Set(userSubs)];
      if (subs.length === 0) return new Map();
      const course = { tenantId, contextId, bankId };
      const all = await knowledgeOf(db, course, subs, await readClass(db, course, subs));
      return new Map(subs.map((sub, i) => [sub, all[i].estimates]));
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
