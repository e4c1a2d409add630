import fs from 'node:fs';
import { expect } from 'chai';
import { testDialects, type TestDatabase } from '../support/db';
import { chromiumAvailable, openChromium } from '../support/chromium';
import { HttpBrowser, launch } from '../support/http-browser';
import { startTool } from '../support/tool';
import { Classroom } from '../teacher/classroom';
import { LEARNER_TABLES, learnerDataCounts, type LearnerScope, type TableCounts } from '../../src/privacy/data';
import { eraseStudent } from '../../src/privacy/commands/eraseStudent';
import { eraseCourse } from '../../src/privacy/commands/eraseCourse';
import { applyRetention } from '../../src/privacy/commands/applyRetention';
import { runPrivacyCli } from '../../src/privacy/cli';
import { publishScore } from '../../src/grades/commands/publishScore';
import { bankTrainingData } from '../../src/kt/commands/trainBankModel';
import { auditConfigChanges } from '../../src/privacy/lifecycle';
import { insertReturningId, upsert } from '../../src/db/writes';

const ADMIN_PASSWORD = 'correct-horse-battery-staple';
const DAY = 86_400_000;

for (const dialect of testDialects()) {
  describe(`privacy and admin on ${dialect.name}`, function () {
    this.timeout(120_000);
    let tdb: TestDatabase;
    let c: Classroom;
    let sam: string, sasha: string, sandi: string;
    let courseB: string;
    let activityB: number;
    let bankId: number;
    let otherTenant: number;

    /** Learner rows of every kind for `sub` in `contextId` (as practice, teachers and NRPS would leave them). */
    async function seedStudent(sub: string, contextId: string, activityId: number, answers: number): Promise<void> {
      const db = c.db;
      const now = Date.now();
      for (let i = 0; i < answers; i++) await c.answer(sub, c.itemIds[i % 3][0], i % 2 === 0, { at: now - 1000 * (answers - i), score: 50 + i, activityId, contextId });
      const attempts = await db.selectFrom('attempt').select(['id', 'item_id']).where('user_sub', '=', sub).where('context_id', '=', contextId).execute();
      for (const [i, a] of attempts.entries()) {
        await db.insertInto('practice_presentation').values({
          token: `${sub}-${contextId}-${i}`, tenant_id: c.tenantId, context_id: contextId, activity_id: activityId, user_sub: sub, preview: 0, item_id: a.item_id,
          skill_id: c.skillIds[0], reason: JSON.stringify({ kind: 'learn', mastery: 0.5, pSuccess: 0.6, movedFromStuck: null }), hints_used: 0, solution_shown: 0,
          presented_at: now - 5000, answered_at: now - 4000, attempt_id: a.id,
        }).execute();
      }
      await db.insertInto('kt_state').values({ tenant_id: c.tenantId, context_id: contextId, user_sub: sub, bank_id: bankId, model_key: 'dkt:999', state: Buffer.from([1, 2, 3]), steps: answers, updated_at: now }).execute();
      await db.insertInto('practice_progress').values({ tenant_id: c.tenantId, context_id: contextId, activity_id: activityId, user_sub: sub, preview: 0, answered: answers, correct: 1, started_at: now, completed_at: null, updated_at: now }).execute();
      await db.insertInto('student_override').values({ tenant_id: c.tenantId, activity_id: activityId, user_sub: sub, unlocked_skills: '[]', skipped_skills: '[]', fixed_order: 1, updated_by: 'lti:t', updated_at: now }).execute();
      await db.insertInto('student_group').values({ tenant_id: c.tenantId, context_id: contextId, user_sub: sub, group_name: '7A' }).execute();
    }

    async function rosterOf(contextId: string, subs: string[]) {
      const members = JSON.stringify(subs.map((userId) => ({ userId, roles: [], status: 'Active' })));
      await upsert(c.db, 'roster_cache', { tenant_id: c.tenantId, context_id: contextId, members, fetched_at: Date.now() }, ['tenant_id', 'context_id'], { members });
    }

    const counts = (s: LearnerScope) => learnerDataCounts(c.db, s);
    const total = (t: TableCounts) => LEARNER_TABLES.reduce((n, k) => n + t[k], 0);
    const adminBrowser = async () => {
      const b = new HttpBrowser();
      const r = await b.post(`${c.tool.url}/admin/login`, { password: ADMIN_PASSWORD }, { headers: { origin: c.tool.url } });
      expect(r.status, r.body).to.equal(200);
      return b;
    };
    const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1];

    before(async () => {
      tdb = await dialect.create();
      c = await Classroom.open(tdb, { adminPassword: ADMIN_PASSWORD });
      [sam, sasha, sandi] = c.studentIds;
      bankId = (await c.db.selectFrom('activity').select('bank_id').where('id', '=', c.activityId).executeTakeFirstOrThrow()).bank_id;
      courseB = c.sim.addCourse({ label: 'B', title: 'Course B' }).id;
      for (const s of [sam, sandi]) c.sim.enrol(courseB, s, 'Learner');
      const linkB = c.sim.addActivity({ courseId: courseB, clientId: c.clientId, title: 'B' });
      const itemIds = c.itemIds;
      const skillIds = c.skillIds;
      activityB = await c.seedActivity(courseB, linkB);
      // seedActivity made a second bank; keep the first course's ids for the helpers.
      c.itemIds = itemIds;
      c.skillIds = skillIds;
      c.activityId = (await c.db.selectFrom('activity').select('id').where('context_id', '=', c.courseId).executeTakeFirstOrThrow()).id;
      // A model trained before anyone answered, and one after: only the second learnt from the answers.
      // Both retired: their weights are placeholders that must never serve.
      const model = { tenant_id: c.tenantId, bank_id: bankId, status: 'retired', engine: 'js', variant: 'skill', weights: Buffer.from([0]), meta: '{}', metrics: '{"validAuc":0.7}', data_size: 0, activated_at: null };
      await c.db.insertInto('kt_model').values({ ...model, version: 1, created_at: Date.now() - 10 * DAY }).execute();
      await seedStudent(sam, c.courseId, c.activityId, 4);
      await seedStudent(sasha, c.courseId, c.activityId, 3);
      await seedStudent(sam, courseB, activityB, 2);
      await seedStudent(sandi, courseB, activityB, 2);
      await rosterOf(c.courseId, [sam, sasha, sandi]);
      await rosterOf(courseB, [sam, sandi]);
      await c.db.insertInto('kt_model').values({ ...model, version: 2, created_at: Date.now() }).execute();
      // Another tenant of the same install: a bystander for every erasure.
      otherTenant = await insertReturningId(c.db, 'deployment', { issuer: 'https://other.example', client_id: 'x', deployment_id: '1', created_at: Date.now() });
      const otherActivity = await insertReturningId(c.db, 'activity', { tenant_id: otherTenant, context_id: c.courseId, bank_id: bankId, title: 'O', settings: '{}', resource_id: 'r', line_item_url: null, created_by: null, created_at: Date.now() });
      await c.db.insertInto('attempt').values({ tenant_id: otherTenant, context_id: c.courseId, activity_id: otherActivity, user_sub: sam, item_id: c.itemIds[0][0], skill_ids: '[]', response: '{}', correct: 1, hints_used: 0, duration_ms: 1, preview: 0, created_at: Date.now() }).execute();
    });
    after(async () => {
      await c?.close();
      await tdb?.drop();
    });

    it('keeps no names or emails in sessions (even for_user of a submission review), and trains on pseudonyms', async () => {
      await c.launch(sam);
      await launch(c.sim, { clientId: c.clientId, userId: c.teacherId, courseId: c.courseId, activityId: c.linkId, messageType: 'LtiSubmissionReviewRequest', forUserId: sam });
      const sessions = await c.db.selectFrom('launch_session').select('claims').execute();
      expect(sessions.length).to.be.at.least(2);
      for (const u of [...c.sim.users.values()]) {
        for (const s of sessions) {
          expect(s.claims, 'name').not.to.contain(u.name);
          expect(s.claims, 'email').not.to.contain(u.email);
        }
      }
      const review = sessions.map((s) => JSON.parse(s.claims)).find((s) => s['https://purl.imsglobal.org/spec/lti/claim/for_user']);
      expect(review['https://purl.imsglobal.org/spec/lti/claim/for_user'].user_id).to.equal(sam);
      // Training data: fifteen more students with two answers each (the most recent answers are held out, the rest must still train); no LTI id reaches the dataset.
      const subs = Array.from({ length: 15 }, (_, i) => `pseudo-check-${i}`);
      for (const s of subs) for (const ok of [true, false]) await c.answer(s, c.itemIds[1][0], ok, { contextId: 'training-course' });
      const data = await bankTrainingData(c.db, c.tenantId, bankId, 0.2, 1);
      const text = JSON.stringify(data);
      for (const s of subs) expect(text).not.to.contain(s);
      await c.db.deleteFrom('attempt').where('context_id', '=', 'training-course').execute();
    });

    it('shows a student the privacy notice on the first launch only, in their language', async () => {
      await c.db.deleteFrom('privacy_notice').execute();
      const first = await launch(c.sim, { clientId: c.clientId, userId: sasha, courseId: c.courseId, activityId: c.linkId, locale: 'id' });
      expect(first.final.body).to.contain('id="privacy-notice-title">Tentang datamu</h2>');
      const sid = /\/s\/([\w-]+)\//.exec(first.final.url)![1];
      expect(first.final.body).to.contain(`href="/s/${sid}/privacy"`);
      const again = await first.browser.get(first.final.url);
      expect(again.body).not.to.contain('privacy-notice-title');
      const relaunch = await c.launch(sasha);
      expect((await relaunch.browser.get(`${relaunch.base}/`)).body).not.to.contain('privacy-notice-title');
      expect(await c.db.selectFrom('privacy_notice').selectAll().where('user_sub', '=', sasha).execute()).to.have.length(1);
      // The teacher never gets it.
      const teacher = await c.launch(c.teacherId);
      expect((await teacher.browser.get(`${teacher.base}/teacher`)).body).not.to.contain('privacy-notice-title');
    });

    it('links the privacy page from every page, public and in a session (in its language)', async () => {
      const b = new HttpBrowser();
      for (const path of ['/', '/privacy?lang=id', '/admin', '/nowhere']) {
        const r = await b.get(`${c.tool.url}${path}`);
        expect(r.body, path).to.match(/<footer class="foot"><a href="\/privacy\?lang=(en|id)">(Privacy|Privasi)<\/a><\/footer>/);
      }
      const page = await b.get(`${c.tool.url}/privacy?lang=id`);
      expect(page.status).to.equal(200);
      expect(page.body).to.contain('<html lang="id">').and.to.contain('Berapa lama').and.not.to.match(/<script/);
      expect(page.body).not.to.match(/https?:\/\/(?!localhost)[^"]*\.(js|css|woff2?)/);
      const teacher = await c.launch(c.teacherId, { locale: 'id' } as never);
      for (const path of ['/', '/teacher', `/teacher/activities/${c.activityId}`, `/teacher/activities/${c.activityId}/students/${sam}`]) {
        const r = await teacher.browser.get(`${teacher.base}${path}`);
        expect(r.status, `${path} ${JSON.stringify(c.tool.logs.filter((l) => l.msg === 'internal error').slice(-1))}`).to.equal(200);
        expect(r.body, path).to.contain(`<footer class="foot"><a href="/s/${teacher.sid}/privacy">`);
      }
      const inSession = await teacher.browser.get(`${teacher.base}/privacy`);
      expect(inSession.body).to.contain('<h1>Privasi di Jejak</h1>');
    });

    it('exports exactly the student’s data: the student’s own, a teacher’s (course only), the admin’s — each audited', async () => {
      const student = await c.launch(sam);
      const own = await student.browser.get(`${student.base}/privacy/export.json`);
      expect(own.status).to.equal(200);
      expect(own.headers.get('content-disposition')).to.match(/attachment/);
      const data = JSON.parse(own.body);
      expect(data.userSub).to.equal(sam);
      expect(data.tables.attempts).to.have.length(6);
      const inDb = await counts({ tenantId: c.tenantId, userSub: sam });
      expect(data.tables.knowledge_states).to.have.length(inDb.kt_state);
      expect(data.tables.scores).to.have.length(2);
      expect(data.tables.items_shown).to.have.length(inDb.practice_presentation);
      expect(data.tables.teacher_overrides).to.have.length(2);
      expect(data.tables.launches).to.have.length(inDb.launch_session);
      const samAttempts = await c.db.selectFrom('attempt').select('id').where('tenant_id', '=', c.tenantId).where('user_sub', '=', sam).orderBy('created_at').orderBy('id').execute();
      expect(data.tables.attempts.map((a: { id: number }) => a.id)).to.deep.equal(samAttempts.map((a) => a.id));
      expect(data.tables.items_shown.map((p: { attempt_id: number | null }) => p.attempt_id).filter((id: number | null) => id !== null).sort()).to.deep.equal(samAttempts.map((a) => a.id).sort());
      const csv = await student.browser.get(`${student.base}/privacy/export.csv`);
      expect(csv.body.replace(/^\uFEFF/, '').split('\r\n')[0]).to.equal('table,row,field,value');
      expect(csv.body.split('\r\n').filter((l) => l.startsWith('attempts,') && l.includes(',id,'))).to.have.length(6);

      const teacher = await c.launch(c.teacherId);
      const t = JSON.parse((await teacher.browser.get(`${teacher.base}/privacy/students/${sam}/export.json`)).body);
      expect(t.tables.attempts).to.have.length(4);
      expect(t.tables.attempts.every((a: { context_id: string }) => a.context_id === c.courseId)).to.equal(true);
      expect((await student.browser.get(`${student.base}/privacy/students/${sasha}/export.json`)).status, 'a student cannot export another').to.equal(403);

      const admin = await adminBrowser();
      const dataPage = await admin.get(`${c.tool.url}/admin/data`);
      const viaAdmin = await admin.post(`${c.tool.url}/admin/export`, { _csrf: csrfOf(dataPage.body), tenant: String(c.tenantId), user: sasha, course: '', format: 'json' }, { headers: { origin: c.tool.url } });
      expect(viaAdmin.status).to.equal(200);
      expect(JSON.parse(viaAdmin.body).tables.attempts).to.have.length(3);
      const exported = await c.db.selectFrom('audit_event').select(['actor', 'subject']).where('action', '=', 'privacy.exported').execute();
      expect(exported).to.deep.include.members([
        { actor: `lti:${sam}`, subject: `user:${sam}` }, { actor: `lti:${c.teacherId}`, subject: `user:${sam}` }, { actor: 'admin', subject: `user:${sasha}` },
      ]);
    });

    it('records views, grade pushes and configuration changes in an append-only audit log', async () => {
      const teacher = await c.launch(c.teacherId);
      await teacher.browser.get(`${teacher.base}/teacher/activities/${c.activityId}/students/${sasha}`);
      await publishScore({ db: c.db, tenantId: c.tenantId, contextId: c.courseId, activityId: c.activityId, userSub: sasha, actor: `lti:${c.teacherId}` } as Parameters<typeof publishScore>[0]);
      const actions = await c.db.selectFrom('audit_event').select(['action', 'subject', 'actor']).execute();
      expect(actions).to.deep.include({ action: 'privacy.viewed', subject: `user:${sasha}`, actor: `lti:${c.teacherId}` });
      expect(actions.map((a) => a.action)).to.include.members(['grade.published', 'config.changed']);
      expect(await auditConfigChanges(c.db, { storePersonalNames: false, retentionDays: 0, adminPassword: ADMIN_PASSWORD }), 'unchanged settings are not logged again').to.equal(false);
      expect(await auditConfigChanges(c.db, { storePersonalNames: false, retentionDays: 30, adminPassword: ADMIN_PASSWORD })).to.equal(true);
      await auditConfigChanges(c.db, { storePersonalNames: false, retentionDays: 0, adminPassword: ADMIN_PASSWORD });
      let updateError: unknown;
      await c.db.updateTable('audit_event').set({ actor: 'someone' }).execute().catch((e) => (updateError = e));
      expect(String(updateError)).to.match(/append-only/);
      let deleteError: unknown;
      await c.db.deleteFrom('audit_event').execute().catch((e) => (deleteError = e));
      expect(String(deleteError)).to.match(/append-only/);
      const admin = await adminBrowser();
      const page = await admin.get(`${c.tool.url}/admin/audit`);
      expect(page.body).to.contain('privacy.viewed').and.to.contain(`user:${sasha}`);
      const csv = await admin.get(`${c.tool.url}/admin/audit.csv`);
      expect(csv.headers.get('content-type')).to.match(/^text\/csv/);
      expect(csv.body.split('\r\n').filter((l) => l.includes('privacy.viewed')).length).to.be.at.least(1);
    });

    it('erases one student in one course, then in the whole tenant: theirs gone, bystanders untouched, models marked', async () => {
      const samB0 = await counts({ tenantId: c.tenantId, contextId: courseB, userSub: sam });
      const sashaBefore = await counts({ tenantId: c.tenantId, userSub: sasha });
      const sandiBefore = await counts({ tenantId: c.tenantId, userSub: sandi });
      const otherBefore = await counts({ tenantId: otherTenant });
      expect(total(await counts({ tenantId: c.tenantId, contextId: c.courseId, userSub: sam }))).to.be.greaterThan(10);
      const r = await eraseStudent({ db: c.db, tenantId: c.tenantId, userSub: sam, contextId: c.courseId, actor: 'cli' });
      expect(r.counts.attempt).to.equal(4);
      expect(total(await counts({ tenantId: c.tenantId, contextId: c.courseId, userSub: sam }))).to.equal(0);
      expect(await counts({ tenantId: c.tenantId, contextId: courseB, userSub: sam }), 'sam in course B').to.deep.equal(samB0);
      expect(await counts({ tenantId: c.tenantId, userSub: sasha })).to.deep.equal(sashaBefore);
      expect(await counts({ tenantId: c.tenantId, userSub: sandi })).to.deep.equal(sandiBefore);
      expect(await counts({ tenantId: otherTenant })).to.deep.equal(otherBefore);
      const roster = JSON.parse((await c.db.selectFrom('roster_cache').select('members').where('context_id', '=', c.courseId).executeTakeFirstOrThrow()).members);
      expect(roster.map((m: { userId: string }) => m.userId)).to.deep.equal([sasha, sandi]);
      const models = await c.db.selectFrom('kt_model').select(['version', 'retrain_needed']).where('bank_id', '=', bankId).where('tenant_id', '=', c.tenantId).orderBy('version').execute();
      expect(models).to.deep.equal([{ version: 1, retrain_needed: 0 }, { version: 2, retrain_needed: 1 }]);
      const row = await c.db.selectFrom('audit_event').select(['subject', 'details']).where('action', '=', 'privacy.erased.student').executeTakeFirstOrThrow();
      expect(row.subject).to.equal(`user:${sam}`);
      expect(row.details).not.to.contain('Sam Student');

      await eraseStudent({ db: c.db, tenantId: c.tenantId, userSub: sam, actor: 'cli' });
      expect(total(await counts({ tenantId: c.tenantId, userSub: sam }))).to.equal(0);
      expect(await counts({ tenantId: c.tenantId, userSub: sandi })).to.deep.equal(sandiBefore);
      expect(await counts({ tenantId: otherTenant })).to.deep.equal(otherBefore);
    });

    it('erases a course by CLI (only with --yes) and leaves the other course alone', async () => {
      const sashaBefore = await counts({ tenantId: c.tenantId, userSub: sasha });
      const lines: string[] = [];
      const env = { DATABASE_URL: tdb.url, JEJAK_SECRET: 'test-secret-that-is-long-enough-0123456789' };
      expect(await runPrivacyCli(['erase', '--tenant', String(c.tenantId), '--course', courseB], (s) => lines.push(s), env)).to.equal(2);
      expect(lines.join('\n')).to.contain('Nothing erased').and.to.match(/attempt: 2/);
      expect((await counts({ tenantId: c.tenantId, contextId: courseB })).attempt).to.equal(2);
      expect(await runPrivacyCli(['erase', '--tenant', '999999', '--course', courseB], () => {}, env)).to.equal(2);
      expect(await runPrivacyCli(['erase', '--tenant', String(c.tenantId), '--course', courseB, '--yes'], (s) => lines.push(s), env)).to.equal(0);
      expect(total(await counts({ tenantId: c.tenantId, contextId: courseB }))).to.equal(0);
      expect(await counts({ tenantId: c.tenantId, userSub: sasha })).to.deep.equal(sashaBefore);
      const out: string[] = [];
      expect(await runPrivacyCli(['export', '--tenant', String(c.tenantId), '--user', sasha, '--format', 'csv'], (s) => out.push(s), env)).to.equal(0);
      expect(out.join('\n')).to.contain('table,row,field,value');
      expect(await (eraseCourse({ db: c.db, tenantId: c.tenantId, contextId: courseB, actor: 'cli' }).then((r) => total(r.counts)))).to.equal(0);
    });

    it('retention folds old attempts into per-item totals and deletes only them', async () => {
      const now = Date.now();
      await c.answer(sasha, c.itemIds[2][1], true, { at: now - 40 * DAY, durationMs: 3000 });
      await c.answer(sasha, c.itemIds[2][1], false, { at: now - 35 * DAY, durationMs: 5000 });
      const recent = await c.db.selectFrom('attempt').select('id').where('created_at', '>=', now - 30 * DAY).execute();
      expect(await applyRetention({ db: c.db, retentionDays: 0, actor: 'cli' })).to.deep.equal({ cutoff: null, attemptsRemoved: 0, presentationsRemoved: 0 });
      const r = await applyRetention({ db: c.db, retentionDays: 30, actor: 'cli', now });
      expect(r.attemptsRemoved).to.equal(2);
      expect((await c.db.selectFrom('attempt').select('id').execute()).map((a) => a.id).sort()).to.deep.equal(recent.map((a) => a.id).sort());
      const agg = await c.db.selectFrom('attempt_aggregate').selectAll().where('item_id', '=', c.itemIds[2][1]).executeTakeFirstOrThrow();
      expect([agg.answers, agg.correct, Number(agg.duration_ms)]).to.deep.equal([2, 1, 8000]);
      expect((await c.db.selectFrom('audit_event').select('action').where('action', '=', 'privacy.retention.applied').execute()).length).to.equal(1);
    });

    it('admin: login refused with a wrong password, cookie HttpOnly and SameSite=Strict, CSRF required, erasure of a deployment after confirmation', async () => {
      const anon = new HttpBrowser();
      const login = await anon.get(`${c.tool.url}/admin`);
      expect(login.status).to.equal(401);
      expect(login.body).to.contain('type="password"');
      const wrong = await anon.post(`${c.tool.url}/admin/login`, { password: 'not-the-password' }, { headers: { origin: c.tool.url } });
      expect(wrong.status).to.equal(401);
      expect(wrong.body).to.contain('That password is not right.');
      expect((await anon.get(`${c.tool.url}/admin/audit`)).status).to.equal(401);
      const forged = new HttpBrowser();
      forged.setCookie(c.tool.url, `jejak_admin=${Date.now() + 3600_000}.AAAA; Path=/admin`);
      expect((await forged.get(`${c.tool.url}/admin`)).status).to.equal(401);

      const b = new HttpBrowser();
      const ok = await b.post(`${c.tool.url}/admin/login`, { password: ADMIN_PASSWORD }, { headers: { origin: c.tool.url }, followRedirects: false });
      expect(ok.status).to.equal(303);
      expect(ok.headers.get('set-cookie')).to.match(/jejak_admin=.*HttpOnly/i).and.to.match(/SameSite=Strict/i);
      const home = await b.get(`${c.tool.url}/admin`);
      expect(home.status).to.equal(200);
      expect(home.body).to.contain(c.sim.issuer).and.to.contain('needed: trained on erased data');
      const dataPage = await b.get(`${c.tool.url}/admin/data`);
      expect((await b.post(`${c.tool.url}/admin/erase`, { tenant: String(c.tenantId), scope: 'deployment' }, { headers: { origin: c.tool.url } })).status, 'no CSRF token').to.equal(403);
      const bad = await b.post(`${c.tool.url}/admin/erase`, { _csrf: csrfOf(dataPage.body), tenant: String(c.tenantId), scope: 'student' }, { headers: { origin: c.tool.url } });
      expect(bad.status).to.equal(400);
      // Groups for the fairness report, from "user id,group" lines; a malformed line is refused.
      const fair = await b.get(`${c.tool.url}/admin/fairness?tenant=${c.tenantId}`);
      const refused = await b.post(`${c.tool.url}/admin/groups`, { _csrf: csrfOf(fair.body), tenant: String(c.tenantId), course: c.courseId, lines: 'no comma here' }, { headers: { origin: c.tool.url } });
      expect(refused.status).to.equal(400);
      expect(refused.body).to.contain('line 1 is not');
      const saved = await b.post(`${c.tool.url}/admin/groups`, { _csrf: csrfOf(fair.body), tenant: String(c.tenantId), course: c.courseId, lines: `${sasha},Kelas 7B\r\n\r\n${sandi},Kelas 7C` }, { headers: { origin: c.tool.url } });
      expect(saved.status).to.equal(200);
      expect(saved.body).to.contain('Groups saved for 2 students.');
      expect(saved.body).to.match(new RegExp(`<caption>Course: ${c.courseId}</caption>[\\s\\S]*<th scope="row">Kelas 7B</th><td>3</td>`));
      const otherBefore = await counts({ tenantId: otherTenant });
      const step1 = await b.post(`${c.tool.url}/admin/erase`, { _csrf: csrfOf(dataPage.body), tenant: String(c.tenantId), scope: 'deployment' }, { headers: { origin: c.tool.url } });
      expect(step1.status).to.equal(200);
      expect(step1.body).to.contain('Confirm erasure');
      expect(total(await counts({ tenantId: c.tenantId })), 'nothing erased before confirmation').to.be.greaterThan(0);
      const step2 = await b.post(`${c.tool.url}/admin/erase`, { _csrf: csrfOf(step1.body), tenant: String(c.tenantId), scope: 'deployment', user: '', course: '', confirm: 'yes' }, { headers: { origin: c.tool.url } });
      expect(step2.status, step2.body).to.equal(200);
      expect(total(await counts({ tenantId: c.tenantId }))).to.equal(0);
      expect(await counts({ tenantId: otherTenant })).to.deep.equal(otherBefore);
      expect((await c.db.selectFrom('audit_event').select('actor').where('action', '=', 'privacy.erased.deployment').executeTakeFirstOrThrow()).actor).to.equal('admin');
    });

    it('admin pages pass axe-core in headless Chromium, in English and Bahasa Indonesia', async function () {
      if (!chromiumAvailable()) return this.skip();
      const axe = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
      const browser = await openChromium({ viewport: { width: 360, height: 800 } });
      try {
        const page = await browser.context.newPage();
        const check = async (url: string, lang: string) => {
          expect(await page.getAttribute('html', 'lang'), url).to.equal(lang);
          await page.evaluate(axe);
          const violations = await page.evaluate(async () => {
            const r = await (window as any).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
            return r.violations.map((v: any) => `${v.id}: ${v.nodes.map((n: any) => n.target.join(' ')).join(', ')}`);
          });
          expect(violations, url).to.deep.equal([]);
        };
        for (const lang of ['en', 'id']) {
          await page.goto(`${c.tool.url}/admin?lang=${lang}`);
          await check('login', lang);
          await page.goto(`${c.tool.url}/privacy?lang=${lang}`);
          await check('privacy', lang);
        }
        await page.goto(`${c.tool.url}/admin?lang=en`);
        await page.fill('#password', ADMIN_PASSWORD);
        await page.click('button[type=submit]');
        for (const lang of ['en', 'id']) {
          for (const path of ['/admin', '/admin/audit', '/admin/fairness', '/admin/data']) {
            const res = await page.goto(`${c.tool.url}${path}?lang=${lang}`);
            expect(res?.status(), path).to.equal(200);
            await check(path, lang);
          }
          await page.goto(`${c.tool.url}/admin/data?lang=${lang}`);
          await page.fill('#e-tenant', String(otherTenant));
          await page.click('#s-deployment');
          await page.click('form[action^="/admin/erase"] button[type=submit]');
          await check('confirm', lang);
        }
      } finally {
        await browser.close();
      }
    });
  });
}

describe('admin without a password', function () {
  this.timeout(60_000);
  it('is disabled with a clear page', async () => {
    const tdb = await testDialects()[0].create();
    const tool = await startTool(tdb);
    try {
      const r = await new HttpBrowser().get(`${tool.url}/admin`);
      expect(r.status).to.equal(503);
      expect(r.body).to.contain('Administration is turned off').and.to.contain('ADMIN_PASSWORD');
      const post = await new HttpBrowser().post(`${tool.url}/admin/login`, { password: '' }, { headers: { origin: tool.url } });
      expect(post.status).to.equal(503);
    } finally {
      await tool.close();
      await tdb.drop();
    }
  });
});
