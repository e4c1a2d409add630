/**
 * Fault tests (issue #6): the tool killed with -9 while students answer, PostgreSQL restarted, the
 * platform's token or AGS endpoint down, a full disk and a read-only database. Each checks that every
 * acknowledged answer is stored, scores reach the gradebook, and pages fail clearly meanwhile.
 * With RELIABILITY_REPORT=path (npm run test:faults) the figures are written there.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { sql } from 'kysely';
import { MoodleSim } from '../platform';
import { launch, parseForm, type BrowserResponse, type LaunchResult } from '../support/http-browser';
import { testDialects, type TestDatabase } from '../support/db';
import { freePort, startTool, type RunningTool } from '../support/tool';
import { prepareDatabase, startJejakProcess, type JejakProcess, type JejakProcessOptions } from '../support/jejak-process';
import { insertTestBank, placeActivity, registerTool, type TestBank } from '../practice/support';
import { connect, type Connection } from '../../src/db/connect';
import { ROOT } from '../../src/config';
import { answerAndContinue, isItemPage } from './student';
import { expectScoresDelivered } from '../support/gradebook';

/** Grade delivery retried quickly, and a dead process's lease (4 × the request timeout) short. */
const FAST_GRADES = { pollMs: 50, retryBaseMs: 100, retryMaxMs: 400, maxTries: 1000, requestTimeoutMs: 1000 };
/** At least ten items and a goal out of reach: nobody finishes during a test. */
const LONG_ACTIVITY = { threshold: '95', length: 'range', min_items: '10', max_items: '500' };

const figures: string[] = [];

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const choice = () => 'abc'[Math.floor(Math.random() * 3)];

/** What Jejak shows while its database is unavailable: a 503 page saying so, with a reference for IT (not a dropped connection). */
function expectUnavailablePage(page: BrowserResponse): void {
  expect(page.status, page.body.slice(0, 300)).to.equal(503);
  expect(page.headers.get('retry-after')).to.equal('30');
  expect(page.body).to.contain('Jejak cannot reach its database at the moment.');
  expect(page.body).to.contain('Reference');
}

/** Every acknowledged answer has its attempt; attempts and answered presentations match one to one. */
async function expectAnswersStored(db: Connection['db'], acknowledged: Set<string>): Promise<number> {
  const rows = acknowledged.size ? await db.selectFrom('practice_presentation').select(['token', 'attempt_id']).where('token', 'in', [...acknowledged]).execute() : [];
  expect(rows.length, 'acknowledged presentations').to.equal(acknowledged.size);
  expect(rows.filter((r) => r.attempt_id === null).map((r) => r.token), 'acknowledged answers without an attempt').to.deep.equal([]);
  const attempts = await db.selectFrom('attempt').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const answered = await db.selectFrom('practice_presentation').select((eb) => eb.fn.countAll<number>().as('n')).where('attempt_id', 'is not', null).executeTakeFirstOrThrow();
  expect(Number(attempts.n)).to.equal(Number(answered.n));
  return Number(attempts.n);
}

interface Class {
  sim: MoodleSim;
  launches: LaunchResult[];
  pages: BrowserResponse[];
}

/** The default course: its teacher places a long activity, its three students launch it. */
async function classLaunched(sim: MoodleSim, clientId: string, bank: TestBank): Promise<Class> {
  const { course, teacher, students } = sim.seedDefault();
  const { linkId } = await placeActivity(sim, clientId, course.id, teacher.id, bank, LONG_ACTIVITY);
  const launches = await Promise.all(students.map((s) => launch(sim, { clientId, userId: s.id, courseId: course.id, activityId: linkId })));
  for (const r of launches) expect(isItemPage(r.final), r.final.body.slice(0, 300)).to.equal(true);
  return { sim, launches, pages: launches.map((r) => r.final) };
}

/** Jejak in this process on `tdb`, registered with the simulator, and the default class launched on the test bank. */
async function toolWithClass(sim: MoodleSim, tdb: TestDatabase): Promise<{ tool: RunningTool; c: Class }> {
  const tool = await startTool(tdb, { grades: FAST_GRADES });
  try {
    const clientId = await registerTool(sim, tool);
    return { tool, c: await classLaunched(sim, clientId, await insertTestBank(tool.jejak.conn.db)) };
  } catch (e) {
    await tool.close();
    throw e;
  }
}

/** Each student answers `n` items; returns the acknowledged tokens. */
async function answerEach(c: Class, n: number): Promise<string[]> {
  const done = await Promise.all(c.launches.map(async (r, i) => {
    const tokens: string[] = [];
    for (let k = 0; k < n; k++) {
      let cycle = await answerAndContinue(r, c.pages[i], choice());
      // A page whose answer a kill cut off after it was stored: sent again with another choice, it is
      // not graded again, and the student is shown the current question with a notice (issue 15.6).
      if (!cycle.next && isItemPage(cycle.feedback) && /[?&]answered=1/.test(cycle.feedback.url)) cycle = await answerAndContinue(r, cycle.feedback, choice());
      expect(cycle.next && isItemPage(cycle.next), cycle.feedback.body.slice(0, 300)).to.equal(true);
      tokens.push(cycle.token);
      c.pages[i] = cycle.next!;
    }
    return tokens;
  }));
  return done.flat();
}

for (const dialect of testDialects()) {
  describe(`faults on ${dialect.name}`, function () {
    this.timeout(90_000);
    let tdb: TestDatabase;
    let sim: MoodleSim;

    beforeEach(async () => {
      tdb = await dialect.create();
      sim = await MoodleSim.start();
    });
    afterEach(async () => {
      await sim?.close();
      await tdb?.drop();
    });

    it('kill -9 while students answer: every acknowledged answer is stored and every score delivered once', async () => {
      const opts: JejakProcessOptions = { databaseUrl: tdb.url, port: await freePort(), overrides: { grades: FAST_GRADES } };
      const { clientId, bank } = await prepareDatabase(sim, opts);
      let tool: JejakProcess = await startJejakProcess(opts);
      const conn = await connect(tdb.url, ROOT);
      try {
        const c = await classLaunched(sim, clientId, bank);
        const acknowledged = new Set<string>();
        let tried = 0;
        let broken = 0;
        // Everyone answers as fast as they can until the connection breaks under them.
        const answering = c.launches.map(async (r, i) => {
          for (;;) {
            tried++;
            try {
              const cycle = await answerAndContinue(r, c.pages[i], choice());
              if (cycle.feedback.status === 200 && /\/practice\/answered\//.test(cycle.feedback.url)) acknowledged.add(cycle.token);
              if (!cycle.next || !isItemPage(cycle.next)) return;
              c.pages[i] = cycle.next;
            } catch {
              broken++;
              return;
            }
          }
        });
        await waitFor('a dozen acknowledged answers', () => acknowledged.size >= 12);
        await tool.kill('SIGKILL');
        await Promise.all(answering);
        const beforeKill = acknowledged.size;
        tool = await startJejakProcess(opts);
        const stored = await expectAnswersStored(conn.db, acknowledged);
        // The students go on after the restart in the same sessions, from the page each last had.
        for (const t of await answerEach(c, 1)) acknowledged.add(t);
        await expectAnswersStored(conn.db, acknowledged);
        const scores = await expectScoresDelivered(conn.db, sim);
        figures.push(`| kill -9 while 3 students answer (${dialect.name}) | ${tried} answers sent, ${beforeKill} acknowledged before the kill, ${broken} cut off by it | after restart ${stored} attempts stored, every acknowledged one among them; then ${scores} students' latest scores delivered, none twice |`);
      } finally {
        await tool.kill();
        await conn.close();
      }
    });

    it('the platform\'s token endpoint, then its AGS endpoint, down for a while: scores are delivered when they return', async () => {
      let tool: RunningTool | undefined;
      try {
        const started = await toolWithClass(sim, tdb);
        tool = started.tool;
        const { c } = started;
        const db = tool.jejak.conn.db;
        const pendingTries = async () => (await db.selectFrom('score_outbox').select(['status', 'tries']).execute());
        let answers = 0;
        for (const service of ['token', 'ags'] as const) {
          sim.faults.set({ [service]: { down: true } });
          const before = sim.scores.length;
          answers += (await answerEach(c, 2)).length;
          await waitFor(`grade delivery retrying while ${service} is down`, async () => (await pendingTries()).every((r) => r.status === 'pending' && r.tries >= 3));
          expect(sim.scores.length).to.equal(before);
          const tries = Math.min(...(await pendingTries()).map((r) => r.tries));
          sim.faults.clear();
          const delivered = await expectScoresDelivered(db, sim);
          figures.push(`| ${service === 'token' ? 'token.php' : 'AGS scores'} down (${dialect.name}) | ${answers} answers, delivery tried ${tries}+ times per score while down | ${delivered} scores delivered after it returned, none twice |`);
        }
      } finally {
        sim.faults.clear();
        await tool?.close();
      }
    });

    if (dialect.name === 'postgres') {
      it('PostgreSQL restarted mid-run: clear error pages and 503 meanwhile, then recovery without operator action', async function () {
        const cluster = postgresCluster(tdb.url);
        if (!cluster) return this.skip();
        let tool: RunningTool | undefined;
        try {
          const started = await toolWithClass(sim, tdb);
          tool = started.tool;
          const { c } = started;
          const acknowledged = new Set(await answerEach(c, 1));
          const ready = async () => (await fetch(`${tool!.url}/readyz`)).status;
          expect(await ready()).to.equal(200);
          pgCtl(cluster, 'stop');
          const down = Date.now();
          expect(await ready()).to.equal(503);
          expect((await fetch(`${tool.url}/healthz`)).status, 'the process itself is alive').to.equal(200);
          const r = c.launches[0];
          expectUnavailablePage(await r.browser.get(c.pages[0].url, { context: { ...r.context, initiator: c.pages[0].url } }));
          pgCtl(cluster, 'start');
          await waitFor('/readyz 200 again', async () => (await ready()) === 200);
          const outage = Date.now() - down;
          for (const t of await answerEach(c, 2)) acknowledged.add(t);
          await expectAnswersStored(tool.jejak.conn.db, acknowledged);
          await expectScoresDelivered(tool.jejak.conn.db, sim);
          figures.push(`| PostgreSQL stopped and started (outage ${(outage / 1000).toFixed(1)} s) | /readyz 503, a practice page answered 503 \"cannot reach its database… try again in a minute\", /healthz 200 | /readyz 200 again, ${acknowledged.size} answers stored, scores delivered, no restart of Jejak |`);
        } finally {
          pgCtl(cluster, 'start');
          await tool?.close();
        }
      });
    }

    if (dialect.name === 'sqlite') {
      it('a full disk and a read-only database: clear error pages, no corruption, earlier answers intact', async function () {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jejak-full-'));
        if (!mountTinyTmpfs(dir)) {
          fs.rmSync(dir, { recursive: true, force: true });
          return this.skip();
        }
        let tool: RunningTool | undefined;
        const filler = path.join(dir, 'filler');
        try {
          const started = await toolWithClass(sim, { dialect: 'sqlite', url: path.join(dir, 'jejak.db'), drop: async () => undefined });
          tool = started.tool;
          const { c } = started;
          const db = tool.jejak.conn.db;
          const acknowledged = new Set(await answerEach(c, 2));
          const inFrame = (i: number) => ({ context: { ...c.launches[i].context, initiator: c.pages[i].url } });
          const failures: string[] = [];

          // Disk full: the WAL cannot grow. Answers either are stored or fail with an error page.
          await sql`pragma wal_checkpoint(truncate)`.execute(db);
          fillDisk(filler);
          let full = 0;
          for (let k = 0; k < 6; k++) {
            const cycle = await answerAndContinue(c.launches[k % 3], c.pages[k % 3], choice()).catch((e: Error) => e);
            if (cycle instanceof Error) throw cycle;
            if (cycle.feedback.status === 200 && cycle.next && isItemPage(cycle.next)) {
              acknowledged.add(cycle.token);
              c.pages[k % 3] = cycle.next;
            } else {
              expectUnavailablePage(cycle.next && !isItemPage(cycle.next) ? cycle.next : cycle.feedback);
              full++;
            }
          }
          failures.push(`disk full: ${full} of 6 answers refused with a 503 page`);
          expect(full, 'the full disk refused some answers').to.be.greaterThan(0);
          fs.rmSync(filler);
          for (const t of await answerEach(c, 1)) acknowledged.add(t);

          // Read-only: every write is refused; the error page says so, the data stays.
          await sql`pragma query_only = 1`.execute(db);
          const refused = await c.launches[0].browser.post(`${new URL(c.pages[0].url).origin}${new URL(c.pages[0].url).pathname}/answer`, { ...parseForm(c.pages[0].body, c.pages[0].url, 0)!.fields, token: 'x', answer: 'a' }, inFrame(0));
          const readonly = await answerAndContinue(c.launches[1], c.pages[1], choice());
          expectUnavailablePage(readonly.feedback);
          failures.push(`read-only: answer refused with ${readonly.feedback.status}; a stale form ${refused.status}`);
          await sql`pragma query_only = 0`.execute(db);
          for (const t of await answerEach(c, 1)) acknowledged.add(t);

          const stored = await expectAnswersStored(db, acknowledged);
          const integrity = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db);
          expect(integrity.rows.map((r) => r.integrity_check)).to.deep.equal(['ok']);
          await expectScoresDelivered(db, sim);
          figures.push(`| disk full (tmpfs), then read-only (query_only) | ${failures.join('; ')} | integrity_check ok, all ${stored} acknowledged answers intact, scores delivered after |`);
        } finally {
          fs.rmSync(filler, { force: true });
          await tool?.close();
          execFileSync('umount', [dir]);
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });
    }
  });
}

after(() => {
  const file = process.env.RELIABILITY_REPORT;
  if (!file || !figures.length) return;
  fs.writeFileSync(path.resolve(file), [
    '# Reliability: faults survived',
    '',
    `Written by \`npm run test:faults\` (test/reliability/faults.test.ts), ${new Date().toISOString()}. Students answer through the`,
    'Moodle simulator; an answer is acknowledged when its feedback page arrives.',
    '',
    '| fault | what happened | outcome |',
    '|---|---|---|',
    ...figures,
    '',
  ].join('\n'));
});

/** The local cluster (version, name) serving `url`, when this machine can restart it. */
function postgresCluster(url: string): { version: string; name: string } | undefined {
  if (!['127.0.0.1', 'localhost'].includes(new URL(url).hostname) || process.getuid?.() !== 0) return undefined;
  const versions = fs.existsSync('/etc/postgresql') ? fs.readdirSync('/etc/postgresql') : [];
  return versions.length ? { version: versions.sort().at(-1)!, name: 'main' } : undefined;
}

/** `start` is idempotent here: after the test PostgreSQL runs whatever happened. */
function pgCtl(c: { version: string; name: string }, action: 'stop' | 'start'): void {
  const status = () => execFileSync('pg_lsclusters', ['-h', c.version, c.name]).toString();
  if (action === 'start' && /online/.test(status())) return;
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', c.version, c.name, action, ...(action === 'stop' ? ['-m', 'fast'] : [])], { stdio: 'ignore' });
}

/** A 16 MB tmpfs at `dir` (root only): room for the database with its sample bank, little enough to fill in a moment; false where mounting is not allowed. */
function mountTinyTmpfs(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Writes `file` until the file system is full. */
function fillDisk(file: string): void {
  const fd = fs.openSync(file, 'w');
  const block = Buffer.alloc(16 * 1024);
  try {
    for (;;) fs.writeSync(fd, block);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd);
  }
}
