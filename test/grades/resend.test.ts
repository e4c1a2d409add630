import { expect } from 'chai';
import { testDialects, type TestDatabase } from '../support/db';
import { Classroom } from '../teacher/classroom';
import { expectGradebookShows } from '../support/gradebook';
import { expectAccessiblePage } from '../support/axe';
import { chromiumAvailable, openChromium } from '../support/chromium';
import { OutboxSender } from '../../src/grades/sender';
import { PlatformServices } from '../../src/grades/platform-services';
import { LtijsStore } from '../../src/lti/ltijs-store';
import { installSecret } from '../../src/install';
import { createLogger } from '../../src/log';
import type { Db } from '../../src/db/schema';

/**
 * `db` whose first UPDATE marking a score delivered fails: the process dies after the platform took
 * the score and before the outbox heard of it (kill -9 between the two).
 */
function crashBeforeMarkingDelivered(db: Db): Db {
  let crashed = false;
  const chain = <T extends object>(target: T, marking: boolean): T => new Proxy(target, {
    // Kysely's builders keep their state in private fields: everything runs on the target itself.
    get(t, p) {
      const v = Reflect.get(t, p);
      if (typeof v !== 'function') return v;
      if (p === 'execute' || p === 'executeTakeFirst' || p === 'executeTakeFirstOrThrow') {
        return async (...a: unknown[]) => {
          if (marking && !crashed) {
            crashed = true;
            throw new Error('killed before the score was marked delivered');
          }
          return v.apply(t, a);
        };
      }
      return (...a: unknown[]) => {
        const out = v.apply(t, a);
        const marks = marking || (p === 'set' && (a[0] as { status?: string } | undefined)?.status === 'delivered');
        return out && typeof out === 'object' ? chain(out, marks) : out;
      };
    },
  });
  return new Proxy(db, {
    get(t, p) {
      if (p === 'updateTable') return (...a: Parameters<Db['updateTable']>) => chain(t.updateTable(...a), false);
      const v = Reflect.get(t, p);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
}

for (const dialect of testDialects()) {
  describe(`a score posted again after a crash on ${dialect.name}`, function () {
    this.timeout(60_000);
    let tdb: TestDatabase;
    let c: Classroom;

    before(async () => {
      tdb = await dialect.create();
      c = await Classroom.open(tdb);
      await c.launch(c.studentIds[0]);
    });
    after(async () => {
      await c?.close();
      await tdb?.drop();
    });

    it('goes with the same timestamp, the gradebook keeps one grade, and the outbox counts it delivered without a problem', async () => {
      const [sam] = c.studentIds;
      const lineItemId = c.sim.activityLineItem(c.linkId)!.id;
      await c.tool.jejak.grades.stop();
      try {
        await c.answer(sam, c.itemIds[0][0], true, { score: 64 });
        const { config } = c.tool.jejak;
        const services = new PlatformServices(c.db, c.tool.jejak.platforms, new LtijsStore(c.db, installSecret(config)), config.grades.requestTimeoutMs);
        const log = createLogger('error');
        const dying = new OutboxSender(crashBeforeMarkingDelivered(c.db), services, log, config.grades);
        let died: unknown;
        await dying.runOnce().catch((e) => { died = e; });
        expect(String(died)).to.contain('killed before the score was marked delivered');
        expect(c.sim.scores.filter((s) => s.userId === sam), 'posted once before the crash').to.have.length(1);
        const before = await c.db.selectFrom('score_outbox').selectAll().where('user_sub', '=', sam).executeTakeFirstOrThrow();
        expect(before.status, 'not marked delivered').to.equal('pending');

        // After the restart, once the dead sender's lease has run out.
        const restarted = new OutboxSender(c.db, services, log, config.grades);
        expect(await restarted.runOnce(before.lease_until! + 1)).to.equal(1);

        const posts = [...c.sim.scores, ...c.sim.refusedScores].filter((s) => s.userId === sam);
        expect(posts.map((s) => s.body.timestamp), 'the re-send carries the first send\'s timestamp').to.deep.equal([posts[0].body.timestamp, posts[0].body.timestamp]);
        expect(c.sim.refusedScores.filter((s) => s.userId === sam).map((s) => s.status), 'Moodle refuses the repeat').to.deep.equal([409]);
        expect(c.sim.scores.filter((s) => s.userId === sam), 'one grade kept').to.have.length(1);
        expect(c.sim.grade(lineItemId, sam)?.scoreGiven).to.equal(64);
        await expectGradebookShows(c.sim, lineItemId, sam, 64);
        const row = await c.db.selectFrom('score_outbox').selectAll().where('user_sub', '=', sam).executeTakeFirstOrThrow();
        expect(row).to.include({ status: 'delivered', delivered_version: row.version, problem: null });
      } finally {
        c.tool.jejak.grades.start();
      }

      // The teacher sees a delivered grade that the gradebook agrees with, and no failure.
      const t = await c.launch(c.teacherId, { locale: 'en' });
      const klass = await t.browser.get(`${t.base}/teacher/activities/${c.activityId}`);
      expect(klass.body).to.contain('1 delivered to the LMS gradebook, 0 waiting to be sent, 0 not sent.');
      const student = await t.browser.get(`${t.base}/teacher/activities/${c.activityId}/students/${encodeURIComponent(sam)}`);
      expect(student.status).to.equal(200);
      expect(student.body).to.not.contain('The LMS already held a newer grade.');
      expect(student.body).to.not.match(/class="problem"/);
      expect(student.body).to.contain('Delivered 20');
      const grades = await t.browser.get(`${t.base}/teacher/activities/${c.activityId}/grades`);
      expect(grades.body).to.contain('64 of 100');
      expect(grades.body).to.contain('Yes.');
    });

    it('a "not later" refusal of a version never posted before still says a newer grade was there', async () => {
      const [, sasha] = c.studentIds;
      const lineItemId = c.sim.activityLineItem(c.linkId)!.id;
      const at = Date.now();
      // Someone graded Sasha in the LMS after the answer's time.
      c.sim.grades.set(`${lineItemId}:${sasha}`, { userId: sasha, lineItemId, scoreGiven: 90, scoreMaximum: 100, activityProgress: 'Completed', gradingProgress: 'FullyGraded', timemodified: Math.floor(at / 1000) + 60, timestamp: new Date(at + 60_000).toISOString() });
      await c.answer(sasha, c.itemIds[0][0], true, { score: 20, at });
      const row = await settled(sasha);
      expect(row).to.include({ status: 'delivered', problem: 'superseded' });
      expect(c.sim.grade(lineItemId, sasha)?.scoreGiven).to.equal(90);
    });

    it('the grades page and the student\'s grade pass axe-core in headless Chromium at 360 px, in both languages', async function () {
      if (!chromiumAvailable()) return this.skip();
      const t = await c.launch(c.teacherId);
      // A session without a cookie binding, as one completed through platform storage, opens in a fresh browser.
      await c.db.updateTable('launch_session').set({ binding: null }).where('id', '=', t.sid).execute();
      const browser = await openChromium({ viewport: { width: 360, height: 800 } });
      try {
        const page = await browser.context.newPage();
        const activity = `${t.base}/teacher/activities/${c.activityId}`;
        for (const lang of ['en', 'id']) {
          for (const url of [`${activity}/grades?lang=${lang}`, `${activity}/students/${encodeURIComponent(c.studentIds[0])}?lang=${lang}`]) {
            await expectAccessiblePage(page, url, lang);
          }
        }
      } finally {
        await browser.close();
      }
    });

    async function settled(sub: string) {
      for (let i = 0; i < 400; i++) {
        const row = await c.db.selectFrom('score_outbox').selectAll().where('user_sub', '=', sub).executeTakeFirst();
        if (row && row.status !== 'pending') return row;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`the score of ${sub} was not settled`);
    }
  });
}
