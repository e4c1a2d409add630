import { expect } from 'chai';
import { MoodleSim } from '../platform';
import { launch, parseForm, type LaunchResult } from '../support/http-browser';
import { sqliteDatabase, type TestDatabase } from '../support/db';
import { startTool, type RunningTool } from '../support/tool';
import { answerForm, insertTestBank, placeActivity, registerTool, type TestBank } from './support';

// Issue 15: the student's pages over HTTP (Back and resubmit; mistakes that keep the input).
describe('student pages over HTTP', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  let tool: RunningTool;
  let sim: MoodleSim;
  let clientId: string;
  let courseId: string;
  let students: string[];
  let bank: TestBank;
  let linkId: string;

  before(async () => {
    tdb = await sqliteDatabase();
    tool = await startTool(tdb);
    sim = await MoodleSim.start();
    clientId = await registerTool(sim, tool);
    const seeded = sim.seedDefault();
    courseId = seeded.course.id;
    students = seeded.students.map((s) => s.id);
    bank = await insertTestBank(tool.jejak.conn.db);
    linkId = (await placeActivity(sim, clientId, courseId, seeded.teacher.id, bank, { length: 'range', min_items: '10', max_items: '40', threshold: '95', accept_few_items: '1' })).linkId;
  });
  after(async () => {
    await sim?.close();
    await tool?.close();
    await tdb?.drop();
  });

  const db = () => tool.jejak.conn.db;
  const inFrame = (r: LaunchResult, page: { url: string }) => ({ context: { ...r.context, initiator: page.url } });

  for (const [locale, said, verdict] of [['en', 'You had already answered that question', 'Not quite.'], ['id', 'Soal itu sudah kamu jawab', 'Belum tepat.']] as const) {
    it(`after Back, a corrected answer is not graded and is said to be already answered; the current question follows (${locale})`, async () => {
      const r = await launch(sim, { clientId, userId: students[locale === 'en' ? 0 : 1], courseId, activityId: linkId, locale });
      const wrong = await answerForm(db(), bank, r.final, false);
      const feedback = await r.browser.post(wrong.action, wrong.fields, inFrame(r, r.final));
      expect(feedback.body).to.contain(verdict);
      // Back to the question, the right choice this time, same token.
      const right = await answerForm(db(), bank, r.final, true);
      const again = await r.browser.post(right.action, right.fields, inFrame(r, r.final));
      expect(again.status).to.equal(200);
      expect(again.url).to.match(/\/practice\?answered=1$/);
      expect(again.body).to.contain(said).and.not.contain(verdict);
      const current = parseForm(again.body, again.url, 0)!;
      expect(current.fields.token).to.not.equal(wrong.fields.token);
      const attempts = await db().selectFrom('attempt').select('correct').where('user_sub', '=', students[locale === 'en' ? 0 : 1]).execute();
      expect(attempts.map((a) => a.correct)).to.deep.equal([0]);
      // The same answer sent twice (a double click) still shows its feedback.
      const twice = await r.browser.post(wrong.action, wrong.fields, inFrame(r, r.final));
      expect(twice.url).to.match(/\/practice\/answered\//);
      expect(twice.body).to.contain(verdict);
    });
  }
});
