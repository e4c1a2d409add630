import { ConfigError, loadConfig } from './config';
import { createJejak } from './app';
import { createLogger } from './log';
import { isPostgresUrl } from './db/connect';

/**
 * `npm run worker`: the same Jejak without HTTP, running background jobs only (training, grade
 * delivery, purges), so that a district keeps training off the web machines (which then run with
 * JEJAK_BACKGROUND_WORK=off). Needs PostgreSQL, where the jobs are shared.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, { backgroundWork: true });
    if (!isPostgresUrl(config.databaseUrl)) throw new ConfigError('Configuration error: DATABASE_URL: the worker role needs PostgreSQL (postgres://…); with SQLite, `npm start` runs the jobs itself');
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(e.message + '\n');
      process.exit(1);
    }
    throw e;
  }
  const log = createLogger(config.logLevel, { role: 'worker' });
  const jejak = await createJejak(config, log);
  log.info('worker running background jobs', { database: jejak.conn.where });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    // A training cut off here is delivered again to another process (its lease, or at once when aborted).
    await jejak.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((e: Error) => {
  process.stderr.write(`Jejak worker could not start: ${e.message}\n`);
  process.exit(1);
});
