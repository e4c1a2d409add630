import fs from 'node:fs';
import path from 'node:path';
import https from 'node:https';
import { expect } from 'chai';
import { testDialects, type TestDatabase } from '../support/db';
import { registerTool, startTool, type RunningTool } from '../support/tool';
import { MoodleSim } from '../platform';
import { launch } from '../support/http-browser';
import { viewFiles } from '../../src/web/render';
import { csrfToken } from '../../src/web/security';
import type { Classroom } from '../teacher/classroom';
import { openSite, postForms } from './support';

const VIEWS = path.join(__dirname, '../../views');
/** Forms that post outside the session area: to the platform (deep linking), to our launch, to registration (its own key). */
const OUTSIDE_SESSION = ['practice/deep-link-return.hbs', 'platform-storage.hbs', 'register-confirm.hbs'];

for (const dialect of testDialects()) {
  describe(`CSRF tokens on every form (${dialect.name})`, function () {
    this.timeout(90_000);
    let tdb: TestDatabase;
    let c: Classroom;
    let practiceLink: string;
    let sampleBankId: number;

    before(async () => {
      tdb = await dialect.create();
      ({ c, practiceLink, sampleBankId } = await openSite(tdb));
    });
    after(async () => {
      await c?.close();
      await tdb?.drop();
    });

    it('every view that posts under /s/ includes {{> csrf}} (or the token in a multipart action)', () => {
      const missing: string[] = [];
      for (const file of viewFiles(VIEWS)) {
        const name = file.split(path.sep).join('/');
        // The admin pages (privacy/admin/) have their own login, not a launch session: not covered yet.
        if (OUTSIDE_SESSION.includes(name) || name.startsWith('privacy/admin/')) continue;
        const source = fs.readFileSync(path.join(VIEWS, file), 'utf8');
        for (const m of source.matchAll(/<form\b[^>]*method="post"[^>]*>([\s\S]*?)<\/form>/gi)) {
          if (!m[0].includes('{{> csrf}}') && !m[0].includes('_csrf={{@root.csrfToken}}')) missing.push(`${file}: ${m[0].slice(0, 80)}`);
        }
      }
      expect(missing).to.deep.equal([]);
    });

    it('every POST form rendered through a launch carries the session token', async () => {
      const sam = c.studentIds[0]!;
      const teacher = await c.launch(c.teacherId, { activityId: practiceLink });
      const student = await c.launch(sam, { activityId: practiceLink });
      await c.answer(sam, c.itemIds[0]![0]!, true, { score: 10 });
      const bare = c.sim.addActivity({ courseId: c.courseId, clientId: c.clientId, title: 'Bare' });
      const setup = await c.launch(c.teacherId, { activityId: bare });
      const pages = [
        { s: student, path: '/' },
        { s: teacher, path: `/teacher/activities/${c.activityId}/students/${sam}` },
        { s: teacher, path: '/content/banks/import' },
        { s: setup, path: `/?bank=${sampleBankId}` },
      ];
      let forms = 0;
      for (const p of pages) {
        const page = await p.s.browser.get(p.s.base + p.path);
        expect(page.status, p.path).to.equal(200);
        const found = postForms(page.body);
        expect(found, `${p.path} has a POST form`).to.not.be.empty;
        for (const f of found) expect(f.token, `${p.path} → ${f.action}`).to.equal(csrfToken(c.tool.jejak.config.secret!, p.s.sid));
        forms += found.length;
      }
      expect(forms).to.be.at.least(8);
    });

    it('refuses a POST without the token, with a wrong one, or with another session\'s, with the 403 page', async () => {
      const sam = c.studentIds[1]!;
      const teacher = await c.launch(c.teacherId);
      const other = await c.launch(c.teacherId);
      const url = `${teacher.base}/teacher/activities/${c.activityId}/students/${sam}/fixed-order`;
      const post = (form: Record<string, string>) => teacher.browser.post(url, form, { headers: { origin: c.tool.url }, followRedirects: false });
      const right = csrfToken(c.tool.jejak.config.secret!, teacher.sid);
      for (const bad of [{}, { _csrf: '' }, { _csrf: right.slice(0, -2) + 'xx' }, { _csrf: csrfToken(c.tool.jejak.config.secret!, other.sid) }, { _csrf: right + 'a' }]) {
        const r = await post({ fixed: '1', ...(bad as Record<string, string>) });
        expect(r.status, JSON.stringify(bad)).to.equal(403);
        expect(r.body).to.contain('You are not allowed to see this page.');
      }
      const overrides = () => c.db.selectFrom('student_override').select('fixed_order').where('user_sub', '=', sam).executeTakeFirst();
      expect(await overrides(), 'nothing changed').to.equal(undefined);
      expect((await post({ fixed: '1', _csrf: right })).status).to.equal(303);
      expect((await overrides())?.fixed_order).to.equal(1);
      // Multipart: the token rides in the action's query.
      const upload = await teacher.browser.request('POST', `${teacher.base}/content/banks/import`, {
        body: '--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nx\r\n--b--\r\n', headers: { 'content-type': 'multipart/form-data; boundary=b', origin: c.tool.url },
      });
      expect(upload.status).to.equal(403);
      // Same-origin checks stay: the right token from another site is still refused.
      const cross = await teacher.browser.post(url, { fixed: '0', _csrf: right }, { headers: { origin: 'https://evil.example' }, followRedirects: false });
      expect(cross.status).to.equal(403);
    });
  });
}

describe('security headers', function () {
  this.timeout(30_000);
  const [sqlite] = testDialects();
  let tdb: TestDatabase;
  let plain: RunningTool;
  let tls: RunningTool;
  before(async () => {
    tdb = await sqlite!.create();
    plain = await startTool(tdb);
    tls = await startTool(tdb, {}, { https: true });
  });
  after(async () => {
    await plain?.close();
    await tls?.close();
    await tdb?.drop();
  });

  const headersOf = (url: string) => new Promise<Record<string, string | string[] | undefined>>((resolve, reject) => {
    https.get(url, { rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.headers);
    }).on('error', reject);
  });

  it('sends HSTS only when PUBLIC_URL is https, and the others on every answer', async () => {
    const h = await headersOf(`${tls.url}/`);
    expect(h['strict-transport-security']).to.equal('max-age=31536000; includeSubDomains');
    const r = await fetch(`${plain.url}/no-such-page`);
    expect(r.headers.get('strict-transport-security')).to.equal(null);
    for (const headers of [r.headers, new Headers(h as Record<string, string>)]) {
      expect(headers.get('content-security-policy')).to.contain("script-src 'self'").and.contain('frame-ancestors').and.contain("object-src 'none'");
      expect(headers.get('x-content-type-options')).to.equal('nosniff');
      expect(headers.get('referrer-policy')).to.equal('same-origin');
      expect(headers.get('permissions-policy')).to.contain('camera=()');
      expect(headers.get('x-powered-by')).to.equal(null);
    }
  });
});

describe('a write whose Referer is not a URL (issue 13.13)', function () {
  this.timeout(30_000);
  let tdb: TestDatabase;
  let tool: RunningTool;
  before(async () => {
    tdb = await testDialects()[0]!.create();
    tool = await startTool(tdb);
  });
  after(async () => {
    await tool?.close();
    await tdb?.drop();
  });

  it('is refused as a cross-site write with the 403 page, not a 500', async () => {
    const r = await fetch(`${tool.url}/s/some-session/practice/answer`, {
      method: 'POST', headers: { referer: 'not a url', 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'en' }, body: 'a=1',
    });
    expect(r.status).to.equal(403);
    expect(await r.text()).to.contain('You are not allowed to see this page.');
    expect(tool.logs.some((l) => l.msg === 'internal error')).to.equal(false);
  });
});

for (const dialect of testDialects()) {
  describe(`frame and form-target allow-lists per tenant (issue 13.16) on ${dialect.name}`, function () {
    this.timeout(60_000);
    let tdb: TestDatabase;
    let tool: RunningTool;
    let a: MoodleSim;
    let b: MoodleSim;
    let clientA: string;
    before(async () => {
      tdb = await dialect.create();
      tool = await startTool(tdb);
      a = await MoodleSim.start();
      b = await MoodleSim.start();
      clientA = await registerTool(a, tool);
      await registerTool(b, tool);
    });
    after(async () => {
      await a?.close();
      await b?.close();
      await tool?.close();
      await tdb?.drop();
    });

    const directive = (headers: Headers, name: string) => new RegExp(`${name} ([^;]*)`).exec(headers.get('content-security-policy') ?? '')![1]!.split(' ');

    it('a session of platform A may be framed by, and post to, A only; pages without a session keep every platform', async () => {
      const { course, students } = a.seedDefault();
      const activityId = a.addActivity({ courseId: course.id, clientId: clientA, title: 'Practice' });
      const r = await launch(a, { clientId: clientA, userId: students[0].id, courseId: course.id, activityId });
      expect(r.final.status, r.final.body.slice(0, 300)).to.equal(200);
      expect(r.final.url).to.match(/\/s\/[\w-]+\/$/);
      const [originA, originB] = [new URL(a.issuer).origin, new URL(b.issuer).origin];
      for (const name of ['frame-ancestors', 'form-action']) {
        expect(directive(r.final.headers, name), name).to.deep.equal(["'self'", originA]);
      }
      const privacy = await r.browser.get(r.final.url + 'privacy');
      expect(privacy.status).to.equal(200);
      expect(directive(privacy.headers, 'frame-ancestors')).to.deep.equal(["'self'", originA]);
      // A refusal inside the session (a learner asking for a teacher page) names A only, too.
      const refused = await r.browser.get(r.final.url + 'teacher');
      expect(refused.status).to.equal(403);
      expect(directive(refused.headers, 'frame-ancestors')).to.deep.equal(["'self'", originA]);
      const outside = await fetch(`${tool.url}/`);
      expect(directive(outside.headers, 'frame-ancestors')).to.have.members(["'self'", originA, originB]);
    });
  });
}
