import http from 'node:http';
import { ConfigError, loadConfig } from './config';
import { createJejak } from './app';
import { createLogger } from './log';

/** `npm start`: serve Jejak until SIGTERM/SIGINT, then finish in-flight requests and close the database. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(e.message + '\n');
      process.exit(1);
    }
    throw e;
  }
  const log = createLogger(config.logLevel);
  const jejak = await createJejak(config, log);
  const server = http.createServer(jejak.app);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const out = (line: string) => process.stdout.write(line + '\n');
  out(`Jejak is serving on ${config.host}:${config.port} (public URL ${config.publicUrl}, database ${jejak.conn.dialect})`);
  out(`Registration URL: ${jejak.urls.registration}`);
  out(`Login URL: ${jejak.urls.login}`);
  out(`Launch (redirect) URL: ${jejak.urls.launch}`);
  out(`JWKS URL: ${jejak.urls.jwks}`);

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

main().catch((e: Error) => {
  process.stderr.write(`Jejak could not start: ${e.message}\n`);
  process.exit(1);
});
