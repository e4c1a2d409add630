import { expect } from 'chai';
import type { Frame, Page } from 'playwright-core';
import type { MoodleSim } from '../platform';
import { testDialects, type TestDatabase } from '../support/db';
import type { RunningTool } from '../support/tool';
import { chromiumAvailable, openChromium, type OpenBrowser } from '../support/chromium';
import { placeActivity, type TestBank, startPracticeClass } from './support';
import { axeViolations } from '../support/axe';


/** The tool's frame inside the course page, once it shows `text`. */
async function toolFrame(page: Page, toolUrl: string, text: string): Promise<Frame> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    for (const f of page.frames()) {
      if (f.url().startsWith(toolUrl) && (await f.content().catch(() => '')).includes(text)) return f;
    }
    await page.waitForTimeout(100);
  }
  throw new Error(`no tool frame showing "${text}"; frames: ${page.frames().map((f) => f.url()).join(', ')}`);
}

/** Bytes the frame's page and its sub-resources took over the network (compressed, with headers). */
async function transferredBytes(frame: Frame): Promise<number> {
  return frame.evaluate(() => {
    const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')] as PerformanceResourceTiming[];
    return entries.reduce((sum, e) => sum + e.transferSize, 0);
  });
}

async function fitsWidth(frame: Frame): Promise<boolean> {
  return frame.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

describe('practice in a real browser (Chromium): 360 px wide, keyboard only, axe-core clean, light', function () {
  // Twenty items by keyboard in a real browser: minutes on a busy 2-core machine.
  this.timeout(420_000);
  const dialect = testDialects()[0];
  let tdb: TestDatabase;
  let tool: RunningTool;
  let sim: MoodleSim;
  let browser: OpenBrowser;
  let clientId: string;
  let courseId: string;
  let teacherId: string;
  let students: string[];
  let bank: TestBank;
  let linkId: string;

  before(async function () {
    if (!chromiumAvailable()) {
      console.warn('    (Chromium not installed: browser tests skipped; `apt-get install chromium` to run them)');
      this.skip();
    }
    tdb = await dialect.create();
    ({ tool, sim, clientId, courseId, teacherId, students, bank } = await startPracticeClass(tdb));
    // The teacher deep-links the activity: twenty items at least, so the estimate alone cannot end it first.
    linkId = (await placeActivity(sim, clientId, courseId, teacherId, bank, { threshold: '95', length: 'range', min_items: '25', max_items: '40' })).linkId;
    browser = await openChromium({ viewport: { width: 360, height: 740 } });
  });
  after(async () => {
    await browser?.close();
    await sim?.close();
    await tool?.close();
    await tdb?.drop();
  });

  const open = async (userId: string, locale: 'en' | 'id', text: string, activityId = linkId) => {
    const page = await browser.context.newPage();
    await page.goto(sim.launchPageUrl({ clientId, userId, courseId, activityId, presentation: 'iframe', locale }));
    return { page, frame: await toolFrame(page, tool.url, text) };
  };
  const rightChoice = async (frame: Frame) => {
    const token = await frame.locator('input[name=token]').first().inputValue();
    const shown = await tool.jejak.conn.db.selectFrom('practice_presentation').select('item_id').where('token', '=', token).executeTakeFirstOrThrow();
    return { token, key: bank.answers.get(shown.item_id)! };
  };

  it('a student answers twenty items with the keyboard, sees mastery change and the reasons; relaunch resumes; attempts stored', async () => {
    const { page, frame: first } = await open(students[0], 'en', 'is new for you');
    expect(await transferredBytes(first), 'first page weight').to.be.below(100 * 1024);
    expect(await fitsWidth(first), 'fits 360 px').to.equal(true);
    expect(await axeViolations(first)).to.deep.equal([]);

    let frame = first;
    const reasons = new Set<string>();
    const masteries: number[] = [];
    for (let i = 0; i < 20; i++) {
      reasons.add((await frame.locator('#why').innerText()).replace(/\d+%/g, 'N%'));
      const { key } = await rightChoice(frame);
      // Mostly right, a slip now and then.
      const choice = i % 5 === 4 ? (key === 'a' ? 'c' : 'a') : key;
      await frame.locator(`#choice-${choice}`).focus();
      await page.keyboard.press('Space');
      await page.keyboard.press('Enter');
      await frame.waitForURL(/\/practice\/answered\//);
      const result = await frame.locator('#result-heading').innerText();
      expect(result).to.contain(i % 5 === 4 ? 'Not quite.' : 'Correct!');
      const bar = await frame.locator('.mastery .change').first().innerText();
      masteries.push(Number(/→ (\d+)%/.exec(bar)![1]));
      if (i === 4) {
        expect(await axeViolations(frame), 'feedback page').to.deep.equal([]);
        await frame.locator('a[href*="solution=1"]').focus();
        await page.keyboard.press('Enter');
        await frame.waitForURL(/solution=1/);
        expect(await frame.locator('#solution').innerText()).to.contain('Worked solution');
        expect(await axeViolations(frame), 'solution').to.deep.equal([]);
      }
      await frame.locator('#next').focus();
      await page.keyboard.press('Enter');
      await frame.waitForURL(/\/practice(\?more=1)?$/);
      if (i === 9) {
        await frame.locator('button.secondary').focus();
        await page.keyboard.press('Enter');
        await frame.waitForSelector('#hint-1');
        expect(await axeViolations(frame), 'hint').to.deep.equal([]);
      }
    }
    expect(new Set(masteries).size, `masteries ${masteries.join(',')}`).to.be.greaterThan(3);
    expect([...reasons].some((r) => /Jejak estimates your chance on a new \w[\w ]+ question at N%\. You have .+ — about N% — to get this one right\./.test(r)), [...reasons].join(' | ')).to.equal(true);
    expect([...reasons].some((r) => /\w[\w ]+ is new for you: this is your first question on it\./.test(r)), 'a first item is introduced as new').to.equal(true);
    const { token: open1 } = await rightChoice(frame);
    await page.close();

    const again = await open(students[0], 'en', 'Why this question');
    expect((await rightChoice(again.frame)).token, 'resumes on the same item').to.equal(open1);
    expect(await again.frame.locator('h2#question-heading').innerText()).to.contain('Question 21');
    await again.page.close();

    const attempts = await tool.jejak.conn.db.selectFrom('attempt').select(['correct', 'preview']).where('user_sub', '=', students[0]).execute();
    expect(attempts).to.have.length(20);
    expect(attempts.filter((a) => a.correct === 1)).to.have.length(16);
  });

  it('Bahasa Indonesia: the practice, feedback and summary pages are axe-clean and fit 360 px', async () => {
    const short = sim.addActivity({ courseId, clientId, title: 'Singkat', custom: { jejak_activity: (await tool.jejak.conn.db.selectFrom('activity').select('resource_id').executeTakeFirstOrThrow()).resource_id }, lineItem: { scoreMaximum: 100 } });
    const { page, frame } = await open(students[1], 'id', 'soal pertamamu', short);
    expect(await axeViolations(frame)).to.deep.equal([]);
    expect(await fitsWidth(frame)).to.equal(true);
    const { key } = await rightChoice(frame);
    await frame.locator(`#choice-${key}`).focus();
    await page.keyboard.press('Space');
    await page.keyboard.press('Enter');
    await frame.waitForURL(/\/practice\/answered\//);
    expect(await frame.locator('#result-heading').innerText()).to.contain('Benar!');
    expect(await axeViolations(frame)).to.deep.equal([]);
    await frame.goto(frame.url().replace(/\/practice\/answered\/.*$/, '/practice/summary'));
    expect(await axeViolations(frame), 'summary').to.deep.equal([]);
    expect(await fitsWidth(frame)).to.equal(true);
    await page.close();
  });

  for (const locale of ['en', 'id'] as const) {
    it(`teacher pages (${locale}): placing, setting up, preview; and the "not set up" student page are axe-clean`, async () => {
      const dl = await browser.context.newPage();
      await dl.goto(sim.launchPageUrl({ clientId, userId: teacherId, courseId, messageType: 'LtiDeepLinkingRequest', presentation: 'window', locale }));
      await dl.waitForSelector('form.settings');
      expect(await axeViolations(dl.mainFrame()), 'place').to.deep.equal([]);
      expect(await fitsWidth(dl.mainFrame())).to.equal(true);
      await dl.close();

      const bare = sim.addActivity({ courseId, clientId, title: 'Bare' });
      const setup = await open(teacherId, locale, locale === 'en' ? 'Set up this activity' : 'Siapkan aktivitas ini', bare);
      expect(await axeViolations(setup.frame), 'setup').to.deep.equal([]);
      await setup.page.close();
      const student = await open(students[2], locale, locale === 'en' ? 'not set up yet' : 'belum disiapkan', bare);
      expect(await axeViolations(student.frame), 'not set up').to.deep.equal([]);
      await student.page.close();

      const preview = await open(teacherId, locale, locale === 'en' ? 'Teacher home' : 'Beranda guru');
      await preview.frame.goto(preview.frame.url().replace(/\/?$/, '/practice'));
      expect(await preview.frame.content()).to.contain(locale === 'en' ? 'Preview:' : 'Pratinjau:');
      expect(await axeViolations(preview.frame), 'preview').to.deep.equal([]);
      await preview.page.close();
    });
  }
});
