import { expect } from 'chai';
import { MoodleSim } from '../platform';
import { HttpBrowser, launch, type LaunchHelperOptions } from '../support/http-browser';
import type { TestDatabase } from '../support/db';
import { registerDynamically, startTool, type RunningTool } from '../support/tool';
import type { Config } from '../../src/config';
import { insertReturningId } from '../../src/db/writes';
import { createActivity, linkActivity } from '../../src/practice/activities';
import { enqueueScore } from '../../src/grades/outbox';
import { recordedEstimates } from '../../src/kt/estimate';

/** Fast delivery for tests: the sender polls every 20 ms and backs off from 20 ms. */
export const FAST_GRADES: Config['grades'] = { pollMs: 20, retryBaseMs: 20, retryMaxMs: 200, maxTries: 60, requestTimeoutMs: 2000 };

/**
 * A Moodle course (the simulator's default: Terry Teacher, Sam, Sasha and Sandi) with Jejak registered
 * dynamically, a bank of three skills with two items each, and a practice activity placed on an
 * activity link that accepts grades.
 */
export class Classroom {
  tool!: RunningTool;
  sim!: MoodleSim;
  clientId!: string;
  courseId!: string;
  teacherId!: string;
  studentIds!: string[];
  linkId!: string;
  tenantId!: number;
  activityId!: number;
  skillIds!: number[];
  /** Item ids per skill (index as skillIds). */
  itemIds!: number[][];

  constructor(readonly tdb: TestDatabase, readonly overrides: Partial<Config> = {}) {}

  static async open(tdb: TestDatabase, overrides: Partial<Config> = {}, lineItem = true): Promise<Classroom> {
    const c = new Classroom(tdb, overrides);
    c.tool = await startTool(tdb, { grades: FAST_GRADES, ...overrides });
    c.sim = await MoodleSim.start();
    c.clientId = await registerDynamically(c.sim, c.tool.jejak.urls.registration);
    const seeded = c.sim.seedDefault();
    c.courseId = seeded.course.id;
    c.teacherId = seeded.teacher.id;
    c.studentIds = seeded.students.map((s) => s.id);
    c.linkId = c.sim.addActivity({ courseId: c.courseId, clientId: c.clientId, title: 'Pecahan', lineItem: lineItem ? { scoreMaximum: 100, label: 'Pecahan' } : undefined });
    const deploymentId = c.sim.tool(c.clientId).deploymentIds[0]!;
    c.tenantId = (await c.tool.jejak.platforms.tenantId(c.sim.issuer, c.clientId, deploymentId))!;
    await c.seedActivity(c.courseId, c.linkId);
    return c;
  }

  get db() {
    return this.tool.jejak.conn.db;
  }

  /** A bank with three skills (two items each) and an activity of `courseId` on resource link `linkId`. */
  async seedActivity(courseId: string, linkId: string): Promise<number> {
    const now = Date.now();
    const db = this.db;
    const bankId = await insertReturningId(db, 'bank', {
      tenant_id: this.tenantId, code: `test-${linkId}-${now}`, title: 'Pecahan', language: 'id', source: 'csv', details: '{}', created_by: null, created_at: now, updated_at: now,
    });
    this.skillIds = [];
    this.itemIds = [];
    for (const [i, name] of ['Menjumlah pecahan', 'Membandingkan pecahan', 'Desimal'].entries()) {
      const skillId = await insertReturningId(db, 'skill', { bank_id: bankId, code: `s${i}`, name, details: '{}', position: i });
      this.skillIds.push(skillId);
      const items: number[] = [];
      for (const j of [0, 1]) {
        const itemId = await insertReturningId(db, 'item', { bank_id: bankId, code: `q${i}-${j}`, kind: 'truefalse', language: 'id', body: '{}', position: i * 2 + j, created_at: now });
        await db.insertInto('item_skill').values({ item_id: itemId, skill_id: skillId }).execute();
        items.push(itemId);
      }
      this.itemIds.push(items);
    }
    const activity = await createActivity(db, {
      tenantId: this.tenantId, contextId: courseId, bankId, title: 'Pecahan',
      settings: { skillIds: this.skillIds, masteryThreshold: 0.8, length: { kind: 'until_mastered' }, gradeMode: 'mastery' }, createdBy: 'test',
    });
    await linkActivity(db, this.tenantId, courseId, linkId, activity.id);
    this.activityId = activity.id;
    return activity.id;
  }

  /** A launch through the simulator; returns the session's base URL (…/s/<sid>) and the browser. */
  async launch(userId: string, extra: Partial<LaunchHelperOptions> = {}): Promise<{ base: string; browser: HttpBrowser; sid: string }> {
    const r = await launch(this.sim, { clientId: this.clientId, userId, courseId: this.courseId, activityId: this.linkId, ...extra });
    const m = /\/s\/([\w-]+)\//.exec(r.final.url);
    expect(m, `${r.final.status} ${r.final.url}`).to.not.equal(null);
    return { base: `${this.tool.url}/s/${m![1]}`, browser: r.browser, sid: m![1] };
  }

  /** A student's answer, stored as practice stores it: the attempt and its score in one transaction. */
  async answer(userSub: string, itemId: number, correct: boolean, o: { at?: number; score?: number; durationMs?: number; activityId?: number; contextId?: string } = {}): Promise<void> {
    const at = o.at ?? Date.now();
    const skill = (await this.db.selectFrom('item_skill').select('skill_id').where('item_id', '=', itemId).execute()).map((r) => r.skill_id);
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('attempt').values({
        tenant_id: this.tenantId, context_id: o.contextId ?? this.courseId, activity_id: o.activityId ?? this.activityId, user_sub: userSub, item_id: itemId,
        skill_ids: JSON.stringify(skill), response: '{}', correct: correct ? 1 : 0, hints_used: 0, duration_ms: o.durationMs ?? 8000, preview: 0, created_at: at,
      }).execute();
      if (o.score !== undefined) {
        await enqueueScore(trx, {
          tenantId: this.tenantId, contextId: o.contextId ?? this.courseId, activityId: o.activityId ?? this.activityId, userSub,
          scoreGiven: o.score, scoreMaximum: 100, activityProgress: o.score >= 100 ? 'Completed' : 'InProgress',
          gradingProgress: 'FullyGraded', timestamp: new Date(at).toISOString(),
        });
      }
    });
  }

  /**
   * A student's answer as practice stores it when the policy chose the item: the presentation (why it
   * was shown, with the estimate then), the attempt, the tracer's step and the estimates recorded on
   * the attempt (the teacher's chart and flags read those), in one transaction.
   */
  async practise(userSub: string, itemId: number, correct: boolean, o: { at?: number; durationMs?: number } = {}): Promise<void> {
    const at = o.at ?? Date.now();
    const { tracer } = this.tool.jejak;
    const skillIds = (await this.db.selectFrom('item_skill').select('skill_id').where('item_id', '=', itemId).orderBy('skill_id').execute()).map((r) => r.skill_id);
    const activity = await this.db.selectFrom('activity').select(['bank_id', 'settings']).where('id', '=', this.activityId).executeTakeFirstOrThrow();
    const key = { tenantId: this.tenantId, contextId: this.courseId, userSub, bankId: activity.bank_id };
    const before = await tracer.knowledge(key);
    const shown = before.estimates.get(skillIds[0])!;
    await this.db.transaction().execute(async (trx) => {
      const attemptId = await insertReturningId(trx, 'attempt', {
        tenant_id: this.tenantId, context_id: this.courseId, activity_id: this.activityId, user_sub: userSub, item_id: itemId,
        skill_ids: JSON.stringify(skillIds), response: '{}', correct: correct ? 1 : 0, hints_used: 0, duration_ms: o.durationMs ?? 8000, preview: 0, created_at: at,
      });
      const after = await tracer.recordAnswer(trx, key, { itemId, skillIds, correct, at });
      await trx.updateTable('attempt').set({ estimates: recordedEstimates(JSON.parse(activity.settings).skillIds, after.estimates) }).where('id', '=', attemptId).execute();
      const reason = { kind: 'learn', mastery: shown.p, pSuccess: before.itemSuccess([itemId]).get(itemId)!, firstTime: shown.answers === 0, movedFromStuck: null };
      await trx.insertInto('practice_presentation').values({
        token: `t-${attemptId}`, tenant_id: this.tenantId, context_id: this.courseId, activity_id: this.activityId, user_sub: userSub, preview: 0,
        item_id: itemId, skill_id: skillIds[0], reason: JSON.stringify(reason), hints_used: 0, solution_shown: 0, presented_at: at - 1, answered_at: at, attempt_id: attemptId,
      }).execute();
    });
  }

  async close(): Promise<void> {
    await this.sim?.close();
    await this.tool?.close();
  }
}

/** Polls `check` until it holds (or fails the test after `ms`). */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
