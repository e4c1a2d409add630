/**
 * Serving latency of a DKT model, as issue #3 names it: one answer's update (one student's step and
 * that student's predictions for every skill, what the server does per answer) and one step for
 * 256 students (`stepBatch`), on one thread and split across SERVING_THREADS; next to them, for
 * information, the all-skill predictions for 256 students (`predictBatch`) and rebuilding a state
 * from 200 answers. Used by `npm run bench:kt` for its serving table, with or without training.
 */
import * as os from 'os';
import type { DktModel } from '../src/kt/dkt';
import { wasmKernelsAvailable } from '../src/kt/engine/kernels-wasm';
import { Rng } from '../src/kt/engine/random';
import { DktPredictor, DktState } from '../src/kt/predict';

/**
 * The issue's serving targets: one answer's update p99 under 0.2 ms; "256 students one step under
 * 3 ms", a per-call time without a percentile, judged here on the median call (p99 shown beside it).
 */
export const SERVING_TARGETS = { oneAnswerP99Ms: 0.2, step256P50Ms: 3, rssMb: 300 };
/** Pause before each call of the "after idle" measurement: the cores go idle between calls, as in a server. */
const IDLE_GAP_MS = 20;
/** Threads of the split measurement: the benchmark machine has 2 cores. */
export const SERVING_THREADS = 2;
const CLASS = 256;

export interface Percentiles {
  /** The fastest sample: the cost without interference, to tell a slow machine from a noisy one. */
  min: number;
  p50: number;
  p99: number;
  samples: number;
}

/** One measurement per thread count: `one` on the calling thread, `split` across SERVING_THREADS. */
export interface ByThreads {
  one: Percentiles;
  split: Percentiles;
}

export interface ServingResult {
  kernels: string;
  shape: { numSkills: number; numItems: number; hidden: number };
  /** One student: step(state, answer) then predictAll(state). */
  oneAnswerMs: Percentiles;
  /** stepBatch of 256 states (the target), calls back to back. */
  step256Ms: ByThreads;
  /** One answer and the class step again, each call after IDLE_GAP_MS of idleness (information: what a lone call meets on this machine). */
  afterIdleMs: { oneAnswer: Percentiles; step256: ByThreads };
  /** predictBatch of 256 states: every skill's P(correct) for each (information). */
  predict256Ms: ByThreads;
  /** stepBatch then predictBatch of 256 states, timed as one: the step with the predictions a class view shows. */
  stepPredict256Ms: ByThreads;
  threads: number;
  /** stateFromHistory of 200 answers (a state rebuilt from scratch). */
  recompute200Ms: Percentiles;
  /** RSS with both predictors and the worker thread alive. */
  rssMb: number;
  loadBefore: number[];
  loadAfter: number[];
}

const MB = 1024 * 1024;

export function percentiles(samples: number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { min: sorted[0], p50: at(0.5), p99: at(0.99), samples: sorted.length };
}

/**
 * Measures `model` in this process. The class measurements run in `rounds` rounds that each take
 * `perRound` samples of every case in turn, so that a burst of load on a shared machine hits all
 * cases alike instead of one of them.
 */
export async function measureServing(model: DktModel, opts: { rounds?: number; perRound?: number } = {}): Promise<ServingResult> {
  const rounds = opts.rounds ?? 8;
  const perRound = opts.perRound ?? 50;
  const loadBefore = os.loadavg();
  const single = new DktPredictor(model);
  const split = new DktPredictor(model, { threads: SERVING_THREADS });
  try {
    await split.ready();
    const { numSkills, numItems, hidden } = model.config;
    const rng = new Rng(11);
    const answers = (n: number) => {
      const skills = Array.from({ length: n }, () => rng.int(numSkills));
      const items = numItems ? Array.from({ length: n }, () => rng.int(numItems)) : null;
      const correct = Array.from({ length: n }, () => rng.int(2));
      return { skills, items, correct };
    };

    const one = single.initialState();
    const oneAnswer = () => {
      const a = answers(1);
      const t0 = performance.now();
      single.step(one, a.skills[0], a.items?.[0], a.correct[0]);
      single.predictAll(one);
      return performance.now() - t0;
    };
    for (let i = 0; i < 500; i++) oneAnswer();
    const oneAnswerMs = percentiles(Array.from({ length: 5000 }, oneAnswer));

    type Case = { key: 'step256Ms' | 'predict256Ms' | 'stepPredict256Ms'; threads: keyof ByThreads; run: () => number; samples: number[] };
    const cases: Case[] = [];
    for (const [threads, p] of [['one', single], ['split', split]] as const) {
      const states: DktState[] = Array.from({ length: CLASS }, () => p.initialState());
      const step = () => {
        const a = answers(CLASS);
        const t0 = performance.now();
        p.stepBatch(states, a.skills, a.items, a.correct);
        return performance.now() - t0;
      };
      const predict = () => {
        const t0 = performance.now();
        p.predictBatch(states);
        return performance.now() - t0;
      };
      const stepPredict = () => {
        const a = answers(CLASS);
        const t0 = performance.now();
        p.stepBatch(states, a.skills, a.items, a.correct);
        p.predictBatch(states);
        return performance.now() - t0;
      };
      cases.push(
        { key: 'step256Ms', threads, run: step, samples: [] },
        { key: 'predict256Ms', threads, run: predict, samples: [] },
        { key: 'stepPredict256Ms', threads, run: stepPredict, samples: [] },
      );
    }
    for (const c of cases) for (let i = 0; i < 20; i++) c.run();
    for (let round = 0; round < rounds; round++) {
      for (const c of cases) for (let i = 0; i < perRound; i++) c.samples.push(c.run());
    }
    const byThreads = (key: Case['key']): ByThreads => {
      const of = (threads: keyof ByThreads) => percentiles(cases.find((c) => c.key === key && c.threads === threads)!.samples);
      return { one: of('one'), split: of('split') };
    };

    // Calls far apart: the cores idle in between (and the worker thread sleeps), as between a server's requests.
    const afterIdle = async (call: () => number): Promise<Percentiles> => {
      const samples: number[] = [];
      for (let i = 0; i < 100; i++) {
        await new Promise((resolve) => setTimeout(resolve, IDLE_GAP_MS));
        samples.push(call());
      }
      return percentiles(samples);
    };
    const stepCall = (threads: keyof ByThreads) => cases.find((c) => c.key === 'step256Ms' && c.threads === threads)!.run;
    const afterIdleMs = {
      oneAnswer: await afterIdle(oneAnswer),
      step256: { one: await afterIdle(stepCall('one')), split: await afterIdle(stepCall('split')) },
    };

    const history = answers(200);
    const items = history.items ?? undefined;
    const rebuild = () => {
      const t0 = performance.now();
      single.stateFromHistory({ skills: history.skills, items, correct: history.correct });
      return performance.now() - t0;
    };
    for (let i = 0; i < 5; i++) rebuild();
    const recompute200Ms = percentiles(Array.from({ length: 50 }, rebuild));
    // With the worker thread alive: that is the server's footprint with threads on.
    const rssMb = process.memoryUsage().rss / MB;
    return {
      kernels: wasmKernelsAvailable() ? 'wasm' : 'js',
      shape: { numSkills, numItems, hidden },
      oneAnswerMs,
      step256Ms: byThreads('step256Ms'),
      afterIdleMs,
      predict256Ms: byThreads('predict256Ms'),
      stepPredict256Ms: byThreads('stepPredict256Ms'),
      threads: SERVING_THREADS,
      recompute200Ms,
      rssMb,
      loadBefore,
      loadAfter: os.loadavg(),
    };
  } finally {
    await split.close();
  }
}

const mark = (ok: boolean) => (ok ? '✓' : '✗');
const ms = (x: number) => (x < 1 ? x.toFixed(3) : x.toFixed(2));
const both = (p: Percentiles) => `${ms(p.p50)} / ${ms(p.p99)}`;
const targetP99 = (p: Percentiles, limit: number) => `${ms(p.p50)} / ${ms(p.p99)} ${mark(p.p99 < limit)}`;
const targetP50 = (p: Percentiles, limit: number) => `${ms(p.p50)} ${mark(p.p50 < limit)} / ${ms(p.p99)}`;
export const loads = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');

/** The serving table (markdown lines); `pytorch` adds the reference's column where it ran. */
export function servingTable(rows: { dataset: string; serving: ServingResult; pytorch?: string }[]): string[] {
  const withRef = rows.some((r) => r.pytorch !== undefined);
  const n = SERVING_THREADS;
  const t = SERVING_TARGETS;
  const lines = [
    `| dataset | skills / items / hidden | one answer p50 / p99 (target p99 < ${t.oneAnswerP99Ms}) | step 256, 1 thread p50 (target < ${t.step256P50Ms}) / p99 | step 256, ${n} threads p50 (target < ${t.step256P50Ms}) / p99 | after idle: one answer; step 256, 1 thread; ${n} threads (p50 / p99) | predictions 256, 1 thread p50 / p99 | predictions 256, ${n} threads p50 / p99 | step + predictions 256, 1 thread p50 / p99 | step + predictions 256, ${n} threads p50 / p99 | rebuild 200 answers p50 |${withRef ? ' PyTorch one / 256 / rebuild |' : ''} RSS (target < ${t.rssMb} MB) | load before → after |`,
    `|---|---|---|---|---|---|---|---|---|---|---|${withRef ? '---|' : ''}---|---|`,
  ];
  for (const { dataset, serving: s, pytorch } of rows) {
    lines.push(
      `| ${dataset} | ${s.shape.numSkills} / ${s.shape.numItems || '–'} / ${s.shape.hidden} | ${targetP99(s.oneAnswerMs, t.oneAnswerP99Ms)} | ` +
        `${targetP50(s.step256Ms.one, t.step256P50Ms)} | ${targetP50(s.step256Ms.split, t.step256P50Ms)} | ` +
        `${both(s.afterIdleMs.oneAnswer)}; ${both(s.afterIdleMs.step256.one)}; ${both(s.afterIdleMs.step256.split)} | ` +
        `${both(s.predict256Ms.one)} | ${both(s.predict256Ms.split)} | ${both(s.stepPredict256Ms.one)} | ${both(s.stepPredict256Ms.split)} | ${ms(s.recompute200Ms.p50)} |` +
        `${withRef ? ` ${pytorch ?? '–'} |` : ''} ${s.rssMb.toFixed(0)} MB ${mark(s.rssMb < t.rssMb)} | ${loads(s.loadBefore.slice(0, 1))} → ${loads(s.loadAfter.slice(0, 1))} |`,
    );
  }
  return lines;
}

/** What the table's columns measure (markdown lines). */
export function servingNotes(): string[] {
  const n = SERVING_THREADS;
  return [
    'Milliseconds. One answer = one student\'s step and that student\'s P(correct) for every skill (what the server does per answer). ' +
      `Step ${CLASS} = \`stepBatch\` of a class of ${CLASS} students, the issue's "one step for 256 students", calls back to back; its target ` +
      '(the issue: "256 students one step under 3 ms", no percentile, where one answer\'s has "p99") is judged on the median call, with p99 beside it. ' +
      `After idle = the same calls made ${IDLE_GAP_MS} ms after the previous one (100 each, information): by then the cores have idled (and the ` +
      'worker thread sleeps), which on this virtual machine costs a call more than its arithmetic: the targets are judged on calls back to back. ' +
      `Predictions ${CLASS} = ` +
      '`predictBatch` of the same class (every skill; for information, no target). Step + predictions = both in one timed call: ' +
      'what a class view needs, since the step alone excludes the predictions it shows. The class\'s states carry over from call to call. ' +
      `${n} threads = \`new DktPredictor(model, { threads: ${n} })\` (the call split with ${n - 1} worker thread; RSS includes it). ` +
      'The class cases are sampled in interleaved rounds, so that load on a shared machine falls on all of them alike. ' +
      'Load before → after: the 1-minute load average around each model\'s measurement.',
  ];
}
