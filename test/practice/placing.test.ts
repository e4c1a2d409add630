import { expect } from 'chai';
import { MoodleSim } from '../platform';
import { launch, parseForm } from '../support/http-browser';
import { sqliteDatabase, type TestDatabase } from '../support/db';
import { startTool, type RunningTool } from '../support/tool';
import { csrfField } from '../support/csrf';
import { SAMPLE_BANK_CODE } from '../../src/content/sample';
import { activityScore, UNMASTERED_CREDIT } from '../../src/practice/settings';
import { insertTestBank, registerTool, settingsForm, type TestBank, inFrame } from './support';

const WORDS = {
  en: {
    size: (skills: number, items: number) => `${skills} skills, ${items} questions`, grades: 'Sample bank for grades 4–7',
    perSkill: '(8 questions; needs Adding fractions)', sampleEstimate: 'For 3 skills until mastered: about 20–115 minutes, counting 4 to 25 questions a skill',
    range10to30: 'For 10 to 30 questions: about 15–45 minutes, counting about 1.5 minutes a question', range20to40: 'For 20 to 40 questions: about 30–60 minutes',
    noSkills: 'Choose at least one skill to see how long the practice may take.',
    mastery: 'Out of 100: the average over the chosen skills, where a mastered skill counts 100, a skill not tried yet 0 and any other its estimated mastery divided by the goal, at most',
    accuracy: (score: string) => `Out of 100: the share of the student’s answers that were right, so 14 right of 19 answered gives ${score}.`,
    rangeError: 'The minimum and maximum must be whole numbers from 1 to 500, the minimum not above the maximum.', titleError: 'Give the activity a name.',
    ignored: 'A practice until every chosen skill is mastered ignores both.',
  },
  id: {
    size: (skills: number, items: number) => `${skills} keterampilan, ${items} soal`, grades: 'Bank contoh untuk kelas 4–7',
    perSkill: '(8 soal; memerlukan Menjumlahkan pecahan)', sampleEstimate: 'Untuk 3 keterampilan sampai dikuasai: sekitar 20–115 menit, dengan anggapan 4 sampai 25 soal per keterampilan',
    range10to30: 'Untuk 10 sampai 30 soal: sekitar 15–45 menit, dengan anggapan sekitar 1,5 menit per soal', range20to40: 'Untuk 20 sampai 40 soal: sekitar 30–60 menit',
    noSkills: 'Pilih paling sedikit satu keterampilan untuk melihat perkiraan lama latihan.',
    mastery: 'Dari 100: rata-rata keterampilan yang dipilih; keterampilan yang dikuasai bernilai 100, yang belum dicoba 0, dan yang lain perkiraan penguasaannya dibagi target, paling tinggi',
    accuracy: (score: string) => `Dari 100: persentase jawaban siswa yang benar, jadi 14 benar dari 19 jawaban memberi ${score.replace('.', ',')}.`,
    rangeError: 'Minimum dan maksimum harus bilangan bulat 1 sampai 500, dan minimum tidak melebihi maksimum.', titleError: 'Beri nama aktivitas ini.',
    ignored: 'Latihan sampai semua keterampilan yang dipilih dikuasai mengabaikan keduanya.',
  },
} as const;

/** The ids of the skill boxes ticked in a settings form, in page order. */
const checkedSkills = (body: string) => [...body.matchAll(/<input type="checkbox" id="skill-(\d+)"[^>]*>/g)].filter((m) => / checked>$/.test(m[0])).map((m) => Number(m[1]));
const estimateOf = (body: string) => /<p id="estimate">([^<]*)<\/p>/.exec(body)?.[1];
const inputTag = (body: string, id: string) => new RegExp(`<input [^>]*id="${id}"[^>]*>`).exec(body)?.[0] ?? '';

// Issue 15.8: placing an activity safely in a minute.
describe('placing an activity: a small default, sizes, a time estimate, the grade explained, mistakes at their fields', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  let tool: RunningTool;
  let sim: MoodleSim;
  let clientId: string;
  let courseId: string;
  let teacherId: string;
  let bank: TestBank;
  let sample: { id: number; skills: { id: number; code: string }[]; items: number };

  before(async () => {
    tdb = await sqliteDatabase();
    tool = await startTool(tdb);
    sim = await MoodleSim.start();
    clientId = await registerTool(sim, tool);
    const seeded = sim.seedDefault();
    courseId = seeded.course.id;
    teacherId = seeded.teacher.id;
    bank = await insertTestBank(db());
    const { id } = await db().selectFrom('bank').select('id').where('code', '=', SAMPLE_BANK_CODE).executeTakeFirstOrThrow();
    const skills = await db().selectFrom('skill').select(['id', 'code']).where('bank_id', '=', id).orderBy('position').orderBy('id').execute();
    const items = (await db().selectFrom('item').select('id').where('bank_id', '=', id).execute()).length;
    sample = { id, skills, items };
  });
  after(async () => {
    await sim?.close();
    await tool?.close();
    await tdb?.drop();
  });

  const db = () => tool.jejak.conn.db;
  const activities = async () => (await db().selectFrom('activity').select('id').execute()).length;

  async function placing(locale: 'en' | 'id') {
    const r = await launch(sim, { clientId, userId: teacherId, courseId, messageType: 'LtiDeepLinkingRequest', locale });
    expect(r.final.status, r.final.body).to.equal(200);
    const root = r.final.url.replace(/\/?(\?.*)?$/, '');
    return {
      r,
      /** The settings form of a bank, as the bank choice opens it. */
      form: (bankId: number) => r.browser.get(`${root}/?bank=${bankId}`, inFrame(r)),
      post: (over: Record<string, string | string[]>) => r.browser.post(`${root}/practice/place`, settingsForm(bank, { ...over, ...csrfField(tool, r.final.url) }), inFrame(r)),
    };
  }

  for (const locale of ['en', 'id'] as const) {
    const w = WORDS[locale];

    it(`the bank choice gives each bank's size, and its level when it has one (${locale})`, async () => {
      const { r } = await placing(locale);
      const choice = r.final.body;
      expect(parseForm(choice, r.final.url)?.method).to.equal('GET');
      const about = (id: number) => new RegExp(`<p class="field-help" id="bank-${id}-about">([^<]*)</p>`).exec(choice)?.[1];
      expect(about(sample.id)?.startsWith(`${w.size(sample.skills.length, sample.items)}. ${w.grades}:`), about(sample.id)).to.equal(true);
      expect(about(sample.id)).to.contain(w.size(15, 210));
      expect(about(bank.bankId)).to.equal(w.size(3, 24));
      expect(choice).to.match(new RegExp(`<input type="radio" id="bank-${bank.bankId}" name="bank" value="${bank.bankId}" required aria-describedby="bank-${bank.bankId}-about">`));
    });

    it(`the form opens with the bank's first three skills that build on each other, each skill's questions counted, and the time it may take (${locale})`, async () => {
      const page = await (await placing(locale)).form(sample.id);
      expect(page.status).to.equal(200);
      const firstThree = sample.skills.slice(0, 3);
      expect(firstThree.map((s) => s.code)).to.deep.equal(['pecahan-bagian', 'pecahan-senilai', 'menyederhanakan-pecahan']);
      expect(checkedSkills(page.body)).to.deep.equal(firstThree.map((s) => s.id));
      expect(page.body).to.contain(`(${w.size(15, 210)})`);
      expect(page.body).to.match(new RegExp(`<label for="skill-${sample.skills[0].id}">[^<]+ <span class="meta">\\(14 ${locale === 'en' ? 'questions' : 'soal'}\\)</span>`));
      expect(estimateOf(page.body)).to.contain(w.sampleEstimate);
      const testBank = await (await placing(locale)).form(bank.bankId);
      expect(testBank.body).to.contain(`<label for="skill-${bank.skills[1]}">${locale === 'en' ? 'Comparing fractions' : 'Membandingkan pecahan'} <span class="meta">${w.perSkill}</span>`);
    });

    it(`select all, select none and the estimate work without script, keep what was typed and place nothing; Enter updates the estimate (${locale})`, async () => {
      const { post, form } = await placing(locale);
      const opened = await form(bank.bankId);
      const firstButton = /<form method="post"[\s\S]*?(<button [^>]*>)/.exec(opened.body)![1];
      expect(firstButton).to.contain('name="intent" value="update"');
      const before = await activities();
      const all = await post({ intent: 'all', skill: [String(bank.skills[0])], title: 'Pecahan kelas 5B', threshold: '90' });
      expect(all.status).to.equal(200);
      expect(checkedSkills(all.body)).to.deep.equal(bank.skills);
      expect(inputTag(all.body, 'title')).to.contain('value="Pecahan kelas 5B"');
      expect(all.body).to.contain('<option value="90" selected>');
      const none = await post({ intent: 'none', title: 'Pecahan kelas 5B' });
      expect(checkedSkills(none.body)).to.deep.equal([]);
      expect(estimateOf(none.body)).to.equal(w.noSkills);
      const short = await post({ intent: 'update', length: 'range', min_items: '10', max_items: '30' });
      const long = await post({ intent: 'update', length: 'range', min_items: '20', max_items: '40' });
      expect(estimateOf(short.body)).to.contain(w.range10to30);
      expect(estimateOf(long.body)).to.contain(w.range20to40);
      expect(inputTag(long.body, 'max_items')).to.contain('value="40"');
      expect(await activities(), 'nothing placed').to.equal(before);
    });

    it(`each grade mode is explained in one sentence at its choice, as the grade is computed (${locale})`, async () => {
      const page = await (await placing(locale)).form(bank.bankId);
      expect(inputTag(page.body, 'grade-mastery')).to.contain('aria-describedby="grade-how-mastery"');
      expect(inputTag(page.body, 'grade-accuracy')).to.contain('aria-describedby="grade-how-accuracy"');
      expect(page.body).to.contain(`<p class="field-help" id="grade-how-mastery">${w.mastery} ${Math.round(UNMASTERED_CREDIT * 100)} — `);
      const score = String(activityScore({ skillIds: [1], masteryThreshold: 0.8, length: { kind: 'until_mastered' }, gradeMode: 'accuracy' }, [1], new Map(), 14, 19));
      expect(page.body).to.contain(`<p class="field-help" id="grade-how-accuracy">${w.accuracy(score)}</p>`);
    });

    it(`a wrong minimum and maximum under a range: said at the fields and at the top, everything typed kept, nothing placed (${locale})`, async () => {
      const { post } = await placing(locale);
      const before = await activities();
      const page = await post({ length: 'range', min_items: '30', max_items: '10', title: '', skill: [String(bank.skills[1])], threshold: '90', grade_mode: 'accuracy' });
      expect(page.status).to.equal(400);
      const summary = /<div class="form-errors" role="alert" id="form-errors">([\s\S]*?)<\/div>/.exec(page.body)![1];
      expect(summary).to.contain(`<a href="#min_items">${w.rangeError}</a>`);
      expect(summary).to.contain(`<a href="#title">${w.titleError}</a>`);
      expect(page.body).to.contain(`<p class="problem" id="range-error">${w.rangeError}</p>`);
      expect(page.body).to.contain(`<span class="problem" id="title-error">${w.titleError}</span>`);
      expect(inputTag(page.body, 'min_items')).to.contain('value="30"').and.to.contain('aria-describedby="range-help range-error"').and.to.contain('aria-invalid="true"');
      expect(inputTag(page.body, 'max_items')).to.contain('value="10"').and.to.contain('aria-describedby="range-help range-error"').and.not.to.contain('aria-invalid');
      expect(inputTag(page.body, 'title')).to.contain('aria-describedby="title-error"');
      expect(checkedSkills(page.body)).to.deep.equal([bank.skills[1]]);
      expect(page.body).to.contain('<option value="90" selected>');
      expect(inputTag(page.body, 'length-range')).to.match(/ checked>$/);
      expect(inputTag(page.body, 'grade-accuracy')).to.match(/ checked>$/);
      expect(await activities()).to.equal(before);
    });

    it(`"until mastered" ignores the minimum and maximum, whatever they hold, and says so (${locale})`, async () => {
      const { post, form } = await placing(locale);
      expect((await form(bank.bankId)).body).to.contain(`<p class="field-help" id="range-help">`).and.to.contain(w.ignored);
      const before = await activities();
      const page = await post({ length: 'until_mastered', min_items: 'banyak', max_items: '0', accept_few_items: '1' });
      expect(page.status, page.body).to.equal(200);
      expect(page.body).to.not.contain('id="range-error"');
      expect(parseForm(page.body, page.url)!.action).to.match(/\/mod\/lti\/contentitem_return\.php/);
      expect(await activities()).to.equal(before + 1);
      const placed = await db().selectFrom('activity').select('settings').orderBy('id', 'desc').executeTakeFirstOrThrow();
      expect(JSON.parse(placed.settings).length).to.deep.equal({ kind: 'until_mastered' });
    });
  }
});
