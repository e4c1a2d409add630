import { z } from 'zod';
import { audit } from '../../db/audit';
import type { Db } from '../../db/schema';
import { upsert } from '../../db/writes';
import { readBankContent } from '../../content/bank-content';
import { ABILITY_DEFAULTS, difficultiesOf, type Calibration } from '../estimate';

export interface CalibrateBankProps {
  db: Db;
  tenantId: number;
  bankId: number;
  /** Who asked: 'system' for the background job, 'cli'. */
  actor: string;
  /** Epoch ms of the calibration. */
  now: number;
}

export interface CalibratedBank {
  version: number;
  /** Non-preview answers it was computed from. */
  answers: number;
  /** Items given a difficulty of their own. */
  items: number;
}

/** How far (SD, logits) an item's difficulty may stray from what its position and skill suggest, before its answers say more. */
const ITEM_PRIOR_SD = 1;
const ITERATIONS = 30;

const skillIdsJson = z.array(z.number().int());

/**
 * Learns the bank's item and skill difficulties from the tenant's own attempts and stores them as a new
 * calibration version (estimate.ts Calibration): a Rasch model P(correct) = σ(θ − b) with one level θ
 * per student and skill (prior N(0, priorSd²), as the ability filter's) and one difficulty b per item
 * (prior: the default difficulty shifted by the teacher's tag, or else spread by the item's position),
 * fitted by alternating Newton steps on the posterior. Knowledge states name the calibration version,
 * so they are rebuilt with it on their next use. Learning during practice is ignored here: it averages
 * out over students.
 */
export async function calibrateBank(p: CalibrateBankProps): Promise<CalibratedBank> {
  const { db } = p;
  const [bank, rows, previous] = await Promise.all([
    readBankContent(db, p.bankId),
    db.selectFrom('attempt').innerJoin('activity', 'activity.id', 'attempt.activity_id')
      .select(['attempt.context_id', 'attempt.user_sub', 'attempt.item_id', 'attempt.skill_ids', 'attempt.correct'])
      .where('attempt.tenant_id', '=', p.tenantId).where('activity.bank_id', '=', p.bankId).where('attempt.preview', '=', 0)
      .execute(),
    db.selectFrom('kt_calibration').select('version').where('tenant_id', '=', p.tenantId).where('bank_id', '=', p.bankId).executeTakeFirst(),
  ]);
  // The served difficulties before any answer (teachers' tags, positions) are the prior.
  const prior = difficultiesOf(bank).item;

  // One level per (student, primary skill), one difficulty per item answered.
  const answers = rows.flatMap((r) => {
    const skillIds = skillIdsJson.parse(JSON.parse(r.skill_ids));
    return skillIds.length && prior.has(r.item_id) ? [{ level: `${r.context_id}\u0000${r.user_sub}\u0000${Math.min(...skillIds)}`, item: r.item_id, y: r.correct }] : [];
  });
  const level = new Map(answers.map((a) => [a.level, 0]));
  const b = new Map(answers.map((a) => [a.item, prior.get(a.item)!]));
  const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
  for (let it = 0; it < ITERATIONS; it++) {
    newton(level, answers.map((a) => ({ key: a.level, sign: 1, y: a.y, other: b.get(a.item)! })), () => 0, ABILITY_DEFAULTS.priorSd ** 2);
    newton(b, answers.map((a) => ({ key: a.item, sign: -1, y: a.y, other: level.get(a.level)! })), (k) => prior.get(k)!, ITEM_PRIOR_SD ** 2);
  }

  /** One Newton step for each parameter x: answers y with P(correct) σ(x − other) (sign 1, a level) or σ(other − x) (sign −1, a difficulty), prior N(centre, variance). */
  function newton<K>(values: Map<K, number>, terms: { key: K; sign: number; y: number; other: number }[], centre: (k: K) => number, variance: number): void {
    const grad = new Map<K, number>();
    const info = new Map<K, number>();
    for (const t of terms) {
      const x = values.get(t.key)!;
      const q = sigmoid(t.sign > 0 ? x - t.other : t.other - x);
      grad.set(t.key, (grad.get(t.key) ?? 0) + t.sign * (t.y - q));
      info.set(t.key, (info.get(t.key) ?? 0) + q * (1 - q));
    }
    for (const [k, x] of values) values.set(k, x + ((grad.get(k) ?? 0) - (x - centre(k)) / variance) / ((info.get(k) ?? 0) + 1 / variance));
  }

  // A skill's level: the mean of its answered items' difficulties less their prior offsets, tag or position (its unanswered items start there).
  const skillSums = new Map<number, { sum: number; n: number }>();
  for (const [id, value] of b) {
    const skill = Math.min(...bank.items.get(id)!.skillIds);
    const s = skillSums.get(skill) ?? { sum: 0, n: 0 };
    skillSums.set(skill, { sum: s.sum + value - (prior.get(id)! - ABILITY_DEFAULTS.difficulty), n: s.n + 1 });
  }
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const calibration: Calibration = {
    items: Object.fromEntries([...b].map(([id, value]) => [String(id), round(value)])),
    skills: Object.fromEntries([...skillSums].map(([id, s]) => [String(id), round(s.sum / s.n)])),
  };
  const version = (previous?.version ?? 0) + 1;
  const params = JSON.stringify(calibration);
  await db.transaction().execute(async (tx) => {
    await upsert(tx, 'kt_calibration', { tenant_id: p.tenantId, bank_id: p.bankId, version, params, answers: rows.length, updated_at: p.now },
      ['tenant_id', 'bank_id'], { version, params, answers: rows.length, updated_at: p.now });
    await audit(tx, { tenantId: p.tenantId, contextId: null, actor: p.actor, action: 'kt.calibrated', subject: `bank:${p.bankId}`, details: { version, answers: rows.length, items: b.size }, at: p.now });
  });
  return { version, answers: rows.length, items: b.size };
}
