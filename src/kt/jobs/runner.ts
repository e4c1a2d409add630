/**
 * Background training of bank models. Jobs and their progress live in `kt_training_job`; the job
 * queue (src/jobs/) delivers each to one process, which runs it in a worker thread. The runner
 * owning a running job refreshes its heartbeat. The row is claimed by compare-and-set, so a job the
 * queue delivers twice (its lease expired while it still ran) never trains twice at once. With the
 * in-process queue (SQLite) jobs do not outlive the process: a job whose heartbeat went stale is
 * marked failed and retryable when a runner starts. With pg-boss the queue itself hands a job whose
 * process died to another one once its lease expires.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { ExpressionBuilder, Selectable } from 'kysely';
import type { Database, Db, KtTrainingJobTable } from '../../db/schema';
import { insertReturningId } from '../../db/writes';
import type { Logger } from '../../log';
import { bankTrainOptionsSchema, type BankTrainOptions, type DktTrainer, trainBankModel } from '../commands/trainBankModel';
import type { TrainProgress } from '../train';
import { TrainingAborted, workerTrainer } from './workerTrainer';
import { inProcessQueue, type JobQueue } from '../../jobs/queue';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

/** Training progress as the job row shows it. */
export type JobProgress = Partial<Pick<TrainProgress, 'variant' | 'epoch' | 'maxEpochs' | 'batch' | 'batches' | 'loss' | 'validAuc' | 'etaSec'>>;

export interface TrainingJob {
  id: number;
  tenantId: number;
  bankId: number;
  status: JobStatus;
  /** A failed job that may simply be retried (it was interrupted, not wrong). */
  retryable: boolean;
  requestedBy: string;
  options: BankTrainOptions;
  progress: JobProgress;
  modelId: number | null;
  error: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface TrainingJobs {
  /** Records a training of the bank's model and starts it when the runner is free; resolves to the job id. */
  enqueue(request: { tenantId: number; bankId: number; requestedBy: string; options?: BankTrainOptions }): Promise<number>;
  /** Queues a failed, retryable job again. */
  retry(tenantId: number, jobId: number): Promise<void>;
  get(tenantId: number, jobId: number): Promise<TrainingJob | null>;
  /** The tenant's jobs, newest first (of one bank when given). */
  list(tenantId: number, bankId?: number): Promise<TrainingJob[]>;
  /** Resolves once this runner has no queued or running job. */
  idle(): Promise<void>;
  /** Stops: a running job is terminated and left failed and retryable. */
  close(): Promise<void>;
}

export interface TrainingJobsDeps {
  db: Db;
  log: Logger;
  /** The queue delivering jobs (default: one of this runner's own, in this process). */
  queue?: JobQueue;
  /** A job running longer than this is taken to be lost and delivered again (default 1 hour). */
  leaseSeconds?: number;
  /** Builds the trainer of one job (default: a worker thread), stopped through the signal. */
  trainer?: (signal: AbortSignal) => DktTrainer;
  /** How often an owned job's heartbeat is refreshed (default 5 s). */
  heartbeatMs?: number;
  /** An unfinished job whose heartbeat is older than this is considered interrupted (default 30 s). */
  staleAfterMs?: number;
  /** Least time between two progress writes (default 1 s; every epoch's end is written). */
  progressEveryMs?: number;
}

function toJob(r: Selectable<KtTrainingJobTable>): TrainingJob {
  const time = (v: number | null) => (v === null ? null : Number(v));
  return {
    id: r.id,
    tenantId: r.tenant_id,
    bankId: r.bank_id,
    status: r.status as JobStatus,
    retryable: r.retryable === 1,
    requestedBy: r.requested_by,
    options: JSON.parse(r.options) as BankTrainOptions,
    progress: JSON.parse(r.progress) as JobProgress,
    modelId: r.model_id,
    error: r.error,
    createdAt: Number(r.created_at),
    startedAt: time(r.started_at),
    finishedAt: time(r.finished_at),
  };
}

/** Marks unfinished jobs whose runner stopped beating as failed and retryable; returns their ids. */
export async function recoverInterruptedJobs(db: Db, staleAfterMs: number, now = Date.now()): Promise<number[]> {
  const stale = (eb: ExpressionBuilder<Database, 'kt_training_job'>) =>
    eb.and([eb('status', 'in', ['queued', 'running']), eb('heartbeat_at', '<', now - staleAfterMs)]);
  // Found, then marked one by one (MySQL has no UPDATE … RETURNING); a job that beat meanwhile stays as it is.
  const recovered: number[] = [];
  for (const { id } of await db.selectFrom('kt_training_job').select('id').where(stale).execute()) {
    const marked = await db.updateTable('kt_training_job')
      .set({ status: 'failed', retryable: 1, runner: null, error: 'interrupted: Jejak stopped or restarted while this job was unfinished', finished_at: now })
      .where('id', '=', id).where(stale)
      .executeTakeFirst();
    if (Number(marked.numUpdatedRows) === 1) recovered.push(id);
  }
  return recovered;
}

/** The queue's name for a training job; its data is `{ jobId }`, the row in kt_training_job. */
export const TRAINING_JOB = 'kt_train';

/** Recovers interrupted jobs (in-process queue), declares the training job to the queue, and returns the runner. */
export async function createTrainingJobs(deps: TrainingJobsDeps): Promise<TrainingJobs> {
  const { db, log } = deps;
  const heartbeatMs = deps.heartbeatMs ?? 5_000;
  const progressEveryMs = deps.progressEveryMs ?? 1_000;
  const makeTrainer = deps.trainer ?? workerTrainer;
  const staleAfterMs = deps.staleAfterMs ?? 30_000;
  // Host and pid first: the admin (and an operator) sees which process trains.
  const runner = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const stopping = new AbortController();
  const queue = deps.queue ?? inProcessQueue({ work: true, log });

  if (queue.kind === 'in-process') {
    const recovered = await recoverInterruptedJobs(db, staleAfterMs);
    if (recovered.length) log.warn('training jobs interrupted by a restart marked failed (retryable)', { jobs: recovered });
  }

  const heartbeat = setInterval(() => {
    db.updateTable('kt_training_job').set({ heartbeat_at: Date.now() })
      .where('runner', '=', runner).where('status', 'in', ['queued', 'running'])
      .execute().catch((e) => log.warn('training heartbeat failed', { error: String(e) }));
  }, heartbeatMs);
  heartbeat.unref();

  async function runJob(job: TrainingJob): Promise<void> {
    const jobLog = log.child({ trainingJob: job.id, bank: job.bankId });
    let lastWrite = 0;
    // Progress writes are chained so that they land in order and none is still pending when the job ends.
    let writes = Promise.resolve();
    const onProgress = (p: TrainProgress) => {
      const now = Date.now();
      if (p.validAuc === undefined && now - lastWrite < progressEveryMs) return;
      lastWrite = now;
      const progress: JobProgress = { variant: p.variant, epoch: p.epoch, maxEpochs: p.maxEpochs, batch: p.batch, batches: p.batches, loss: p.loss, validAuc: p.validAuc, etaSec: p.etaSec };
      writes = writes
        .then(() => db.updateTable('kt_training_job').set({ progress: JSON.stringify(progress), heartbeat_at: now }).where('id', '=', job.id).execute())
        .then(() => undefined, (e) => jobLog.warn('training progress not recorded', { error: String(e) }));
    };
    jobLog.info('training started');
    try {
      const result = await trainBankModel({
        db, tenantId: job.tenantId, bankId: job.bankId, actor: job.requestedBy, options: job.options,
        trainer: makeTrainer(stopping.signal), onProgress,
      });
      await writes;
      await db.updateTable('kt_training_job').set({ status: 'succeeded', runner: null, model_id: result.modelId, finished_at: Date.now(), heartbeat_at: Date.now() }).where('id', '=', job.id).execute();
      jobLog.info('training finished', { model: result.modelId, version: result.version, status: result.status, validAuc: result.validAuc });
    } catch (e) {
      await writes;
      const aborted = e instanceof TrainingAborted;
      const error = e instanceof Error ? e.message : String(e);
      await db.updateTable('kt_training_job').set({ status: 'failed', retryable: aborted ? 1 : 0, runner: null, error, finished_at: Date.now(), heartbeat_at: Date.now() }).where('id', '=', job.id).execute();
      if (aborted) jobLog.warn('training stopped', { error });
      else jobLog.error('training failed', { error });
      // Stopped by a shutdown: the queue delivers it again, to another process (pg-boss).
      if (aborted) throw e;
    }
  }

  /**
   * One delivery of a job by the queue: claims the row when it is queued, failed but retryable, or
   * running with a stale heartbeat (its process died), then trains. A row still beating belongs to
   * a live process: throwing makes the queue look again later (it may yet die).
   */
  async function deliver({ jobId }: { jobId: number }): Promise<void> {
    const now = Date.now();
    const claimed = await db.updateTable('kt_training_job')
      .set({ status: 'running', runner, retryable: 0, error: null, started_at: now, finished_at: null, heartbeat_at: now })
      .where('id', '=', jobId)
      .where((eb) => eb.or([
        eb('status', '=', 'queued'),
        eb.and([eb('status', '=', 'failed'), eb('retryable', '=', 1)]),
        eb.and([eb('status', '=', 'running'), eb('heartbeat_at', '<', now - staleAfterMs)]),
      ]))
      .executeTakeFirst();
    // Claimed, then read: MySQL has no UPDATE … RETURNING.
    if (Number(claimed.numUpdatedRows) === 1) return runJob(toJob(await db.selectFrom('kt_training_job').selectAll().where('id', '=', jobId).executeTakeFirstOrThrow()));
    const row = await db.selectFrom('kt_training_job').select('status').where('id', '=', jobId).executeTakeFirst();
    if (row?.status === 'running') throw new Error(`training job ${jobId} is running in another process`);
  }

  const running = new Set<Promise<void>>();
  await queue.define<{ jobId: number }>(TRAINING_JOB, { leaseSeconds: deps.leaseSeconds ?? 3600, retryLimit: 5, retryDelaySeconds: 30 }, (data) => {
    const run = deliver(data);
    running.add(run);
    return run.finally(() => running.delete(run));
  });
  const idle = async () => {
    // The in-process queue starts a job on the next tick of a send.
    await new Promise((r) => setImmediate(r));
    while (running.size) await Promise.allSettled([...running]);
  };

  return {
    async enqueue({ tenantId, bankId, requestedBy, options }) {
      if (stopping.signal.aborted) throw new Error('the training runner is closed');
      const parsed = bankTrainOptionsSchema.parse(options ?? {});
      const now = Date.now();
      const id = await insertReturningId(db, 'kt_training_job', {
        tenant_id: tenantId, bank_id: bankId, status: 'queued', retryable: 0, requested_by: requestedBy,
        options: JSON.stringify(parsed), progress: '{}', runner: null, model_id: null, error: null,
        created_at: now, started_at: null, finished_at: null, heartbeat_at: now,
      });
      await queue.send(TRAINING_JOB, { jobId: id });
      return id;
    },

    async retry(tenantId, jobId) {
      const updated = await db.updateTable('kt_training_job')
        .set({ status: 'queued', retryable: 0, runner: null, error: null, progress: '{}', started_at: null, finished_at: null, heartbeat_at: Date.now() })
        .where('id', '=', jobId).where('tenant_id', '=', tenantId).where('status', '=', 'failed').where('retryable', '=', 1)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) throw new Error(`training job ${jobId} is not a retryable failed job of tenant ${tenantId}`);
      await queue.send(TRAINING_JOB, { jobId });
    },

    async get(tenantId, jobId) {
      const row = await db.selectFrom('kt_training_job').selectAll().where('id', '=', jobId).where('tenant_id', '=', tenantId).executeTakeFirst();
      return row ? toJob(row) : null;
    },

    async list(tenantId, bankId) {
      let q = db.selectFrom('kt_training_job').selectAll().where('tenant_id', '=', tenantId);
      if (bankId !== undefined) q = q.where('bank_id', '=', bankId);
      return (await q.orderBy('id', 'desc').execute()).map(toJob);
    },

    idle,

    async close() {
      stopping.abort();
      clearInterval(heartbeat);
      await idle();
      if (!deps.queue) await queue.close();
    },
  };
}
