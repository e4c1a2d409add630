import { expect } from 'chai';
import { testDialects, type TestDatabase } from '../support/db';
import { freePort, registerDynamically, startTool, type RunningTool } from '../support/tool';
import { startJejakProcess, type JejakProcess } from '../support/jejak-process';
import { roundRobin, type RoundRobin } from '../support/round-robin';
import { launch, type BrowserResponse, type LaunchResult } from '../support/http-browser';
import { expectScoresDelivered } from '../support/gradebook';
import { openEventStream } from '../support/event-stream';
import { insertTestBank, placeActivity } from '../practice/support';
import { answerAndContinue, isItemPage } from '../reliability/student';
import { FAST_GRADES } from '../teacher/classroom';
import { openTestDb, seedAttempts, seedBank, type BankFixture } from '../kt/bank-fixture';
import { MoodleSim } from '../platform';
import type { Connection } from '../../src/db/connect';
import type { Config } from '../../src/config';

const postgres = testDialects().find((d) => d.name === 'postgres');
const SECRET = 'scale-test-secret-0123456789abcdefghijklmnop';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, ms: number, f: () => Promise<T | undefined | false>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A counter of a process's own /metrics (each process counts what it served). */
async function counter(processUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${processUrl}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}

(postgres ? describe : describe.skip)('several Jejak processes on one PostgreSQL', function () {
  this.timeout(180_000);
  let tdb: TestDatabase;
  let conn: Connection;
  let fx: BankFixture;
  let sim: MoodleSim;
  let child: JejakProcess | undefined;
  let local: RunningTool;
  let proxy: RoundRobin;
  /** Each process's own address, beside the proxy's. */
  let localUrl: string;
  // Short leases so that a killed process's job comes back within the test.
  const jobs: Config['jobs'] = { trainingLeaseSeconds: 8, maintenanceSeconds: 1 };

  before(async () => {
    tdb = await postgres!.create();
    conn = await openTestDb(tdb);
    fx = await seedBank(conn.db);
    await seedAttempts(conn.db, fx, 60, 40);
    sim = await MoodleSim.start();
    const childPort = await freePort();
    // Its address says `localhost` (Jejak's public URL), the simulator's `127.0.0.1`: two sites, as in a school.
    proxy = await roundRobin([], { host: 'localhost', record: true });
    // This one runs no queued jobs, so that it is the child that trains (the kill -9 test). It delivers
    // grades all the same, as `npm start` does with background work on: two senders share the outbox.
    local = await startTool(tdb, { secret: SECRET, publicUrl: proxy.url, jobs, backgroundWork: false, grades: FAST_GRADES });
    local.jejak.grades.start();
    localUrl = `http://localhost:${local.jejak.config.port}`;
    proxy.ports.push(childPort, local.jejak.config.port);
    child = await startJejakProcess({
      databaseUrl: tdb.url, port: childPort,
      overrides: { secret: SECRET, publicUrl: proxy.url, jobs, grades: FAST_GRADES, logLevel: 'info' },
    });
  });
  after(async () => {
    await child?.kill();
    await local?.close();
    await proxy?.close();
    await sim?.close();
    await conn?.close();
    await tdb?.drop();
  });

  it('answers through either process: ready, and the same registration key and JWKS from both', async () => {
    const answers = await Promise.all([0, 1, 2, 3].map(() => fetch(`${proxy.url}/readyz`).then((r) => r.json())));
    expect(answers.every((a) => a.status === 'ok')).to.equal(true);
    const jwks = await Promise.all([0, 1].map(() => fetch(`${proxy.url}/lti/jwks`).then((r) => r.text())));
    expect(jwks[0]).to.equal(jwks[1]);
    expect([...proxy.hits.keys()].sort()).to.deep.equal([child!.url, localUrl].map((u) => Number(new URL(u).port)).sort());
    expect([...proxy.hits.values()].every((n) => n >= 2)).to.equal(true);
  });

  it('an event NOTIFYed by another connection reaches this process (LISTEN)', async () => {
    const heard: unknown[] = [];
    const unsubscribe = local.jejak.events.subscribe((e) => heard.push(e));
    try {
      // The child publishes as its answer route does; NOTIFY through its pool, LISTEN on ours.
      const { Client } = await import('pg');
      const c = new Client({ connectionString: tdb.url });
      await c.connect();
      await c.query(`select pg_notify('jejak_events', $1)`, [JSON.stringify({ type: 'answer', tenantId: fx.tenantId, activityId: 42 })]);
      await c.end();
      await until('the event', 5_000, async () => heard.length > 0);
      expect(heard[0]).to.deep.equal({ type: 'answer', tenantId: fx.tenantId, activityId: 42 });
    } finally {
      unsubscribe();
    }
  });

  it('a class through the load balancer: registration, launches and answers on both processes, the live view hears the other process, every score delivered once', async () => {
    // (a) IT registers Jejak by Dynamic Registration at the load balancer's address.
    const clientId = await registerDynamically(sim, local.jejak.urls.registration);
    expect(sim.tool(clientId).loginUrl).to.equal(`${proxy.url}/lti/login`);
    const bank = await insertTestBank(conn.db);
    const { course, teacher, students } = sim.seedDefault();
    for (const n of [4, 5, 6]) {
      const s = sim.addUser({ given: `Siswa${n}`, family: 'Kelas', email: `student${n}@example.com`, username: `student${n}` });
      sim.enrol(course.id, s.id, 'Learner');
      students.push(s);
    }
    const { linkId } = await placeActivity(sim, clientId, course.id, teacher.id, bank);

    // (b) Six students launch and answer four items each, every request through the round-robin proxy.
    const sidOf = (r: LaunchResult) => /\/s\/([\w-]+)\//.exec(r.final.url)![1];
    const classBegins = proxy.forwarded.length;
    const launches = await Promise.all(students.map((s) => launch(sim, { clientId, userId: s.id, courseId: course.id, activityId: linkId })));
    const pages: BrowserResponse[] = launches.map((r) => r.final);
    for (const r of launches) expect(isItemPage(r.final), r.final.body.slice(0, 300)).to.equal(true);
    await Promise.all(launches.map(async (r, i) => {
      for (let k = 0; k < 4; k++) {
        const cycle = await answerAndContinue(r, pages[i], 'abc'[(i + k) % 3]);
        expect(cycle.next && isItemPage(cycle.next), cycle.feedback.body.slice(0, 300)).to.equal(true);
        pages[i] = cycle.next!;
      }
    }));
    const served = proxy.forwarded.slice(classBegins);
    const launchedOn = new Map(served.filter((f) => f.method === 'POST' && f.path === '/lti/launch' && f.status === 303)
      .map((f) => [/^\/s\/([\w-]+)\//.exec(f.location!)![1], f.port]));
    const answeredOn = (sid: string) => served.filter((f) => f.method === 'POST' && f.path === `/s/${sid}/practice/answer` && f.status === 303).map((f) => f.port);
    expect(launches.map((r) => answeredOn(sidOf(r)).length), 'answers acknowledged per student').to.deep.equal(students.map(() => 4));
    expect(launches.filter((r) => answeredOn(sidOf(r)).some((port) => port !== launchedOn.get(sidOf(r)))).length,
      'students who launched on one process and answered on the other').to.be.greaterThan(0);
    for (const url of [localUrl, child!.url]) {
      expect(await counter(url, 'jejak_lti_launches_total'), `launches served by ${url}`).to.be.greaterThan(0);
      expect(await counter(url, 'jejak_practice_answers_total'), `answers taken by ${url}`).to.be.greaterThan(0);
    }

    // (c) The teacher's live class view, opened on this process, hears of an answer the other one takes.
    const t = await launch(sim, { clientId, userId: teacher.id, courseId: course.id, activityId: linkId });
    // The link the teacher placed, bound to its activity at its first launch.
    const activityId = (await conn.db.selectFrom('activity_link').select('activity_id').where('resource_link_id', '=', linkId).executeTakeFirstOrThrow()).activity_id;
    const stream = await openEventStream(t.browser, `${localUrl}/s/${sidOf(t)}/teacher/activities/${activityId}/events`);
    try {
      expect(stream.res.status).to.equal(200);
      expect(stream.res.headers.get('content-type')).to.match(/^text\/event-stream/);
      await stream.until(/^retry: /m, 5_000);
      const answersHere = await counter(localUrl, 'jejak_practice_answers_total');
      const answersThere = await counter(child!.url, 'jejak_practice_answers_total');
      // The last student's answer goes to the child itself, as if the load balancer had sent it there.
      const last = launches.length - 1;
      const onChild = { ...pages[last], url: pages[last].url.replace(proxy.url, child!.url) };
      const cycle = await answerAndContinue(launches[last], onChild, 'a');
      expect(cycle.feedback.url.startsWith(`${child!.url}/s/`), cycle.feedback.url).to.equal(true);
      expect(isItemPage(cycle.next!)).to.equal(true);
      await stream.until(/^event: answer$/m, 10_000);
      expect(await counter(child!.url, 'jejak_practice_answers_total')).to.equal(answersThere + 1);
      expect(await counter(localUrl, 'jejak_practice_answers_total'), 'this process took no answer meanwhile').to.equal(answersHere);
    } finally {
      stream.close();
    }

    // (d) Both processes' grade senders deliver from the one outbox: every final score arrives, none twice.
    expect(await expectScoresDelivered(conn.db, sim, { sentOnce: true, timeoutMs: 30_000 })).to.equal(students.length);
    for (const s of students) expect(sim.grade(sim.activityLineItem(linkId)!.id, s.id), `grade of ${s.username}`).to.not.equal(undefined);
    const delivered = (lines: Record<string, any>[]) => lines.filter((l) => l.msg === 'grade delivery' && l.outcome === 'delivered').length;
    const byChild = delivered(child!.output.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)));
    const byLocal = delivered(local.logs);
    expect({ byChild: byChild > 0, byLocal: byLocal > 0 }, `deliveries: ${byChild} by the child, ${byLocal} here`).to.deep.equal({ byChild: true, byLocal: true });
  });

  it('a training job whose process is killed (kill -9) mid-way finishes on another, once', async () => {
    const id = await local.jejak.training.enqueue({ tenantId: fx.tenantId, bankId: fx.bankId, requestedBy: 'test', options: { hidden: 16, maxEpochs: 200, patience: 100, seed: 3 } });
    const running = await until('training on the child', 60_000, async () => {
      const j = await local.jejak.training.get(fx.tenantId, id);
      return j?.status === 'running' && (j.progress.batch ?? 0) > 0 && j;
    });
    const [, pid] = (await conn.db.selectFrom('kt_training_job').select('runner').where('id', '=', id).executeTakeFirstOrThrow()).runner!.split(':');
    expect(Number(pid)).to.equal(child!.pid);
    expect(running.progress.epoch ?? 0).to.be.below(200);
    await child!.kill('SIGKILL');
    // Another process doing background work takes the job over once its lease expires.
    const rescuer = await startTool(tdb, { secret: SECRET, publicUrl: proxy.url, jobs });
    try {
      const done = await until('the job to finish elsewhere', 150_000, async () => {
        const j = await local.jejak.training.get(fx.tenantId, id);
        return (j?.status === 'succeeded' || (j?.status === 'failed' && !j.retryable)) && j;
      });
      expect(done.error).to.equal(null);
      expect(done.status).to.equal('succeeded');
      const models = await conn.db.selectFrom('kt_model').select('id').where('bank_id', '=', fx.bankId).execute();
      expect(models, 'one model: the job ran to the end once').to.have.length(1);
    } finally {
      await rescuer.close();
    }
  });
});
