import crypto from 'node:crypto';
import { expect } from 'chai';
import type express from 'express';
import { testDialects, type TestDatabase } from '../support/db';
import { csrfToken } from '../../src/web/security';
import { sessionCookie } from '../../src/web/cookies';
import { LTI } from '../platform';
import { chromiumAvailable, openChromium } from '../support/chromium';
import { expectAccessiblePage } from '../support/axe';
import { openSite } from './support';
import type { Classroom } from '../teacher/classroom';

interface Route {
  method: string;
  path: string;
}

/** Every route registered in the express app, with its full path, found by walking the router stack. */
export function registeredRoutes(app: express.Express): Route[] {
  const out: Route[] = [];
  const walk = (stack: any[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const p of [layer.route.path].flat()) {
          for (const m of Object.keys(layer.route.methods)) out.push({ method: m === '_all' ? 'all' : m, path: prefix + p });
        }
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack, prefix + mountPath(layer));
      } else if (layer.name === 'serveStatic') {
        out.push({ method: 'get', path: prefix + mountPath(layer) + '/*' });
      }
    }
  };
  walk((app as any)._router.stack, '');
  return out;
}

/** The mount path of a router layer, from the regexp express 4 keeps (parameters back as :name). */
function mountPath(layer: any): string {
  if (layer.regexp.fast_slash) return '';
  let i = 0;
  return layer.regexp.source
    .replace(/^\^/, '').replace(/\\\/\?\(\?=\\\/\|\$\)$/i, '')
    .replace(/\(\?:\\\/\(\[\^\/\]\+\?\)\)/g, () => `/:${layer.keys[i++].name}`)
    .replace(/\\\//g, '/');
}

/** Routes anyone may call without a launch. A new one fails this test until it is reviewed and added here. */
const PUBLIC = new Set([
  'get /healthz', 'get /readyz', 'get /metrics', 'get /', 'get /static/*', 'get /static/katex/*',
  'get /lti/jwks', 'get /lti/login', 'post /lti/login', 'all /lti/login', 'get /lti/login/continue', 'post /lti/launch', 'all /lti/register',
  'get /lti/register', 'post /lti/register', 'get /privacy',
  // The teachers' explanation of the estimates (src/teacher/estimates-page.ts): the same text for everyone, no data.
  'get /help/estimates',
  // The site icon (src/web/app.ts): a fixed answer, no data.
  'get /favicon.ico',
]);
/** The admin pages (school IT): protected by the admin credentials from configuration, not by a launch. */
const ADMIN = /^\/admin(\/|$)/;
/** Pages only instructors (and administrators) may use. */
const LEARNER = 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner';
const INSTRUCTOR = 'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor';
const teacherOnly = (path: string) => /^\/s\/:sid\/(teacher|content\/banks|privacy\/students)/.test(path);

const MEMBERSHIP = 'http://purl.imsglobal.org/vocab/lis/v2/membership';
const INSTITUTION = 'http://purl.imsglobal.org/vocab/lis/v2/institution/person#';
const SYSTEM = 'http://purl.imsglobal.org/vocab/lis/v2/system/person#';
const ROLE_SCOPE_MENTOR = 'https://purl.imsglobal.org/spec/lti/claim/role_scope_mentor';

type Expected = 'teacher' | 'student' | 'mentor' | 'none';
/**
 * The role matrix, each case launched from the simulator with these roles in a signed id_token: what
 * the course role allows (LTI 1.3 Core role vocabularies; Moodle's site administrator as Moodle sends it).
 */
const ROLE_CASES: { name: string; roles: string[]; mentorOf?: 'sam'; expected: Expected }[] = [
  { name: 'Learner', roles: [`${MEMBERSHIP}#Learner`], expected: 'student' },
  { name: 'Learner + institution Administrator', roles: [`${MEMBERSHIP}#Learner`, `${INSTITUTION}Administrator`], expected: 'student' },
  { name: 'Learner + institution Instructor', roles: [`${MEMBERSHIP}#Learner`, `${INSTITUTION}Instructor`], expected: 'student' },
  { name: 'Instructor', roles: [`${MEMBERSHIP}#Instructor`], expected: 'teacher' },
  { name: 'TeachingAssistant', roles: [`${MEMBERSHIP}/Instructor#TeachingAssistant`], expected: 'teacher' },
  { name: 'ContentDeveloper', roles: [`${MEMBERSHIP}#ContentDeveloper`], expected: 'teacher' },
  { name: 'course Administrator', roles: [`${MEMBERSHIP}#Administrator`], expected: 'teacher' },
  { name: "Moodle's site administrator", roles: [`${MEMBERSHIP}#Instructor`, `${INSTITUTION}Administrator`, `${SYSTEM}Administrator`], expected: 'teacher' },
  { name: 'institution and system Administrator alone', roles: [`${INSTITUTION}Administrator`, `${SYSTEM}Administrator`], expected: 'none' },
  { name: 'Mentor with role_scope_mentor', roles: [`${MEMBERSHIP}#Mentor`], mentorOf: 'sam', expected: 'mentor' },
  { name: 'Mentor without role_scope_mentor', roles: [`${MEMBERSHIP}#Mentor`], expected: 'mentor' },
  { name: 'Guest', roles: [`${INSTITUTION}Guest`], expected: 'none' },
  { name: 'no role', roles: [], expected: 'none' },
  { name: 'unknown role', roles: [`${INSTITUTION}Faculty`, 'https://example.org/roles#Wizard'], expected: 'none' },
];

/** Routes each audience may use (stated here apart from the application's own table, which it checks). */
const ownPages = (path: string) => /^\/s\/:sid\/(privacy(\/export\.[^/]+)?)?$/.test(path);
const MAY: Record<Expected, (path: string) => boolean> = {
  teacher: () => true,
  student: (path) => ownPages(path) || /^\/s\/:sid\/(practice(?!\/(place|setup))|content\/assets\/)/.test(path),
  mentor: ownPages,
  none: ownPages,
};

for (const dialect of testDialects()) {
  describe(`authorisation on every route (${dialect.name})`, function () {
    this.timeout(120_000);
    let tdb: TestDatabase;
    let c: Classroom;
    let routes: Route[];
    /** Resources of course A (tenant 1), of course B (tenant 1), and sessions of each actor. */
    const ids = { activityA: 0, activityB: 0, bankA: 0, itemA: 0 };
    const sessions: Record<string, string> = {};
    /** The role matrix's sessions, each from a real launch: its id and the cookie its browser holds. */
    const launched = new Map<string, { sid: string; cookie: string; sub: string }>();
    let practiceActivityId: number;

    const session = async (tenantId: number, contextId: string, roles: string[], sub: string, link: string | null) => {
      const id = crypto.randomBytes(24).toString('base64url');
      await c.db.insertInto('launch_session').values({
        id, tenant_id: tenantId, context_id: contextId, resource_link_id: link, user_sub: sub, roles: JSON.stringify(roles),
        message_type: 'LtiResourceLinkRequest', locale: 'en', claims: JSON.stringify({ iss: c.sim.issuer }), binding: null,
        created_at: Date.now(), expires_at: Date.now() + 3600_000,
      }).execute();
      return id;
    };

    before(async () => {
      tdb = await dialect.create();
      let practiceLink: string;
      let sampleBankId: number;
      ({ c, practiceLink, sampleBankId, practiceActivityId } = await openSite(tdb));
      ids.activityA = c.activityId;
      const item = await c.db.selectFrom('item').select(['id', 'bank_id']).where('id', '=', c.itemIds[0]![0]!).executeTakeFirstOrThrow();
      ids.bankA = item.bank_id;
      ids.itemA = item.id;
      // The classroom's items are placeholders; this one gets a real body (a sample item's) so its pages render.
      const real = await c.db.selectFrom('item').select(['kind', 'body']).where('bank_id', '=', sampleBankId).orderBy('id').executeTakeFirstOrThrow();
      await c.db.updateTable('item').set(real).where('id', '=', item.id).execute();
      await c.db.insertInto('bank_asset').values({ bank_id: ids.bankA, name: 'secret.png', media_type: 'image/png', data: Buffer.from('png'), created_at: Date.now() }).execute();
      const courseB = c.sim.addCourse({ label: 'B', title: 'Course B' });
      const linkB = c.sim.addActivity({ courseId: courseB.id, clientId: c.clientId, title: 'B' });
      ids.activityB = await c.seedActivity(courseB.id, linkB);
      const otherTenant = await c.tool.jejak.platforms.addDeployment(c.sim.issuer, c.clientId, 'other-school');
      sessions.learnerA = await session(c.tenantId, c.courseId, [LEARNER], c.studentIds[0]!, practiceLink);
      sessions.teacherA = await session(c.tenantId, c.courseId, [INSTRUCTOR], c.teacherId, practiceLink);
      sessions.teacherOtherTenant = await session(otherTenant, c.courseId, [INSTRUCTOR], c.teacherId, practiceLink);
      routes = registeredRoutes(c.tool.jejak.app);

      // Sam and Sasha have each answered once in the practice activity: what a mentor may (or may not) see.
      const sampleItem = await c.db.selectFrom('item').select('id').where('bank_id', '=', sampleBankId).orderBy('id').executeTakeFirstOrThrow();
      for (const sub of [c.studentIds[0]!, c.studentIds[1]!]) await c.answer(sub, sampleItem.id, true, { activityId: practiceActivityId });
      for (const [i, rc] of ROLE_CASES.entries()) {
        const user = c.sim.addUser({ given: 'Role', family: `Case ${i}`, email: `role${i}@example.com`, username: `role${i}` });
        c.sim.enrol(c.courseId, user.id, 'Learner');
        const scope = rc.mentorOf ? { [ROLE_SCOPE_MENTOR]: [c.studentIds[0]!] } : {};
        const { sid, browser } = await c.launch(user.id, { activityId: practiceLink, tamper: { claims: (claims) => ({ ...claims, [LTI.roles]: rc.roles, ...scope }) } });
        const cookie = browser.jar.get(c.tool.url, sessionCookie(sid));
        expect(cookie, rc.name).to.be.a('string');
        launched.set(rc.name, { sid, cookie: `${sessionCookie(sid)}=${cookie}`, sub: user.id });
      }
    });
    after(async () => {
      await c?.close();
      await tdb?.drop();
    });

    /** Fills a route's parameters: the acting session, and the other course's (or tenant's) resources. */
    const urlOf = (path: string, sid: string, activityId: number) => path
      .replace(/:(\w+)(\([^)]*\))?/g, (_m, name: string) => String({
        sid, aid: activityId, sub: c.studentIds[1], bankId: ids.bankA, itemId: ids.itemA, name: 'secret.png', token: 'foreign-token', format: 'json',
      }[name] ?? '1'))
      .replace(/\/\*$/, '/x');

    const call = async (method: string, url: string, sid: string, cookie?: string) => {
      const m = method === 'all' ? 'post' : method;
      const r = await fetch(c.tool.url + url, {
        method: m.toUpperCase(), redirect: 'manual',
        headers: { ...(m === 'get' ? {} : { origin: c.tool.url, 'content-type': 'application/x-www-form-urlencoded' }), ...(cookie ? { cookie } : {}) },
        body: m === 'get' ? undefined : new URLSearchParams({
          _csrf: csrfToken(c.tool.jejak.config.secret!, sid), token: 'foreign-token', skill: String(c.skillIds[0]), change: 'unlock', fixed: '1', confirm: 'yes',
          bank: String(ids.bankA), title: 't', length: 'until_mastered', threshold: '80', grade_mode: 'mastery', min_items: '1', max_items: '2',
        }),
        signal: AbortSignal.timeout(10_000),
      });
      // A live stream (server-sent events) never ends: its answer is judged by its status alone.
      const stream = r.headers.get('content-type')?.startsWith('text/event-stream');
      const body = stream ? (await r.body?.cancel(), '') : await r.text();
      return { status: r.status, location: r.headers.get('location') ?? '', body };
    };
    const refused = (r: { status: number; location: string }, sid: string) =>
      [401, 403, 404].includes(r.status) || (r.status >= 300 && r.status < 400 && r.location.startsWith(`/s/${sid}/`) && !/activities\/\d+/.test(r.location));

    it('finds the routes, and every route outside /s/:sid is a reviewed public one', () => {
      expect(routes.length).to.be.greaterThan(20);
      const outside = routes.filter((r) => !r.path.startsWith('/s/:sid')).map((r) => `${r.method} ${r.path}`);
      expect(outside.filter((r) => !PUBLIC.has(r) && !ADMIN.test(r.split(' ')[1]!))).to.deep.equal([]);
    });

    it('without a session every route under /s/ answers 401/403/404, never 200 or 500', async () => {
      const fake = crypto.randomBytes(24).toString('base64url');
      const inArea = routes.filter((x) => x.path.startsWith('/s/:sid'));
      expect(inArea.length).to.be.greaterThan(20);
      for (const r of inArea) {
        const res = await call(r.method, urlOf(r.path, fake, ids.activityA), fake);
        expect([401, 403, 404], `${r.method} ${r.path}`).to.include(res.status);
      }
    });

    it('without admin credentials every admin route but its login refuses, sends to the login, or is off (503)', async () => {
      const admin = routes.filter((x) => ADMIN.test(x.path) && x.path !== '/admin/login');
      for (const r of admin) {
        const res = await call(r.method, r.path, 'none');
        expect(res.status === 401 || res.status === 403 || res.status === 404 || res.status === 503 || (res.status >= 300 && res.status < 400 && res.location.includes('/admin/login')), `${r.method} ${r.path}: ${res.status}`).to.equal(true);
      }
    });

    it('a learner is refused every teacher route', async () => {
      const sid = sessions.learnerA!;
      const teacherRoutes = routes.filter((x) => teacherOnly(x.path));
      expect(teacherRoutes.length).to.be.greaterThan(8);
      for (const r of teacherRoutes) {
        const res = await call(r.method, urlOf(r.path, sid, ids.activityA), sid);
        expect([403, 404], `${r.method} ${r.path}: ${res.status}`).to.include(res.status);
      }
    });

    it('a teacher of course A gets nothing of course B, and another tenant nothing of this one', async () => {
      const withIds = routes.filter((x) => x.path.startsWith('/s/:sid') && /:(aid|bankId|itemId|token|name)\b/.test(x.path));
      expect(withIds.length).to.be.greaterThan(6);
      const cases: [string, number][] = [[sessions.teacherA!, ids.activityB], [sessions.teacherOtherTenant!, ids.activityA]];
      for (const [sid, activityId] of cases) {
        for (const r of withIds) {
          // Course B's activity for course A's teacher; the bank, items and assets are tenant 1's, so only the other tenant is tested on them.
          if (sid === sessions.teacherA && !/:(aid|token)\b/.test(r.path)) continue;
          const res = await call(r.method, urlOf(r.path, sid, activityId), sid);
          // A token route may show the actor's own page (practice, set-up), never the foreign resource.
          const ownPage = res.status === 200 && /:token\b/.test(r.path) && !res.body.includes('foreign-token');
          expect(refused(res, sid) || ownPage, `${r.method} ${r.path} as ${sid === sessions.teacherA ? 'teacher A' : 'other tenant'}: ${res.status} ${res.location}`).to.equal(true);
        }
      }
      // Nothing was changed on the way.
      expect(await c.db.selectFrom('student_override').selectAll().execute()).to.deep.equal([]);
    });

    for (const rc of ROLE_CASES) {
      it(`${rc.name}, launched: every route answers as the course role allows (${rc.expected})`, async () => {
        const { sid, cookie } = launched.get(rc.name)!;
        const inArea = routes.filter((x) => x.path.startsWith('/s/:sid'));
        const wrong: string[] = [];
        for (const r of inArea) {
          const res = await call(r.method, urlOf(r.path, sid, ids.activityA), sid, cookie);
          const allowed = MAY[rc.expected](r.path);
          // Refused means the role guard's 403; allowed means the page itself answered (any status but a refusal or a failure).
          if (allowed ? [401, 403].includes(res.status) || res.status >= 500 : res.status !== 403) wrong.push(`${r.method} ${r.path}: ${res.status}`);
        }
        expect(wrong, `routes answering against the role for ${rc.name}`).to.deep.equal([]);
      });
    }

    it('a launch whose roles allow nothing gets a page saying what the activity is and what to ask for (200), in both languages', async () => {
      for (const name of ['no role', 'Guest', 'unknown role', 'institution and system Administrator alone']) {
        const { sid, cookie } = launched.get(name)!;
        const en = await call('get', `/s/${sid}/`, sid, cookie);
        expect(en.status, name).to.equal(200);
        expect(en.body).to.include('Sample practice').and.include('does not let you practise here');
        const id = await call('get', `/s/${sid}/?lang=id`, sid, cookie);
        expect(id.status, name).to.equal(200);
        expect(id.body).to.include('Sample practice').and.include('belum mengizinkanmu berlatih di sini');
      }
    });

    it('a mentor reads only the learners role_scope_mentor names, and the reading is audited', async () => {
      const [sam, sasha] = c.studentIds as [string, string];
      const mentor = launched.get('Mentor with role_scope_mentor')!;
      const page = await call('get', `/s/${mentor.sid}/`, mentor.sid, mentor.cookie);
      expect(page.status).to.equal(200);
      expect(page.body).to.include(`>Student ${sam}</h2>`).and.include('1 question answered, 1 correct');
      expect(page.body).to.not.include(`Student ${sasha}`);
      const viewed = await c.db.selectFrom('audit_event').select('subject')
        .where('actor', '=', `lti:${mentor.sub}`).where('action', '=', 'privacy.viewed').execute();
      expect(viewed.map((v) => v.subject)).to.include(`user:${sam}`).and.not.include(`user:${sasha}`);
      const nobody = launched.get('Mentor without role_scope_mentor')!;
      const empty = await call('get', `/s/${nobody.sid}/`, nobody.sid, nobody.cookie);
      expect(empty.status).to.equal(200);
      expect(empty.body).to.include('named no learners for you to follow').and.not.include(`Student ${sam}`);
    });

    // The pages are the same on every database: the browser check runs once, on SQLite.
    if (dialect.name === 'sqlite') it('the no-role and mentor pages pass axe-core in headless Chromium at 360 px, in English and Bahasa Indonesia', async function () {
      if (!chromiumAvailable()) return this.skip();
      const pages = ['no role', 'unknown role', 'Mentor with role_scope_mentor', 'Mentor without role_scope_mentor'].map((name) => launched.get(name)!.sid);
      // Sessions without a cookie binding (as through platform storage) open in a fresh browser.
      await c.db.updateTable('launch_session').set({ binding: null }).where('id', 'in', pages).execute();
      const browser = await openChromium({ viewport: { width: 360, height: 800 } });
      try {
        const page = await browser.context.newPage();
        for (const lang of ['en', 'id']) for (const sid of pages) await expectAccessiblePage(page, `${c.tool.url}/s/${sid}/?lang=${lang}`, lang);
      } finally {
        await browser.close();
      }
    });

    it('no launch without a learner role stores an answer or sends a grade, whatever it posts', async () => {
      const others = ROLE_CASES.filter((rc) => rc.expected === 'none' || rc.expected === 'mentor').map((rc) => launched.get(rc.name)!);
      for (const { sid, cookie } of others) {
        const practice = await call('get', `/s/${sid}/practice`, sid, cookie);
        expect(practice.status).to.equal(403);
        const answer = await call('post', `/s/${sid}/practice/answer`, sid, cookie);
        expect(answer.status).to.equal(403);
      }
      const subs = others.map((o) => o.sub);
      expect(await c.db.selectFrom('attempt').select('id').where('user_sub', 'in', subs).execute()).to.deep.equal([]);
      expect(await c.db.selectFrom('score_outbox').select('user_sub').where('user_sub', 'in', subs).execute()).to.deep.equal([]);
      expect(await c.db.selectFrom('practice_presentation').select('token').where('user_sub', 'in', subs).execute()).to.deep.equal([]);
    });

    it('no route answers 500 for any actor', async () => {
      for (const sid of Object.values(sessions)) {
        for (const r of routes.filter((x) => x.path.startsWith('/s/:sid'))) {
          const res = await call(r.method, urlOf(r.path, sid, ids.activityA), sid);
          expect(res.status, `${r.method} ${r.path}: ${res.body.slice(0, 200)}`).to.be.below(500);
        }
      }
    });
  });
}
