import { expect } from 'chai';
import { MoodleSim } from '../platform';
import { launch, parseForm, type LaunchResult } from '../support/http-browser';
import { testDialects, type TestDatabase } from '../support/db';
import { registerTool, startTool, type RunningTool } from '../support/tool';
import { SAMPLE_BANK_CODE, sampleBank } from '../../src/content/sample';
import { allText } from '../../src/content/import/model';
import { loadItem, type Item } from '../../src/content/item';
import { placeActivity, type TestBank } from './support';

/** The form values a student who knows the answer posts, for any kind of item. */
function rightAnswer(item: Item): string[] {
  switch (item.kind) {
    case 'multichoice':
      return [item.choices.find((c) => c.correct)!.key];
    case 'multiresponse':
      return item.choices.filter((c) => c.correct).map((c) => c.key);
    case 'truefalse':
      return [String(item.answer)];
    case 'numeric': {
      const a = item.answers.find((x) => x.correct)!;
      return [item.unitRequired && item.units.length ? `${a.value} ${item.units[0].name}` : String(a.value)];
    }
    case 'shortanswer':
      return [item.answers.find((x) => x.correct && !x.text.includes('*'))!.text];
  }
}

describe('practice from the sample bank that ships with Jejak', function () {
  this.timeout(120_000);
  const dialect = testDialects()[0];
  let tdb: TestDatabase;
  let tool: RunningTool;
  let sim: MoodleSim;

  before(async () => {
    tdb = await dialect.create();
    tool = await startTool(tdb);
    sim = await MoodleSim.start();
  });
  after(async () => {
    await sim?.close();
    await tool?.close();
    await tdb?.drop();
  });

  it('a teacher places it by deep linking; a student answers twenty items of every kind, all graded right', async () => {
    const db = tool.jejak.conn.db;
    const clientId = await registerTool(sim, tool);
    const { course, teacher, students } = sim.seedDefault();
    const bankRow = await db.selectFrom('bank').select('id').where('code', '=', SAMPLE_BANK_CODE).where('tenant_id', 'is', null).executeTakeFirstOrThrow();
    const skills = await db.selectFrom('skill').select('id').where('bank_id', '=', bankRow.id).orderBy('position').execute();
    expect(skills.length).to.be.at.least(12);
    const bank: TestBank = { bankId: bankRow.id, skills: skills.map((s) => s.id), answers: new Map() };
    const placed = await placeActivity(sim, clientId, course.id, teacher.id, bank, { title: 'Pecahan dan desimal', threshold: '95', length: 'range', min_items: '25', max_items: '40' });

    const r: LaunchResult = await launch(sim, { clientId, userId: students[0].id, courseId: course.id, activityId: placed.linkId, locale: 'id' });
    expect(r.final.status, r.final.body).to.equal(200);
    let page = r.final;
    const kinds = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const form = parseForm(page.body, page.url, 0)!;
      expect(form.action).to.match(/\/practice\/answer$/);
      const shown = await db.selectFrom('practice_presentation').select('item_id').where('token', '=', form.fields.token).executeTakeFirstOrThrow();
      const item = loadItem(await db.selectFrom('item').selectAll().where('id', '=', shown.item_id).executeTakeFirstOrThrow());
      kinds.add(item.kind);
      const body = new URLSearchParams({ _csrf: form.fields._csrf, token: form.fields.token });
      for (const v of rightAnswer(item)) body.append('answer', v);
      const feedback = await r.browser.post(form.action, body, { context: { ...r.context, initiator: page.url } });
      expect(feedback.status, feedback.body.slice(0, 500)).to.equal(200);
      expect(feedback.body, `item ${item.code} (${item.kind})`).to.contain('Benar');
      const next = /id="next" href="([^"]+)"/.exec(feedback.body)![1].replace(/&amp;/g, '&');
      page = await r.browser.get(new URL(next, feedback.url).toString(), { context: { ...r.context, initiator: feedback.url } });
      expect(page.status).to.equal(200);
    }
    const attempts = await db.selectFrom('attempt').selectAll().where('user_sub', '=', students[0].id).execute();
    expect(attempts).to.have.length(20);
    expect(attempts.every((a) => a.correct === 1)).to.equal(true);
    expect(kinds.size, [...kinds].join(',')).to.be.at.least(3);
  });
});

/** Count nouns of the sample bank, singular and plural, as its English texts use them. */
const NOUNS = ['piece', 'part', 'student', 'cup', 'glass', 'slice', 'week', 'guest', 'day', 'box', 'bag', 'bottle', 'girl', 'boy', 'child', 'person', 'litre', 'metre', 'kilogram', 'hour', 'minute', 'page', 'book', 'item', 'apple', 'egg', 'cake', 'row', 'seat', 'tray', 'pack', 'sack', 'plate', 'friend', 'roll', 'tenth', 'hundredth', 'thousandth', 'quarter', 'third', 'fifth', 'sixth', 'eighth'];
const plural = (n: string) => (n === 'child' ? 'children' : n === 'person' ? 'people' : /(x|ss)$/.test(n) ? `${n}es` : `${n}s`);

/** What reads wrong in one text of the sample bank, in its language. */
function problems(text: string, lang: 'id' | 'en'): string[] {
  const found: string[] = [];
  const plain = text.replace(/<[^>]+>/g, ' ');
  // A fraction helper that printed n/1 as n: math holding a bare whole number where a fraction was written.
  for (const m of text.matchAll(/\\\(\s*-?\d+\s*\\\)/g)) found.push(`a fraction collapsed to a whole number: ${m[0]}`);
  if (/undefined|NaN|\$\{|\bnull\b/.test(plain)) found.push('a value missing from the template');
  if (lang === 'en') {
    // "1" is a whole number on its own, not the end of "0.1", "1,5" or "3/1".
    const one = '(?<![\\d.,/])1';
    const many = '(?<![\\d.,/])(?:[02-9]|\\d{2,})';
    for (const n of NOUNS) {
      const ns = plural(n);
      for (const m of plain.matchAll(new RegExp(`${one} ${ns}\\b`, 'g'))) found.push(`"${m[0]}"`);
      for (const m of plain.matchAll(new RegExp(`${many} ${n}\\b(?!')`, 'g'))) found.push(`"${m[0]}"`);
      for (const m of plain.matchAll(new RegExp(`${one} ${n} (are|were|become|have)\\b`, 'g'))) found.push(`"${m[0]}"`);
      for (const m of plain.matchAll(new RegExp(`${many} ${ns} (is|was|becomes|has)\\b`, 'g'))) found.push(`"${m[0]}"`);
    }
    // "1 of the parts become", "1 are used": one thing takes a singular verb.
    for (const m of plain.matchAll(new RegExp(`${one} (?:of the \\w+ )?(are|were|become|have)\\b`, 'g'))) found.push(`"${m[0]}"`);
  }
  return found;
}

describe('the sample bank reads correctly in both languages', () => {
  it('shows every fraction as a fraction and makes numbers agree with their nouns, in every stem, choice, hint, feedback and solution', () => {
    const found: string[] = [];
    for (const item of sampleBank().items) {
      for (const lang of ['id', 'en'] as const) {
        for (const text of allText(item.body, lang)) for (const p of problems(text, lang)) found.push(`${item.code} (${lang}): ${p}`);
      }
    }
    expect(found).to.deep.equal([]);
  });
});
