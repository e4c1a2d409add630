import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { MoodleSim } from '../platform';
import { launch, type LaunchResult } from '../support/http-browser';
import { testDialects, type TestDatabase } from '../support/db';
import { registerTool, startTool, type RunningTool } from '../support/tool';
import { csrfField } from '../support/csrf';
import { chromiumAvailable, openChromium } from '../support/chromium';
import { expectAccessiblePage } from '../support/axe';

/** A multipart/form-data body, as a browser posts a file upload form. */
function multipart(fields: Record<string, string>, file: { name: string; content: string }): { body: string; type: string } {
  const boundary = '----jejakTestBoundary7MA4YWxkTrZu0gW';
  const parts = Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n${file.content}\r\n`);
  return { body: `${parts.join('')}--${boundary}--\r\n`, type: `multipart/form-data; boundary=${boundary}` };
}

const [sqlite] = testDialects();
describe('teacher bank pages through a launch', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  let tool: RunningTool;
  let sim: MoodleSim;
  let teacher: LaunchResult;
  let student: LaunchResult;

  before(async () => {
    tdb = await sqlite!.create();
    tool = await startTool(tdb);
    sim = await MoodleSim.start();
    const clientId = await registerTool(sim, tool);
    const seeded = sim.seedDefault();
    const activityId = sim.addActivity({ courseId: seeded.course.id, clientId, title: 'Pecahan' });
    teacher = await launch(sim, { clientId, userId: seeded.teacher.id, courseId: seeded.course.id, activityId, locale: 'en' });
    student = await launch(sim, { clientId, userId: seeded.students[0].id, courseId: seeded.course.id, activityId });
  });
  after(async () => {
    await sim?.close();
    await tool?.close();
    await tdb?.drop();
  });

  const home = (r: LaunchResult) => r.final.url.replace(/\/s\/([^/?]+).*$/, '/s/$1/');
  const get = (r: LaunchResult, rel: string) => r.browser.get(new URL(rel, home(r)).toString(), { context: r.context });
  const upload = (r: LaunchResult, file: string, fields: Record<string, string> = {}) => {
    const { body, type } = multipart({ language: 'id', ...fields }, { name: file, content: fs.readFileSync(path.join(__dirname, 'fixtures', file), 'utf8') });
    // The upload form carries its CSRF token in the action's query (views/content/import.hbs).
    const action = new URL(`content/banks/import?_csrf=${csrfField(tool, home(r))._csrf}`, home(r)).toString();
    return r.browser.request('POST', action, { body, headers: { 'content-type': type }, context: { ...r.context, initiator: action } });
  };

  it('links the bank pages from the teacher home, and lists the sample bank', async () => {
    // The launch lands on the practice set-up page; the teacher home template holds the link.
    expect(fs.readFileSync(path.join(__dirname, '../../views/teacher-home.hbs'), 'utf8')).to.contain('<li><a href="content/banks">{{t "content.home_link"}}</a></li>');
    const list = await get(teacher, 'content/banks');
    expect(list.status).to.equal(200);
    expect(list.body).to.contain('Fractions and Decimals').and.contain('shared with every school');
    expect(list.body).to.not.contain('katex.min.css');
  });

  it('shows the sample bank with skills, curriculum outcomes, and zero statistics; previews an item with math', async () => {
    const bank = await tool.jejak.conn.db.selectFrom('bank').select('id').where('tenant_id', 'is', null).executeTakeFirstOrThrow();
    const page = await get(teacher, `content/banks/${bank.id}`);
    expect(page.status).to.equal(200);
    expect(page.body).to.contain('Equivalent fractions').and.contain('Kurikulum Merdeka, phase C');
    // 210 items, 100 a page.
    expect(page.body.match(/<tr><td><a href="\d+\/items\/\d+">/g)?.length).to.equal(100);
    expect(page.body).to.contain('Items 1–100 of 210').and.contain(`href="${bank.id}?page=2" rel="next"`);
    const last = await get(teacher, `content/banks/${bank.id}?page=3`);
    expect(last.body.match(/<tr><td><a href="\d+\/items\/\d+">/g)?.length).to.equal(10);
    expect(last.body).to.contain('Items 201–210 of 210').and.contain('rel="prev"').and.not.contain('rel="next"');
    const itemLink = /href="(\d+\/items\/\d+)"/.exec(page.body)![1]!;
    const preview = await get(teacher, `content/banks/${itemLink}`);
    expect(preview.status).to.equal(200);
    expect(preview.body).to.contain('/static/katex/katex.min.css').and.contain('class="katex"').and.contain('Worked solution').and.contain('(correct)');
    expect(preview.body).to.contain('No student has answered this item yet.');
    const css = await teacher.browser.get(new URL('/static/katex/katex.min.css', home(teacher)).toString());
    expect(css.status).to.equal(200);
  });

  it('refuses the bank pages to a learner with 403', async () => {
    const page = await get(student, 'content/banks');
    expect(page.status).to.equal(403);
    expect((await upload(student, 'good.gift')).status).to.equal(403);
  });

  it('imports a file through the upload form and shows the report on the new bank', async () => {
    const form = await get(teacher, 'content/banks/import');
    expect(form.body).to.contain('enctype="multipart/form-data"').and.contain('<label for="file">');
    const done = await upload(teacher, 'good.gift', { title: 'Bank GIFT' });
    expect(done.status, done.body).to.equal(200);
    expect(done.url).to.match(/\/content\/banks\/\d+\?imported=1$/);
    expect(done.body).to.contain('Bank GIFT').and.contain('The bank was imported.').and.contain('Import report');
    const list = await get(teacher, 'content/banks');
    expect(list.body).to.contain('Bank GIFT');
  });

  it('imports difficulty tags, notes an unknown one, and shows a tag on the item preview in both languages', async () => {
    const done = await upload(teacher, 'difficulty.csv', { title: 'Bank tingkat' });
    expect(done.status, done.body.slice(0, 500)).to.equal(200);
    expect(done.body).to.match(/<tr class="report-note"><td>6<\/td><td>note<\/td><td>aneh-1: the difficulty &quot;sangat sulit&quot; is not easy, medium or hard/);
    const bankId = /\/content\/banks\/(\d+)\?imported=1$/.exec(done.url)![1];
    const itemId = async (code: string) => (await tool.jejak.conn.db.selectFrom('item').select('id').where('bank_id', '=', Number(bankId)).where('code', '=', code).executeTakeFirstOrThrow()).id;
    const preview = (code: string, lang: string) => itemId(code).then((id) => get(teacher, `content/banks/${bankId}/items/${id}?lang=${lang}`));
    const hard = await preview('sulit-1', 'en');
    expect(hard.status).to.equal(200);
    expect(hard.body).to.contain('Difficulty: hard');
    expect((await preview('sulit-1', 'id')).body).to.contain('Tingkat kesulitan: sulit');
    expect((await preview('mudah-1', 'en')).body).to.contain('Difficulty: easy');
    const untagged = await preview('polos-1', 'en');
    expect(untagged.status).to.equal(200);
    expect(untagged.body).to.not.contain('Difficulty:');
  });

  it('refuses a broken file with the line-by-line report, writing nothing', async () => {
    const before = await tool.jejak.conn.db.selectFrom('bank').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const done = await upload(teacher, 'broken.gift');
    expect(done.status).to.equal(422);
    expect(done.body).to.contain('Nothing was imported');
    expect(done.body).to.match(/<tr class="report-refused"><td>9<\/td><td>refused<\/td><td>[^<]*opening brace on this line is never closed/);
    expect(done.body).to.contain('name="skip"');
    const after = await tool.jejak.conn.db.selectFrom('bank').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).to.equal(Number(before.n));
  });

  it('sanitises imported HTML end to end: an XSS payload in a GIFT file runs nowhere in the browser', async function () {
    if (!chromiumAvailable()) return this.skip();
    const done = await upload(teacher, 'xss.gift', { title: 'Bank XSS' });
    expect(done.status, done.body.slice(0, 500)).to.equal(200);
    const itemLink = /href="(\d+\/items\/\d+)"/.exec(done.body)![1]!;
    const preview = await get(teacher, `content/banks/${itemLink}`);
    expect(preview.body).to.contain('Berapa');
    expect(preview.body).not.to.match(/onerror|<script>alert|javascript:/);
    // The same page in Chromium: no dialog, no script element from the bank.
    await tool.jejak.conn.db.updateTable('launch_session').set({ binding: null }).where('id', '=', /\/s\/([^/]+)\//.exec(home(teacher))![1]).execute();
    const browser = await openChromium();
    try {
      const page = await browser.context.newPage();
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await page.goto(new URL(`content/banks/${itemLink}`, home(teacher)).toString());
      await page.getByText('klik').first().click().catch(() => undefined);
      await page.waitForTimeout(300);
      expect(dialogs).to.deep.equal([]);
      expect(await page.locator('main script').count()).to.equal(0);
    } finally {
      await browser.close();
    }
  });

  it('bank pages pass axe-core in headless Chromium at 360 px, in English and Bahasa Indonesia', async function () {
    if (!chromiumAvailable()) return this.skip();
    const sid = /\/s\/([^/]+)\//.exec(home(teacher))![1];
    await tool.jejak.conn.db.updateTable('launch_session').set({ binding: null }).where('id', '=', sid).execute();
    const bank = await tool.jejak.conn.db.selectFrom('bank').select('id').where('tenant_id', 'is', null).executeTakeFirstOrThrow();
    const bankPage = await get(teacher, `content/banks/${bank.id}`);
    const itemLink = /href="(\d+\/items\/\d+)"/.exec(bankPage.body)![1]!;
    const browser = await openChromium({ viewport: { width: 360, height: 800 } });
    try {
      const page = await browser.context.newPage();
      for (const lang of ['en', 'id']) {
        for (const rel of ['content/banks', `content/banks/${bank.id}`, `content/banks/${itemLink}`, 'content/banks/import']) {
          const url = `${new URL(rel, home(teacher))}?lang=${lang}`;
          await expectAccessiblePage(page, url, lang);
        }
      }
    } finally {
      await browser.close();
    }
  });
});
