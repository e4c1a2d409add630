import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Connection } from '../../src/db/connect';
import { insertReturningId } from '../../src/db/writes';
import { createTrainingJobs, type TrainingJob, type TrainingJobs } from '../../src/kt/jobs/runner';
import { createLogger } from '../../src/log';
import { testDialects, type TestDatabase } from '../support/db';
import { type BankFixture, openTestDb, seedAttempts, seedBank } from './bank-fixture';

const log = createLogger('error');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const dialect of testDialects()) {
  describe(`background training jobs on ${dialect.name}`, function () {
    this.timeout(120_000);
    let tdb: TestDatabase;
    let conn: Connection;
    let fx: BankFixture;

    before(async () => {
      tdb = await dialect.create();
      conn = await openTestDb(tdb);
      fx = await seedBank(conn.db);
      // 50 students: training holds out the most recent 20% of attempts, so 40 of them train.
      await seedAttempts(conn.db, fx, 50, 30);
    });
    after(async () => {
      await conn.close();
      await tdb.drop();
    });

    async function waitFor(jobs: TrainingJobs, id: number, until: (j: TrainingJob) => boolean): Promise<TrainingJob> {
      for (;;) {
        const job = (await jobs.get(fx.tenantId, id))!;
        if (until(job)) return job;
        await sleep(20);
      }
    }

    it('trains a model from attempts in a worker thread, with progress, while the event loop keeps answering', async () => {
      const jobs = await createTrainingJobs({ db: conn.db, log, progressEveryMs: 0 });
      const server = http.createServer((_req, res) => res.end('ok'));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      try {
        await fetch(url); // loads the HTTP client before anything is measured
        const id = await jobs.enqueue({ tenantId: fx.tenantId, bankId: fx.bankId, requestedBy: 'cli', options: { hidden: 16, maxEpochs: 30, patience: 30, seed: 2, batchSize: 8, variant: 'auto' } });
        await waitFor(jobs, id, (j) => j.status !== 'queued' && (j.progress.batch ?? 0) > 0);
        // While the worker trains, this thread's event loop turns and answers HTTP between training steps:
        // each round waits for a turn of the loop and a request's answer, then reads the job's progress
        // (written every batch). Training that held this thread would show no step in between (and no
        // claim about how fast anything answers: that is the benchmarks' business).
        const steps = new Set<string>();
        let rounds = 0;
        for (let job = (await jobs.get(fx.tenantId, id))!; job.status === 'running' && steps.size < 10; job = (await jobs.get(fx.tenantId, id))!) {
          steps.add(`${job.progress.epoch}:${job.progress.batch}`);
          await new Promise((r) => setImmediate(r));
          expect(await (await fetch(url)).text()).to.equal('ok');
          rounds++;
        }
        expect(steps.size, `training steps seen between turns of the event loop (${rounds} rounds)`).to.be.at.least(5);
        const done = await waitFor(jobs, id, (j) => j.status === 'succeeded' || j.status === 'failed');
        expect(done.error).to.equal(null);
        expect(done.status).to.equal('succeeded');
        expect(done.progress).to.have.keys(['variant', 'epoch', 'maxEpochs', 'batch', 'batches', 'loss', 'validAuc', 'etaSec']);
        expect(done.progress.validAuc).to.be.within(0, 1);
        const model = await conn.db.selectFrom('kt_model').selectAll().where('id', '=', done.modelId!).executeTakeFirstOrThrow();
        expect(model).to.include({ status: 'active', tenant_id: fx.tenantId, bank_id: fx.bankId, version: 1 });
        expect(JSON.parse(model.metrics).validAuc).to.be.above(0.6);
        expect(await jobs.list(fx.tenantId, fx.bankId)).to.have.length(1);
      } finally {
        server.close();
        await jobs.close();
      }
    });

    it('refuses bad options when a job is requested', async () => {
      const jobs = await createTrainingJobs({ db: conn.db, log });
      try {
        let error: unknown;
        await jobs.enqueue({ tenantId: fx.tenantId, bankId: fx.bankId, requestedBy: 'cli', options: { hidden: 0 } }).catch((e) => (error = e));
        expect(String(error)).to.contain('hidden');
      } finally {
        await jobs.close();
      }
    });

    it('leaves a job stopped at shutdown failed and retryable, and can run it again', async () => {
      const first = await createTrainingJobs({ db: conn.db, log });
      const id = await first.enqueue({ tenantId: fx.tenantId, bankId: fx.bankId, requestedBy: 'cli', options: { hidden: 16, maxEpochs: 500, patience: 100 } });
      await waitFor(first, id, (j) => j.status === 'running');
      await first.close();
      expect(await first.get(fx.tenantId, id)).to.include({ status: 'failed', retryable: true });
      const second = await createTrainingJobs({ db: conn.db, log });
      try {
        await second.retry(fx.tenantId, id);
        expect((await second.get(fx.tenantId, id))!.status).to.be.oneOf(['queued', 'running']);
      } finally {
        await second.close();
      }
    });

    it('marks a job left running by a crashed process failed and retryable at start, not one that is still beating', async () => {
      const now = Date.now();
      const row = (heartbeat: number) => ({
        tenant_id: fx.tenantId, bank_id: fx.bankId, status: 'running', retryable: 0, requested_by: 'cli', options: '{}', progress: '{"epoch":3}',
        runner: 'gone', model_id: null, error: null, created_at: now - 60_000, started_at: now - 60_000, finished_at: null, heartbeat_at: heartbeat,
      });
      const crashed = await insertReturningId(conn.db, 'kt_training_job', row(now - 120_000));
      const alive = await insertReturningId(conn.db, 'kt_training_job', row(now));
      const jobs = await createTrainingJobs({ db: conn.db, log, staleAfterMs: 30_000 });
      try {
        const recovered = (await jobs.get(fx.tenantId, crashed))!;
        expect(recovered).to.include({ status: 'failed', retryable: true });
        expect(recovered.error).to.contain('interrupted');
        expect((await jobs.get(fx.tenantId, alive))!.status).to.equal('running');
      } finally {
        await jobs.close();
      }
    });
  });
}
