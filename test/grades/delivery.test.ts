import { expect } from 'chai';
import { testDialects, type TestDatabase } from '../support/db';
import { startTool } from '../support/tool';
import { Classroom, eventually, FAST_GRADES } from '../teacher/classroom';
import { scoresUrl } from '../../src/grades/ags';
import { OutboxSender } from '../../src/grades/sender';
import { PlatformServices } from '../../src/grades/platform-services';
import { LtijsStore } from '../../src/lti/ltijs-store';
import { installSecret } from '../../src/install';
import { createLogger } from '../../src/log';
import type { Db } from '../../src/db/schema';

/**
 * `db` whose first UPDATE waits for `meanwhile` before it runs: another process acting between this
 * one's read and its write, made certain instead of rare.
 */
function beforeFirstUpdate(db: Db, meanwhile: () => Promise<unknown>): Db {
  let pending: (() => Promise<unknown>) | undefined = meanwhile;
  const chain = <T extends object>(target: T): T => new Proxy(target, {
    // Kysely's builders keep their state in private fields: everything runs on the target itself.
    get(t, p) {
      const v = Reflect.get(t, p);
      if (typeof v !== 'function') return v;
      if (p === 'execute' || p === 'executeTakeFirst' || p === 'executeTakeFirstOrThrow') {
        return async (...a: unknown[]) => {
          const first = pending;
          pending = undefined;
          await first?.();
          return v.apply(t, a);
        };
      }
      return (...a: unknown[]) => {
        const out = v.apply(t, a);
        return out && typeof out === 'object' ? chain(out) : out;
      };
    },
  });
  return new Proxy(db, {
    get(t, p) {
      if (p === 'updateTable') return (...a: Parameters<Db['updateTable']>) => chain(t.updateTable(...a));
      const v = Reflect.get(t, p);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
}

for (const dialect of testDialects()) {
  describe(`grade passback through AGS on ${dialect.name}`, function () {
    this.timeout(60_000);
    let tdb: TestDatabase;
    let c: Classroom;
    let lineItemId: number;

    before(async () => {
      tdb = await dialect.create();
      c = await Classroom.open(tdb);
      lineItemId = c.sim.activityLineItem(c.linkId)!.id;
      for (const s of c.studentIds.slice(0, 2)) await c.launch(s);
    });
    after(async () => {
      await c?.close();
      await tdb?.drop();
    });
    afterEach(() => c.sim.faults.clear());

    const outbox = (userSub: string) => c.db.selectFrom('score_outbox').selectAll().where('user_sub', '=', userSub).where('activity_id', '=', c.activityId).executeTakeFirst();
    const settled = async (subs: string[]) => {
      for (const s of subs) {
        const row = await outbox(s);
        if (!row || row.status === 'pending') return false;
      }
      return true;
    };

    it('posts the score, Moodle-style, to the line item path with /scores before its query', async () => {
      const [sam] = c.studentIds;
      await c.answer(sam, c.itemIds[0][0], true, { score: 40 });
      await eventually(() => settled([sam]), 10_000, 'delivery');
      const got = c.sim.scores.filter((s) => s.userId === sam);
      expect(got).to.have.length(1);
      const li = c.sim.lineItems.get(lineItemId)!;
      expect(scoresUrl(li.url)).to.match(/\/lineitem\/scores\?type_id=\d+$/);
      expect(got[0].lineItemId).to.equal(lineItemId);
      expect(got[0].body).to.include({ userId: sam, scoreGiven: 40, scoreMaximum: 100, activityProgress: 'InProgress', gradingProgress: 'FullyGraded' });
      expect(got[0].body.timestamp).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(c.sim.grade(lineItemId, sam)?.scoreGiven).to.equal(40);
      expect((await outbox(sam))!.status).to.equal('delivered');
    });

    it('a newer score in the same second is stamped one second later (Moodle refuses equal timestamps)', async () => {
      const [sam] = c.studentIds;
      const at = Date.now() + 5000;
      await c.answer(sam, c.itemIds[0][1], true, { score: 50, at });
      await eventually(() => settled([sam]));
      await c.answer(sam, c.itemIds[1][0], true, { score: 60, at });
      await eventually(() => settled([sam]));
      const row = (await outbox(sam))!;
      expect(row.status).to.equal('delivered');
      expect(row.problem).to.equal(null);
      expect(c.sim.grade(lineItemId, sam)?.scoreGiven).to.equal(60);
      expect(Math.floor(row.score_timestamp / 1000)).to.equal(Math.floor(at / 1000) + 1);
    });

    it('with the LMS failing 30% of requests, every final score arrives exactly once per change', async () => {
      c.sim.faults.set({ ags: { failRate: 0.3, status: 503 } });
      const subs = c.studentIds.slice(0, 2);
      const before = c.sim.scores.length;
      const finals = new Map<string, number>();
      for (let round = 1; round <= 6; round++) {
        for (const s of subs) {
          const score = 60 + round * 5 + (s === subs[1] ? 1 : 0);
          await c.answer(s, c.itemIds[round % 3][round % 2], true, { score });
          finals.set(s, score);
        }
        await new Promise((r) => setTimeout(r, 15 + (round % 3) * 20));
      }
      await eventually(() => settled(subs), 30_000, 'all deliveries');
      expect(c.sim.stats.injectedFaults).to.be.greaterThan(0);
      for (const s of subs) {
        expect(c.sim.grade(lineItemId, s)?.scoreGiven, `final grade of ${s}`).to.equal(finals.get(s));
        const accepted = c.sim.scores.slice(before).filter((x) => x.userId === s);
        const stamps = accepted.map((x) => String(x.body.timestamp));
        expect(new Set(stamps).size, 'no score delivered twice').to.equal(stamps.length);
        expect(accepted.filter((x) => x.body.scoreGiven === finals.get(s))).to.have.length(1);
        const row = (await outbox(s))!;
        expect(row.delivered_version).to.equal(row.version);
      }
    });

    it('two senders: a score another sender delivered between this one\'s read and its lease is not posted again', async () => {
      const [, sasha] = c.studentIds;
      // Two senders of our own, in a set order: the tool's is stopped meanwhile.
      await c.tool.jejak.grades.stop();
      try {
        await c.answer(sasha, c.itemIds[0][1], true, { score: 77 });
        const { config } = c.tool.jejak;
        const services = new PlatformServices(c.db, c.tool.jejak.platforms, new LtijsStore(c.db, installSecret(config)), config.grades.requestTimeoutMs);
        const log = createLogger('error');
        const other = new OutboxSender(c.db, services, log, config.grades);
        const late = new OutboxSender(beforeFirstUpdate(c.db, () => other.runOnce()), services, log, config.grades);
        const refusedBefore = c.sim.refusedScores.length;
        expect(await late.runOnce(), 'rows the late sender leased').to.equal(0);
        expect((await outbox(sasha))!.status).to.equal('delivered');
        expect(c.sim.scores.filter((x) => x.userId === sasha && x.body.scoreGiven === 77)).to.have.length(1);
        expect(c.sim.refusedScores.slice(refusedBefore), 'posted again (Moodle: 409)').to.deep.equal([]);
      } finally {
        c.tool.jejak.grades.start();
      }
    });

    it('honours 429 Retry-After before trying again', async () => {
      const [, sasha] = c.studentIds;
      c.sim.faults.set({ ags: { failRate: 1, status: 429, retryAfterSec: 1 } });
      await c.answer(sasha, c.itemIds[2][0], true, { score: 90 });
      await eventually(async () => ((await outbox(sasha))?.tries ?? 0) >= 1, 5000, 'first refusal');
      const refused = (await outbox(sasha))!;
      expect(refused.status).to.equal('pending');
      expect(refused.next_try_at - refused.updated_at).to.be.within(990, 1010);
      expect(refused.problem_detail).to.match(/^429/);
      const refusedAt = Date.now();
      c.sim.faults.clear();
      await eventually(() => settled([sasha]), 5000);
      expect(Date.now() - refusedAt).to.be.greaterThan(700);
      expect(c.sim.grade(lineItemId, sasha)?.scoreGiven).to.equal(90);
    });

    it('gives up on a 4xx retrying cannot fix, and says why', async () => {
      await c.launch(c.teacherId);
      await c.answer(c.teacherId, c.itemIds[0][0], true, { score: 100 });
      await eventually(() => settled([c.teacherId]));
      const row = (await outbox(c.teacherId))!;
      expect(row.status).to.equal('failed');
      expect(row.problem).to.equal('not_gradable');
      expect(row.problem_detail).to.match(/^400 .*not gradable/);
      expect(row.tries).to.equal(0);
    });

    it('a restart in the middle loses no score', async () => {
      const subs = c.studentIds.slice(0, 2);
      c.sim.faults.set({ ags: { down: true } });
      for (const s of subs) await c.answer(s, c.itemIds[1][1], false, { score: 97 });
      await eventually(async () => ((await outbox(subs[0]))?.tries ?? 0) >= 1, 5000, 'a failed try');
      const before = c.sim.scores.length;
      await c.tool.close();
      c.sim.faults.clear();
      c.tool = await startTool(tdb, { grades: FAST_GRADES });
      await eventually(() => settled(subs), 10_000, 'delivery after restart');
      for (const s of subs) {
        expect(c.sim.grade(lineItemId, s)?.scoreGiven).to.equal(97);
        expect(c.sim.scores.slice(before).filter((x) => x.userId === s)).to.have.length(1);
      }
    });
  });

  describe(`line items found or created through AGS on ${dialect.name}`, function () {
    this.timeout(60_000);
    let tdb: TestDatabase;
    let c: Classroom;
    before(async () => {
      tdb = await dialect.create();
      c = await Classroom.open(tdb, {}, false);
    });
    after(async () => {
      await c?.close();
      await tdb?.drop();
    });

    it('creates one line item by resource id and tag when the link has none, and posts there', async () => {
      const [sam, sasha] = c.studentIds;
      await c.launch(sam);
      await c.answer(sam, c.itemIds[0][0], true, { score: 30 });
      await c.answer(sasha, c.itemIds[0][0], true, { score: 35 });
      await eventually(async () => (await c.db.selectFrom('score_outbox').select('status').where('status', '=', 'pending').execute()).length === 0);
      const activity = await c.db.selectFrom('activity').select(['resource_id', 'line_item_url']).where('id', '=', c.activityId).executeTakeFirstOrThrow();
      const created = [...c.sim.lineItems.values()].filter((li) => li.resourceId === activity.resource_id);
      expect(created).to.have.length(1);
      expect(created[0].tag).to.equal('jejak');
      expect(activity.line_item_url).to.equal(created[0].url);
      expect(c.sim.grade(created[0].id, sam)?.scoreGiven).to.equal(30);
      expect(c.sim.grade(created[0].id, sasha)?.scoreGiven).to.equal(35);
    });
  });
}
