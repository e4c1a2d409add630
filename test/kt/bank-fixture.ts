/** A tiny bank, an activity and simulated attempts written straight into the database, for the tracer, model and job tests. */
import { connect, type Connection } from '../../src/db/connect';
import { migrateToLatest } from '../../src/db/migrate';
import type { Db } from '../../src/db/schema';
import { insertReturningId } from '../../src/db/writes';
import { Rng } from '../../src/kt/engine/random';
import type { StudentKey } from '../../src/kt/tracer';
import type { TestDatabase } from '../support/db';

export interface BankFixture {
  tenantId: number;
  bankId: number;
  contextId: string;
  activityId: number;
  skillIds: number[];
  items: { id: number; skillIds: number[]; ease: number }[];
}

export async function openTestDb(tdb: TestDatabase): Promise<Connection> {
  const conn = await connect(tdb.url, process.cwd());
  await migrateToLatest(conn);
  return conn;
}

let tenants = 0;

/**
 * A tenant with a bank of `skills` skills and `itemsPerSkill` items each (every third item also
 * practises the next skill, so multi-skill items are covered), placed as one activity in a course.
 */
export async function seedBank(db: Db, skills = 4, itemsPerSkill = 3): Promise<BankFixture> {
  const now = 1_700_000_000_000;
  const tenantId = await insertReturningId(db, 'deployment', { issuer: 'https://lms.test', client_id: 'client', deployment_id: `d${++tenants}-${Math.random()}`, created_at: now });
  const bankId = await insertReturningId(db, 'bank', { tenant_id: tenantId, code: 'kt-test', title: 'KT test bank', language: 'en', source: 'csv', details: '{}', created_by: null, created_at: now, updated_at: now });
  const skillIds: number[] = [];
  for (let s = 0; s < skills; s++) {
    const id = await insertReturningId(db, 'skill', { bank_id: bankId, code: `s${s}`, name: `Skill ${s}`, details: '{}', position: s });
    skillIds.push(id);
  }
  const items: BankFixture['items'] = [];
  for (let s = 0; s < skills; s++) {
    for (let k = 0; k < itemsPerSkill; k++) {
      const id = await insertReturningId(db, 'item', { bank_id: bankId, code: `i${s}-${k}`, kind: 'truefalse', language: 'en', body: '{}', position: items.length, created_at: now });
      const own = [skillIds[s]];
      if (k === 2 && s + 1 < skills) own.push(skillIds[s + 1]);
      for (const skill of own) await db.insertInto('item_skill').values({ item_id: id, skill_id: skill }).execute();
      items.push({ id, skillIds: own, ease: k - 1 });
    }
  }
  const contextId = 'course-1';
  const activityId = await insertReturningId(db, 'activity', { tenant_id: tenantId, context_id: contextId, bank_id: bankId, title: 'Practice', settings: '{}', resource_id: 'r1', line_item_url: null, created_by: null, created_at: now });
  return { tenantId, bankId, contextId, activityId, skillIds, items };
}

export function studentKey(fx: BankFixture, userSub: string): StudentKey {
  return { tenantId: fx.tenantId, contextId: fx.contextId, userSub, bankId: fx.bankId };
}

export async function insertAttempt(db: Db, fx: BankFixture, a: { userSub: string; itemId: number; correct: boolean; at: number; preview?: boolean }): Promise<void> {
  const item = fx.items.find((i) => i.id === a.itemId)!;
  await db.insertInto('attempt').values({
    tenant_id: fx.tenantId, context_id: fx.contextId, activity_id: fx.activityId, user_sub: a.userSub, item_id: a.itemId,
    // The order the caller lists skills in must not matter: the tracer folds on the lowest id.
    skill_ids: JSON.stringify([...item.skillIds].reverse()), response: '{}', correct: a.correct ? 1 : 0,
    hints_used: 0, duration_ms: 1000, preview: a.preview ? 1 : 0, created_at: a.at,
  }).execute();
}

/** Simulated answers: each student learns each skill at some point; items differ in ease. */
export function simulatedAnswers(fx: BankFixture, steps: number, rng: Rng): { itemId: number; correct: boolean }[] {
  const known = fx.skillIds.map(() => false);
  const out: { itemId: number; correct: boolean }[] = [];
  for (let t = 0; t < steps; t++) {
    const item = fx.items[rng.int(fx.items.length)];
    const s = fx.skillIds.indexOf(item.skillIds[0]);
    const p = (known[s] ? 0.85 : 0.25) + 0.05 * item.ease;
    out.push({ itemId: item.id, correct: rng.next() < p });
    if (!known[s] && rng.next() < 0.25) known[s] = true;
  }
  return out;
}

/** `students` students of the course answering `steps` items each, written as attempts (no states). */
export async function seedAttempts(db: Db, fx: BankFixture, students: number, steps: number, seed = 7): Promise<void> {
  const rng = new Rng(seed);
  let at = 1_700_000_000_000;
  const rows = [];
  for (let s = 0; s < students; s++) {
    for (const a of simulatedAnswers(fx, steps, rng)) {
      const item = fx.items.find((i) => i.id === a.itemId)!;
      rows.push({
        tenant_id: fx.tenantId, context_id: fx.contextId, activity_id: fx.activityId, user_sub: `sim-${s}`, item_id: a.itemId,
        skill_ids: JSON.stringify(item.skillIds), response: '{}', correct: a.correct ? 1 : 0, hints_used: 0, duration_ms: 1000, preview: 0, created_at: (at += 1000),
      });
    }
  }
  for (let i = 0; i < rows.length; i += 200) await db.insertInto('attempt').values(rows.slice(i, i + 200)).execute();
}
