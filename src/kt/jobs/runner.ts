/**
 * Background training of bank models. Jobs and their progress live in `kt_training_job`; this
 * runner executes the jobs it queued, one at a time, each in a worker thread. The runner owning an
 * unfinished job refreshes its heartbeat; a job whose heartbeat went stale (its process died or
 * was restarted) is marked failed and retryable when a runner starts. The `TrainingJobs` interface
 * is all the rest of Jejak sees, so that a shared queue (PostgreSQL) can replace this runner.
 */
import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Db, KtTrainingJobTable } from '../../db/schema';
import type { Logger } from '../../log';
import { bankTrainOptionsSchema, type BankTrainOptions, type DktTrainer, trainBankModel } from '../commands/trainBankModel';
import type { TrainProgress } from '../train';
import { TrainingAborted, workerTrainer } from './workerTrainer';

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
  const rows = await db.updateTable('kt_training_job')
    .set({ status: 'failed', retryable: 1, runner: null, error: 'interrupted: Jejak stopped or restarted while this job was unfinished', finished_at: now })
    .where('status', 'in', ['queued', 'running'])
    .where('heartbeat_at', '<', now - staleAfterMs)
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

/** Recovers interrupted jobs, then returns a runner for this process. */
export async function createTrainingJobs(deps: TrainingJobsDeps): Promise<TrainingJobs> {
  const { db, log } = deps;
  const heartbeatMs = deps.heartbeatMs ?? 5_000;
  const progressEveryMs = deps.progressEveryMs ?? 1_000;
  const makeTrainer = deps.trainer ?? workerTrainer;
  const runner = randomUUID();
  const stopping = new AbortController();

  const recovered = await recoverInterruptedJobs(db, deps.staleAfterMs ?? 30_000);
  if (recovered.length) log.warn('training jobs interrupted by a restart marked failed (retryable)', { jobs: recovered });

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
    }
  }

  /** Runs this runner's queued jobs, oldest first, until none is left. */
  async function drain(): Promise<void> {
    while (!stopping.signal.aborted) {
      const next = await db.selectFrom('kt_training_job').selectAll()
        .where('runner', '=', runner).where('status', '=', 'queued')
        .orderBy('id').executeTakeFirst();
      if (!next) return;
      const claimed = await db.updateTable('kt_training_job').set({ status: 'running', started_at: Date.now(), heartbeat_at: Date.now() })
        .where('id', '=', next.id).where('status', '=', 'queued').executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 1) await runJob(toJob(next));
    }
  }

  let draining: Promise<void> | null = null;
  const kick = () => {
    draining ??= drain().catch((e) => log.error('training runner failed', { error: String(e) })).finally(() => (draining = null));
  };
  const idle = async () => {
    while (draining) await draining;
  };

  return {
    async enqueue({ tenantId, bankId, requestedBy, options }) {
      if (stopping.signal.aborted) throw new Error('the training runner is closed');
      const parsed = bankTrainOptionsSchema.parse(options ?? {});
      const now = Date.now();
      const { id } = await db.insertInto('kt_training_job').values({
        tenant_id: tenantId, bank_id: bankId, status: 'queued', retryable: 0, requested_by: requestedBy,
        options: JSON.stringify(parsed), progress: '{}', runner, model_id: null, error: null,
        created_at: now, started_at: null, finished_at: null, heartbeat_at: now,
      }).returning('id').executeTakeFirstOrThrow();
      kick();
      return id;
    },

    async retry(tenantId, jobId) {
      const updated = await db.updateTable('kt_training_job')
        .set({ status: 'queued', retryable: 0, runner, error: null, progress: '{}', started_at: null, finished_at: null, heartbeat_at: Date.now() })
        .where('id', '=', jobId).where('tenant_id', '=', tenantId).where('status', '=', 'failed').where('retryable', '=', 1)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) throw new Error(`training job ${jobId} is not a retryable failed job of tenant ${tenantId}`);
      kick();
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
      // Jobs queued but never started stay with no owner; the next start marks them retryable.
      await db.updateTable('kt_training_job').set({ runner: null }).where('runner', '=', runner).execute();
    },
  };
}
