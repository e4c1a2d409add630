/**
 * The job queue every kind of background work goes through (training, purges, …). On PostgreSQL it
 * is pg-boss (src/jobs/pgboss.ts): jobs are rows, fetched with SKIP LOCKED so each runs in one
 * process only, retried with backoff, and a job whose process died is retried once its lease
 * expires. The embedded SQLite install is one process by design, so its queue lives in that
 * process (below); work that must survive a restart there keeps its own state in its tables.
 */
import type { Logger } from '../log';

/** How a kind of job is run. */
export interface JobSpec {
  /** A job still running this long after it started is taken to be lost (its process died) and retried. */
  leaseSeconds: number;
  /** Tries after the first before the job is left failed. */
  retryLimit: number;
  /** Wait before the first retry; it doubles with each further one. */
  retryDelaySeconds: number;
  /**
   * Jobs are sent with a `singletonKey` (see {@link SendOptions}): at most one job per key is
   * waiting, waiting for a retry, or running, in all processes together.
   */
  singleton?: boolean;
}

export interface SendOptions {
  /**
   * Of a kind defined `singleton`: while a job with this key is waiting, waiting for a retry or
   * running, sending another adds nothing. A refresh requested by many pages at once runs once.
   */
  singletonKey?: string;
}

/** One kind of job as the admin sees it. */
export interface QueueStat {
  name: string;
  /** Waiting to run, including retries not yet due. */
  queued: number;
  active: number;
  failed: number;
  completed: number;
}

export interface JobQueue {
  readonly kind: 'pg-boss' | 'in-process';
  /**
   * Declares a kind of job. Its jobs run in this process only when this process does background
   * work; otherwise another process (npm run worker) runs them.
   */
  define<T extends object>(name: string, spec: JobSpec, handler: (data: T) => Promise<void>): Promise<void>;
  send<T extends object>(name: string, data: T, options?: SendOptions): Promise<void>;
  /** Sends `name` (defined before) every `minutes`: once in all processes together, not once in each. */
  every(name: string, minutes: number): Promise<void>;
  /** Jobs by kind and state: for the admin page and /metrics. */
  stats(): Promise<QueueStat[]>;
  /** Stops taking jobs and waits for the ones running here. */
  close(): Promise<void>;
}

export interface QueueOptions {
  /** Whether jobs run in this process (false: it only sends them). */
  work: boolean;
  log: Logger;
}

/** Names of jobs: letters, digits and underscores (what pg-boss accepts everywhere). */
export function assertJobName(name: string): void {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`job name ${JSON.stringify(name)}: use lowercase letters, digits and _`);
}

/** Exponential backoff with jitter, as pg-boss does it, for the in-process queue. */
function retryDelayMs(spec: JobSpec, tries: number): number {
  return spec.retryDelaySeconds * 1000 * 2 ** (tries - 1) * (0.75 + Math.random() / 2);
}

/**
 * The queue of a single process (SQLite): jobs of one kind run one at a time, in order; a failed
 * job is retried with backoff. Nothing of it outlives the process.
 */
export function inProcessQueue(opts: QueueOptions): JobQueue {
  interface Job { data: object; tries: number; key?: string }
  interface Kind {
    spec: JobSpec; handler: (data: object) => Promise<void>; waiting: Job[]; running: Promise<void> | null; stat: QueueStat;
    /** Singleton keys of jobs waiting, waiting for a retry, or running. */
    keys: Set<string>;
  }
  const kinds = new Map<string, Kind>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  const kindOf = (name: string) => {
    const k = kinds.get(name);
    if (!k) throw new Error(`job ${name} was not defined`);
    return k;
  };
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => (timers.delete(t), fn()), ms);
    t.unref();
    timers.add(t);
  };

  async function drain(k: Kind): Promise<void> {
    for (let job = k.waiting.shift(); job && !closed; job = k.waiting.shift()) {
      k.stat.queued--;
      k.stat.active++;
      let retrying = false;
      try {
        await k.handler(job.data);
        k.stat.completed++;
      } catch (e) {
        retrying = !closed && job.tries <= k.spec.retryLimit;
        opts.log.warn('job failed', { job: k.stat.name, tries: job.tries, retry: retrying, error: String(e) });
        if (retrying) {
          k.stat.queued++;
          const again = { ...job, tries: job.tries + 1 };
          later(retryDelayMs(k.spec, job.tries), () => push(k, again, false));
        } else k.stat.failed++;
      } finally {
        k.stat.active--;
        // A job waiting for its retry still holds its key: requests meanwhile do not bypass the backoff.
        if (job.key !== undefined && !retrying) k.keys.delete(job.key);
      }
    }
  }
  function push(k: Kind, job: Job, counted = true): void {
    if (closed) return;
    if (counted) k.stat.queued++;
    k.waiting.push(job);
    if (opts.work) k.running ??= drain(k).finally(() => (k.running = null));
  }

  return {
    kind: 'in-process',
    async define(name, spec, handler) {
      assertJobName(name);
      kinds.set(name, { spec, handler: handler as (data: object) => Promise<void>, waiting: [], running: null, stat: { name, queued: 0, active: 0, failed: 0, completed: 0 }, keys: new Set() });
    },
    async send(name, data, options = {}) {
      if (closed) throw new Error('the job queue is closed');
      const k = kindOf(name);
      const key = k.spec.singleton ? options.singletonKey : undefined;
      if (key !== undefined) {
        if (k.keys.has(key)) return;
        k.keys.add(key);
      }
      push(k, { data, tries: 1, key });
    },
    async every(name, minutes) {
      const k = kindOf(name);
      const t = setInterval(() => push(k, { data: {}, tries: 1 }), minutes * 60_000);
      t.unref();
      timers.add(t);
    },
    async stats() {
      return [...kinds.values()].map((k) => ({ ...k.stat }));
    },
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      await Promise.all([...kinds.values()].map((k) => k.running));
    },
  };
}
