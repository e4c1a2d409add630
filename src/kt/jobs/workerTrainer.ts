/**
 * Trains in a worker thread, so that the event loop serving HTTP never runs the training's hot
 * loops. The worker is worker.js next to this file in a build (dist), and worker.ts run through
 * tsx's CommonJS hook when Jejak itself runs from TypeScript (npm run dev, tests).
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DktTrainer } from '../commands/trainBankModel';
import type { TrainOptions, TrainProgress, TrainResult } from '../train';
import type { KtDataset } from '../types';

/** What the worker is given. */
export interface TrainingWorkerInput {
  train: KtDataset;
  valid: KtDataset;
  opts: TrainOptions;
}

/** What the worker tells its parent. */
export type TrainingWorkerMessage =
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'done'; result: TrainResult }
  | { type: 'error'; message: string };

function startWorker(workerData: TrainingWorkerInput): Worker {
  const fromTypeScript = __filename.endsWith('.ts');
  const entry = path.join(__dirname, fromTypeScript ? 'worker.ts' : 'worker.js');
  if (!fromTypeScript) return new Worker(entry, { workerData });
  const bootstrap = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(entry)});`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/** Raised when the training was stopped through its signal (shutdown). */
export class TrainingAborted extends Error {}

/** A trainer that runs trainDkt in a fresh worker thread; aborting `signal` terminates the worker. */
export function workerTrainer(signal?: AbortSignal): DktTrainer {
  return (train, valid, opts, onProgress) =>
    new Promise<TrainResult>((resolve, reject) => {
      if (signal?.aborted) return reject(new TrainingAborted('training stopped before it started'));
      const worker = startWorker({ train, valid, opts });
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = () => settle(() => {
        void worker.terminate();
        reject(new TrainingAborted('training stopped (shutdown)'));
      });
      signal?.addEventListener('abort', onAbort);
      worker.on('message', (m: TrainingWorkerMessage) => {
        if (m.type === 'progress') onProgress?.(m.progress);
        else if (m.type === 'done') settle(() => resolve(m.result));
        else settle(() => reject(new Error(m.message)));
      });
      worker.on('error', (e) => settle(() => reject(e)));
      worker.on('exit', (code) => settle(() => reject(new Error(`training worker exited with code ${code} before finishing`))));
    });
}
