import { expect } from 'chai';
import type { Connection } from '../../src/db/connect';
import { activateModel } from '../../src/kt/commands/activateModel';
import { trainBankModel } from '../../src/kt/commands/trainBankModel';
import { Rng } from '../../src/kt/engine/random';
import { DktPredictor } from '../../src/kt/predict';
import { deserializeDkt } from '../../src/kt/tfjs-format';
import { statusOf } from '../../src/kt/estimate';
import { createTracer, type KnowledgeTracer, type StudentKey } from '../../src/kt/tracer';
import { createLogger } from '../../src/log';
import { testDialects, type TestDatabase } from '../support/db';
import { type BankFixture, insertAttempt, openTestDb, seedAttempts, seedBank, simulatedAnswers, studentKey } from './bank-fixture';

const TINY = { hidden: 8, maxEpochs: 2, patience: 2, seed: 5 };
const log = createLogger('error');

for (const dialect of testDialects()) {
  describe(`knowledge tracer on ${dialect.name}`, function () {
    this.timeout(60_000);
    let tdb: TestDatabase;
    let conn: Connection;
    let fx: BankFixture;
    let tracer: KnowledgeTracer;
    let clock = 1_800_000_000_000;

    before(async () => {
      tdb = await dialect.create();
      conn = await openTestDb(tdb);
      fx = await seedBank(conn.db);
      tracer = createTracer({ db: conn.db, log });
    });
    after(async () => {
      await conn.close();
      await tdb.drop();
    });

    /** What practice does per answer: the attempt and the state, in one transaction. */
    async function answer(userSub: string, itemId: number, correct: boolean, preview = false): Promise<void> {
      const at = (clock += 1000);
      await conn.db.transaction().execute(async (tx) => {
        await insertAttempt(tx, fx, { userSub, itemId, correct, at, preview });
        if (!preview) await tracer.recordAnswer(tx, studentKey(fx, userSub), { itemId, skillIds: fx.items.find((i) => i.id === itemId)!.skillIds, correct, at });
      });
    }

    async function stateRow(key: StudentKey, modelKey: string) {
      return conn.db.selectFrom('kt_state').selectAll()
        .where('tenant_id', '=', key.tenantId).where('context_id', '=', key.contextId).where('user_sub', '=', key.userSub)
        .where('bank_id', '=', key.bankId).where('model_key', '=', modelKey).executeTakeFirst();
    }

    /** An independent recompute: the model's predictor over the attempts table, each on its lowest skill id. */
    async function recomputed(modelId: number, key: StudentKey): Promise<Float32Array> {
      const row = await conn.db.selectFrom('kt_model').selectAll().where('id', '=', modelId).executeTakeFirstOrThrow();
      const meta = JSON.parse(row.meta) as { skillIds: number[]; itemIds: number[] };
      const predictor = new DktPredictor(deserializeDkt(row.weights).model);
      const attempts = await conn.db.selectFrom('attempt').selectAll()
        .where('user_sub', '=', key.userSub).where('tenant_id', '=', key.tenantId).where('preview', '=', 0)
        .orderBy('created_at').orderBy('id').execute();
      const state = predictor.stateFromHistory({
        skills: attempts.map((a) => meta.skillIds.indexOf(Math.min(...(JSON.parse(a.skill_ids) as number[])))),
        items: meta.itemIds.length ? attempts.map((a) => meta.itemIds.indexOf(a.item_id)) : undefined,
        correct: attempts.map((a) => a.correct),
      });
      return Float32Array.of(...state.h, ...state.c);
    }

    const floats = (b: Uint8Array) => new Float32Array(Uint8Array.from(b).buffer);
    const maxDiff = (a: Float32Array, b: Float32Array) => {
      expect(a.length).to.equal(b.length);
      return Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i])));
    };

    it('serves the ability filter from the first answer while no model exists: not tried, then evidence, no leak to other skills', async () => {
      const key = studentKey(fx, 'alice');
      const before = (await tracer.knowledge(key)).estimates;
      expect([...before.keys()]).to.deep.equal(fx.skillIds);
      for (const e of before.values()) {
        expect(e).to.include({ answers: 0, items: 0 });
        expect(statusOf(e, 0.8)).to.equal('not_tried');
      }
      // Before any answer, the bank's order already tells items of one skill apart (the first the easiest).
      const fresh = (await tracer.knowledge(key)).itemSuccess(fx.items.filter((i) => i.skillIds[0] === fx.skillIds[0]).map((i) => i.id));
      expect([...fresh.values()][0]).to.be.above([...fresh.values()][1]);
      const item = fx.items.find((i) => i.skillIds.length === 1 && i.skillIds[0] === fx.skillIds[1])!;
      for (let n = 0; n < 4; n++) await answer('alice', item.id, true);
      const after = (await tracer.knowledge(key)).estimates;
      const onSkill = after.get(fx.skillIds[1])!;
      expect(onSkill.p).to.be.above(before.get(fx.skillIds[1])!.p);
      expect(onSkill).to.include({ answers: 4, items: 1 });
      expect(onSkill.low).to.be.below(onSkill.p);
      expect(statusOf(onSkill, 0.5), 'one item answered four times is not mastery').to.equal('learning');
      // No prerequisites in this bank: the other skills did not move at all.
      for (const id of [fx.skillIds[0], fx.skillIds[2], fx.skillIds[3]]) expect(after.get(id)).to.deep.equal(before.get(id));
      expect(await stateRow(key, 'ability:0')).to.include({ steps: 4 });
      const items = (await tracer.knowledge(key)).itemSuccess([item.id, fx.items[0].id, 999_999]);
      expect([...items.keys()].sort()).to.deep.equal([item.id, fx.items[0].id].sort());
      expect(items.get(item.id)).to.be.above(items.get(fx.items[0].id)!);
    });

    it('leaves preview attempts out and rebuilds a state that missed answers written elsewhere', async () => {
      const key = studentKey(fx, 'alice');
      const before = (await tracer.knowledge(key)).estimates;
      await answer('alice', fx.items[0].id, false, true);
      expect((await tracer.knowledge(key)).estimates).to.deep.equal(before);
      // Another process stored an attempt without folding it in: the next read sees 5 answers, not 4.
      await insertAttempt(conn.db, fx, { userSub: 'alice', itemId: fx.items[0].id, correct: false, at: (clock += 1000) });
      const after = (await tracer.knowledge(key)).estimates;
      expect(after.get(fx.skillIds[0])!.p).to.be.below(before.get(fx.skillIds[0])!.p);
      expect(after.get(fx.skillIds[0])!.answers).to.equal(1);
      expect(await stateRow(key, 'ability:0')).to.include({ steps: 5 });
    });

    it('keeps the stored DKT state equal to a full recompute of the history (1e-5), answer after answer', async () => {
      await seedAttempts(conn.db, fx, 30, 20);
      const model = await trainBankModel({ db: conn.db, tenantId: fx.tenantId, bankId: fx.bankId, actor: 'test', options: { ...TINY, variant: 'item' } });
      expect(model.status).to.equal('active');
      const key = studentKey(fx, 'bob');
      const rng = new Rng(11);
      for (const a of simulatedAnswers(fx, 40, rng)) await answer('bob', a.itemId, a.correct);
      const row = (await stateRow(key, `dkt:${model.modelId}`))!;
      expect(row.steps).to.equal(40);
      const incremental = floats(row.state);
      expect(incremental.some((x) => x !== 0)).to.equal(true);
      expect(maxDiff(incremental, await recomputed(model.modelId, key))).to.be.below(1e-5);
      // Forgetting and reading again rebuilds the same state from the attempts.
      await tracer.forget(conn.db, { tenantId: fx.tenantId, userSub: 'bob' });
      expect(await stateRow(key, `dkt:${model.modelId}`)).to.equal(undefined);
      const estimates = (await tracer.knowledge(key)).estimates;
      expect(maxDiff(floats((await stateRow(key, `dkt:${model.modelId}`))!.state), incremental)).to.be.below(1e-5);
      // The model serves the same estimate shape, whether read for one student or for a class.
      const viaClass = (await tracer.classEstimates(fx.tenantId, fx.contextId, fx.bankId, ['bob'])).get('bob')!;
      expect(viaClass).to.deep.equal(estimates);
      const itemP = (await tracer.knowledge(key)).itemSuccess(fx.items.map((i) => i.id));
      expect(itemP.size).to.equal(fx.items.length);
      const sameSkill = fx.items.filter((i) => i.skillIds[0] === fx.skillIds[0]).map((i) => itemP.get(i.id)!);
      expect(new Set(sameSkill).size).to.be.above(1, 'the item-aware model tells items of one skill apart');
    });

    it('rebuilds states lazily from the history after another model is activated', async () => {
      const key = studentKey(fx, 'bob');
      const first = (await conn.db.selectFrom('kt_model').select('id').where('status', '=', 'active').where('bank_id', '=', fx.bankId).executeTakeFirstOrThrow()).id;
      const second = await trainBankModel({ db: conn.db, tenantId: fx.tenantId, bankId: fx.bankId, actor: 'test', options: { ...TINY, seed: 6, variant: 'skill' } });
      if (second.status !== 'active') await activateModel({ db: conn.db, tenantId: fx.tenantId, bankId: fx.bankId, modelId: second.modelId, actor: 'test' });
      expect(await stateRow(key, `dkt:${second.modelId}`)).to.equal(undefined);
      await tracer.knowledge(key);
      const rebuilt = (await stateRow(key, `dkt:${second.modelId}`))!;
      expect(rebuilt.steps).to.equal(40);
      expect(maxDiff(floats(rebuilt.state), await recomputed(second.modelId, key))).to.be.below(1e-5);
      // The next answer steps the new model's state once, and the old model's state is left as it was.
      const old = (await stateRow(key, `dkt:${first}`))!;
      await answer('bob', fx.items[5].id, true);
      expect((await stateRow(key, `dkt:${second.modelId}`))!.steps).to.equal(41);
      expect(maxDiff(floats((await stateRow(key, `dkt:${second.modelId}`))!.state), await recomputed(second.modelId, key))).to.be.below(1e-5);
      expect((await stateRow(key, `dkt:${first}`))!.steps).to.equal(old.steps);
    });

    it('answers a class in one call, the same as student by student', async () => {
      const subs = ['sim-1', 'bob', 'sim-2', 'nobody-yet'];
      const cls = await tracer.classEstimates(fx.tenantId, fx.contextId, fx.bankId, subs);
      expect([...cls.keys()]).to.deep.equal(subs);
      for (const sub of subs) expect(cls.get(sub)).to.deep.equal((await tracer.knowledge(studentKey(fx, sub))).estimates);
      expect(cls.get('sim-1')).not.to.deep.equal(cls.get('nobody-yet'));
      expect((await tracer.classEstimates(fx.tenantId, fx.contextId, fx.bankId, [])).size).to.equal(0);
    });

    it('forgets every state of a tenant\'s course', async () => {
      await tracer.forget(conn.db, { tenantId: fx.tenantId, contextId: fx.contextId });
      const left = await conn.db.selectFrom('kt_state').select('user_sub').where('tenant_id', '=', fx.tenantId).execute();
      expect(left).to.deep.equal([]);
    });
  });
}
