/**
 * One Jejak process for the scale test (run with tsx): serves on PORT against DATABASE_URL with
 * the settings the test gives in JEJAK_TEST_CONFIG, and prints "ready" when it does.
 */
import http from 'node:http';
import { loadConfig } from '../../src/config';
import { createJejak } from '../../src/app';
import { createLogger } from '../../src/log';

async function main(): Promise<void> {
  const config = loadConfig(process.env, JSON.parse(process.env.JEJAK_TEST_CONFIG ?? '{}'));
  const jejak = await createJejak(config, createLogger('warn'));
  await new Promise<void>((r) => http.createServer(jejak.app).listen(config.port, '127.0.0.1', r));
  process.stdout.write('ready\n');
}
void main();
