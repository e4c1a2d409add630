import path from 'node:path';
import { sql } from 'kysely';
import type express from 'express';
import type { Config } from './config';
import { ROOT } from './config';
import { createLogger, type Logger } from './log';
import { connect, type Connection } from './db/connect';
import { migrateToLatest } from './db/migrate';
import { installSecret, registrationKey } from './install';
import { LtijsStore } from './lti/ltijs-store';
import { Platforms } from './lti/platforms';
import { Logins } from './lti/login';
import { Launches } from './lti/launch';
import { DynamicRegistration } from './lti/registration';
import { ltiRoutes } from './lti/routes';
import { createRenderer } from './web/render';
import { createWebApp } from './web/app';
import { homeRoutes } from './web/home';
import { sessionArea } from './web/session';
import { PlatformOrigins } from './web/security';
import { createTracer, type KnowledgeTracer } from './kt/tracer';
import { ModelCache } from './kt/models';
import { createTrainingJobs, type TrainingJobs } from './kt/jobs/runner';
import { enqueueScore } from './grades/outbox';
import { studentOverrides } from './teacher/overrides';
import { PlatformServices } from './grades/platform-services';
import { OutboxSender, type ScoreSender } from './grades/sender';
import { Roster } from './teacher/roster';
import { teacherRoutes } from './teacher/routes';
import { practiceRoutes } from './practice/routes';
import { contentRoutes, katexStatic } from './content/routes';
import { ensureSampleBank } from './content/sample';

export interface Jejak {
  config: Config;
  app: express.Express;
  conn: Connection;
  platforms: Platforms;
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

  const models = new ModelCache();
  const tracer = createTracer({ db, log, models });
  const training = await createTrainingJobs({ db, log });
  const practice = practiceRoutes({
    render, platforms, log, launchUrl: `${config.publicUrl}/lti/launch`,
    practice: {
      db, tracer, enqueueScore, studentOverrides,
      // Inside an attempt's transaction the tracer must read through it (SQLite has one connection).
      tracerWithin: (trx) => createTracer({ db: trx, log, models }),
    },
  });
  const services = new PlatformServices(db, platforms, store, config.grades.requestTimeoutMs);
  const grades: ScoreSender = new OutboxSender(db, services, log, config.grades);
  const roster = new Roster(db, services, { ttlMs: 5 * 60_000, pageSize: 200, storePersonalNames: config.storePersonalNames });
  const platformOrigins = new PlatformOrigins(db);
  platforms.onChange(() => platformOrigins.forget());
  const app = createWebApp({
    config, log, render, platformOrigins,
    databaseOk: async () => (await sql`select 1 as ok`.execute(db), true),
    routers: [
      ltiRoutes({ config, log, render, platforms, logins, launches, registration, registrationKey: key }),
      katexStatic(),
      // Pages behind a launch: each part of Jejak adds its router here.
      sessionArea(db, config.publicUrl, [teacherRoutes({ db, tracer, roster, render }), contentRoutes({ db, render }), practice.router, homeRoutes(render, practice.homes)]),
    ],
  });

  const purgeExpired = async () => {
    const now = Date.now();
    await store.purgeExpired();
    await db.deleteFrom('oidc_login').where('expires_at', '<=', now).execute();
    await db.deleteFrom('used_nonce').where('expires_at', '<=', now).execute();
    await db.deleteFrom('launch_session').where('expires_at', '<=', now).execute();
  };
  const timer = setInterval(() => purgeExpired().catch((e) => log.warn('purge failed', { error: String(e) })), 10 * 60_000);
  timer.unref();
  grades.start();

  const base = config.publicUrl;
  return {
    config, app, conn, platforms, tracer, training, grades, registrationKey: key, log,
    urls: {
      registration: `${base}/lti/register?key=${key}`,
      login: `${base}/lti/login`,
      launch: `${base}/lti/launch`,
      jwks: `${base}/lti/jwks`,
    },
    purgeExpired,
    close: async () => {
      clearInterval(timer);
      await training.close();
      await grades.stop();
      await conn.close();
    },
  };
}
