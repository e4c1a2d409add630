import { expect } from 'chai';
import { testDialects, type TestDatabase } from '../support/db';
import { chromiumAvailable, openChromium } from '../support/chromium';
import { launch } from '../support/http-browser';
import { csrfField } from '../support/csrf';
import { Classroom } from './classroom';
import { studentOverrides } from '../../src/teacher/overrides';
import { normaliseRole } from '../../src/teacher/roster';
import { toCsv } from '../../src/teacher/csv';
import { expectAccessiblePage } from '../support/axe';

const pct = (p: number) => Math.round(p * 100);

for (const dialect of testDialects()) {
  describe(`teacher home on ${dialect.name}`, function () {
    this.timeout(90_000);
    let tdb: TestDatabase;
    let c: Classroom;
    let teacher: Awaited<ReturnType<Classroom['launch']>>;
    let classUrl: string;
    let sam: string, sasha: string, sandi: string;

    before(async () => {
      tdb = await dialect.create();
      c = await Classroom.open(tdb);
      [sam, sasha, sandi] = c.studentIds;
      await c.launch(sam);
      await c.launch(sasha);
      const t0 = Date.now() - 60_000;
      // Sam: twelve wrong answers on the first skill. Sasha: eight right answers on every skill.
      for (let i = 0; i < 12; i++) await c.practise(sam, c.itemIds[0][i % 2], false, { at: t0 + i * 1000, durationMs: 20_000 });
      for (let i = 0; i < 24; i++) await c.practise(sasha, c.itemIds[i % 3][i % 2], true, { at: t0 + i * 1000, durationMs: 6000 });
      teacher = await c.launch(c.teacherId);
      classUrl = `${teacher.base}/teacher/activities/${c.activityId}`;
    });
    after(async () => {
      await c?.close();
      await tdb?.drop();
    });

    it('shows the heatmap the attempts imply, class mastery, and flags with reasons; NRPS lists who never launched as not started', async () => {
      const page = await teacher.browser.get(classUrl);
      expect(page.status, page.body).to.equal(200);
      const estimates = await c.tool.jejak.tracer.classEstimates(c.tenantId, c.courseId, (await c.db.selectFrom('activity').select('bank_id').where('id', '=', c.activityId).executeTakeFirstOrThrow()).bank_id, [sam, sasha]);
      const row = (sub: string) => {
        const m = new RegExp(`<tr(?: class="act")?><th scope="row"><a href="[^"]*/students/${sub}">Sa\\w+ \\w+</a></th>(.*?)</tr>`).exec(page.body);
        expect(m, `row of ${sub}`).to.not.equal(null);
        return m![1];
      };
      const samRow = row(sam);
      const p = (sub: string, skill: number) => estimates.get(sub)!.get(skill)!.p;
      expect(samRow).to.contain(`<td class="m-low">${pct(p(sam, c.skillIds[0]))}%</td>`);
      expect(pct(p(sam, c.skillIds[0]))).to.be.lessThan(40);
      // Skills Sam has not tried show no invented number.
      expect(samRow.match(/not tried yet/g)).to.have.length(2);
      for (const s of c.skillIds) expect(row(sasha)).to.contain(`${pct(p(sasha, s))}%`);
      expect(p(sasha, c.skillIds[0])).to.be.greaterThan(p(sam, c.skillIds[0]));
      // Names come from NRPS (the simulator shares them) and are not stored by default.
      expect(page.body).to.contain('Sam Student').and.to.contain('Sandi Learner');
      const cached = await c.db.selectFrom('roster_cache').select('members').executeTakeFirstOrThrow();
      expect(cached.members).not.to.contain('Sam Student');
      expect(JSON.parse(cached.members).find((m: { userId: string }) => m.userId === sandi).roles).to.deep.equal([normaliseRole('Learner')]);
      // Twelve wrong answers: practice paused the skill after six, and again after six more.
      expect(page.body).to.match(/Sam Student<\/a>\s*<ul><li><span class="flag flag-struggling">Struggling<\/span> Stuck on Menjumlah pecahan: practice paused it 2 times after answers that did not raise the estimate \(12 answers/);
      expect(page.body).to.match(/flag-at_risk">At risk<\/span> 0 of 3 skills mastered after 12 answers; 0% right/);
      expect(page.body).to.match(/Sandi Learner<\/a>\s*<ul><li><span class="flag flag-not_started">Not started<\/span>/);
      expect(page.body).not.to.match(/Sasha Scholar<\/a>\s*<ul>/);
      expect(page.body).to.contain('Hardest skills for this class');
      // q0-0: Sam's six wrong answers (20 s each) and four of Sasha's right ones (6 s each).
      expect(page.body).to.match(/<th scope="row"><a href="[^"]*\/items\/\d+">q0-0<\/a><\/th><td>10<\/td><td>40%<\/td><td>20 s<\/td>/);
    });

    it('shows a student: mastery over time as SVG, the answers, and takes the teacher’s decisions', async () => {
      const url = `${classUrl}/students/${sasha}`;
      const page = await teacher.browser.get(url);
      expect(page.status).to.equal(200);
      const charts = [...page.body.matchAll(/<polyline class="trace" points="([^"]+)"/g)].map((m) => m[1].split(' ').map((p) => Number(p.split(',')[1])));
      expect(charts).to.have.length(3);
      for (const ys of charts) {
        expect(ys, 'one point per answer on the skill, as recorded then').to.have.length(8);
        for (let i = 1; i < ys.length; i++) expect(ys[i], 'all right: the line never falls (SVG y grows downwards)').to.be.at.most(ys[i - 1]);
        expect(ys[ys.length - 1]).to.be.lessThan(ys[0]);
      }
      expect(page.body).to.contain('<title id="chart-0-t">Mastery of Menjumlah pecahan over time</title>');
      expect((page.body.match(/<td>right<\/td>/g) ?? []).length).to.equal(24);
      const post = (path: string, form: Record<string, string>) => teacher.browser.post(`${url}/${path}`, { ...form, ...csrfField(c.tool, url) }, { headers: { origin: c.tool.url } });
      expect((await post('skill', { skill: String(c.skillIds[1]), change: 'unlock' })).status).to.equal(200);
      await post('skill', { skill: String(c.skillIds[2]), change: 'skip' });
      await post('fixed-order', { fixed: '1' });
      expect(await studentOverrides(c.db, { tenantId: c.tenantId, activityId: c.activityId, userSub: sasha }))
        .to.deep.equal({ unlockedSkills: [c.skillIds[1]], skippedSkills: [c.skillIds[2]], fixedOrder: true });
      await post('reset', { confirm: 'yes' });
      const left = await c.db.selectFrom('attempt').select('id').where('user_sub', '=', sasha).execute();
      expect(left).to.have.length(0);
      const actions = (await c.db.selectFrom('audit_event').select('action').where('actor', '=', `lti:${c.teacherId}`).execute()).map((a) => a.action);
      expect(actions).to.include.members(['teacher.skill.unlocked', 'teacher.skill.skipped', 'teacher.fixed_order.set', 'teacher.progress.reset']);
    });

    it('exports the class view and the answers as CSV with a BOM', async () => {
      const csv = await teacher.browser.get(`${classUrl}/attempts.csv`);
      expect(csv.headers.get('content-type')).to.match(/^text\/csv; charset=utf-8/);
      expect(csv.body.replace(/^\uFEFF/, '').split('\r\n')[0]).to.equal('Time (UTC),LTI user id,Item,Skills,Right answers,Hints,Seconds');
      expect([...Buffer.from(toCsv([['Siswa', '=1+1']]))].slice(0, 3), 'UTF-8 BOM').to.deep.equal([0xef, 0xbb, 0xbf]);
      expect(toCsv([['Siswa', '=1+1', 'a,b']])).to.equal("\uFEFFSiswa,'=1+1,\"a,b\"\r\n");
      expect(csv.body.split('\r\n').filter((l) => l.includes(`,${sam},`))).to.have.length(12);
      const cls = await teacher.browser.get(`${classUrl}/class.csv`);
      expect(cls.body).to.match(/Sandi Learner,6,0,0,,,,Has not started the activity yet\./);
    });

    it('opens the student from an LtiSubmissionReviewRequest', async () => {
      const r = await launch(c.sim, { clientId: c.clientId, userId: c.teacherId, courseId: c.courseId, activityId: c.linkId, messageType: 'LtiSubmissionReviewRequest', forUserId: sam });
      expect(r.final.status, r.final.body).to.equal(200);
      expect(r.final.url).to.match(new RegExp(`/teacher/activities/${c.activityId}/students/${sam}$`));
    });

    it('refuses learners (403) and the teacher of another course (404)', async () => {
      const learner = await c.launch(sam);
      for (const path of ['/teacher', `/teacher/activities/${c.activityId}`, `/teacher/activities/${c.activityId}/class.csv`]) {
        expect((await learner.browser.get(learner.base + path)).status, path).to.equal(403);
      }
      expect((await learner.browser.post(`${learner.base}/teacher/activities/${c.activityId}/students/${sam}/reset`, { confirm: 'yes', ...csrfField(c.tool, learner.base) }, { headers: { origin: c.tool.url } })).status).to.equal(403);
      const other = c.sim.addCourse({ label: 'B', title: 'Course B' });
      c.sim.enrol(other.id, c.teacherId, 'Instructor');
      const link = c.sim.addActivity({ courseId: other.id, clientId: c.clientId, title: 'B' });
      const r = await launch(c.sim, { clientId: c.clientId, userId: c.teacherId, courseId: other.id, activityId: link });
      const base = /^(.*\/s\/[\w-]+)\//.exec(r.final.url)![1];
      expect((await r.browser.get(`${base}/teacher/activities/${c.activityId}`)).status).to.equal(404);
      expect((await r.browser.get(`${base}/teacher/activities/${c.activityId}/students/${sam}`)).status).to.equal(404);
      expect((await r.browser.post(`${base}/teacher/activities/${c.activityId}/students/${sam}/reset`, { confirm: 'yes', ...csrfField(c.tool, base) }, { headers: { origin: c.tool.url } })).status).to.equal(404);
      const list = await r.browser.get(`${base}/teacher`);
      expect(list.body).not.to.contain(`activities/${c.activityId}"`);
    });

    it('flags a student who opened the activity but has not answered for a while as idle', async () => {
      // Sandi opens the activity; eleven minutes later she still has not answered.
      const sandiLaunch = await c.launch(sandi);
      let page = await teacher.browser.get(classUrl);
      expect(page.body).not.to.match(/Sandi Learner<\/a>\s*<ul><li><span class="flag flag-idle">/);
      await c.db.updateTable('launch_session').set({ created_at: Date.now() - 11 * 60_000 }).where('id', '=', sandiLaunch.sid).execute();
      page = await teacher.browser.get(classUrl);
      expect(page.body).to.match(/Sandi Learner<\/a>\s*<ul><li><span class="flag flag-idle">Idle<\/span> Opened the activity but has not answered for 11 minutes\./);
    });

    it('passes axe-core in headless Chromium at 360 px, in English and Bahasa Indonesia', async function () {
      if (!chromiumAvailable()) return this.skip();
      // A session without a cookie binding, as one completed through platform storage, opens in a fresh browser.
      await c.db.updateTable('launch_session').set({ binding: null }).where('id', '=', teacher.sid).execute();
      const browser = await openChromium({ viewport: { width: 360, height: 800 } });
      try {
        const page = await browser.context.newPage();
        for (const lang of ['en', 'id']) {
          for (const url of [`${teacher.base}/?lang=${lang}`, `${teacher.base}/teacher?lang=${lang}`, `${classUrl}?lang=${lang}`, `${classUrl}/students/${sam}?lang=${lang}`]) {
            await expectAccessiblePage(page, url, lang);
          }
        }
      } finally {
        await browser.close();
      }
    });
  });
}
