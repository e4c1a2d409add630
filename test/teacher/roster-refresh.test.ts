import { expect } from 'chai';
import { sql } from 'kysely';
import { testDialects, type TestDatabase } from '../support/db';
import { startTool, type RunningTool } from '../support/tool';
import { Classroom, eventually, FAST_GRADES } from './classroom';
import { openEventStream } from '../support/event-stream';
import { ROSTER_REFRESH_JOB } from '../../src/teacher/roster';
import type { Config } from '../../src/config';

/**
 * A roster goes stale after an hour: never during the test by itself. The test makes it stale by dating
 * the cached fetch back (the clock the TTL is read against), not by sleeping against a short TTL, which a
 * loaded machine overruns. Retries from 1 s.
 */
const ROSTER: Config['roster'] = { ttlSeconds: 3600, retryDelaySeconds: 1, firstLoadWaitMs: 10_000 };
/** The LMS is made slow in one test, so that its answer comes after the pages': requests to it must not time out before. */
const SLOW_LMS_MS = 8000;
const SETTINGS: Partial<Config> = { roster: ROSTER, grades: { ...FAST_GRADES, requestTimeoutMs: 20_000 } };

for (const dialect of testDialects()) {
  describe(`course roster refreshed by a queued job on ${dialect.name}`, function () {
    this.timeout(60_000);
    let tdb: TestDatabase;
    let c: Classroom;
    let teacher: Awaited<ReturnType<Classroom['launch']>>;
    let sandi: string;
    /** A second process on the same PostgreSQL (SQLite is one process). */
    let other: RunningTool | undefined;

    const classPath = () => `/s/${teacher.sid}/teacher/activities/${c.activityId}`;
    const classPage = async (toolUrl = c.tool.url) => {
      const page = await teacher.browser.get(toolUrl + classPath());
      expect(page.status, page.body.slice(0, 300)).to.equal(200);
      return page.body;
    };
    const cached = () => c.db.selectFrom('roster_cache').select(['members', 'fetched_at']).where('context_id', '=', c.courseId).executeTakeFirstOrThrow();
    /** Dates the cached roster's fetch back beyond the TTL, as if an hour had passed since. */
    const ageRoster = () => c.db.updateTable('roster_cache').where('context_id', '=', c.courseId)
      .set((eb) => ({ fetched_at: eb('fetched_at', '-', (ROSTER.ttlSeconds + 1) * 1000) })).execute();
    /** Roster refresh jobs not yet finished (queued, retrying or running). */
    const unfinishedJobs = async () => {
      if (dialect.name === 'postgres') {
        const r = await sql<{ n: number }>`select count(*)::int as n from pgboss.job where name = ${ROSTER_REFRESH_JOB} and state not in ('completed', 'failed')`.execute(c.db);
        return r.rows[0].n;
      }
      const s = (await c.tool.jejak.jobs.stats()).find((q) => q.name === ROSTER_REFRESH_JOB)!;
      return s.queued + s.active;
    };
    /** Roster refresh jobs ever sent, whatever became of them. */
    const refreshJobs = async () => {
      if (dialect.name === 'postgres') {
        const r = await sql<{ n: number }>`select count(*)::int as n from pgboss.job where name = ${ROSTER_REFRESH_JOB}`.execute(c.db);
        return r.rows[0].n;
      }
      const s = (await c.tool.jejak.jobs.stats()).find((q) => q.name === ROSTER_REFRESH_JOB)!;
      return s.queued + s.active + s.completed + s.failed;
    };

    before(async () => {
      tdb = await dialect.create();
      c = await Classroom.open(tdb, SETTINGS);
      sandi = c.studentIds[2];
      teacher = await c.launch(c.teacherId);
    });
    after(async () => {
      c?.sim.faults.clear();
      await other?.close();
      await c?.close();
      await tdb?.drop();
    });

    it('the first class view waits for the roster; a stale one is shown while one job refreshes it, however many pages ask', async () => {
      // Sandi never launched: only the roster knows her.
      const first = await classPage();
      expect(first).to.contain('Sandi Learner').and.to.contain(`/students/${sandi}"`);
      expect(c.sim.stats.nrpsRequests).to.equal(1);
      expect(await refreshJobs()).to.equal(1);
      // Started only now: the first refresh ran in the first process, which holds the names it fetched.
      // The second fetches the names (never stored) for itself on its first page, once.
      if (dialect.name === 'postgres') {
        other = await startTool(tdb, SETTINGS);
        expect(await classPage(other.url)).to.contain('Sandi Learner');
        await eventually(async () => (await unfinishedJobs()) === 0, 15_000, 'the refresh to end');
      }
      const [lmsBefore, jobsBefore] = [c.sim.stats.nrpsRequests, await refreshJobs()];

      // A student enrols in Moodle; the cached roster goes stale; the LMS is slow to answer the next fetch.
      const late = c.sim.addUser({ given: 'Lala', family: 'Late', email: 'lala@example.org', username: 'lala' });
      c.sim.enrol(c.courseId, late.id, 'Learner');
      await ageRoster();
      const before = await cached();
      // The live class view hears when the refreshed roster is there (on PostgreSQL, whichever process refreshed it).
      const live = await openEventStream(teacher.browser, `${c.tool.url}${classPath()}/events`);
      await live.until(/^retry: /m, 5_000);
      c.sim.faults.set({ nrps: { delayMs: SLOW_LMS_MS } });
      const urls = Array.from({ length: 8 }, (_v, i) => (other && i % 2 ? other.url : c.tool.url));
      const pages = await Promise.all(urls.map((u) => classPage(u)));
      // Every page answered with the roster it had while the LMS had the refresh's request and had not
      // answered it yet (the cached fetch is still the old one); the process that fetched it still has its names.
      expect(c.sim.stats.nrpsRequests - lmsBefore, 'the refresh asked the LMS').to.equal(1);
      expect((await cached()).fetched_at, 'pages did not wait for the slow LMS').to.equal(before.fetched_at);
      for (const p of pages) expect(p).to.contain(`/students/${sandi}"`).and.not.to.contain(`/students/${late.id}"`);
      for (const p of pages) expect(p).to.contain('Sandi Learner');

      try {
        await live.until(/^event: roster$/m, 30_000);
      } finally {
        live.close();
      }
      expect((await cached()).fetched_at).to.be.greaterThan(before.fetched_at);
      // Anything queued twice would run after the first: wait until no refresh is left to run.
      await eventually(async () => (await unfinishedJobs()) === 0, 15_000, 'every refresh to end');
      expect(c.sim.stats.nrpsRequests - lmsBefore, 'one fetch from the LMS for 8 pages (on 2 processes on PostgreSQL)').to.equal(1);
      expect(await refreshJobs() - jobsBefore, 'one refresh job').to.equal(1);
      expect((await cached()).members).to.contain(late.id);
      c.sim.faults.clear();
    });

    it('a failing NRPS endpoint is retried with growing delays while the cached roster is kept and shown', async () => {
      await ageRoster();
      const before = await cached();
      const requests = c.sim.stats.nrpsRequests;
      c.sim.faults.set({ nrps: { failRate: 1, status: 503 } });
      const at: number[] = [];
      const watch = setInterval(() => {
        while (requests + at.length < c.sim.stats.nrpsRequests) at.push(Date.now());
      }, 10);
      try {
        const page = await classPage();
        expect(page).to.contain(`/students/${sandi}"`).and.not.to.contain('could not be fetched from the LMS');
        // Pages asking meanwhile (the live view refreshes itself) neither bypass nor reset the backoff.
        const asking = setInterval(() => void classPage().catch(() => undefined), 300);
        try {
          await eventually(() => at.length >= 4, 30_000, 'four tries of the roster');
        } finally {
          clearInterval(asking);
        }
      } finally {
        clearInterval(watch);
      }
      const gaps = at.slice(1).map((t, i) => t - at[i]);
      // Retries from 1 s, doubling (with jitter, and pg-boss polling each second): the third wait is 3–9 s, a constant one 1–2 s.
      expect(gaps[0], `gaps ${gaps.join(', ')} ms`).to.be.at.least(700);
      expect(gaps[2], `gaps ${gaps.join(', ')} ms: backoff`).to.be.greaterThan(gaps[0]).and.to.be.at.least(2500);
      expect(await cached()).to.deep.equal(before);
      const page = await classPage();
      expect(page).to.contain(`/students/${sandi}"`).and.not.to.contain('could not be fetched from the LMS');
    });
  });
}
