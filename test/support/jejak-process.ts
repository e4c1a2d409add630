/**
 * Jejak in a process of its own, for the load benchmark and the fault tests: the load generator must
 * not share the tool's event loop, and a fault test must be able to kill -9 the tool.
 *
 * The parent prepares the database in-process (migrations, the platform registered, a test bank),
 * then starts the child, which builds the app exactly as `npm start` does (createJejak) with the same
 * configuration plus overrides the environment cannot express (e.g. the grade sender's timings).
 */
import http from 'node:http';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { loadConfig, ROOT, type Config } from '../../src/config';
import { createJejak } from '../../src/app';
import { createLogger } from '../../src/log';
import type { MoodleSim } from '../platform';
import { insertTestBank, registerTool, type TestBank } from '../practice/support';

const SECRET = 'process-test-secret-that-is-long-enough-0123';
const READY = 'JEJAK_PROCESS_READY';

export interface JejakProcessOptions {
  databaseUrl: string;
  port: number;
  /** Configuration beyond the database and port (JSON-serialisable). */
  overrides?: Partial<Config>;
  /** Extra Node.js options for the child (e.g. --cpu-prof to profile it under load). */
  nodeArgs?: string[];
}

export interface JejakProcess {
  url: string;
  pid: number;
  /** The child's stdout and stderr lines, newest last (the last 2000). */
  output: string[];
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Sends `signal` (default SIGKILL) and waits for the process to end. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

function configFor(o: JejakProcessOptions): Config {
  return loadConfig({}, {
    port: o.port, host: '127.0.0.1', publicUrl: `http://localhost:${o.port}`, databaseUrl: o.databaseUrl,
    secret: SECRET, logLevel: 'warn', ...o.overrides,
  });
}

/**
 * Migrates the database, registers the simulator as a platform (manually, both sides) and inserts the
 * practice tests' bank, with Jejak in this process; closes it before the child starts.
 */
export async function prepareDatabase(sim: MoodleSim, o: JejakProcessOptions): Promise<{ clientId: string; bank: TestBank }> {
  const config = configFor(o);
  const jejak = await createJejak(config, createLogger('warn'));
  try {
    const clientId = await registerTool(sim, { jejak, url: config.publicUrl, logs: [], close: () => jejak.close() });
    const bank = await insertTestBank(jejak.conn.db);
    return { clientId, bank };
  } finally {
    await jejak.close();
  }
}

/** Starts one Jejak process and waits until it serves. */
export async function startJejakProcess(o: JejakProcessOptions): Promise<JejakProcess> {
  const args = [...(o.nodeArgs ?? []), '--require', 'tsx/cjs', path.join(ROOT, 'test/support/jejak-process.ts')];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, JEJAK_PROCESS_CONFIG: JSON.stringify(configFor(o)) },
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        output.push(line);
        if (line === READY) resolve();
      }
      output.splice(0, Math.max(0, output.length - 2000));
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    exited.then((code) => reject(new Error(`Jejak process exited (${code}) before serving:\n${output.slice(-20).join('\n')}`)));
  });
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  try {
    await ready;
  } catch (e) {
    await kill();
    throw e;
  }
  return { url: `http://localhost:${o.port}`, pid: child.pid!, output, exited, kill };
}

/** The child: serve until SIGTERM, then close the database (SIGKILL gives it no chance, on purpose). */
async function serveChild(): Promise<void> {
  const config = JSON.parse(process.env.JEJAK_PROCESS_CONFIG!) as Config;
  const jejak = await createJejak(config, createLogger(config.logLevel));
  const server = http.createServer(jejak.app);
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => void jejak.close().then(() => process.exit(0)));
  });
  process.stdout.write(READY + '\n');
}

if (require.main === module) {
  serveChild().catch((e: Error) => {
    process.stderr.write(`Jejak process could not start: ${e.stack}\n`);
    process.exit(1);
  });
}
