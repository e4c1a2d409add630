import { expect } from 'chai';
import type { Db } from '../../src/db/schema';
import { insertReturningId } from '../../src/db/writes';
import type { Config } from '../../src/config';
import { MoodleSim } from '../platform';
import { launch, parseForm, type LaunchResult } from '../support/http-browser';
import type { TestDatabase } from '../support/db';
import { registerTool, startTool, type RunningTool } from '../support/tool';

/** Request options for a page inside the LMS's frame, opened from `page` (default: the launch's own page). */
export function inFrame(r: LaunchResult, page: { url: string } = r.final) {
  return { context: { ...r.context, initiator: page.url } };
}

export { registerTool };

export interface TestBank {
  bankId: number;
  /** Skill ids in bank order ({@link insertTestBank}: a prerequisite chain, adding → comparing → simplifying). */
  skills: number[];
  /** Correct choice key per item id. */
  answers: Map<number, string>;
}

const bi = (id: string, en: string) => ({ id, en });

/**
 * A small bilingual bank of the content part's format: three skills in a prerequisite chain, eight
 * multiple-choice items each (choice "b" is right for odd items, "a" for even ones), each with a
 * hint, a worked solution and feedback on the wrong choice.
 */
export function insertTestBank(db: Db): Promise<TestBank> {
  const names = [['menjumlah', 'Menjumlahkan pecahan', 'Adding fractions'], ['membanding', 'Membandingkan pecahan', 'Comparing fractions'], ['menyederhana', 'Menyederhanakan pecahan', 'Simplifying fractions']];
  return insertBank(db, 'test-pecahan', 'Pecahan (uji)', names, true);
}

/** The same kind of bank with four skills, none needing another: all four are open at once. */
export function insertIndependentBank(db: Db): Promise<TestBank> {
  const names = [
    ['membaca', 'Membaca pecahan', 'Reading fractions'], ['mengurutkan', 'Mengurutkan pecahan', 'Ordering fractions'],
    ['membagi', 'Membagi dua pecahan', 'Halving fractions'], ['menamai', 'Menamai pecahan', 'Naming fractions'],
  ];
  return insertBank(db, 'test-pecahan-lepas', 'Pecahan lepas (uji)', names, false);
}

/** `names`: [code, Indonesian name, English name] per skill; `chained`: each skill needs the one before it. */
async function insertBank(db: Db, code: string, title: string, names: string[][], chained: boolean): Promise<TestBank> {
  const now = Date.now();
  const bankId = await insertReturningId(db, 'bank', {
    tenant_id: null, code, title, language: 'multi', source: 'sample', details: '{}', created_by: null, created_at: now, updated_at: now,
  });
  const skills: number[] = [];
  for (const [i, [skillCode, id, en]] of names.entries()) {
    const skillId = await insertReturningId(db, 'skill', { bank_id: bankId, code: skillCode, name: id, details: JSON.stringify({ names: { id, en } }), position: i });
    if (chained && skills.length) await db.insertInto('skill_prerequisite').values({ skill_id: skillId, prerequisite_id: skills.at(-1)! }).execute();
    skills.push(skillId);
  }
  const answers = new Map<number, string>();
  let position = 0;
  for (const [s, skillId] of skills.entries()) {
    for (let k = 1; k <= 8; k++) {
      const right = k % 2 ? 'b' : 'a';
      const body = {
        v: 1, kind: 'multichoice', languages: ['id', 'en'],
        stem: bi(`<p>Soal ${s + 1}.${k}: berapa ${k}/8 + ${k}/8?</p>`, `<p>Question ${s + 1}.${k}: what is ${k}/8 + ${k}/8?</p>`),
        hints: [bi('<p>Jumlahkan pembilangnya.</p>', '<p>Add the numerators.</p>')],
        solution: bi(`<p>${k}/8 + ${k}/8 = ${2 * k}/8.</p>`, `<p>${k}/8 + ${k}/8 = ${2 * k}/8.</p>`),
        choices: ['a', 'b', 'c'].map((key) => ({
          key, correct: key === right,
          text: key === right ? bi(`${2 * k}/8`, `${2 * k}/8`) : bi(`${2 * k}/${16 + key.charCodeAt(0)}`, `${2 * k}/${16 + key.charCodeAt(0)}`),
          ...(key === right ? {} : { feedback: bi('<p>Penyebutnya tetap.</p>', '<p>The denominator stays the same.</p>') }),
        })),
      };
      const itemId = await insertReturningId(db, 'item', { bank_id: bankId, code: `t${s}-${k}`, kind: 'multichoice', language: 'multi', body: JSON.stringify(body), position: position++, created_at: now });
      await db.insertInto('item_skill').values({ item_id: itemId, skill_id: skillId }).execute();
      answers.set(itemId, right);
    }
  }
  return { bankId, skills, answers };
}

/** A class ready to practise, as the practice suites start it. */
export interface PracticeClass {
  tool: RunningTool;
  /** The Moodle simulator, with the tool registered and its default course (a teacher, three students). */
  sim: MoodleSim;
  clientId: string;
  courseId: string;
  teacherId: string;
  students: string[];
  /** The test bank ({@link insertTestBank}), in the tool's database. */
  bank: TestBank;
}

/** Jejak on the given database, a Moodle simulator that registered it, its default course and the test bank. */
export async function startPracticeClass(tdb: TestDatabase, config: Partial<Config> = {}): Promise<PracticeClass> {
  const tool = await startTool(tdb, config);
  const sim = await MoodleSim.start();
  const clientId = await registerTool(sim, tool);
  const { course, teacher, students } = sim.seedDefault();
  const bank = await insertTestBank(tool.jejak.conn.db);
  return { tool, sim, clientId, courseId: course.id, teacherId: teacher.id, students: students.map((u) => u.id), bank };
}

/** The settings form as a teacher fills it in (every skill, 80%, until mastered, graded on mastery). */
export function settingsForm(bank: TestBank, over: Record<string, string | string[]> = {}): URLSearchParams {
  const fields: Record<string, string | string[]> = {
    bank: String(bank.bankId), title: 'Latihan pecahan', skill: bank.skills.map(String), threshold: '80',
    length: 'until_mastered', min_items: '10', max_items: '30', grade_mode: 'mastery', ...over,
  };
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  return p;
}

export interface Placed {
  /** The resource link id the platform created. */
  linkId: string;
  /** What the tool answered after the teacher submitted the settings (the auto-posting page). */
  answerPage: string;
  launch: LaunchResult;
}

/** A teacher places an activity through deep linking: the settings form, the signed answer, the platform's return endpoint. */
export async function placeActivity(sim: MoodleSim, clientId: string, courseId: string, teacherId: string, bank: TestBank, over: Record<string, string | string[]> = {}, dlData?: string): Promise<Placed> {
  // In a window of its own, as a session cookie without SameSite (the simulator serves plain HTTP) still rides the return POST.
  const r = await launch(sim, { clientId, userId: teacherId, courseId, messageType: 'LtiDeepLinkingRequest', dlData, presentation: 'window' });
  expect(r.final.status, r.final.body).to.equal(200);
  let page = r.final;
  const ctx = { ...r.context, initiator: r.final.url };
  // Several banks (the sample bank and this one): the teacher chooses the bank first.
  const choice = parseForm(page.body, page.url)!;
  if (choice.method === 'GET') page = await r.browser.submitForm({ ...choice, fields: { bank: String(bank.bankId) } }, { context: ctx });
  const form = parseForm(page.body, page.url);
  expect(form?.action).to.match(/\/practice\/place$/);
  // Tests place what they need, few items or not: the warning about too few items is accepted (test/practice/one-estimate.test.ts checks it).
  const answer = await r.browser.post(form!.action, settingsForm(bank, { accept_few_items: '1', ...over, _csrf: form!.fields._csrf! }), { context: ctx });
  expect(answer.status, answer.body).to.equal(200);
  const back = parseForm(answer.body, answer.url)!;
  expect(back.action.startsWith(`${sim.issuer}/mod/lti/contentitem_return.php`)).to.equal(true);
  const done = await r.browser.submitForm(back, { context: { ...r.context, initiator: answer.url } });
  expect(done.status, done.body).to.equal(200);
  const record = sim.deepLinkResponses.at(-1)!;
  expect(record.error, record.error).to.equal(undefined);
  return { linkId: record.activityIds[0], answerPage: answer.body, launch: r };
}

/** The form to answer the item on a practice page, with the right or a wrong choice. */
export async function answerForm(db: Db, bank: TestBank, page: { body: string; url: string }, right: boolean): Promise<{ action: string; fields: Record<string, string> }> {
  const form = parseForm(page.body, page.url, 0)!;
  expect(form.action).to.match(/\/practice\/answer$/);
  const shown = await db.selectFrom('practice_presentation').select('item_id').where('token', '=', form.fields.token).executeTakeFirstOrThrow();
  const key = bank.answers.get(shown.item_id)!;
  return { action: form.action, fields: { _csrf: form.fields._csrf, token: form.fields.token, answer: right ? key : key === 'a' ? 'c' : 'a' } };
}

