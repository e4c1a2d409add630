import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MoodleSim } from '../platform';
import { launch } from '../support/http-browser';
import { testDialects, type TestDatabase } from '../support/db';
import { freePort, registerDynamically } from '../support/tool';
import { expectScoresDelivered } from '../support/gradebook';
import { insertTestBank, placeActivity } from '../practice/support';
import { answerAndContinue, isItemPage } from '../reliability/student';
import { connect, type Connection } from '../../src/db/connect';
import { ROOT } from '../../src/config';
import { startEntry, type EntryProcess } from './entry-process';

const postgres = testDialects().find((d) => d.name === 'postgres');
const SECRET = 'worker-role-test-secret-0123456789abcdefgh';

describe('the worker role (`npm run worker`)', function () {
  this.timeout(60_000);

  it('refuses SQLite with one line saying what it needs, and touches nothing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jejak-worker-'));
    try {
      const file = path.join(dir, 'jejak.db');
      const worker = startEntry('src/worker.ts', { DATABASE_URL: file, JEJAK_SECRET: SECRET });
      expect(await worker.exited).to.deep.equal({ code: 1, signal: null });
      expect(worker.lines).to.deep.equal(['Configuration error: DATABASE_URL: the worker role needs PostgreSQL (postgres://…); with SQLite, `npm start` runs the jobs itself']);
      expect(fs.existsSync(file), 'no database created').to.equal(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  (postgres ? describe : describe.skip)('beside a web process with JEJAK_BACKGROUND_WORK=off, on PostgreSQL', () => {
    let tdb: TestDatabase;
    let sim: MoodleSim;
    let web: EntryProcess | undefined;
    let worker: EntryProcess | undefined;
    let conn: Connection | undefined;

    before(async () => {
      tdb = await postgres!.create();
      sim = await MoodleSim.start();
    });
    after(async () => {
      web?.signal('SIGKILL');
      worker?.signal('SIGKILL');
      await conn?.close();
      await sim?.close();
      await tdb?.drop();
    });

    it('the scores of answers the web process took are delivered by the worker, not by the web process', async () => {
      const port = await freePort();
      const env = { DATABASE_URL: tdb.url, JEJAK_SECRET: SECRET, PUBLIC_URL: `http://localhost:${port}`, LOG_LEVEL: 'info' };
      web = startEntry('src/main.ts', { ...env, PORT: String(port), HOST: '127.0.0.1', JEJAK_BACKGROUND_WORK: 'off' });
      const registration = (await web.line((l) => l.startsWith('Registration URL: '), 45_000, 'the registration URL')).slice('Registration URL: '.length);
      worker = startEntry('src/worker.ts', env);
      await worker.line((l) => l.includes('"msg":"worker running background jobs"'), 45_000, 'the worker');

      // IT registers the web process; a teacher places an activity; three students answer three items each.
      const clientId = await registerDynamically(sim, registration);
      conn = await connect(tdb.url, ROOT);
      const bank = await insertTestBank(conn.db);
      const { course, teacher, students } = sim.seedDefault();
      const { linkId } = await placeActivity(sim, clientId, course.id, teacher.id, bank);
      await Promise.all(students.map(async (s) => {
        const r = await launch(sim, { clientId, userId: s.id, courseId: course.id, activityId: linkId });
        expect(isItemPage(r.final), r.final.body.slice(0, 300)).to.equal(true);
        let page = r.final;
        for (let k = 0; k < 3; k++) {
          const cycle = await answerAndContinue(r, page, 'abc'[k]);
          expect(cycle.next && isItemPage(cycle.next), cycle.feedback.body.slice(0, 300)).to.equal(true);
          page = cycle.next!;
        }
      }));
      expect(await expectScoresDelivered(conn.db, sim, { sentOnce: true, timeoutMs: 30_000 })).to.equal(3);

      const deliveries = (p: EntryProcess) => p.logs().filter((l) => l.msg === 'grade delivery');
      expect(deliveries(worker).filter((l) => l.outcome === 'delivered').length, 'deliveries by the worker').to.be.at.least(3);
      expect(deliveries(web), 'deliveries by the web process').to.deep.equal([]);
      // The web process served the launches and answers (its request log), the worker none: it has no HTTP.
      expect(web.logs().filter((l) => l.msg === 'request' && /\/practice\/answer$/.test(l.path) && l.status === 303).length).to.equal(9);
      expect(worker.logs().filter((l) => l.msg === 'request')).to.deep.equal([]);
    });
  });
});
