/**
 * Splits a class-sized serving call across the calling thread and a few worker threads.
 *
 * The rows are cut into chunks of CHUNK_ROWS that every thread claims from a shared counter until
 * none is left, so a worker that is slow to wake (the machine is busy) only does fewer chunks: the
 * call is never slower than the caller alone by more than the copies. Each row is computed by the
 * same kernel code whichever thread takes it, and the GEMM sums in the same order for any block
 * of rows, so the results do not depend on the split. The call stays synchronous: the caller waits
 * for the workers' last chunks with Atomics.wait.
 */
import { extname, join } from 'path';
import { Worker } from 'worker_threads';
import type { DktModel } from '../dkt';
import type { KernelKind } from './index';
import { ServingKernel, ServingOp, ServingRows, servingRows, servingRowsBytes } from './serving';

/** Rows per claimed chunk: big enough to amortise the GEMM's panel packing, small enough to balance two threads. */
export const CHUNK_ROWS = 32;

/** Slots of the control array (Int32). */
const enum Ctrl {
  /** Bumped (and notified) to wake the workers for a call. */
  Signal,
  /** Generation (high 16 bits) and next unclaimed chunk (low 16 bits) of the current call. */
  Ticket,
  Op,
  Rows,
  ItemAware,
  /** Rows finished in the current call. */
  Done,
  Length,
}

const OPS: ServingOp[] = ['step', 'probabilities'];
const STOP = -1;
/** A worker that claimed a chunk and never finished it has failed, not just been slow. */
const WAIT_LIMIT_MS = 10_000;

export interface ServingWorkerData {
  model: DktModel;
  kernels: KernelKind | undefined;
  control: SharedArrayBuffer;
  rows: SharedArrayBuffer;
  maxRows: number;
}

/**
 * Claims and runs chunks of the current call until none is left (or the call is over); returns
 * how many rows this thread did.
 */
export function drainChunks(control: Int32Array, rows: ServingRows, kernel: ServingKernel): number {
  const generation = Atomics.load(control, Ctrl.Ticket) >>> 16;
  let done = 0;
  for (;;) {
    const ticket = Atomics.load(control, Ctrl.Ticket);
    if (ticket >>> 16 !== generation) return done;
    const start = (ticket & 0xffff) * CHUNK_ROWS;
    const n = Atomics.load(control, Ctrl.Rows);
    const op = Atomics.load(control, Ctrl.Op);
    const itemAware = Atomics.load(control, Ctrl.ItemAware) === 1;
    if (start >= n || op === STOP) return done;
    // The ticket word still holding this generation and chunk means the call's fields read above are its own.
    if (Atomics.compareExchange(control, Ctrl.Ticket, ticket, ticket + 1) !== ticket) continue;
    const count = Math.min(CHUNK_ROWS, n - start);
    kernel.run(OPS[op], rows, start, count, itemAware);
    done += count;
    Atomics.add(control, Ctrl.Done, count);
    Atomics.notify(control, Ctrl.Done);
  }
}

/** The worker side: wait for a call, help with it, repeat until stopped. */
export function workerLoop(data: ServingWorkerData): void {
  const control = new Int32Array(data.control);
  const { hidden, numSkills } = data.model.config;
  const rows = servingRows(data.rows, data.maxRows, hidden, numSkills);
  const kernel = new ServingKernel(data.model, CHUNK_ROWS, data.kernels);
  let seen = Atomics.load(control, Ctrl.Signal);
  for (;;) {
    Atomics.wait(control, Ctrl.Signal, seen);
    seen = Atomics.load(control, Ctrl.Signal);
    if (Atomics.load(control, Ctrl.Op) === STOP) return;
    drainChunks(control, rows, kernel);
  }
}

export class ServingPool {
  /** The table the caller fills and reads; shared with the workers. */
  readonly rows: ServingRows;
  private readonly control = new Int32Array(new SharedArrayBuffer(Ctrl.Length * 4));
  private readonly workers: Worker[];
  private generation = 0;
  /** Rows done by the workers so far (the rest were done by the calling thread). */
  workerRows = 0;
  /** Resolves when every worker is waiting for calls (calls before that just get less help). */
  readonly ready: Promise<void>;

  /** `local` is the calling thread's kernel (for at least CHUNK_ROWS rows); the workers make theirs with `kernels`. */
  constructor(
    model: DktModel,
    maxRows: number,
    workers: number,
    private readonly local: ServingKernel,
    kernels?: KernelKind,
  ) {
    const { hidden, numSkills } = model.config;
    if (Math.ceil(maxRows / CHUNK_ROWS) > 0xffff) throw new Error(`at most ${0xffff * CHUNK_ROWS} rows per call`);
    const shared = new SharedArrayBuffer(servingRowsBytes(maxRows, hidden, numSkills));
    this.rows = servingRows(shared, maxRows, hidden, numSkills);
    if (local.maxRows < CHUNK_ROWS) throw new Error(`the calling thread's kernel holds ${local.maxRows} rows, less than a chunk (${CHUNK_ROWS})`);
    const data: ServingWorkerData = { model, kernels, control: this.control.buffer as SharedArrayBuffer, rows: shared, maxRows };
    // From the TypeScript sources (tests, tsx) the worker needs the same loader as this thread.
    const fromSource = extname(__filename) === '.ts';
    this.workers = Array.from({ length: workers }, () => {
      const w = new Worker(join(__dirname, `serving-worker${extname(__filename)}`), {
        workerData: data,
        execArgv: fromSource ? ['--require', require.resolve('tsx/cjs')] : undefined,
      });
      // Idle workers must not keep the process alive.
      w.unref();
      return w;
    });
    this.ready = Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.once('message', () => resolve());
            w.once('error', reject);
          }),
      ),
    ).then(() => undefined);
    // A worker that fails to start leaves its chunks to the others; whoever awaits `ready` sees why.
    this.ready.catch(() => undefined);
  }

  /** Runs `op` on rows [0, n) of `rows`, across this thread and the workers. */
  run(op: ServingOp, n: number, itemAware: boolean): void {
    const c = this.control;
    Atomics.store(c, Ctrl.Op, OPS.indexOf(op));
    Atomics.store(c, Ctrl.Rows, n);
    Atomics.store(c, Ctrl.ItemAware, itemAware ? 1 : 0);
    Atomics.store(c, Ctrl.Done, 0);
    this.generation = (this.generation + 1) & 0x7fff;
    Atomics.store(c, Ctrl.Ticket, this.generation << 16);
    Atomics.add(c, Ctrl.Signal, 1);
    Atomics.notify(c, Ctrl.Signal);
    this.workerRows += n - drainChunks(c, this.rows, this.local);
    for (let done = Atomics.load(c, Ctrl.Done); done < n; done = Atomics.load(c, Ctrl.Done)) {
      if (Atomics.wait(c, Ctrl.Done, done, WAIT_LIMIT_MS) === 'timed-out') throw new Error(`a serving worker did not finish its rows within ${WAIT_LIMIT_MS} ms`);
    }
  }

  async close(): Promise<void> {
    Atomics.store(this.control, Ctrl.Op, STOP);
    Atomics.add(this.control, Ctrl.Signal, 1);
    Atomics.notify(this.control, Ctrl.Signal);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
