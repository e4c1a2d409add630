/**
 * Class-start load (issue #6): classes of students launch Jejak from the Moodle simulator together,
 * then keep answering items, against the tool running as a separate process on SQLite and on
 * PostgreSQL. Measures launch and answer→next-item latency (p50/p99), throughput and errors, and
 * writes bench/load-report.md and .json.
 *
 *   npm run bench:load                                   300 students launching over 60 s, then 120 s of answering
 *   npm run bench:load -- --students 30 --ramp-seconds 5 --seconds 10 --out bench/tmp     a short run
 *   npm run bench:load -- --db postgres --processes 1,2 --students 1000 --name load-scaling-report
 *                                                        the same load on 1, then 2 Jejak processes behind a round-robin proxy
 *   options: --db sqlite,postgres  --think-ms N (mean pause before answering)  --class-size N
 *            --processes 1,2 (PostgreSQL only; every run goes through the proxy, so 1 and 2 compare alike)
 *            --name NAME (report file names, default load-report)
 *            --repeat N (each configuration N times in a row: on a shared machine one run can be unlucky)
 *            --cpu-prof DIR (the tool writes a V8 CPU profile there when it stops)
 *            --postgres URL (default postgres://postgres@127.0.0.1:5432/postgres; a fresh database is created and dropped)
 *
 * "answer→next item" is what a student waits for in one cycle: the answer POST with its redirect to
 * the feedback page, plus the GET of the next item (the time spent reading the feedback excluded).
 * A launch is the whole chain from Moodle's course page (the simulator, in this process) to the first item.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MoodleSim } from '../test/platform';
import { launch, type LaunchResult } from '../test/support/http-browser';
import { postgresDatabase, sqliteDatabase, type TestDatabase } from '../test/support/db';
import { freePort } from '../test/support/tool';
import { roundRobin, type RoundRobin } from '../test/support/round-robin';
import { prepareDatabase, startJejakProcess, type JejakProcess } from '../test/support/jejak-process';
import { placeActivity } from '../test/practice/support';
import { answerAndContinue, isItemPage, pageName } from '../test/reliability/student';

const { values: args } = parseArgs({
  options: {
    students: { type: 'string', default: '300' },
    'ramp-seconds': { type: 'string', default: '60' },
    seconds: { type: 'string', default: '120' },
    'think-ms': { type: 'string', default: '8000' },
    'class-size': { type: 'string', default: '30' },
    db: { type: 'string', default: 'sqlite,postgres' },
    postgres: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    out: { type: 'string', default: 'bench' },
    'cpu-prof': { type: 'string' },
    processes: { type: 'string' },
    name: { type: 'string', default: 'load-report' },
    repeat: { type: 'string', default: '1' },
  },
});
const STUDENTS = Number(args.students);
const RAMP_MS = Number(args['ramp-seconds']) * 1000;
const STEADY_MS = Number(args.seconds) * 1000;
const THINK_MS = Number(args['think-ms']);
const CLASS_SIZE = Number(args['class-size']);
const TARGET_P99_MS = 150;
/** Reading the feedback before clicking "next" takes this fraction of the thinking before an answer. */
const READ_FEEDBACK = 0.25;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const jitter = (ms: number) => ms * (0.5 + Math.random());

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { n: s.length, p50: r(percentile(s, 50)), p90: r(percentile(s, 90)), p99: r(percentile(s, 99)), max: r(s.at(-1) ?? NaN) };
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Every simulated student comes from this one machine's address, as if a whole district sat behind one
 * NAT: the per-address limits on login and launch (600 a minute by default, for one school) are raised
 * so that they do not refuse the benchmark's own class start. The per-platform limits stay as they are.
 */
const BENCH_RATE_LIMITS = { windowSeconds: 60, login: { perIp: 100_000, pendingPerIp: 100_000 }, launch: { perIp: 100_000, perIssuer: 6000 }, registration: { perIp: 30 } };

/** The tool under load: one process, or several on one PostgreSQL behind a round-robin proxy, on these ports. */
async function startTools(databaseUrl: string, ports: number[], proxy: RoundRobin | undefined): Promise<JejakProcess[]> {
  const nodeArgs = args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args['cpu-prof'])}`] : [];
  const tools: JejakProcess[] = [];
  for (const port of ports) {
    tools.push(await startJejakProcess({ databaseUrl, port, nodeArgs, overrides: { ...(proxy ? { publicUrl: proxy.url } : {}), rateLimits: BENCH_RATE_LIMITS } }));
    proxy?.ports.push(port);
  }
  return tools;
}

interface Measurements {
  launches: number[];
  cycles: number[];
  answers: number[];
  nextItems: number[];
  /** Cycles started once every student had launched. */
  steadyCycles: number[];
  errors: Map<string, number>;
  toolRequests: number;
}

function fail(m: Measurements, what: string): void {
  m.errors.set(what, (m.errors.get(what) ?? 0) + 1);
}

/** One student: launch at `startAt`, then answer (a random choice) until `endAt`. */
async function student(sim: MoodleSim, m: Measurements, o: { clientId: string; courseId: string; userId: string; linkId: string; startAt: number; steadyAt: number; endAt: number }): Promise<LaunchResult['browser'] | undefined> {
  await sleep(o.startAt - Date.now());
  let r: LaunchResult;
  const t0 = performance.now();
  try {
    r = await launch(sim, { clientId: o.clientId, userId: o.userId, courseId: o.courseId, activityId: o.linkId });
  } catch (e) {
    fail(m, `launch: ${(e as Error).message}`);
    return undefined;
  }
  if (!isItemPage(r.final)) {
    fail(m, `launch: ${pageName(r.final)}, no item`);
    return r.browser;
  }
  m.launches.push(performance.now() - t0);
  let page = r.final;
  while (Date.now() + THINK_MS / 2 < o.endAt) {
    await sleep(jitter(THINK_MS));
    const started = Date.now();
    try {
      const c = await answerAndContinue(r, page, 'abc'[Math.floor(Math.random() * 3)], jitter(THINK_MS * READ_FEEDBACK));
      if (!c.next) {
        fail(m, `answer: ${pageName(c.feedback)}`);
        return r.browser;
      }
      if (!isItemPage(c.next)) {
        fail(m, `next item: ${pageName(c.next)}, no item`);
        return r.browser;
      }
      page = c.next;
      m.answers.push(c.answerMs);
      m.nextItems.push(c.nextMs);
      m.cycles.push(c.answerMs + c.nextMs);
      if (started >= o.steadyAt) m.steadyCycles.push(c.answerMs + c.nextMs);
    } catch (e) {
      fail(m, `answer cycle: ${(e as Error).message}`);
      return r.browser;
    }
  }
  return r.browser;
}

async function runOn(dialect: 'sqlite' | 'postgres', processes: number, viaProxy: boolean, run: number) {
  if (processes > 1 && dialect !== 'postgres') throw new Error('several processes share PostgreSQL: use --db postgres with --processes');
  const tdb: TestDatabase = dialect === 'sqlite' ? await sqliteDatabase() : await postgresDatabase(args.postgres);
  const sim = await MoodleSim.start();
  const proxy = viaProxy ? await roundRobin() : undefined;
  let tools: JejakProcess[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < processes; i++) ports.push(await freePort());
    const { clientId, bank } = await prepareDatabase(sim, { databaseUrl: tdb.url, port: ports[0], overrides: proxy ? { publicUrl: proxy.url } : undefined });
    tools = await startTools(tdb.url, ports, proxy);
    const toolUrl = proxy?.url ?? tools[0].url;
    const toolCpuSeconds = () => tools.reduce((sum, t) => sum + cpuSeconds(t.pid), 0);

    // Classes of CLASS_SIZE, each with its teacher placing the activity by deep linking (≥10, ≤500 items: no one finishes).
    const roster: { courseId: string; linkId: string; userId: string }[] = [];
    for (let c = 0; roster.length < STUDENTS; c++) {
      const course = sim.addCourse({ label: `LOAD${c}`, title: `Kelas ${c}` });
      const teacher = sim.addUser({ given: 'Guru', family: String(c), email: `guru${c}@example.org`, username: `guru${c}` });
      sim.enrol(course.id, teacher.id, 'Instructor');
      const { linkId } = await placeActivity(sim, clientId, course.id, teacher.id, bank, { threshold: '95', length: 'range', min_items: '10', max_items: '500' });
      for (let k = 0; k < CLASS_SIZE && roster.length < STUDENTS; k++) {
        const n = roster.length;
        const s = sim.addUser({ given: 'Siswa', family: String(n), email: `siswa${n}@example.org`, username: `siswa${n}` });
        sim.enrol(course.id, s.id, 'Learner');
        roster.push({ courseId: course.id, linkId, userId: s.id });
      }
    }

    const m: Measurements = { launches: [], cycles: [], answers: [], nextItems: [], steadyCycles: [], errors: new Map(), toolRequests: 0 };
    const begin = Date.now() + 500;
    const steadyAt = begin + RAMP_MS;
    const endAt = steadyAt + STEADY_MS;
    const load0 = os.loadavg()[0];
    const cpu0 = { tool: toolCpuSeconds(), generator: process.cpuUsage() };
    let cpuSteady: { tool: number; at: number } | undefined;
    const steadyMark = setTimeout(() => (cpuSteady = { tool: toolCpuSeconds(), at: Date.now() }), steadyAt - Date.now());
    const browsers = await Promise.all(roster.map((s, i) => student(sim, m, { ...s, clientId, startAt: begin + (i * RAMP_MS) / STUDENTS, steadyAt, endAt })));
    clearTimeout(steadyMark);
    const wall = (Date.now() - begin) / 1000;
    const toolCpu = toolCpuSeconds();
    const generatorCpu = process.cpuUsage(cpu0.generator);
    for (const b of browsers) m.toolRequests += b?.log.filter((l) => l.url.startsWith(toolUrl)).length ?? 0;
    const steadySeconds = cpuSteady ? (Date.now() - cpuSteady.at) / 1000 : NaN;

    const result = {
      database: dialect,
      processes,
      viaProxy,
      /** 1, 2, … when the configuration is repeated (--repeat). */
      run,
      /** Requests each process served (through the proxy). */
      requestsPerProcess: proxy ? proxy.ports.map((p) => proxy.hits.get(p) ?? 0) : undefined,
      students: STUDENTS,
      launched: m.launches.length,
      wallSeconds: Math.round(wall),
      answerCycles: m.cycles.length,
      answersPerSecondSteady: Math.round((m.steadyCycles.length / (STEADY_MS / 1000)) * 10) / 10,
      toolRequestsPerSecond: Math.round((m.toolRequests / wall) * 10) / 10,
      launchMs: summary(m.launches),
      answerToNextItemMs: summary(m.cycles),
      answerToNextItemSteadyMs: summary(m.steadyCycles),
      answerPostMs: summary(m.answers),
      nextItemGetMs: summary(m.nextItems),
      errors: Object.fromEntries(m.errors),
      errorCount: [...m.errors.values()].reduce((a, b) => a + b, 0),
      toolCpuPercent: Math.round(((toolCpu - cpu0.tool) / wall) * 100),
      /** The tool's CPU per answer cycle, launches included: what an idle machine's capacity follows from. */
      toolCpuMsPerCycle: m.cycles.length ? Math.round(((toolCpu - cpu0.tool) * 1000) / m.cycles.length) : null,
      toolCpuPercentSteady: cpuSteady ? Math.round(((toolCpu - cpuSteady.tool) / steadySeconds) * 100) : null,
      generatorCpuPercent: Math.round(((generatorCpu.user + generatorCpu.system) / 1e6 / wall) * 100),
      loadAverage1m: { before: round2(load0), after: round2(os.loadavg()[0]) },
      targetMet: m.cycles.length > 0 && summary(m.cycles).p99 < TARGET_P99_MS && m.errors.size === 0 && m.launches.length === STUDENTS,
    };
    console.log(JSON.stringify(result));
    return result;
  } finally {
    await Promise.all(tools.map((t) => t.kill('SIGTERM')));
    await proxy?.close();
    await sim.close();
    await tdb.drop();
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const dialects = args.db.split(',').map((d) => d.trim()) as ('sqlite' | 'postgres')[];
  const counts = (args.processes ?? '1').split(',').map(Number);
  const repeat = Number(args.repeat);
  if (!(Number.isInteger(repeat) && repeat >= 1)) throw new Error(`--repeat must be a whole number ≥ 1, got ${args.repeat}`);
  const results = [];
  for (const d of dialects) for (const n of counts) for (let run = 1; run <= repeat; run++) results.push(await runOn(d, n, args.processes !== undefined, run));
  const report = {
    generatedAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    settings: { students: STUDENTS, rampSeconds: RAMP_MS / 1000, steadySeconds: STEADY_MS / 1000, thinkMs: THINK_MS, classSize: CLASS_SIZE, targetP99Ms: TARGET_P99_MS },
    results,
  };
  const out = path.resolve(args.out);
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, `${args.name}.json`), JSON.stringify(report, null, 2) + '\n');
  fs.writeFileSync(path.join(out, `${args.name}.md`), markdown(report));
  console.log(`wrote ${path.join(out, `${args.name}.md`)}`);
}

function markdown(r: { generatedAt: string; machine: Record<string, unknown>; settings: Record<string, number>; results: Awaited<ReturnType<typeof runOn>>[] }): string {
  const s = r.settings;
  const ms = (x: { p50: number; p99: number }) => `${x.p50} / ${x.p99}`;
  const rows = r.results.map((x) => `| ${x.database} | ${x.run} | ${x.processes}${x.viaProxy ? ` (${x.requestsPerProcess!.join(' + ')} requests)` : ''} | ${x.launched}/${x.students} | ${ms(x.launchMs)} | ${ms(x.answerToNextItemMs)} | ${ms(x.answerToNextItemSteadyMs)} | ${ms(x.answerPostMs)} | ${ms(x.nextItemGetMs)} | ${x.answersPerSecondSteady} | ${x.toolRequestsPerSecond} | ${x.errorCount} | ${x.toolCpuPercent}% (${x.toolCpuPercentSteady}% steady), ${x.toolCpuMsPerCycle} ms per cycle | ${x.loadAverage1m.before} → ${x.loadAverage1m.after} | ${x.targetMet ? 'yes' : 'no'} |`);
  const errors = r.results.filter((x) => x.errorCount).map((x) => `- ${x.database}: ${Object.entries(x.errors).map(([k, v]) => `${v}× ${k}`).join('; ')}`);
  return [
    '# Load: a class start, then steady answering',
    '',
    `${s.students} students in classes of ${s.classSize} launch from the Moodle simulator over ${s.rampSeconds} s, then everyone keeps answering for ${s.steadySeconds} s more`,
    `(a pause of ${s.thinkMs / 2}–${(s.thinkMs * 3) / 2} ms before each answer, a quarter of that reading the feedback). Jejak runs as a separate process (or several behind a round-robin proxy, which runs in the load generator's process), at the same priority as the database;`,
    'the load generator and the simulator share another process. Latencies in ms, p50 / p99. "answer→next" = the answer POST with its',
    'redirect to the feedback page plus the GET of the next item; "steady" = cycles started after the last launch.',
    `Target: answer→next p99 < ${s.targetP99Ms} ms and no errors.`,
    '',
    `Machine: ${r.machine.cpus} cores (${r.machine.model}), ${r.machine.memoryGb} GB, Node ${r.machine.node}; shared with other work (load average noted). ${r.generatedAt}.`,
    '',
    '| database | run | processes | launched | launch | answer→next | answer→next (steady) | answer POST | next item GET | answers/s (steady) | tool requests/s | errors | tool CPU | load avg 1 min | target met |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    ...repeats(r.results),
    ...scaling(r.results),
    ...(errors.length ? ['Errors:', ...errors, ''] : []),
  ].join('\n');
}

/** Per configuration run more than once: in how many runs the target held, and the worst p99. */
function repeats(results: Awaited<ReturnType<typeof runOn>>[]): string[] {
  const out: string[] = [];
  for (const key of new Set(results.map((x) => `${x.database}/${x.processes}`))) {
    const runs = results.filter((x) => `${x.database}/${x.processes}` === key);
    if (runs.length < 2) continue;
    const p99s = runs.map((x) => x.answerToNextItemMs.p99);
    out.push(
      `${runs[0].database}, ${runs[0].processes} process${runs[0].processes > 1 ? 'es' : ''}: target met in ${runs.filter((x) => x.targetMet).length} of ${runs.length} runs; ` +
        `answer→next p99 ${p99s.join(', ')} ms (worst ${Math.max(...p99s)}), errors ${runs.reduce((sum, x) => sum + x.errorCount, 0)}.`,
      '',
    );
  }
  return out;
}

/** 1 process against 2 on the same database, same load: throughput and p99 side by side. */
function scaling(results: Awaited<ReturnType<typeof runOn>>[]): string[] {
  const out: string[] = [];
  for (const db of new Set(results.map((x) => x.database))) {
    const one = results.find((x) => x.database === db && x.processes === 1 && x.run === 1);
    const two = results.find((x) => x.database === db && x.processes === 2 && x.run === 1);
    if (!one || !two) continue;
    const ratio = (a: number, b: number) => (b ? Math.round((a / b) * 100) / 100 : NaN);
    out.push(
      `Scaling on ${db}, the same ${one.students} students: answers/s in steady answering ${one.answersPerSecondSteady} → ${two.answersPerSecondSteady} ` +
        `(×${ratio(two.answersPerSecondSteady, one.answersPerSecondSteady)}), answer→next p99 ${one.answerToNextItemMs.p99} → ${two.answerToNextItemMs.p99} ms ` +
        `(×${ratio(two.answerToNextItemMs.p99, one.answerToNextItemMs.p99)}), p50 ${one.answerToNextItemMs.p50} → ${two.answerToNextItemMs.p50} ms, errors ${one.errorCount} → ${two.errorCount}.`,
      '',
    );
  }
  return out;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
