import { expect } from 'chai';
import { Writable } from 'node:stream';
import type { Connection } from '../../src/db/connect';
import { runKtCli } from '../../src/kt/cli';
import { activateModel } from '../../src/kt/commands/activateModel';
import { rollbackModel } from '../../src/kt/commands/rollbackModel';
import { bankTrainingData, trainBankModel, type DktTrainer } from '../../src/kt/commands/trainBankModel';
import { dktLayout, paramView } from '../../src/kt/dkt';
import { isHeldOut, scoreOnHoldout } from '../../src/kt/holdout';
import { activeModel, listModels, ModelCache, ModelCommandError } from '../../src/kt/models';
import { deserializeDkt } from '../../src/kt/tfjs-format';
import { trainDkt } from '../../src/kt/train';
import { testDialects, type TestDatabase } from '../support/db';
import { type BankFixture, openTestDb, seedAttempts, seedBank } from './bank-fixture';

/** A stream that keeps what is written to it. */
class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const TINY = { hidden: 16, maxEpochs: 10, patience: 3, seed: 3, variant: 'skill' as const };

/**
 * Real training whose network's output is negated (P → 1 − P), so its AUC on any attempts is one
 * minus the trained network's: worse wherever the trained one beats chance.
 */
const inverted: DktTrainer = async (train, valid, opts, onProgress) => {
  const r = await trainDkt(train, valid, opts, onProgress);
  const layout = dktLayout(r.model.config);
  for (const group of ['outWeights', 'outBias'] as const) {
    const v = paramView(layout, r.model.params, group);
    for (let i = 0; i < v.length; i++) v[i] = -v[i];
  }
  return r;
};

for (const dialect of testDialects()) {
  describe(`kt models on ${dialect.name}`, function () {
    this.timeout(60_000);
    let tdb: TestDatabase;
    let conn: Connection;
    let fx: BankFixture;

    before(async () => {
      tdb = await dialect.create();
      conn = await openTestDb(tdb);
      fx = await seedBank(conn.db);
      await seedAttempts(conn.db, fx, 30, 20);
    });
    after(async () => {
      await conn.close();
      await tdb.drop();
    });

    const audits = (action: string) => conn.db.selectFrom('audit_event').selectAll().where('action', '=', action).where('tenant_id', '=', fx.tenantId).orderBy('id').execute();
    const train = (trainer?: DktTrainer) => trainBankModel({ db: conn.db, tenantId: fx.tenantId, bankId: fx.bankId, actor: 'cli', options: TINY, trainer });
    /** The bank's attempts from the cutoff on (created_at, then id), straight from the table. */
    const attemptIdsFrom = async (from: { at: number; id: number }) => (await conn.db.selectFrom('attempt').select(['id', 'created_at'])
      .where('activity_id', '=', fx.activityId).orderBy('created_at').orderBy('id').execute())
      .filter((a) => isHeldOut({ at: Number(a.created_at), id: a.id }, from)).map((a) => a.id);

    it('builds training data in the bank id space under pseudonyms, split by student', async () => {
      const d = await bankTrainingData(conn.db, fx.tenantId, fx.bankId, 0.2, 1, { fraction: 0.2, notBefore: null });
      expect(d.skillIds).to.deep.equal([...fx.skillIds].sort((a, b) => a - b));
      expect(d.train.numSkills).to.equal(4);
      expect(d.train.numItems).to.equal(12);
      // The most recent 120 of the 600 answers (the last 6 students, who answered last) are held out, never trained on.
      expect(d.data).to.deep.equal({ trainStudents: 19, validStudents: 5, answers: 480 });
      expect(await attemptIdsFrom(d.heldOutFrom)).to.have.length(120);
      expect(d.attempts.filter((a) => !isHeldOut(a, d.heldOutFrom))).to.have.length(480);
      const names = [...d.train.sequences, ...d.valid.sequences].map((s) => s.student);
      expect(new Set(names).size).to.equal(24);
      expect([...d.train.sequences, ...d.valid.sequences].reduce((n, s) => n + s.correct.length, 0)).to.equal(480);
      expect(names.every((n) => /^s\d+$/.test(n))).to.equal(true);
      // A two-skill item is trained on its lower skill id.
      const multi = fx.items.find((i) => i.skillIds.length === 2)!;
      const all = [...d.train.sequences, ...d.valid.sequences];
      const at = all.flatMap((s) => Array.from(s.items!, (item, t) => ({ item, skill: s.skills[t] }))).find((x) => x.item === d.itemIds.indexOf(multi.id))!;
      expect(d.skillIds[at.skill]).to.equal(Math.min(...multi.skillIds));
    });

    it('trains from attempts: the first model becomes active, with maps, metrics and an audit row', async () => {
      const r = await trainBankModel({ db: conn.db, tenantId: fx.tenantId, bankId: fx.bankId, actor: 'cli', options: TINY });
      expect(r).to.include({ version: 1, status: 'active', previousAuc: null });
      expect(r.heldOut.attemptIds).to.deep.equal(await attemptIdsFrom(r.heldOut.from));
      expect(r.heldOut.attemptIds).to.have.length(120);
      expect(r.validAuc).to.be.within(0, 1);
      const row = await conn.db.selectFrom('kt_model').selectAll().where('id', '=', r.modelId).executeTakeFirstOrThrow();
      expect(row).to.include({ tenant_id: fx.tenantId, bank_id: fx.bankId, variant: 'skill', data_size: 480 });
      expect(JSON.parse(row.metrics).holdout).to.deep.equal({ from: r.heldOut.from, attempts: 120, auc: r.holdoutAuc, active: null });
      expect(row.engine).to.match(/^jejak-(wasm|js)$/);
      expect(JSON.parse(row.meta).skillIds).to.deep.equal(fx.skillIds);
      expect(JSON.parse(row.meta).hyperParameters).to.include({ hidden: 16, maxEpochs: 10 });
      const saved = deserializeDkt(row.weights);
      expect(saved.model.config).to.include({ numSkills: 4, numItems: 0, hidden: 16 });
      expect(Buffer.from(row.weights).includes('sim-')).to.equal(false);
      const [a] = await audits('kt.model.trained');
      expect(a.actor).to.equal('cli');
      expect(JSON.parse(a.details)).to.include({ modelId: r.modelId, version: 1, status: 'active' });
    });

    it('scores the candidate and the active model on the same held-out attempts: keeps a worse one as a candidate, activates one at least as good', async () => {
      const active = (await activeModel(conn.db, fx.tenantId, fx.bankId))!;
      expect(active.metrics.holdout!.auc).to.be.greaterThan(0.5);
      const worse = await train(inverted);
      expect(worse).to.include({ version: 2, status: 'candidate' });
      // The same attempt ids as the active model was held out on, and its AUC there recomputed on them.
      expect(worse.heldOut.from).to.deep.equal(active.metrics.holdout!.from);
      expect(worse.heldOut.attemptIds).to.deep.equal(await attemptIdsFrom(active.metrics.holdout!.from));
      const d = await bankTrainingData(conn.db, fx.tenantId, fx.bankId, 0.2, 1, { fraction: 0.2, notBefore: active.metrics.holdout!.from });
      const activeScore = scoreOnHoldout(await new ModelCache().get(conn.db, active.id), d.attempts, worse.heldOut.from);
      expect(activeScore.attemptIds).to.deep.equal(worse.heldOut.attemptIds);
      expect(worse.previousAuc).to.equal(activeScore.auc);
      expect(worse.holdoutAuc).to.be.closeTo(1 - activeScore.auc, 1e-6);
      const stored = (await listModels(conn.db, { bankId: fx.bankId })).find((m) => m.id === worse.modelId)!;
      expect(stored.metrics.holdout!.active).to.deep.equal({ modelId: active.id, version: 1, auc: activeScore.auc });
      expect((await activeModel(conn.db, fx.tenantId, fx.bankId))!.id).to.equal(active.id);
      // The same training on the same attempts: the same AUC on them, so it replaces the active one.
      const equal = await train();
      expect(equal).to.include({ version: 3, status: 'active', previousAuc: activeScore.auc, holdoutAuc: activeScore.auc });
      const statuses = (await listModels(conn.db, { tenantId: fx.tenantId, bankId: fx.bankId })).map((m) => [m.version, m.status]);
      expect(statuses).to.deep.equal([[3, 'active'], [2, 'candidate'], [1, 'retired']]);
      expect((await audits('kt.model.trained')).map((a) => JSON.parse(a.details).status)).to.deep.equal(['active', 'candidate', 'active']);
    });

    it('activates a chosen version with an audit row, and refuses another bank\'s model', async () => {
      const models = await listModels(conn.db, { bankId: fx.bankId });
      const candidate = models.find((m) => m.version === 2)!;
      expect(await activateModel({ db: conn.db, tenantId: fx.tenantId, bankId: fx.bankId, modelId: candidate.id, actor: 'admin' })).to.deep.equal({ version: 2, previousVersion: 3 });
      expect((await activeModel(conn.db, fx.tenantId, fx.bankId))!.version).to.equal(2);
      const [a] = await audits('kt.model.activated');
      expect(JSON.parse(a.details)).to.include({ version: 2, previousVersion: 3 });
      let error: unknown;
      await activateModel({ db: conn.db, tenantId: fx.tenantId + 1000, bankId: fx.bankId, modelId: candidate.id, actor: 'admin' }).catch((e) => (error = e));
      expect(error).to.be.instanceOf(ModelCommandError);
    });

    it('rolls back version by version, never to a rolled-back one, then to the cold start', async () => {
      // Active history so far: 1, 3, 2 (activated by hand). Rollback from 2 goes to 1 (the highest earlier version ever active).
      expect(await rollbackModel({ db: conn.db, tenantId: fx.tenantId, bankId: fx.bankId, actor: 'cli' })).to.deep.equal({ fromVersion: 2, toVersion: 1 });
      const v4 = await train();
      expect(v4).to.include({ version: 4, status: 'active' });
      // 2 was rolled back, so the rollback from 4 goes to 3.
      expect(await rollbackModel({ db: conn.db, tenantId: fx.tenantId, bankId: fx.bankId, actor: 'cli' })).to.deep.equal({ fromVersion: 4, toVersion: 3 });
      expect(await rollbackModel({ db: conn.db, tenantId: fx.tenantId, bankId: fx.bankId, actor: 'cli' })).to.deep.equal({ fromVersion: 3, toVersion: 1 });
      expect(await rollbackModel({ db: conn.db, tenantId: fx.tenantId, bankId: fx.bankId, actor: 'cli' })).to.deep.equal({ fromVersion: 1, toVersion: null });
      expect(await activeModel(conn.db, fx.tenantId, fx.bankId)).to.equal(null);
      let error: unknown;
      await rollbackModel({ db: conn.db, tenantId: fx.tenantId, bankId: fx.bankId, actor: 'cli' }).catch((e) => (error = e));
      expect(error).to.be.instanceOf(ModelCommandError);
      expect((await audits('kt.model.rolled-back')).map((a) => JSON.parse(a.details))).to.deep.equal([
        { fromVersion: 2, toVersion: 1 }, { fromVersion: 4, toVersion: 3 }, { fromVersion: 3, toVersion: 1 }, { fromVersion: 1, toVersion: null },
      ]);
    });

    it('refuses to train a bank with too few students, or another tenant\'s bank', async () => {
      const small = await seedBank(conn.db);
      await seedAttempts(conn.db, small, 5, 10);
      for (const [tenantId, bankId] of [[small.tenantId, small.bankId], [small.tenantId, fx.bankId]]) {
        let error: unknown;
        await trainBankModel({ db: conn.db, tenantId, bankId, actor: 'cli', options: TINY }).catch((e) => (error = e));
        expect(error).to.be.instanceOf(ModelCommandError);
      }
      expect(await listModels(conn.db, { tenantId: small.tenantId })).to.deep.equal([]);
    });

    describe('through the CLI', () => {
      async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
        const stdout = new Capture();
        const stderr = new Capture();
        const code = await runKtCli(argv, { stdout, stderr }, { DATABASE_URL: tdb.url, LOG_LEVEL: 'error' });
        return { code, stdout: stdout.text, stderr: stderr.text };
      }

      it('trains a bank model from attempts, lists versions and rolls back', async () => {
        const bank = String(fx.bankId);
        const trained = await cli('train', '--bank', bank, '--epochs', '1', '--hidden', '4', '--item-aware', 'off');
        expect(trained.stderr).to.contain('epoch 1/1');
        expect(trained).to.include({ code: 0 });
        expect(trained.stdout).to.match(new RegExp(`^bank ${bank} \\(tenant ${fx.tenantId}\\): model version 5, AUC 0\\.\\d{4} on the 120 most recent attempts, held out \\(no model was active\\) → active\\n$`));
        const listed = await cli('models', 'list', '--bank', bank);
        expect(listed.code).to.equal(0);
        expect(listed.stdout.split('\n')[0]).to.match(new RegExp(`^tenant ${fx.tenantId} bank ${bank} v5 +active +skill`));
        expect(listed.stdout.trim().split('\n')).to.have.length(5);
        const json = await cli('models', 'list', '--tenant', String(fx.tenantId), '--json');
        expect(JSON.parse(json.stdout).map((m: { version: number }) => m.version)).to.deep.equal([5, 4, 3, 2, 1]);
        expect(listed.stdout.split('\n')[0]).to.match(/held-out AUC 0\.\d{4} on 120 attempts/);
        const rolled = await cli('models', 'rollback', '--bank', bank);
        expect(rolled).to.deep.equal({ code: 0, stdout: `bank ${bank} (tenant ${fx.tenantId}): rolled back from version 5; no model: the cold-start estimator serves\n`, stderr: '' });
        const v5 = JSON.parse(json.stdout).find((m: { version: number }) => m.version === 5).id;
        const activated = await cli('models', 'activate', '--bank', bank, '--model', String(v5));
        expect(activated).to.deep.equal({ code: 0, stdout: `bank ${bank} (tenant ${fx.tenantId}): version 5 is active (was the cold start)\n`, stderr: '' });
        expect((await activeModel(conn.db, fx.tenantId, fx.bankId))!.version).to.equal(5);
        const [last] = (await audits('kt.model.activated')).slice(-1);
        expect(last.actor).to.equal('cli');
        expect(JSON.parse(last.details)).to.include({ modelId: v5, version: 5, previousVersion: null });
        expect((await cli('models', 'rollback', '--bank', bank)).code).to.equal(0);
      });

      it('answers bad input with one line and exit code 2', async () => {
        const cases: [string[], string][] = [
          [['models', 'rollback', '--bank', 'x'], '--bank must be a positive whole number'],
          [['models', 'rollback', '--bank', String(fx.bankId)], 'has no active model to roll back'],
          [['models', 'rollback'], '--bank is required'],
          [['models', 'rollback', '--bank', String(fx.bankId), '--tenant', String(fx.tenantId + 1000)], `belongs to tenant ${fx.tenantId}`],
          [['models', 'frob'], 'unknown models command "frob"'],
          [['models', 'activate', '--bank', String(fx.bankId)], '--model is required'],
          [['models', 'activate', '--bank', String(fx.bankId), '--model', '999999'], 'has no model 999999'],
          [['train', '--bank', '999999'], 'no such bank'],
          [['train', '--bank', String(fx.bankId), '--data', 'x'], 'takes no --data'],
          [['train', '--bank', String(fx.bankId), '--hidden', '5000'], 'hidden'],
        ];
        for (const [argv, message] of cases) {
          const r = await cli(...argv);
          expect(r.code, argv.join(' ')).to.equal(2);
          expect(r.stderr.trim().split('\n'), argv.join(' ')).to.have.length(1);
          expect(r.stderr, argv.join(' ')).to.contain(message);
        }
      });
    });
  });
}
