import { expect } from 'chai';
import type { MoodleSim } from '../platform';
import { launch, parseForm, type LaunchResult } from '../support/http-browser';
import { sqliteDatabase, type TestDatabase } from '../support/db';
import { expectScoresDelivered } from '../support/gradebook';
import type { RunningTool } from '../support/tool';
import { readRecordedEstimates } from '../../src/kt/estimate';
import { answerForm, insertIndependentBank, placeActivity, startPracticeClass, type TestBank, inFrame } from './support';

type Locale = 'en' | 'id';

// Issue 15.7: the summary says what happened, the grade the gradebook is sent, one next step, each skill once.
describe('the practice summary', function () {
  this.timeout(120_000);
  let tdb: TestDatabase;
  let tool: RunningTool;
  let sim: MoodleSim;
  let clientId: string;
  let courseId: string;
  let teacherId: string;
  let chain: TestBank;
  let independent: TestBank;
  /** Four skills open at once, graded on mastery, three questions. */
  let shortLink: string;
  /** The same, six questions: enough wrong answers on one skill to rest it. */
  let stuckLink: string;
  /** The prerequisite chain, graded on the share right, three questions. */
  let accuracyLink: string;
  /** The chain's first skill alone, until mastered. */
  let goalLink: string;

  before(async () => {
    tdb = await sqliteDatabase();
    ({ tool, sim, clientId, courseId, teacherId, bank: chain } = await startPracticeClass(tdb));
    independent = await insertIndependentBank(tool.jejak.conn.db);
    const place = async (bank: TestBank, over: Record<string, string | string[]>) => (await placeActivity(sim, clientId, courseId, teacherId, bank, over)).linkId;
    shortLink = await place(independent, { title: 'Latihan A', length: 'range', min_items: '3', max_items: '3' });
    stuckLink = await place(independent, { title: 'Latihan B', length: 'range', min_items: '6', max_items: '6' });
    accuracyLink = await place(chain, { title: 'Latihan C', length: 'range', min_items: '3', max_items: '3', grade_mode: 'accuracy' });
    goalLink = await place(chain, { title: 'Latihan D', skill: [String(chain.skills[0])], threshold: '70' });
  });
  after(async () => {
    await sim?.close();
    await tool?.close();
    await tdb?.drop();
  });

  const db = () => tool.jejak.conn.db;
  let students = 0;
  function newStudent(): string {
    const n = ++students;
    const u = sim.addUser({ given: `Siswa${n}`, family: 'Ringkasan', email: `summary${n}@example.com`, username: `summary${n}` });
    sim.enrol(courseId, u.id, 'Learner');
    return u.id;
  }

  /** Answers right or wrong as told, stopping once the activity is finished; returns the summary page. */
  async function practise(r: LaunchResult, bank: TestBank, answers: boolean[]) {
    let page = r.final;
    let base = '';
    for (const right of answers) {
      const { action, fields } = await answerForm(db(), bank, page, right);
      const feedback = await r.browser.post(action, fields, inFrame(r, page));
      expect(feedback.url).to.match(/\/practice\/answered\//);
      base = feedback.url.replace(/\/practice\/answered\/.*$/, '');
      page = await r.browser.get(`${base}/practice`, inFrame(r, feedback));
      // Finished: the practice page opens on the summary.
      if (page.url.endsWith('/practice/summary')) return page;
    }
    return r.browser.get(`${base}/practice/summary`, inFrame(r, page));
  }

  const mainOf = (body: string) => /<main id="main">([\s\S]*?)<\/main>/.exec(body)![1];
  const h1 = (body: string) => /<h1>([^<]*)<\/h1>/.exec(body)![1];
  const byId = (body: string, id: string) => new RegExp(`<(\\w+)[^>]* id="${id}"[^>]*>([\\s\\S]*?)</\\1>`).exec(body)?.[2];
  const count = (text: string, part: string) => text.split(part).length - 1;
  async function skillNames(bank: TestBank, locale: Locale): Promise<Map<number, string>> {
    const rows = await db().selectFrom('skill').select(['id', 'details']).where('bank_id', '=', bank.bankId).execute();
    return new Map(rows.map((s) => [s.id, (JSON.parse(s.details) as { names: Record<Locale, string> }).names[locale]]));
  }
  /** The score the platform's gradebook last accepted for the student (every queued score delivered first). */
  async function gradebookScore(userId: string): Promise<number> {
    await expectScoresDelivered(db(), sim);
    return Number(sim.scores.filter((s) => s.userId === userId).at(-1)!.body.scoreGiven);
  }
  const number = (locale: Locale, x: number) => String(x).replace('.', locale === 'id' ? ',' : '.');

  const WORDS = {
    en: {
      hard: 'This practice was hard', finished: 'Practice finished', goal: 'Goal reached!', progress: 'Your progress so far',
      praise: ['Well done', 'Great', 'Good job', 'Excellent'], counts: 'You answered 3 questions, 0 of them correctly,',
      grade: (s: string) => `Your grade in the course gradebook: ${s} out of 100.`, mastery: 'It is the average over the skills of this practice',
      accuracy: 'It is the share of your answers that were right: 2 of 3.', preview: 'This is a preview, so no grade is sent to the gradebook.',
      learn: (s: string) => `Next, practise ${s}.`, done: 'You have mastered every skill here, so you are done.', resting: 'Resting — ask your teacher about these',
    },
    id: {
      hard: 'Latihan ini sulit', finished: 'Latihan selesai', goal: 'Target tercapai!', progress: 'Kemajuanmu sejauh ini',
      praise: ['Kerja bagus', 'Hebat', 'Bagus sekali', 'Luar biasa'], counts: 'Kamu menjawab 3 soal, 0 di antaranya benar,',
      grade: (s: string) => `Nilaimu di buku nilai kelas: ${s} dari 100.`, mastery: 'Nilai ini adalah rata-rata keterampilan dalam latihan ini',
      accuracy: 'Nilai ini adalah bagian jawabanmu yang benar: 2 dari 3.', preview: 'Ini pratinjau, jadi tidak ada nilai yang dikirim ke buku nilai.',
      learn: (s: string) => `Berikutnya, latih ${s}.`, done: 'Kamu sudah menguasai semua keterampilan di sini, jadi latihanmu selesai.', resting: 'Diistirahatkan — tanyakan gurumu tentang ini',
    },
  } as const;

  for (const locale of ['en', 'id'] as const) {
    const w = WORDS[locale];

    it(`no right answer: no praise, the counts, the grade the gradebook got, the weakest skill and the next step named, each skill once (${locale})`, async () => {
      const student = newStudent();
      const r = await launch(sim, { clientId, userId: student, courseId, activityId: shortLink, locale });
      const summary = await practise(r, independent, [false, false, false]);
      expect(summary.url).to.match(/\/practice\/summary$/);
      const main = mainOf(summary.body);
      expect(h1(main)).to.equal(w.hard);
      for (const word of w.praise) expect(main).to.not.contain(word);
      expect(byId(main, 'summary-counts')).to.contain(w.counts);

      // The same number the platform's gradebook holds, in the mastery mode's words.
      const sent = await gradebookScore(student);
      expect(sent).to.be.greaterThan(0);
      expect(byId(main, 'summary-grade')).to.equal(w.grade(number(locale, sent)));
      expect(byId(main, 'summary-grade-how')).to.contain(w.mastery);

      // The weakest skill tried (lowest estimate after the last answer) is among those still being learnt.
      const names = await skillNames(independent, locale);
      const last = await db().selectFrom('attempt').select('estimates').where('user_sub', '=', student).orderBy('id', 'desc').executeTakeFirstOrThrow();
      const [weakest] = [...readRecordedEstimates(last.estimates)].sort(([, a], [, b]) => a.p - b.p)[0];
      expect(byId(main, 'summary-learning')).to.contain(names.get(weakest));

      // One next step, the skill "keep practising" then shows.
      const next = byId(main, 'summary-next')!;
      const named = [...names.entries()].filter(([, name]) => next.includes(name));
      expect(named).to.have.length(1);
      expect(next).to.equal(w.learn(named[0][1]));
      const more = await r.browser.get(summary.url.replace(/\/summary$/, '?more=1'), inFrame(r, summary));
      const token = parseForm(more.body, more.url, 0)!.fields.token;
      const shown = await db().selectFrom('practice_presentation').select('skill_id').where('token', '=', token).executeTakeFirstOrThrow();
      expect(shown.skill_id).to.equal(named[0][0]);

      // Besides that step, each skill is named once: one list, in groups.
      const rest = main.replace(/<p id="summary-next">[\s\S]*?<\/p>/, '');
      for (const name of names.values()) expect(count(rest, name), name).to.equal(1);
    });

    it(`a skill the student is stuck on rests in its own group, the next step is another skill (${locale})`, async () => {
      const student = newStudent();
      const r = await launch(sim, { clientId, userId: student, courseId, activityId: stuckLink, locale });
      const summary = await practise(r, independent, Array(6).fill(false));
      const main = mainOf(summary.body);
      const names = await skillNames(independent, locale);
      const tried = await db().selectFrom('practice_presentation').select('skill_id').where('user_sub', '=', student).execute();
      const stuck = names.get(tried[0].skill_id)!;
      expect(tried.every((t) => t.skill_id === tried[0].skill_id)).to.equal(true);
      expect(main).to.contain(w.resting);
      expect(byId(main, 'summary-paused')).to.contain(stuck);
      const next = byId(main, 'summary-next')!;
      expect(next).to.not.contain(stuck);
      expect([...names.values()].filter((n) => n !== stuck).map(w.learn)).to.include(next);
      const rest = main.replace(/<p id="summary-next">[\s\S]*?<\/p>/, '');
      for (const name of names.values()) expect(count(rest, name), name).to.equal(1);
    });

    it(`graded on the share right: the grade and how it is computed, as the gradebook got it (${locale})`, async () => {
      const student = newStudent();
      const r = await launch(sim, { clientId, userId: student, courseId, activityId: accuracyLink, locale });
      const summary = await practise(r, chain, [true, false, true]);
      const main = mainOf(summary.body);
      expect(h1(main)).to.equal(w.finished);
      const sent = await gradebookScore(student);
      expect(sent).to.equal(66.67);
      expect(byId(main, 'summary-grade')).to.equal(w.grade(number(locale, sent)));
      expect(byId(main, 'summary-grade-how')).to.equal(w.accuracy);
    });

    it(`the goal reached: said so, the full grade, nothing left but an optional review (${locale})`, async () => {
      const student = newStudent();
      const r = await launch(sim, { clientId, userId: student, courseId, activityId: goalLink, locale });
      const summary = await practise(r, chain, Array(20).fill(true));
      expect(summary.url).to.match(/\/practice\/summary$/);
      const main = mainOf(summary.body);
      expect(h1(main)).to.equal(w.goal);
      const sent = await gradebookScore(student);
      expect(sent).to.equal(100);
      expect(byId(main, 'summary-grade')).to.equal(w.grade('100'));
      expect(byId(main, 'summary-next')).to.contain(w.done);
      expect(byId(main, 'summary-mastered')).to.contain((await skillNames(chain, locale)).get(chain.skills[0]));
    });

    it(`a teacher's preview says no grade is sent, and none is (${locale})`, async () => {
      const r = await launch(sim, { clientId, userId: teacherId, courseId, activityId: shortLink, locale });
      const practice = await r.browser.get(r.final.url + 'practice', inFrame(r, r.final));
      const summary = await practise({ ...r, final: practice }, independent, [false]);
      const main = mainOf(summary.body);
      expect(h1(main)).to.equal(w.progress);
      expect(byId(main, 'summary-grade')).to.equal(w.preview);
      expect(main).to.not.contain(w.grade('0').split(':')[0]);
      expect(await db().selectFrom('score_outbox').select('id').where('user_sub', '=', teacherId).execute()).to.deep.equal([]);
    });
  }
});
