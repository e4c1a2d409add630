import { expect } from 'chai';
import type { Connection } from '../../src/db/connect';
import { calibrateDueBanks, CALIBRATE_AFTER_ANSWERS } from '../../src/kt/calibration';
import { calibrateBank } from '../../src/kt/commands/calibrateBank';
import type { Calibration } from '../../src/kt/estimate';
import { createTracer } from '../../src/kt/tracer';
import { createLogger } from '../../src/log';
import { mulberry32 } from '../../src/random';
import { testDialects, type TestDatabase } from '../support/db';
import { type BankFixture, insertAttempt, openTestDb, seedBank, studentKey } from './bank-fixture';

const log = createLogger('error');

for (const dialect of testDialects()) {
  describe(`calibration from the tool's own attempts on ${dialect.name}`, function () {
    this.timeout(60_000);
    let tdb: TestDatabase;
    let conn: Connection;
    let fx: BankFixture;
    let at = 1_800_000_000_000;

    before(async () => {
      tdb = await dialect.create();
      conn = await openTestDb(tdb);
      fx = await seedBank(conn.db, 2, 3);
    });
    after(async () => {
      await conn.close();
      await tdb.drop();
    });

    /** Students for whom each skill's FIRST item (the bank's easiest by position) is in truth the hardest. */
    async function answers(students: number, seed: number): Promise<void> {
      const rnd = mulberry32(seed);
      const truth = [0.25, 0.6, 0.9];
      for (let s = 0; s < students; s++) {
        for (const item of fx.items) {
          const k = fx.items.filter((i) => i.skillIds[0] === item.skillIds[0]).indexOf(item);
          await insertAttempt(conn.db, fx, { userSub: `cal-${seed}-${s}`, itemId: item.id, correct: rnd() < truth[k], at: (at += 1000) });
        }
      }
    }

    it('learns item difficulties in a background pass, and the served estimate uses them from then on', async () => {
      const tracer = createTracer({ db: conn.db, log });
      const ofSkill = fx.items.filter((i) => i.skillIds.length === 1 && i.skillIds[0] === fx.skillIds[1]).map((i) => i.id);
      const fresh = studentKey(fx, 'newcomer');
      const before = (await tracer.knowledge(fresh)).itemSuccess(ofSkill);
      expect(before.get(ofSkill[0]), 'before: the bank order says the first item is the easiest').to.be.above(before.get(ofSkill.at(-1)!)!);

      await answers(40, 1);
      const done = await calibrateDueBanks(conn.db, log, at);
      expect(done.map((d) => [d.bankId, d.version, d.answers])).to.deep.equal([[fx.bankId, 1, 40 * fx.items.length]]);
      const after = (await tracer.knowledge(fresh)).itemSuccess(ofSkill);
      expect(after.get(ofSkill[0]), 'after: the answers say it is the hardest').to.be.below(after.get(ofSkill.at(-1)!)!);
      // A newcomer's predicted chance on the item is about the share of right answers it had.
      const rate = await conn.db.selectFrom('attempt').select((eb) => eb.fn.avg<number>('correct').as('r')).where('item_id', '=', ofSkill[0]).executeTakeFirstOrThrow();
      expect(after.get(ofSkill[0])).to.be.closeTo(Number(rate.r), 0.1);
      // A student's state is rebuilt under the new calibration.
      await tracer.knowledge(studentKey(fx, 'cal-1-0'));
      const keys = (await conn.db.selectFrom('kt_state').select('model_key').where('user_sub', '=', 'cal-1-0').execute()).map((r) => r.model_key);
      expect(keys).to.deep.equal(['ability:1']);
      const audit = await conn.db.selectFrom('audit_event').select(['action', 'subject']).where('action', '=', 'kt.calibrated').execute();
      expect(audit).to.deep.equal([{ action: 'kt.calibrated', subject: `bank:${fx.bankId}` }]);
    });

    it('calibrates again only after enough new answers', async () => {
      expect(await calibrateDueBanks(conn.db, log, at)).to.deep.equal([]);
      await answers(Math.ceil(CALIBRATE_AFTER_ANSWERS / fx.items.length), 2);
      const again = await calibrateDueBanks(conn.db, log, at);
      expect(again.map((d) => d.version)).to.deep.equal([2]);
    });

    it('a teacher\'s difficulty tag is served before any answer and is the prior calibration starts from', async () => {
      // Two banks alike, answered alike; in one, each skill's first item (the easiest by position) is tagged hard.
      const [plain, tagged] = [await seedBank(conn.db, 1, 3), await seedBank(conn.db, 1, 3)];
      await conn.db.updateTable('item').set({ difficulty: 'hard' }).where('id', '=', tagged.items[0]!.id).execute();
      const ids = (f: BankFixture) => f.items.map((i) => i.id);
      const fresh = (await createTracer({ db: conn.db, log }).knowledge(studentKey(tagged, 'newcomer'))).itemSuccess(ids(tagged));
      expect(fresh.get(ids(tagged)[0]), 'the hard tag outweighs the first place').to.be.below(fresh.get(ids(tagged)[1])!);

      const learnt = async (f: BankFixture): Promise<Calibration> => {
        for (let s = 0; s < 10; s++) {
          for (const [k, item] of f.items.entries()) await insertAttempt(conn.db, f, { userSub: `tag-${s}`, itemId: item.id, correct: (s + k) % 2 === 0, at: (at += 1000) });
        }
        await calibrateBank({ db: conn.db, tenantId: f.tenantId, bankId: f.bankId, actor: 'cli', now: at });
        const row = await conn.db.selectFrom('kt_calibration').select('params').where('bank_id', '=', f.bankId).executeTakeFirstOrThrow();
        return JSON.parse(row.params) as Calibration;
      };
      const [a, b] = [await learnt(plain), await learnt(tagged)];
      expect(b.items[ids(tagged)[0]!], 'same answers, pulled up by the tag').to.be.above(a.items[ids(plain)[0]!]! + 0.3);
      expect(b.items[ids(tagged)[1]!]).to.be.closeTo(a.items[ids(plain)[1]!]!, 0.3);
    });
  });
}
