import { expect } from 'chai';
import { MoodleSim } from '../platform';
import { launch, parseForm, type LaunchResult } from '../support/http-browser';
import { sqliteDatabase, type TestDatabase } from '../support/db';
import { startTool, type RunningTool } from '../support/tool';
import { insertReturningId } from '../../src/db/writes';
import { reasonText } from '../../src/practice/routes';
import { answerForm, insertTestBank, placeActivity, registerTool, type TestBank, inFrame } from './support';

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

/**
 * Two skills, neither needing the other, of two numeric items each ("write k eighths as a decimal"),
 * each with two hints, feedback for the slip "k,8", general feedback and a worked solution. `eighths`: k per item id.
 */
async function insertDecimalBank(db: RunningTool['jejak']['conn']['db']): Promise<TestBank & { eighths: Map<number, number> }> {
  const now = Date.now();
  const bankId = await insertReturningId(db, 'bank', { tenant_id: null, code: 'test-desimal', title: 'Desimal', language: 'multi', source: 'sample', details: '{}', created_by: null, created_at: now, updated_at: now });
  const skills: number[] = [];
  const eighths = new Map<number, number>();
  for (const [s, ks] of [[3, 5], [1, 7]].entries()) {
    const skillId = await insertReturningId(db, 'skill', { bank_id: bankId, code: `d${s}`, name: `Desimal ${s}`, details: JSON.stringify({ names: { id: `Desimal ${s}`, en: `Decimals ${s}` } }), position: s });
    skills.push(skillId);
    for (const k of ks) {
      const body = {
        v: 1, kind: 'numeric', languages: ['id', 'en'],
        stem: { id: `<p>Tulis ${k} per 8 sebagai desimal.</p>`, en: `<p>Write ${k} eighths as a decimal.</p>` },
        hints: [{ id: '<p>Petunjuk pertama: bagi.</p>', en: '<p>First hint: divide.</p>' }, { id: '<p>Petunjuk kedua: 1/8 = 0,125.</p>', en: '<p>Second hint: 1/8 = 0.125.</p>' }],
        answers: [
          { value: k / 8, tolerance: 0, correct: true },
          { value: k + 0.8, tolerance: 0, correct: false, feedback: { id: `<p>${k},8 bukan ${k} per 8: bagi ${k} dengan 8.</p>`, en: `<p>${k}.8 is not ${k} eighths: divide ${k} by 8.</p>` } },
        ],
        units: [], unitRequired: false,
        generalFeedback: { id: '<p>Pecahan adalah pembagian.</p>', en: '<p>A fraction is a division.</p>' },
        solution: { id: `<p>${k} : 8 = ${k / 8}.</p>`, en: `<p>${k} ÷ 8 = ${k / 8}.</p>` },
      };
      const itemId = await insertReturningId(db, 'item', { bank_id: bankId, code: `d${s}-${k}`, kind: 'numeric', language: 'multi', body: JSON.stringify(body), position: k, created_at: now });
      await db.insertInto('item_skill').values({ item_id: itemId, skill_id: skillId }).execute();
      eighths.set(itemId, k);
    }
  }
  return { bankId, skills, answers: new Map(), eighths };
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
  let teacherId: string;
  let decimals: TestBank & { eighths: Map<number, number> };
  let decimalLinkId: string;

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
    teacherId = seeded.teacher.id;
  });
  after(async () => {
    await sim?.close();
    await tool?.close();
    await tdb?.drop();
  });

  const db = () => tool.jejak.conn.db;

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

  // Issue 15.1 and 15.3: feedback that teaches; hints beside the question.
  describe('the answer reviewed, a similar question, hints above the answer button', () => {
    let users = 0;
    before(async () => {
      decimals = await insertDecimalBank(db());
      decimalLinkId = (await placeActivity(sim, clientId, courseId, teacherId, decimals, { accept_few_items: '1' })).linkId;
    });

    /** A student of the course who has not practised yet. */
    const newStudent = () => {
      const n = ++users;
      const u = sim.addUser({ given: 'Siswa', family: `Baru ${n}`, email: `baru${n}@example.com`, username: `baru${n}` });
      sim.enrol(courseId, u.id, 'Learner');
      return u.id;
    };
    /** The item a practice page shows: its presentation and its body as stored. */
    const shownOn = async (page: { body: string; url: string }) => {
      const token = parseForm(page.body, page.url, 0)!.fields.token;
      const p = await db().selectFrom('practice_presentation as p').innerJoin('item as i', 'i.id', 'p.item_id')
        .select(['p.item_id', 'p.skill_id', 'p.hints_used', 'i.body']).where('p.token', '=', token).executeTakeFirstOrThrow();
      return { token, itemId: p.item_id, skillId: p.skill_id, hintsUsed: p.hints_used, body: JSON.parse(p.body) as { stem: Record<string, string>; choices?: { key: string; text: Record<string, string> }[] } };
    };
    const follow = (r: LaunchResult, page: { body: string; url: string }, id: string) => {
      const href = new RegExp(`id="${id}" href="([^"]+)"`).exec(page.body)![1].replace(/&amp;/g, '&');
      return r.browser.get(new URL(href, page.url).toString(), inFrame(r, page));
    };
    const words = {
      en: { wrong: 'Not quite.', pickedRight: '✓ Your answer — right', pickedWrong: '✗ Your answer — not right', right: '✓ right', notRight: '✗ not right', key: 'Correct answer', yours: 'Your answer', similar: 'Try a similar question', hint: 'Show a hint', hintN: 'Hint', answer: 'Check my answer', mark: '.' },
      id: { wrong: 'Belum tepat.', pickedRight: '✓ Jawabanmu — benar', pickedWrong: '✗ Jawabanmu — belum tepat', right: '✓ benar', notRight: '✗ belum tepat', key: 'Jawaban yang benar', yours: 'Jawabanmu', similar: 'Coba soal serupa', hint: 'Tampilkan petunjuk', hintN: 'Petunjuk', answer: 'Periksa jawabanku', mark: ',' },
    } as const;

    for (const locale of ['en', 'id'] as const) {
      const w = words[locale];

      it(`a choice question answered wrong, then right: the question again, the choice marked, the correct answer, the feedback (${locale})`, async () => {
        const r = await launch(sim, { clientId, userId: newStudent(), courseId, activityId: linkId, locale });
        const first = await shownOn(r.final);
        const wrong = await answerForm(db(), bank, r.final, false);
        const text = (key: string) => first.body.choices!.find((c) => c.key === key)!.text[locale];
        const feedback = await r.browser.post(wrong.action, wrong.fields, inFrame(r, r.final));
        expect(feedback.body).to.contain(`<div class="item-stem">${first.body.stem[locale]}</div>`);
        expect(feedback.body).to.contain(`<li class="picked bad">${text(wrong.fields.answer)} <span class="verdict bad">${w.pickedWrong}</span></li>`);
        expect(feedback.body).to.contain(`<strong>${w.key}:</strong> ${text(bank.answers.get(first.itemId)!)}</div>`);
        expect(feedback.body).to.contain(locale === 'en' ? 'The denominator stays the same.' : 'Penyebutnya tetap.');
        // Seven more items of the skill are unseen.
        expect(feedback.body).to.contain(`id="similar" href="`).and.contain(`>${w.similar}</a>`);

        const next = await follow(r, feedback, 'next');
        const second = await shownOn(next);
        const right = await answerForm(db(), bank, next, true);
        const praised = await r.browser.post(right.action, right.fields, inFrame(r, next));
        const key = second.body.choices!.find((c) => c.key === right.fields.answer)!.text[locale];
        expect(praised.body).to.contain(`<div class="item-stem">${second.body.stem[locale]}</div>`);
        expect(praised.body).to.contain(`<li class="picked ok">${key} <span class="verdict ok">${w.pickedRight}</span></li>`);
        expect(praised.body).to.contain(`<strong>${w.key}:</strong> ${key}</div>`);
        expect(praised.body).to.not.contain('class="picked bad"').and.not.contain('id="similar"');
      });

      it(`a numeric question: the typed answer marked, the correct number in the student's decimal mark, the feedback; a similar question while the skill has an unseen one (${locale})`, async () => {
        const r = await launch(sim, { clientId, userId: newStudent(), courseId, activityId: decimalLinkId, locale });
        const first = await shownOn(r.final);
        const k = decimals.eighths.get(first.itemId)!;
        const form = parseForm(r.final.body, r.final.url, 0)!;
        const feedback = await r.browser.post(form.action, { ...form.fields, answer: `${k}${w.mark}8` }, inFrame(r, r.final));
        expect(feedback.body).to.contain(w.wrong);
        expect(feedback.body).to.contain(`<div class="item-stem">${first.body.stem[locale]}</div>`);
        expect(feedback.body).to.contain(`<strong>${w.yours}:</strong> <span class="typed">${k}${w.mark}8</span> <span class="verdict bad">${w.notRight}</span>`);
        expect(feedback.body).to.contain(`<strong>${w.key}:</strong> ${String(k / 8).replace('.', w.mark)}</div>`);
        expect(feedback.body).to.contain(locale === 'en' ? `divide ${k} by 8.` : `bagi ${k} dengan 8.`).and.contain(locale === 'en' ? 'A fraction is a division.' : 'Pecahan adalah pembagian.');

        // The other item of the skill, though it was answered wrong.
        const similar = await follow(r, feedback, 'similar');
        const second = await shownOn(similar);
        expect([second.skillId, second.itemId === first.itemId]).to.deep.equal([first.skillId, false]);
        const k2 = decimals.eighths.get(second.itemId)!;
        const form2 = parseForm(similar.body, similar.url, 0)!;
        const again = await r.browser.post(form2.action, { ...form2.fields, answer: `${k2}${w.mark}8` }, inFrame(r, similar));
        expect(again.body, 'every item of the skill seen: no similar question').to.contain(w.wrong).and.not.contain('id="similar"');

        const next = await follow(r, again, 'next');
        const third = await shownOn(next);
        const k3 = decimals.eighths.get(third.itemId)!;
        const form3 = parseForm(next.body, next.url, 0)!;
        const typed = String(k3 / 8).replace('.', w.mark);
        const right = await r.browser.post(form3.action, { ...form3.fields, answer: typed }, inFrame(r, next));
        expect(right.body).to.contain(`<div class="item-stem">${third.body.stem[locale]}</div>`);
        expect(right.body).to.contain(`<strong>${w.yours}:</strong> <span class="typed">${typed}</span> <span class="verdict ok">${w.right}</span>`);
        expect(right.body).to.contain(`<strong>${w.key}:</strong> ${typed}</div>`);
        expect(right.body).to.contain(locale === 'en' ? 'A fraction is a division.' : 'Pecahan adalah pembagian.');
        expect(right.body).to.not.contain('id="similar"');
      });

      it(`a hint comes above the answer button, below the question, with what was typed kept and nothing graded (${locale})`, async () => {
        const student = newStudent();
        const r = await launch(sim, { clientId, userId: student, courseId, activityId: decimalLinkId, locale });
        const form = parseForm(r.final.body, r.final.url, 0)!;
        // The hint button belongs to the answer form, after the answer button (Enter answers) and without a fragment.
        const button = /<button type="submit" class="secondary" name="hint" value="1" formaction="([^"#]+)" formnovalidate>([^<]*)<\/button>/.exec(r.final.body);
        expect(button?.[2]).to.equal(w.hint);
        const formHtml = /<form method="post"[^>]*id="answer-form">[\s\S]*?<\/form>/.exec(r.final.body)![0];
        expect(formHtml.indexOf(button![0])).to.be.greaterThan(formHtml.indexOf(`class="primary">${w.answer}</button>`));
        const hintUrl = new URL(button![1], r.final.url).toString();
        const typed = '3,7 <kira-kira>';
        const hinted = await r.browser.post(hintUrl, { ...form.fields, answer: typed, hint: '1' }, inFrame(r, r.final));
        expect(hinted.status).to.equal(200);
        const input = /<input [^>]*id="answer"[^>]*>/.exec(hinted.body)![0];
        expect(input).to.contain('value="3,7 &#60;kira-kira&#62;"').and.not.contain('aria-invalid');
        const stem = hinted.body.indexOf('class="item-stem"');
        const hint = hinted.body.indexOf(`<h3>${w.hintN} 1</h3>`);
        const submit = hinted.body.indexOf(`class="primary">${w.answer}</button>`);
        expect(stem).to.be.greaterThan(-1);
        expect(hint, 'the hint after the question').to.be.greaterThan(stem);
        expect(submit, 'the hint before the answer button').to.be.greaterThan(hint);
        expect(await db().selectFrom('attempt').select('id').where('user_sub', '=', student).execute()).to.have.length(0);

        // The same form posted again (a reload) counts the hint once; the next one is asked for by its number.
        await r.browser.post(hintUrl, { ...form.fields, answer: typed, hint: '1' }, inFrame(r, r.final));
        expect((await shownOn(r.final)).hintsUsed).to.equal(1);
        const both = await r.browser.post(hintUrl, { ...form.fields, answer: typed, hint: '2' }, inFrame(r, hinted));
        expect(both.body).to.contain(`<h3>${w.hintN} 2</h3>`).and.not.contain('name="hint"');
        expect((await shownOn(r.final)).hintsUsed).to.equal(2);
      });

      it(`a hint keeps the choice made (${locale})`, async () => {
        const r = await launch(sim, { clientId, userId: newStudent(), courseId, activityId: linkId, locale });
        const form = parseForm(r.final.body, r.final.url, 0)!;
        expect(r.final.body).to.not.match(/id="choice-c"[^>]* checked/);
        const hinted = await r.browser.post(new URL('hint', form.action).toString(), { ...form.fields, answer: 'c', hint: '1' }, inFrame(r, r.final));
        expect(hinted.body).to.match(/<input type="radio" id="choice-c" name="answer" value="c" checked required>/);
        expect(hinted.body).to.contain(locale === 'en' ? 'Add the numerators.' : 'Jumlahkan pembilangnya.');
      });
    }
  });
});
