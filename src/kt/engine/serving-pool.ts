/**
 * Splits a class-sized serving call across the calling thread and a few worker threads.
 *
 * The rows are cut into chunks that every thread claims from a shared counter until none is left,
 * so a worker that is slow to wake (the machine is busy) only does fewer chunks: the call is never
 * slower than the caller alone by more than the copies. Chunks shrink as the call runs out of rows
 * (`chunkBlocks`), so that the threads finish within a few rows' time of each other. Each row is
 * computed by the same kernel code whichever thread takes it, and the GEMM sums in the same order
 * for any block of rows, so the results do not depend on the split.
 *
 * The call stays synchronous, and its hand-offs do not wait on the operating system when the
 * threads are running: a worker that finished a call polls for the next one for SPIN_MS before it
 * sleeps in Atomics.wait (and `wake()` lets the caller rouse it while it prepares a call's rows),
 * and the caller polls for the workers' last chunks rather than sleeping. Polling stops paying when
 * the threads do not run at the same time (they share a core, the machine is busy) or calls are
 * rare: each thread's `Spinner` then sleeps at once, as the pool did before it polled.
 */
import { extname, join } from 'path';
import { Worker } from 'worker_threads';
import type { DktModel } from '../dkt';
import type { KernelKind } from './index';
import { ServingKernel, ServingOp, ServingRows, servingRows, servingRowsBytes } from './serving';

/** Most rows in one claimed chunk: what the calling thread's kernel must hold. */
export const CHUNK_ROWS = 32;
/** Rows are claimed in blocks of this many (the GEMM's row block). */
const BLOCK_ROWS = 4;
const MAX_BLOCKS = CHUNK_ROWS / BLOCK_ROWS;
/** Smallest chunk, in blocks: at 8 rows a chunk's fixed costs (claim, copies, kernel calls) stay small next to its arithmetic. */
const MIN_BLOCKS = 2;
/**
 * How long a thread polls before it sleeps: a worker for the next call, the caller for the workers'
 * last chunks. Long enough to bridge back-to-back calls (a class's step, then its predictions) and
 * a chunk in flight; short, because polling takes the core from other processes on a busy machine
 * (1 ms gave worse p90s than 0.3 with the other core loaded).
 */
export const SPIN_MS = 0.3;
/** Most waits a Spinner sleeps through at once before polling again. */
const MAX_SKIPS = 64;
/** A worker that claimed a chunk and never finished it has failed, not just been slow. */
const WAIT_LIMIT_MS = 10_000;

/** Slots of the control array (Int32). */
const enum Ctrl {
  /** Bumped (and notified) to wake sleeping workers. */
  Signal,
  /** Generation (bits 16..30) and next unclaimed block of rows (bits 0..15) of the current call. */
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
const generationOf = (ticket: number): number => ticket >>> 16;

/**
 * Blocks to claim when `remaining` blocks are left: a share of the rest small enough that the
 * threads end together (guided self-scheduling), between MIN_BLOCKS and MAX_BLOCKS.
 */
export function chunkBlocks(remaining: number, threads: number): number {
  return Math.min(remaining, MAX_BLOCKS, Math.max(MIN_BLOCKS, Math.ceil(remaining / (2 * threads))));
}

export interface ServingWorkerData {
  model: DktModel;
  kernels: KernelKind | undefined;
  control: SharedArrayBuffer;
  rows: SharedArrayBuffer;
  maxRows: number;
  /** Threads taking part in a call (the caller and every worker). */
  threads: number;
}

/**
 * Claims and runs chunks of the current call until none is left (or the call is over); returns
 * how many rows this thread did.
 */
export function drainChunks(control: Int32Array, rows: ServingRows, kernel: ServingKernel, threads: number): number {
  const generation = generationOf(Atomics.load(control, Ctrl.Ticket));
  let done = 0;
  for (;;) {
    const ticket = Atomics.load(control, Ctrl.Ticket);
    if (generationOf(ticket) !== generation) return done;
    const block = ticket & 0xffff;
    const n = Atomics.load(control, Ctrl.Rows);
    const op = Atomics.load(control, Ctrl.Op);
    const itemAware = Atomics.load(control, Ctrl.ItemAware) === 1;
    const blocks = Math.ceil(n / BLOCK_ROWS);
    if (block >= blocks || op === STOP) return done;
    const take = chunkBlocks(blocks - block, threads);
    // The ticket word still holding this generation and block means the call's fields read above are its own.
    if (Atomics.compareExchange(control, Ctrl.Ticket, ticket, ticket + take) !== ticket) continue;
    const start = block * BLOCK_ROWS;
    const count = Math.min(take * BLOCK_ROWS, n - start);
    kernel.run(OPS[op], rows, start, count, itemAware);
    done += count;
    Atomics.add(control, Ctrl.Done, count);
    Atomics.notify(control, Ctrl.Done);
  }
}

/**
 * How long a thread polls for the other threads before it sleeps, adapted to whether polling pays.
 * After two polls in a row that ran out before the event came (the other thread is not running:
 * it shares a core with this one or with other processes; or calls are rare, as in a server), it
 * sleeps at once for the next 1, 2, 4 … up to MAX_SKIPS waits, then tries polling again.
 */
export class Spinner {
  private misses = 0;
  private skips = 0;

  /** Milliseconds to poll before sleeping, this time. */
  budget(): number {
    if (this.skips === 0) return SPIN_MS;
    this.skips--;
    return 0;
  }

  /** After a wait with a budget: whether the event came while polling. */
  polled(caught: boolean): void {
    if (caught) this.misses = 0;
    else this.skips = ++this.misses < 2 ? 0 : Math.min(MAX_SKIPS, 2 ** (this.misses - 2));
  }
}

/** Until a call newer than `generation` starts (true) or the pool stops (false): polls while that pays, then sleeps. */
function awaitCall(control: Int32Array, generation: number, spinner: Spinner): boolean {
  const budget = spinner.budget();
  let polling = budget > 0;
  let pollUntil = performance.now() + budget;
  for (let i = 1; ; i++) {
    if (Atomics.load(control, Ctrl.Op) === STOP) return false;
    if (generationOf(Atomics.load(control, Ctrl.Ticket)) !== generation) {
      if (polling) spinner.polled(true);
      return true;
    }
    if ((i & 63) === 0 && performance.now() > pollUntil) {
      if (polling) spinner.polled(false);
      polling = false;
      // Read the signal before the last look at the ticket: a call published after that look bumps it, so the wait returns.
      const signal = Atomics.load(control, Ctrl.Signal);
      if (Atomics.load(control, Ctrl.Op) === STOP) return false;
      if (generationOf(Atomics.load(control, Ctrl.Ticket)) !== generation) return true;
      Atomics.wait(control, Ctrl.Signal, signal);
      // Woken by `wake()`, the call comes as soon as the caller has filled its rows: poll for it.
      pollUntil = performance.now() + SPIN_MS;
    }
  }
}

/** The worker side: wait for a call, help with it, repeat until stopped. */
export function workerLoop(data: ServingWorkerData): void {
  const control = new Int32Array(data.control);
  const { hidden, numSkills } = data.model.config;
  const rows = servingRows(data.rows, data.maxRows, hidden, numSkills);
  const kernel = new ServingKernel(data.model, CHUNK_ROWS, data.kernels);
  const spinner = new Spinner();
  let generation = generationOf(Atomics.load(control, Ctrl.Ticket));
  while (awaitCall(control, generation, spinner)) {
    generation = generationOf(Atomics.load(control, Ctrl.Ticket));
    drainChunks(control, rows, kernel, data.threads);
  }
}

export class ServingPool {
  /** The table the caller fills and reads; shared with the workers. */
  readonly rows: ServingRows;
  private readonly control = new Int32Array(new SharedArrayBuffer(Ctrl.Length * 4));
  private readonly workers: Worker[];
  private readonly threads: number;
  private generation = 0;
  private closed = false;
  private readonly spinner = new Spinner();
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
    if (Math.ceil(maxRows / BLOCK_ROWS) > 0xffff) throw new Error(`at most ${0xffff * BLOCK_ROWS} rows per call`);
    const shared = new SharedArrayBuffer(servingRowsBytes(maxRows, hidden, numSkills));
    this.rows = servingRows(shared, maxRows, hidden, numSkills);
    if (local.maxRows < CHUNK_ROWS) throw new Error(`the calling thread's kernel holds ${local.maxRows} rows, less than a chunk (${CHUNK_ROWS})`);
    this.threads = workers + 1;
    const data: ServingWorkerData = { model, kernels, control: this.control.buffer as SharedArrayBuffer, rows: shared, maxRows, threads: this.threads };
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

  /**
   * Rouses sleeping workers ahead of a call (optional): they poll for it for SPIN_MS, so the
   * operating system's wake-up overlaps with the caller filling the rows.
   */
  wake(): void {
    if (this.closed) return;
    Atomics.add(this.control, Ctrl.Signal, 1);
    Atomics.notify(this.control, Ctrl.Signal);
  }

  /** Runs `op` on rows [0, n) of `rows`, across this thread and the workers. */
  run(op: ServingOp, n: number, itemAware: boolean): void {
    if (this.closed) {
      for (let start = 0; start < n; start += CHUNK_ROWS) this.local.run(op, this.rows, start, Math.min(CHUNK_ROWS, n - start), itemAware);
      return;
    }
    const c = this.control;
    Atomics.store(c, Ctrl.Op, OPS.indexOf(op));
    Atomics.store(c, Ctrl.Rows, n);
    Atomics.store(c, Ctrl.ItemAware, itemAware ? 1 : 0);
    Atomics.store(c, Ctrl.Done, 0);
    this.generation = (this.generation + 1) & 0x7fff;
    Atomics.store(c, Ctrl.Ticket, this.generation << 16);
    this.wake();
    this.workerRows += n - drainChunks(c, this.rows, this.local, this.threads);
    this.awaitDone(n);
  }

  /** Until the workers' chunks of the call are done: polls while that pays, then sleeps between their notifications. */
  private awaitDone(n: number): void {
    const c = this.control;
    if (Atomics.load(c, Ctrl.Done) >= n) return;
    const started = performance.now();
    const budget = this.spinner.budget();
    let polling = budget > 0;
    for (let i = 1; ; i++) {
      const done = Atomics.load(c, Ctrl.Done);
      if (done >= n) {
        if (polling) this.spinner.polled(true);
        return;
      }
      if ((i & 63) !== 0) continue;
      const waited = performance.now() - started;
      if (waited < budget) continue;
      if (polling) this.spinner.polled(false);
      polling = false;
      if (waited > WAIT_LIMIT_MS) throw new Error(`a serving worker did not finish its rows within ${WAIT_LIMIT_MS} ms`);
      Atomics.wait(c, Ctrl.Done, done, WAIT_LIMIT_MS - waited + 1);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    Atomics.store(this.control, Ctrl.Op, STOP);
    Atomics.add(this.control, Ctrl.Signal, 1);
    Atomics.notify(this.control, Ctrl.Signal);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
