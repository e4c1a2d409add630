import { expect } from 'chai';
import type { Frame, Page } from 'playwright-core';
import { MoodleSim } from '../platform';
import { sqliteDatabase, type TestDatabase } from '../support/db';
import { startTool, type RunningTool } from '../support/tool';
import { chromiumAvailable, openChromium, type OpenBrowser } from '../support/chromium';
import { axeViolations } from '../support/axe';
import { insertReturningId } from '../../src/db/writes';
import { placeActivity, registerTool, type TestBank } from './support';

/** One skill, multiple-choice items whose stems and choices are TeX fractions (KaTeX), as the sample bank writes them. */
async function insertFractionChoices(db: RunningTool['jejak']['conn']['db']): Promise<TestBank> {
  const now = Date.now();
  const bankId = await insertReturningId(db, 'bank', { tenant_id: null, code: 'test-frac-mc', title: 'Pecahan', language: 'multi', source: 'sample', details: '{}', created_by: null, created_at: now, updated_at: now });
  const skillId = await insertReturningId(db, 'skill', { bank_id: bankId, code: 'jumlah', name: 'Menjumlahkan pecahan', details: JSON.stringify({ names: { id: 'Menjumlahkan pecahan', en: 'Adding fractions' } }), position: 0 });
  const answers = new Map<number, string>();
  const f = (a: number, b: number) => `\\(\\frac{${a}}{${b}}\\)`;
  for (let k = 1; k <= 6; k++) {
    const body = {
      v: 1, kind: 'multichoice', languages: ['id', 'en'],
      stem: { id: `<p>Berapa ${f(k, 8)} + ${f(k, 8)}?</p>`, en: `<p>What is ${f(k, 8)} + ${f(k, 8)}?</p>` }, hints: [],
      choices: [{ key: 'a', correct: true, text: { id: f(2 * k, 8), en: f(2 * k, 8) } }, { key: 'b', correct: false, text: { id: f(2 * k, 16), en: f(2 * k, 16) } }],
    };
    const itemId = await insertReturningId(db, 'item', { bank_id: bankId, code: `fm-${k}`, kind: 'multichoice', language: 'multi', body: JSON.stringify(body), position: k, created_at: now });
    await db.insertInto('item_skill').values({ item_id: itemId, skill_id: skillId }).execute();
    answers.set(itemId, 'a');
  }
  return { bankId, skills: [skillId], answers };
}

/** The tool's frame inside the course page, once it has loaded `path`. */
async function toolFrame(page: Page, toolUrl: string, selector: string): Promise<Frame> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    for (const f of page.frames()) {
      if (f.url().startsWith(toolUrl) && (await f.locator(selector).count().catch(() => 0))) return f;
    }
    await page.waitForTimeout(100);
  }
  throw new Error(`no tool frame with ${selector}`);
}

/** WCAG contrast ratio of two `rgb(r, g, b)` colours. */
function contrast(a: string, b: string): number {
  const lum = (c: string) => {
    const [r, g, bl] = (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

// Issue 15 (2, 4, 16): the item page on a 360×740 phone, in Chromium.
describe('student pages on a phone (Chromium, 360×740)', function () {
  this.timeout(120_000);
  let tdb: TestDatabase;
  let tool: RunningTool;
  let sim: MoodleSim;
  let browser: OpenBrowser;
  let clientId: string;
  let courseId: string;
  let students: string[];
  let linkId: string;

  before(async function () {
    if (!chromiumAvailable()) this.skip();
    tdb = await sqliteDatabase();
    tool = await startTool(tdb);
    sim = await MoodleSim.start();
    clientId = await registerTool(sim, tool);
    const seeded = sim.seedDefault();
    courseId = seeded.course.id;
    students = seeded.students.map((s) => s.id);
    // Two more, whose first launch (with the privacy notice) is the layout test's.
    for (const [given, family] of [['Ayu', 'Lestari'], ['Budi', 'Santoso']]) {
      const u = sim.addUser({ given, family, email: `${given.toLowerCase()}@example.com`, username: given.toLowerCase() });
      sim.enrol(courseId, u.id, 'Learner');
      students.push(u.id);
    }
    const bank = await insertFractionChoices(tool.jejak.conn.db);
    linkId = (await placeActivity(sim, clientId, courseId, seeded.teacher.id, bank, { threshold: '95', length: 'range', min_items: '10', max_items: '40', accept_few_items: '1' })).linkId;
    browser = await openChromium({ viewport: { width: 360, height: 740 } });
  });
  after(async () => {
    await browser?.close();
    await sim?.close();
    await tool?.close();
    await tdb?.drop();
  });

  const open = async (userId: string, locale: 'en' | 'id') => {
    const page = await browser.context.newPage();
    await page.goto(sim.launchPageUrl({ clientId, userId, courseId, activityId: linkId, presentation: 'iframe', locale }));
    return { page, frame: await toolFrame(page, tool.url, '#answer-form') };
  };

  it('fraction digits in the stem and the choices are at least as large as the body text (15.4)', async () => {
    const { page, frame } = await open(students[0], 'id');
    const sizes = await frame.evaluate(() => {
      const body = parseFloat(getComputedStyle(document.body).fontSize);
      const digits = Array.from(document.querySelectorAll('.item .katex-html .mfrac .mord'))
        .filter((e) => e.children.length === 0 && /\d/.test(e.textContent ?? ''))
        .map((e) => parseFloat(getComputedStyle(e).fontSize));
      return { body, digits };
    });
    expect(sizes.digits.length, 'fractions in the stem and choices').to.be.greaterThan(4);
    expect(Math.min(...sizes.digits), `fraction digits ${sizes.digits.join(', ')} px, body ${sizes.body} px`).to.be.at.least(sizes.body);
    expect(await frame.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'fits 360 px').to.equal(true);
    expect(await axeViolations(frame)).to.deep.equal([]);
    await page.close();
  });

  it('the keyboard focus ring contrasts at least 3:1 with the page (15.16)', async () => {
    const { page, frame } = await open(students[1], 'en');
    await frame.locator('#answer-form button[type=submit]').focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    const ring = await frame.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      const style = getComputedStyle(el);
      return { tag: el.tagName, outline: style.outlineColor, width: parseFloat(style.outlineWidth), style: style.outlineStyle, page: getComputedStyle(document.body).backgroundColor };
    });
    expect(ring.tag).to.equal('BUTTON');
    expect(ring.style).to.not.equal('none');
    expect(ring.width).to.be.at.least(2);
    expect(contrast(ring.outline, ring.page), `${ring.outline} on ${ring.page}`).to.be.at.least(3);
    expect(contrast(ring.outline, 'rgb(255, 255, 255)'), `${ring.outline} on white boxes`).to.be.at.least(3);
    await page.close();
  });

  for (const locale of ['id', 'en'] as const) {
    it(`on a first launch at 360×740 the question and its answer button come first, the reason and the privacy notice after them (15.2, ${locale})`, async () => {
      const page = await browser.context.newPage();
      // The tool's page itself, as the new-window launch shows it: the whole 740 px screen.
      await page.goto(sim.launchPageUrl({ clientId, userId: students[locale === 'id' ? 3 : 4], courseId, activityId: linkId, presentation: 'window', locale }));
      await page.waitForSelector('#answer-form');
      const layout = await page.evaluate(() => ({
        screen: window.innerHeight,
        button: document.querySelector('#answer-form button[type=submit]')!.getBoundingClientRect().bottom + window.scrollY,
        why: document.querySelector('#why')!.getBoundingClientRect().top + window.scrollY,
        notice: document.querySelector('.privacy-notice')!.getBoundingClientRect().top + window.scrollY,
      }));
      expect(layout.button, 'the answer button within the first screen').to.be.at.most(layout.screen);
      expect(layout.why).to.be.greaterThan(layout.button);
      expect(layout.notice).to.be.greaterThan(layout.button);
      expect(await axeViolations(page)).to.deep.equal([]);
      await page.close();
    });
  }
});
