/** A serving pool worker (see ./serving-pool.ts): says it is ready, then helps with calls until stopped. */
import { parentPort, workerData } from 'worker_threads';
import { ServingWorkerData, workerLoop } from './serving-pool';

parentPort?.postMessage('ready');
workerLoop(workerData as ServingWorkerData);
