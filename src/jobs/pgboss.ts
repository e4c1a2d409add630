/** The job queue on PostgreSQL: pg-boss, in its own schema `pgboss` of Jejak's database. */
import PgBoss from 'pg-boss';
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

  return {
    kind: 'pg-boss',
    async define(name, spec, handler) {
      assertJobName(name);
      const options = { name, retryLimit: spec.retryLimit, retryDelay: spec.retryDelaySeconds, retryBackoff: true, expireInSeconds: spec.leaseSeconds };
      await boss.createQueue(name, options);
      // createQueue leaves an existing queue as it was: a changed lease takes effect through this.
      await boss.updateQueue(name, options);
      names.push(name);
      if (!opts.work) return;
      await boss.work<object>(name, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => {
        await handler(job.data as Parameters<typeof handler>[0]);
      });
    },
    async send(name, data) {
      await boss.send(name, data);
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
