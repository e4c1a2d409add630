/** Worker-thread entry: trains one DKT model and posts progress (at most 5 times a second, and every epoch's end) and the result. */
import { parentPort, workerData } from 'node:worker_threads';
import { trainDkt } from '../train';
import type { TrainingWorkerInput, TrainingWorkerMessage } from './workerTrainer';

const post = (m: TrainingWorkerMessage, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);

async function run(): Promise<void> {
  const { train, valid, opts } = workerData as TrainingWorkerInput;
  let lastPost = 0;
  try {
    const result = await trainDkt(train, valid, opts, (progress) => {
      const now = Date.now();
      if (progress.validAuc === undefined && now - lastPost < 200) return;
      lastPost = now;
      post({ type: 'progress', progress });
    });
    post({ type: 'done', result }, [result.model.params.buffer as ArrayBuffer]);
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
}

void run();
