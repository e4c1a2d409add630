/** The job queue on PostgreSQL: pg-boss, in its own schema `pgboss` of Jejak's database. */
import PgBoss from 'pg-boss';
import pg from 'pg';
import { assertJobName, type JobQueue, type QueueOptions, type QueueStat } from './queue';

export interface PgBossOptions extends QueueOptions {
  connectionString: string;
  /** How often pg-boss looks for expired leases (its maintenance). */
  maintenanceSeconds: number;
}

/** pg-boss's cron for "every N minutes": pg-boss schedules by cron, once across all processes. */
function cronEvery(minutes: number): string {
  if (minutes < 60 && 60 % minutes === 0) return `*/${minutes} * * * *`;
  if (minutes % 60 === 0 && minutes < 1440 && 24 % (minutes / 60) === 0) return `0 */${minutes / 60} * * *`;
  if (minutes === 1440) return '30 2 * * *'; // daily, at a quiet hour of the server's night
  throw new Error(`every ${minutes} minutes cannot be said in cron; use a divisor of an hour or of a day`);
}

/** Whether a job of `name` with this singleton key is waiting, waiting for a retry, or running. */
async function unfinished(db: { executeSql(text: string, values: unknown[]): Promise<{ rows: unknown[] }> }, name: string, singletonKey: string): Promise<boolean> {
  const { rows } = await db.executeSql(`select 1 from pgboss.job where name = $1 and singleton_key = $2 and state < 'completed' limit 1`, [name, singletonKey]);
  return rows.length > 0;
}

export async function pgBossQueue(opts: PgBossOptions): Promise<JobQueue> {
  const boss = new PgBoss({
    connectionString: opts.connectionString,
    // A small pool of its own: fetching, completing and maintenance, beside Jejak's pool.
    max: 3,
    application_name: 'jejak-jobs',
    maintenanceIntervalSeconds: opts.maintenanceSeconds,
    // Only a process that works on jobs supervises them (expiry, archive) and fires the schedules.
    supervise: opts.work,
    schedule: opts.work,
  });
  boss.on('error', (e: Error) => opts.log.warn('job queue error', { error: e.message }));
  // Creates or upgrades the pgboss schema; pg-boss takes an advisory lock, so processes may race here.
  await boss.start();
  const names: string[] = [];
  const singletons = new Set<string>();
  /** This process's worker of each queue it works on. */
  const workers = new Map<string, string>();

  /**
   * Sends a singleton job unless one with its key is unfinished, checked and inserted under a lock on
   * the key (a connection of its own, for the transaction): pages of two processes asking at the same
   * moment make one job. pg-boss's 'stately' index alone would let a second one wait beside one that
   * runs or waits for its retry, which would then bypass the retry's backoff.
   */
  const sendOnce = async (name: string, data: object, singletonKey: string): Promise<void> => {
    const client = new pg.Client({ connectionString: opts.connectionString, application_name: 'jejak-jobs' });
    await client.connect();
    try {
      await client.query('begin');
      await client.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [`pgboss:${name}:${singletonKey}`]);
      const db = { executeSql: (text: string, values: unknown[]) => client.query(text, values) };
      if (!(await unfinished(db, name, singletonKey))) await boss.send(name, data, { singletonKey, db });
      await client.query('commit');
    } catch (e) {
      await client.query('rollback').catch(() => undefined);
      throw e;
    } finally {
      await client.end();
    }
  };

  /**
   * Runs `f` while this process holds a lock every Jejak process shares (on a connection of its own; the
   * lock goes with the session). pg-boss's create_queue inserts the queue's row, then adds a foreign key
   * from the queue's new partition to that table: two processes creating two queues at once each wait
   * for the other's row and PostgreSQL kills one ("deadlock detected", seen with WEB_CONCURRENCY=2).
   */
  const exclusively = async (key: string, f: () => Promise<void>): Promise<void> => {
    const client = new pg.Client({ connectionString: opts.connectionString, application_name: 'jejak-jobs' });
    await client.connect();
    try {
      await client.query('select pg_advisory_lock(hashtextextended($1, 0))', [key]);
      await f();
    } finally {
      await client.end();
    }
  };

  return {
    kind: 'pg-boss',
    async define(name, spec, handler) {
      assertJobName(name);
      // 'stately': pg-boss's unique indexes allow one waiting and one running job per singleton key.
      const policy = spec.singleton ? 'stately' as const : 'standard' as const;
      const options = { name, policy, retryLimit: spec.retryLimit, retryDelay: spec.retryDelaySeconds, retryBackoff: true, expireInSeconds: spec.leaseSeconds };
      await exclusively('pgboss:queues', async () => {
        await boss.createQueue(name, options);
        // createQueue leaves an existing queue as it was: a changed lease takes effect through this.
        await boss.updateQueue(name, options);
      });
      names.push(name);
      if (spec.singleton) singletons.add(name);
      if (!opts.work) return;
      workers.set(name, await boss.work<object>(name, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => {
        await handler(job.data as Parameters<typeof handler>[0]);
      }));
    },
    async send(name, data, options = {}) {
      const singletonKey = singletons.has(name) ? options.singletonKey : undefined;
      if (singletonKey === undefined) await boss.send(name, data);
      // Most requests find a job already there: that look needs no connection of its own; sendOnce looks again under the lock.
      else if (!(await unfinished(boss.getDb(), name, singletonKey))) await sendOnce(name, data, singletonKey);
      // Polling finds the job within a second; when this process works on the queue, it starts now.
      const worker = workers.get(name);
      if (worker) boss.notifyWorker(worker);
    },
    async every(name, minutes) {
      await boss.schedule(name, cronEvery(minutes), {});
    },
    async stats() {
      const { rows } = await boss.getDb().executeSql(
        `select name, state, count(*)::int as n from pgboss.job where name = any($1) group by name, state`, [names]);
      const byName = new Map<string, QueueStat>(names.map((name) => [name, { name, queued: 0, active: 0, failed: 0, completed: 0 }]));
      for (const r of rows as { name: string; state: string; n: number }[]) {
        const s = byName.get(r.name)!;
        if (r.state === 'created' || r.state === 'retry') s.queued += r.n;
        else if (r.state === 'active') s.active += r.n;
        else if (r.state === 'failed') s.failed += r.n;
        else if (r.state === 'completed') s.completed += r.n;
      }
      return [...byName.values()];
    },
    async close() {
      // Waits for jobs running here (up to 30 s); a job cut off is retried elsewhere after its lease.
      await boss.stop({ graceful: true, wait: true, timeout: 30_000 });
    },
  };
}
