import path from 'node:path';
import { sql } from 'kysely';
import type express from 'express';
import type { Config } from './config';
import { ROOT } from './config';
import { createLogger, type Logger } from './log';
import { connect, type Connection } from './db/connect';
import { migrateToLatest, pendingMigrations } from './db/migrate';
import { installSecret, registrationKey } from './install';
import { LtijsStore } from './lti/ltijs-store';
import { Platforms } from './lti/platforms';
import { Logins } from './lti/login';
import { Launches } from './lti/launch';
import { DynamicRegistration } from './lti/registration';
import { ltiRoutes } from './lti/routes';
import { SigningKeys } from './lti/keys';
import { createRenderer } from './web/render';
import { createWebApp } from './web/app';
import { homeRoutes } from './web/home';
import { sessionArea } from './web/session';
import { platformBudget, RateCounter, rateLimits } from './web/rate-limit';
import { PlatformOrigins } from './web/security';
import { createTracer, type KnowledgeTracer } from './kt/tracer';
import { BankContents } from './content/bank-content';
import { ModelCache } from './kt/models';
import { createTrainingJobs, type TrainingJobs } from './kt/jobs/runner';
import { enqueueScore } from './grades/outbox';
import { estimatesPageRoutes } from './teacher/estimates-page';
import { calibrateDueBanks, CALIBRATION_JOB } from './kt/calibration';
import { studentOverrides } from './teacher/overrides';
import { PlatformServices } from './grades/platform-services';
import { OutboxSender, type ScoreSender } from './grades/sender';
import { Gradebooks } from './grades/gradebook';
import { Roster } from './teacher/roster';
import { teacherRoutes } from './teacher/routes';
import { practiceRoutes } from './practice/routes';
import { contentRoutes, katexStatic } from './content/routes';
import { ensureSampleBank } from './content/sample';
import { adminRoutes } from './privacy/admin';
import { purgeAdminSignIns } from './privacy/admin-sign-in';
import { privacyPublicRoutes, privacySessionRoutes } from './privacy/routes';
import { auditConfigChanges, scheduleRetention } from './privacy/lifecycle';
import { inProcessQueue, type JobQueue } from './jobs/queue';
import { pgBossQueue } from './jobs/pgboss';
import { inProcessBus, postgresBus, type EventBus } from './events/bus';
import { Metrics, type Histogram } from './web/metrics';

export interface Jejak {
  config: Config;
  app: express.Express;
  conn: Connection;
  platforms: Platforms;
  /** The tool's signing keys: rotation and removal of retired keys (src/lti/keys.ts). */
  keys: SigningKeys;
  /** Knowledge tracing for practice and teacher pages (src/kt/tracer.ts). */
  tracer: KnowledgeTracer;
  /** Background training of bank models, in worker threads (src/kt/jobs/). */
  training: TrainingJobs;
  /** Delivers the score outbox to the LMS gradebooks (src/grades/). */
  grades: ScoreSender;
  registrationKey: string;
  log: Logger;
  /** The addresses school IT needs. */
  urls: { registration: string; login: string; launch: string; jwks: string };
  /** Background jobs of every kind; `stats()` is what the admin page shows. */
  jobs: JobQueue;
  /** Events between processes (live teacher pages). */
  events: EventBus;
  metrics: Metrics;
  /** Removes expired logins, nonces, sessions and ltijs records. */
  purgeExpired(): Promise<void>;
  close(): Promise<void>;
}

/** The composition root: every part of Jejak is built and wired here, and only here. */
export async function createJejak(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Jejak> {
  const conn = await connect(config.databaseUrl, ROOT);
  try {
    const applied = await migrateToLatest(conn);
    if (applied.length) log.info('database migrated', { applied, where: conn.where });
  } catch (e) {
    await conn.close();
    throw e;
  }
  const { db } = conn;
  const sample = await ensureSampleBank(db);
  if (sample.created) log.info('sample bank loaded', { bankId: sample.bankId });
  const secret = installSecret(config);
  const store = new LtijsStore(db, secret);
  const platforms = new Platforms(db, store, secret);
  const logins = new Logins(db, platforms, config);
  const launches = new Launches(db, platforms, config);
  const registration = new DynamicRegistration(platforms, config);
  const key = await registrationKey(db, config);
  const render = createRenderer(path.join(ROOT, 'views'));

  // Several processes share PostgreSQL: jobs and events go through it. SQLite is one process.
  const jobs: JobQueue = conn.dialect === 'postgres'
    ? await pgBossQueue({ connectionString: config.databaseUrl, work: config.backgroundWork, log, maintenanceSeconds: config.jobs.maintenanceSeconds })
    : inProcessQueue({ work: config.backgroundWork, log });
  const events: EventBus = conn.dialect === 'postgres'
    ? await postgresBus(config.databaseUrl, log, async (channel, payload) => void (await sql`select pg_notify(${channel}, ${payload})`.execute(db)))
    : inProcessBus();
  const metrics = new Metrics();

  const models = new ModelCache();
  const banks = new BankContents();
  const tracer = timedTracer(createTracer({ db, log, models, banks }), metrics.inferenceSeconds);
  const leaseSeconds = config.jobs.trainingLeaseSeconds;
  const training = await createTrainingJobs({
    db, log, queue: jobs, leaseSeconds,
    // A dead process's job is taken over once its heartbeat is stale, well within the lease.
    staleAfterMs: Math.min(30_000, leaseSeconds * 500), heartbeatMs: Math.min(5_000, leaseSeconds * 100),
  });
  const practice = practiceRoutes({
    render, platforms, log, launchUrl: `${config.publicUrl}/lti/launch`,
    onAnswer: (answer) => {
      metrics.answers.inc();
      events.publish({ type: 'answer', ...answer }).catch((e) => log.warn('answer event not published', { error: String(e) }));
    },
    practice: {
      db, banks, tracer, enqueueScore, studentOverrides,
      // Inside an attempt's transaction the tracer must read through it (SQLite has one connection).
      tracerWithin: (trx) => createTracer({ db: trx, log, models, banks }),
    },
  });
  const services = new PlatformServices(db, platforms, store, config.grades.requestTimeoutMs);
  const grades: ScoreSender = new OutboxSender(db, services, log, config.grades);
  const roster = await Roster.create({ db, services, jobs, events, log }, {
    ttlMs: config.roster.ttlSeconds * 1000, pageSize: 200, storePersonalNames: config.storePersonalNames,
    retryDelaySeconds: config.roster.retryDelaySeconds, firstLoadWaitMs: config.roster.firstLoadWaitMs,
  });
  const platformOrigins = new PlatformOrigins(db);
  platforms.onChange(() => platformOrigins.forget());
  const rateCounter = new RateCounter(db, config.rateLimits.windowSeconds * 1000);
  const keys = new SigningKeys(db, secret, config.keys, log);
  const app = createWebApp({
    config, log, render, platformOrigins,
    metrics,
    readiness: async () => {
      const database = await sql`select 1 as ok`.execute(db).then(() => true, () => false);
      return { database, migrations: database && (await pendingMigrations(conn)).length === 0 };
    },
    routers: [
      rateLimits(rateCounter, config.rateLimits, render),
      ltiRoutes({ config, log, render, platforms, logins, launches, registration, registrationKey: key, launchBudget: platformBudget(rateCounter, config.rateLimits) }),
      katexStatic(),
      privacyPublicRoutes({ db, render, config }),
      adminRoutes({ db, render, platforms, training, config, secret }),
      // Pages behind a launch: each part of Jejak adds its router here.
      estimatesPageRoutes({ render }),
      sessionArea(db, config.publicUrl, secret, platformOrigins, [privacySessionRoutes({ db, render, config }), teacherRoutes({ db, tracer, roster, render, events, gradebooks: new Gradebooks(services), timeZone: config.schoolTimeZone }), contentRoutes({ db, render }), practice.router, homeRoutes({ db, render }, practice.homes)]),
    ],
  });

  const purgeExpired = async () => {
    const now = Date.now();
    await store.purgeExpired();
    await db.deleteFrom('oidc_login').where('expires_at', '<=', now).execute();
    await db.deleteFrom('used_nonce').where('expires_at', '<=', now).execute();
    await db.deleteFrom('launch_session').where('expires_at', '<=', now).execute();
    await rateCounter.purge(now);
    await purgeAdminSignIns(db, now);
    await keys.maintain(now);
  };
  await jobs.define(PURGE_JOB, { leaseSeconds: 600, retryLimit: 3, retryDelaySeconds: 60 }, purgeExpired);
  await jobs.every(PURGE_JOB, 10);
  // Item and skill difficulties learned from the attempts as they arrive (src/kt/calibration.ts).
  await jobs.define(CALIBRATION_JOB, { leaseSeconds: 1800, retryLimit: 2, retryDelaySeconds: 300 }, async () => void (await calibrateDueBanks(db, log)));
  await jobs.every(CALIBRATION_JOB, 60);
  await scheduleRetention(jobs, db, log, config.retentionDays);
  if (await auditConfigChanges(db, config)) log.info('privacy settings changed since last start (audited)');
  // The outbox is itself a queue in the database, written in the attempt's transaction and leased
  // row by row (src/grades/sender.ts): any number of senders deliver each score once.
  if (config.backgroundWork) grades.start();

  metrics.gauge({
    name: 'jejak_jobs', help: 'Background jobs by kind and state',
    read: async () => (await jobs.stats()).flatMap((q) => (['queued', 'active', 'failed'] as const).map((state) => ({ labels: { job: q.name, state }, value: q[state] }))),
  });
  metrics.gauge({
    name: 'jejak_scores', help: 'Scores in the grade outbox by status (pending, delivered, failed)',
    read: async () => (await db.selectFrom('score_outbox').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute())
      .map((r) => ({ labels: { status: r.status }, value: Number(r.n) })),
  });
  metrics.gauge({
    name: 'jejak_db_statements_total', help: 'SQL statements run by this process', type: 'counter',
    read: async () => [{ value: conn.statements() }],
  });
  if (conn.poolUsage) {
    const usage = conn.poolUsage;
    metrics.gauge({
      name: 'jejak_db_pool_connections', help: 'Database pool connections by state',
      read: async () => {
        const u = usage();
        return [{ labels: { state: 'busy' }, value: u.total - u.idle }, { labels: { state: 'idle' }, value: u.idle }, { labels: { state: 'waiting' }, value: u.waiting }];
      },
    });
  }

  const base = config.publicUrl;
  return {
    config, app, conn, platforms, keys, tracer, training, grades, registrationKey: key, log, jobs, events, metrics,
    urls: {
      registration: `${base}/lti/register?key=${key}`,
      login: `${base}/lti/login`,
      launch: `${base}/lti/launch`,
      jwks: `${base}/lti/jwks`,
    },
    purgeExpired,
    close: async () => {
      await training.close();
      await grades.stop();
      await jobs.close();
      await events.close();
      await conn.close();
    },
  };
}

/** The queue's name for the purge of expired logins, nonces and sessions (every 10 minutes, once for all processes). */
const PURGE_JOB = 'purge_expired';

/** The tracer with its inference timed for /metrics (the reads pages wait for). */
function timedTracer(t: KnowledgeTracer, h: Histogram): KnowledgeTracer {
  const timed = <A extends unknown[], R>(op: string, f: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    const t0 = performance.now();
    try {
      return await f(...a);
    } finally {
      h.observe({ op }, (performance.now() - t0) / 1000);
    }
  };
  return {
    ...t,
    knowledge: timed('knowledge', (s) => t.knowledge(s)),
    classEstimates: timed('class_estimates', (tenantId, contextId, bankId, subs) => t.classEstimates(tenantId, contextId, bankId, subs)),
  };
}
