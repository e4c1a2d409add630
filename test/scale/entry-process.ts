/**
 * Jejak's own entry points (`npm start`: src/main.ts, `npm run worker`: src/worker.ts) as child
 * processes, run through tsx as `npm run dev` does, with the environment IT would set. For the tests
 * of cluster mode and the worker role: what they print and log, and how they end.
 */
import path from 'node:path';
import { spawn } from 'node:child_process';
import { ROOT } from '../../src/config';

export interface EntryProcess {
  pid: number;
  /** Every line printed (stdout and stderr), in order. */
  lines: string[];
  /** The JSON log lines among them, parsed. */
  logs(): Record<string, any>[];
  /** Resolves when a line satisfying `match` has been printed (rejects after `ms`, or when the process ends first). */
  line(match: (line: string) => boolean, ms: number, what: string): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` unless the process has ended. */
  signal(signal: NodeJS.Signals): void;
}

export function startEntry(entry: 'src/main.ts' | 'src/worker.ts', env: Record<string, string>): EntryProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, entry)], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    // LOG_LEVEL etc. come from the test, not from whoever runs it.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  });
  const lines: string[] = [];
  const waiting = new Set<() => void>();
  let rest = '';
  const collect = (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split('\n');
    rest = parts.pop()!;
    lines.push(...parts.filter(Boolean));
    for (const w of waiting) w();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => {
    if (rest) lines.push(rest);
    for (const w of waiting) w();
    resolve({ code, signal });
  }));
  return {
    pid: child.pid!, lines, exited,
    logs: () => lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>),
    line: (match, ms, what) => new Promise((resolve, reject) => {
      const check = () => {
        const found = lines.find(match);
        if (found !== undefined) finish(() => resolve(found));
        else if (child.exitCode !== null || child.signalCode !== null) finish(() => reject(new Error(`${entry} ended before ${what}:\n${lines.slice(-20).join('\n')}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out waiting for ${what}:\n${lines.slice(-20).join('\n')}`))), ms);
      const finish = (then: () => void) => {
        clearTimeout(timer);
        waiting.delete(check);
        then();
      };
      waiting.add(check);
      check();
    }),
    signal: (s) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(s);
    },
  };
}
