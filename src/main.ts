import cluster from 'node:cluster';
import http from 'node:http';
import { ConfigError, loadConfig, type Config } from './config';
import { createJejak } from './app';
import { createLogger, type Logger } from './log';
import { connect, isPostgresUrl } from './db/connect';
import { migrateToLatest } from './db/migrate';
import { ensureSampleBank } from './content/sample';
import { ROOT } from './config';

/**
 * `npm start`: serve Jejak until SIGTERM/SIGINT, then finish in-flight requests and close the
 * database. With WEB_CONCURRENCY=N (N > 1) this process is the primary of N workers (node:cluster)
 * sharing the port: it migrates the database first, so that workers start on the final schema.
 */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
    if (!isPostgresUrl(config.databaseUrl) && (config.webConcurrency > 1 || !config.backgroundWork)) {
      throw new ConfigError('Configuration error: WEB_CONCURRENCY > 1 and JEJAK_BACKGROUND_WORK=off need PostgreSQL (DATABASE_URL=postgres://…): the SQLite install is one process');
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(e.message + '\n');
      process.exit(1);
    }
    throw e;
  }
  // A worker's lines name it and its pid: which process served a request, which one to look at.
  const log = createLogger(config.logLevel, cluster.isWorker ? { worker: cluster.worker!.id, pid: process.pid } : {});
  if (config.webConcurrency > 1 && cluster.isPrimary) return primary(config, log);
  return serve(config, log);
}

async function serve(config: Config, log: Logger): Promise<void> {
  const jejak = await createJejak(config, log);
  const server = http.createServer(jejak.app);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  // Workers all print the same; the first one speaks for them.
  if (!cluster.isWorker || cluster.worker!.id === 1) {
    const out = (line: string) => process.stdout.write(line + '\n');
    const processes = config.webConcurrency > 1 ? `, ${config.webConcurrency} worker processes` : '';
    out(`Jejak is serving on ${config.host}:${config.port} (public URL ${config.publicUrl}, database ${jejak.conn.dialect}${processes})`);
    out(`Registration URL: ${jejak.urls.registration}`);
    out(`Login URL: ${jejak.urls.login}`);
    out(`Launch (redirect) URL: ${jejak.urls.launch}`);
    out(`JWKS URL: ${jejak.urls.jwks}`);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    server.close(async () => {
      await jejak.close();
      log.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
    // In-flight requests get 10 s to finish.
    setTimeout(() => server.closeAllConnections(), 10_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/**
 * The cluster's primary: prepares the database (migrations, the sample bank: workers starting together
 * would each load one), forks, replaces a worker that dies, and stops them all on a signal.
 */
async function primary(config: Config, log: Logger): Promise<void> {
  const conn = await connect(config.databaseUrl, ROOT);
  try {
    const applied = await migrateToLatest(conn);
    if (applied.length) log.info('database migrated', { applied, where: conn.where });
    const sample = await ensureSampleBank(conn.db);
    if (sample.created) log.info('sample bank loaded', { bankId: sample.bankId });
  } finally {
    await conn.close();
  }
  let stopping = false;
  const fork = () => cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      log.info('worker stopped', { worker: worker.id, pid: worker.process.pid, code, signal });
      if (!Object.keys(cluster.workers ?? {}).length) {
        log.info('stopped');
        process.exit(0);
      }
      return;
    }
    log.error('worker process died; starting another', { worker: worker.id, code, signal });
    // A worker failing at start (bad configuration) would otherwise be restarted in a tight loop.
    setTimeout(fork, 1000);
  });
  for (let i = 0; i < config.webConcurrency; i++) fork();
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal, workers: Object.keys(cluster.workers ?? {}).length });
    // Each worker finishes its in-flight requests and closes its database, as a single process does.
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((e: Error) => {
  process.stderr.write(`Jejak could not start: ${e.message}\n`);
  process.exit(1);
});
