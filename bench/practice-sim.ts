/**
 * Simulated students practising through the server's own code (issue 14 item 4): the item is chosen
 * by `currentItem` (the tracer's estimate and the next-item policy), the answer is stored by
 * `recordAttempt` (attempt, tracer step, progress, grade) on a real SQLite database. The students
 * come from generators the estimator does not share; the bench knows their true state, the server
 * sees only their answers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BankContents } from '../src/content/bank-content';
import { connect } from '../src/db/connect';
import { migrateToLatest } from '../src/db/migrate';
import type { Db } from '../src/db/schema';
import { insertReturningId } from '../src/db/writes';
import { isMastered, type SkillEstimate } from '../src/kt/estimate';
import { createTracer } from '../src/kt/tracer';
import { createLogger } from '../src/log';
import type { Activity } from '../src/practice/activities';
import { recordAttempt } from '../src/practice/commands/recordAttempt';
import { currentItem, findPresentation, type Learner, type PracticeDeps } from '../src/practice/practice';
import { NO_OVERRIDES, type TeacherOverrides } from '../src/practice/policy';
import { type ActivitySettings, UNMASTERED_CREDIT } from '../src/practice/settings';
import { mulberry32 } from '../src/random';

const logit = (p: number) => Math.log(p / (1 - p));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
/** A standard normal draw. */
const normal = (rnd: () => number) => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());

/** "Truly mastered": the student's chance on a new item of the skill, as the README's goal means it. */
export const TRUE_GOAL = 0.8;

/** The bank every run uses: skills (with prerequisites, by index) and items per skill. */
export const PREREQS: number[][] = [[], [0], [0], [1], [1, 2], [3, 4]];
export const ITEMS_PER_SKILL = 8;

/** One simulated student, as the bench sees them (the server never does). */
export interface SimStudent {
  /** Answers an item (bank item index); may learn from it. */
  answer(item: number): boolean;
  /** Their chance of answering correctly an item of `skill` they have not seen (mean over those; all items once seen all). */
  chanceOnNew(skill: number, seen: ReadonlySet<number>): number;
}

export interface Generator {
  name: string;
  /** false: the students cannot learn (the bench judges how soon they are paused, not mastery). Default true. */
  learns?: boolean;
  /** A new student; `skillOf[i]` is item i's skill index. */
  student(rnd: () => number, skillOf: readonly number[]): SimStudent;
}

/**
 * BKT-like learners: per student a learning rate, a slip and a guess; a skill is learnt from an item
 * only once its prerequisites are known (rarely before); each item has its own difficulty, drawn
 * independently of the bank's order (which is all the server's cold start knows of it).
 * `learn` scales the learning rates (0: a student who cannot learn).
 */
export function bktLearners(name: string, learn = 1, difficultySeed = 77): Generator {
  const difficulties = new Map<number, number>();
  const difficulty = (item: number) => {
    if (!difficulties.has(item)) difficulties.set(item, 0.7 * normal(mulberry32(difficultySeed * 1009 + item)));
    return difficulties.get(item)!;
  };
  return {
    name,
    learns: learn > 0,
    student(rnd, skillOf) {
      const rate = learn * (0.1 + 0.25 * rnd());
      const slip = 0.05 + 0.1 * rnd();
      const guess = 0.1 + 0.2 * rnd();
      const known = PREREQS.map(() => learn > 0 && rnd() < 0.1);
      const p = (item: number) => sigmoid(logit(known[skillOf[item]] ? 1 - slip : guess) - difficulty(item));
      return {
        answer(item) {
          const correct = rnd() < p(item);
          const s = skillOf[item];
          if (!known[s]) known[s] = rnd() < (PREREQS[s].every((q) => known[q]) ? rate : rate / 10);
          return correct;
        },
        chanceOnNew(skill, seen) {
          const all = skillOf.map((s, i) => (s === skill ? i : -1)).filter((i) => i >= 0);
          const fresh = all.filter((i) => !seen.has(i));
          const pool = fresh.length ? fresh : all;
          return pool.reduce((sum, i) => sum + p(i), 0) / pool.length;
        },
      };
    },
  };
}

/** A student who answers every item wrong (the harness's own check: nothing may be declared mastered). */
export const alwaysWrong: Generator = { name: 'always wrong', learns: false, student: () => ({ answer: () => false, chanceOnNew: () => 0 }) };

/** How items are ordered: the server's policy, the teacher's fixed order (the policy's own override), or random (the bench presents). */
export type Order = 'policy' | 'fixed' | 'random';

export interface SimOptions {
  students: number;
  /** A student stops after this many items if the activity has not finished. */
  maxItems: number;
  seed: number;
  generators: Generator[];
  orders: Order[];
  /** Mastery goal of the activity (the teacher's setting). */
  threshold: number;
}

interface StudentRun {
  /** Items answered until the server declared the goal reached (null: not within maxItems). */
  itemsToGoal: number | null;
  declarations: number;
  falseDeclarations: number;
  /** Skills truly mastered at the end, and of those, not declared. */
  trulyMastered: number;
  undeclared: number;
  /** For each skill the server declared mastered: the answers on it until then. */
  answersToDeclare: number[];
  /** Answers on the first skill practised before the server first paused it (null: never paused). */
  itemsToPause: number | null;
  /** |server's grade − grade from the true chances|, in points out of 100. */
  gradeError: number;
}

export interface ArmResult {
  generator: string;
  order: Order;
  students: number;
  declarations: number;
  /** % of declarations made while the student's true chance on new items was below TRUE_GOAL. */
  falseMasteryPct: number | null;
  /** % of truly mastered skills (at the end) the server had not declared. */
  undeclaredPct: number | null;
  itemsToMastery: { reached: number; median: number | null; p90: number | null };
  /** Answers on a skill until the server declared it mastered, over the skills it declared. */
  answersPerSkillToMastery: { median: number | null; p90: number | null };
  itemsToPause: { paused: number; median: number | null; max: number | null };
  gradeErrorMean: number;
}

const pct = (a: number, b: number) => (b === 0 ? null : Math.round((1000 * a) / b) / 10);
function quantile(xs: number[], q: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))];
}

/** A tenant, the bank (skills with prerequisites, items with their bank order) and one activity per (generator, order). */
async function seedWorld(db: Db) {
  const now = Date.now();
  const tenantId = await insertReturningId(db, 'deployment', { issuer: 'https://bench.test', client_id: 'bench', deployment_id: 'bench', created_at: now });
  const bankId = await insertReturningId(db, 'bank', { tenant_id: tenantId, code: 'bench', title: 'Bench bank', language: 'en', source: 'csv', details: '{}', created_by: null, created_at: now, updated_at: now });
  const skillIds: number[] = [];
  for (let s = 0; s < PREREQS.length; s++) skillIds.push(await insertReturningId(db, 'skill', { bank_id: bankId, code: `s${s}`, name: `Skill ${s}`, details: '{}', position: s }));
  for (let s = 0; s < PREREQS.length; s++) {
    for (const q of PREREQS[s]) await db.insertInto('skill_prerequisite').values({ skill_id: skillIds[s], prerequisite_id: skillIds[q] }).execute();
  }
  const itemIds: number[] = [];
  const skillOf: number[] = [];
  for (let s = 0; s < PREREQS.length; s++) {
    for (let k = 0; k < ITEMS_PER_SKILL; k++) {
      const id = await insertReturningId(db, 'item', { bank_id: bankId, code: `i${s}-${k}`, kind: 'truefalse', language: 'en', body: '{}', position: itemIds.length, created_at: now });
      await db.insertInto('item_skill').values({ item_id: id, skill_id: skillIds[s] }).execute();
      itemIds.push(id);
      skillOf.push(s);
    }
  }
  return { tenantId, bankId, skillIds, itemIds, skillOf };
}

/** Runs every (generator, order) arm on a fresh SQLite database and returns their figures. */
export async function simulate(o: SimOptions): Promise<ArmResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jejak-bench-'));
  const conn = await connect(path.join(dir, 'bench.db'), process.cwd());
  try {
    await migrateToLatest(conn);
    const { db } = conn;
    const world = await seedWorld(db);
    const itemIndex = new Map(world.itemIds.map((id, i) => [id, i]));
    const log = createLogger('error');
    const banks = new BankContents();
    let fixedOrder = false;
    let lastScore = 0;
    let ties = mulberry32(o.seed);
    const deps: PracticeDeps = {
      db, banks, tracer: createTracer({ db, log, banks }),
      tracerWithin: (trx) => createTracer({ db: trx, log, banks }),
      // The grade the server computed for the gradebook, kept instead of sent to an LMS.
      enqueueScore: async (_db, change) => { lastScore = change.scoreGiven; },
      studentOverrides: async (): Promise<TeacherOverrides> => ({ ...NO_OVERRIDES, fixedOrder }),
      // The policy's ties from the run's seed, so that a run can be repeated.
      random: () => ties(),
    };
    const settings: ActivitySettings = { skillIds: world.skillIds, masteryThreshold: o.threshold, length: { kind: 'until_mastered' }, gradeMode: 'mastery' };
    const results: ArmResult[] = [];
    let clock = Date.now();
    for (const gen of o.generators) {
      for (const order of o.orders) {
        fixedOrder = order === 'fixed';
        const activityId = await insertReturningId(db, 'activity', { tenant_id: world.tenantId, context_id: 'bench', bank_id: world.bankId, title: `${gen.name} ${order}`, settings: JSON.stringify(settings), resource_id: `r-${gen.name}-${order}`, line_item_url: null, created_by: null, created_at: clock });
        const activity: Activity = { id: activityId, tenantId: world.tenantId, contextId: 'bench', bankId: world.bankId, title: '', settings, resourceId: '', lineItemUrl: null };
        // The same students (same random stream) meet every order.
        const rnd = mulberry32(o.seed);
        ties = mulberry32(o.seed + 1);
        const runs: StudentRun[] = [];
        for (let n = 0; n < o.students; n++) {
          const sim = gen.student(rnd, world.skillOf);
          const learner: Learner = { tenantId: world.tenantId, contextId: 'bench', userSub: `${gen.name}/${order}/${n}`, activity, preview: false };
          const seen = new Set<number>();
          const declared = new Set<number>();
          const answersOn = new Map<number, number>();
          const run: StudentRun = { answersToDeclare: [], itemsToGoal: null, declarations: 0, falseDeclarations: 0, trulyMastered: 0, undeclared: 0, itemsToPause: null, gradeError: 0 };
          /** Database id of the first skill practised. */
          let firstSkill: number | null = null;
          let estimates = new Map<number, SkillEstimate>();
          let last: number | undefined;
          for (let t = 0; t < o.maxItems; t++) {
            clock += 20_000;
            const cur = await currentItem(deps, learner, clock);
            if (!cur) break;
            if (firstSkill !== null && run.itemsToPause === null && cur.pausedSkills.includes(firstSkill)) run.itemsToPause = answersOn.get(firstSkill)!;
            let shown = cur.presentation;
            if (order === 'random') {
              // The bench's own choice replaces the policy's: any item of the activity but the last one.
              const pool = world.itemIds.filter((id) => id !== last);
              const itemId = pool[Math.floor(rnd() * pool.length)];
              await db.updateTable('practice_presentation').set({ item_id: itemId, skill_id: world.skillIds[world.skillOf[itemIndex.get(itemId)!]] }).where('token', '=', shown.token).execute();
              shown = (await findPresentation(db, learner, shown.token))!;
            }
            last = shown.item_id;
            const item = itemIndex.get(shown.item_id)!;
            const skill = world.skillOf[item];
            firstSkill ??= world.skillIds[skill];
            const correct = sim.answer(item);
            seen.add(item);
            answersOn.set(world.skillIds[skill], (answersOn.get(world.skillIds[skill]) ?? 0) + 1);
            const r = await recordAttempt(deps, { learner, shown, response: { kind: 'truefalse', value: correct }, correct, now: clock + 10_000 });
            estimates = (await deps.tracer.knowledge({ tenantId: world.tenantId, contextId: 'bench', userSub: learner.userSub, bankId: world.bankId })).estimates;
            for (const [s, id] of world.skillIds.entries()) {
              if (declared.has(s) || !isMastered(estimates.get(id), o.threshold)) continue;
              declared.add(s);
              run.declarations++;
              run.answersToDeclare.push(answersOn.get(id) ?? 0);
              if (sim.chanceOnNew(s, seen) < TRUE_GOAL) run.falseDeclarations++;
            }
            if (r.goalReached) {
              run.itemsToGoal = t + 1;
              break;
            }
          }
          let trueGrade = 0;
          for (const [s, id] of world.skillIds.entries()) {
            const chance = sim.chanceOnNew(s, seen);
            const mastered = chance >= TRUE_GOAL;
            if (mastered) {
              run.trulyMastered++;
              if (!isMastered(estimates.get(id), o.threshold)) run.undeclared++;
            }
            // The server's formula (skillCredit) on the true chance: a skill the student never answered earns nothing, as on the server.
            trueGrade += !answersOn.has(id) ? 0 : mastered ? 1 : Math.min(UNMASTERED_CREDIT, chance / o.threshold);
          }
          run.gradeError = Math.abs(lastScore - (100 * trueGrade) / world.skillIds.length);
          lastScore = 0;
          runs.push(run);
        }
        const sum = (f: (r: StudentRun) => number) => runs.reduce((a, r) => a + f(r), 0);
        const toGoal = runs.flatMap((r) => (r.itemsToGoal === null ? [] : [r.itemsToGoal]));
        const toPause = runs.flatMap((r) => (r.itemsToPause === null ? [] : [r.itemsToPause]));
        results.push({
          generator: gen.name, order, students: runs.length,
          declarations: sum((r) => r.declarations),
          falseMasteryPct: pct(sum((r) => r.falseDeclarations), sum((r) => r.declarations)),
          undeclaredPct: pct(sum((r) => r.undeclared), sum((r) => r.trulyMastered)),
          // Students who never reached the goal count as maxItems (so the median is not flattered by leaving them out).
          itemsToMastery: { reached: toGoal.length, median: quantile(runs.map((r) => r.itemsToGoal ?? o.maxItems), 0.5), p90: quantile(runs.map((r) => r.itemsToGoal ?? o.maxItems), 0.9) },
          answersPerSkillToMastery: { median: quantile(runs.flatMap((r) => r.answersToDeclare), 0.5), p90: quantile(runs.flatMap((r) => r.answersToDeclare), 0.9) },
          itemsToPause: { paused: toPause.length, median: quantile(toPause, 0.5), max: toPause.length ? Math.max(...toPause) : null },
          gradeErrorMean: Math.round((10 * sum((r) => r.gradeError)) / runs.length) / 10,
        });
      }
    }
    return results;
  } finally {
    await conn.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
