import { expect } from 'chai';
import { MoodleSim } from '../platform';
import { launch, parseForm, type LaunchResult } from '../support/http-browser';
import { sqliteDatabase, type TestDatabase } from '../support/db';
import { startTool, type RunningTool } from '../support/tool';
import { insertReturningId } from '../../src/db/writes';
import { reasonText } from '../../src/practice/routes';
import { answerForm, insertTestBank, placeActivity, registerTool, type TestBank } from './support';

/** A one-skill bank of numeric items whose answers are fractions (3/8 and so on). */
async function insertFractionBank(db: RunningTool['jejak']['conn']['db']): Promise<TestBank> {
  const now = Date.now();
  const bankId = await insertReturningId(db, 'bank', { tenant_id: null, code: 'test-frac', title: 'Pecahan isian', language: 'multi', source: 'sample', details: '{}', created_by: null, created_at: now, updated_at: now });
  const skillId = await insertReturningId(db, 'skill', { bank_id: bankId, code: 'tulis', name: 'Menulis pecahan', details: JSON.stringify({ names: { id: 'Menulis pecahan', en: 'Writing fractions' } }), position: 0 });
  for (let k = 1; k <= 4; k++) {
    const body = {
      v: 1, kind: 'numeric', languages: ['id', 'en'], stem: { id: `<p>Tulis ${k} per 8 sebagai pecahan.</p>`, en: `<p>Write ${k} eighths as a fraction.</p>` },
      hints: [], answers: [{ value: k / 8, tolerance: 0, correct: true }], units: [], unitRequired: false,
    };
    const itemId = await insertReturningId(db, 'item', { bank_id: bankId, code: `f-${k}`, kind: 'numeric', language: 'multi', body: JSON.stringify(body), position: k, created_at: now });
    await db.insertInto('item_skill').values({ item_id: itemId, skill_id: skillId }).execute();
  }
  return { bankId, skills: [skillId], answers: new Map() };
}

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
  let fractionLinkId: string;

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
    const fractions = await insertFractionBank(tool.jejak.conn.db);
    fractionLinkId = (await placeActivity(sim, clientId, courseId, seeded.teacher.id, fractions, { accept_few_items: '1' })).linkId;
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

  for (const [locale, message] of [['en', 'Write a number, for example 0,75 or 3/4.'], ['id', 'Tulis sebuah bilangan, misalnya 0,75 atau 3/4.']] as const) {
    it(`a number that cannot be read keeps what was typed and says why at the field, which takes "/" (${locale})`, async () => {
      const r = await launch(sim, { clientId, userId: students[2], courseId, activityId: fractionLinkId, locale });
      const form = parseForm(r.final.body, r.final.url, 0)!;
      expect(r.final.body).to.match(/<input type="text" inputmode="text" id="answer"/);
      const refused = await r.browser.post(form.action, { ...form.fields, answer: 'tiga per <delapan>' }, inFrame(r, r.final));
      expect(refused.status).to.equal(400);
      const input = /<input [^>]*id="answer"[^>]*>/.exec(refused.body)![0];
      expect(input).to.contain('value="tiga per &#60;delapan&#62;"').and.contain('aria-invalid="true"').and.contain('aria-describedby="answer-problem stem"');
      // The message sits in the answer field's box, right before the field.
      expect(refused.body).to.contain(`<p class="problem" id="answer-problem">${message}</p>\n${input}`);
      const attempts = await db().selectFrom('attempt').select('id').where('user_sub', '=', students[2]).execute();
      expect(attempts).to.have.length(0);
    });
  }

  it('item, feedback, solution and summary pages have distinct tab titles (id)', async () => {
    const r = await launch(sim, { clientId, userId: students[2], courseId, activityId: linkId, locale: 'id' });
    const title = (body: string) => /<title>([^<]*)<\/title>/.exec(body)![1];
    const item = title(r.final.body);
    expect(item).to.match(/^Soal \d+ · Latihan pecahan · Jejak$/);
    const wrong = await answerForm(db(), bank, r.final, false);
    const feedback = await r.browser.post(wrong.action, wrong.fields, inFrame(r, r.final));
    expect(title(feedback.body)).to.equal('Belum tepat. · Latihan pecahan · Jejak');
    const solution = await r.browser.get(`${feedback.url}?solution=1`, inFrame(r, feedback));
    expect(title(solution.body)).to.equal('Pembahasan · Latihan pecahan · Jejak');
    const summary = await r.browser.get(feedback.url.replace(/answered\/.*$/, 'summary'), inFrame(r, feedback));
    expect(title(summary.body)).to.equal('Ringkasan · Latihan pecahan · Jejak');
  });

  it('the reason for a question says a number once when the skill\'s estimate and this question\'s chance agree (15.2)', () => {
    const reason = { kind: 'learn' as const, mastery: 0.271, pSuccess: 0.268, firstTime: false, movedFromStuck: null };
    for (const locale of ['id', 'en'] as const) {
      const text = reasonText(locale, reason, 'Pecahan');
      expect(text.match(/27%/g), text).to.have.length(1);
      expect(text).to.contain('Pecahan');
    }
    // Two different numbers are both said.
    expect(reasonText('en', { ...reason, pSuccess: 0.6 }, 'Pecahan')).to.contain('27%').and.contain('60%');
  });
});
