import { expect } from 'chai';
import type { MoodleSim } from '../platform';
import { launch, parseForm } from '../support/http-browser';
import { testDialects, type TestDatabase } from '../support/db';
import type { RunningTool } from '../support/tool';
import { csrfField } from '../support/csrf';
import { answerForm, placeActivity, settingsForm, type TestBank, startPracticeClass, inFrame } from './support';

const DL = 'https://purl.imsglobal.org/spec/lti-dl/claim/';

for (const dialect of testDialects()) {
  describe(`practice through the platform on ${dialect.name}`, function () {
    this.timeout(60_000);
    let tdb: TestDatabase;
    let tool: RunningTool;
    let sim: MoodleSim;
    let clientId: string;
    let courseId: string;
    let teacherId: string;
    let students: string[];
    let bank: TestBank;
    let linkId: string;

    before(async () => {
      tdb = await dialect.create();
      ({ tool, sim, clientId, courseId, teacherId, students, bank } = await startPracticeClass(tdb));
    });
    after(async () => {
      await sim?.close();
      await tool?.close();
      await tdb?.drop();
    });

    const db = () => tool.jejak.conn.db;

    it('a teacher places an activity by deep linking: a signed response with a line item, custom parameter and data echoed', async () => {
      // A high goal and at least ten items: the cold-start estimate alone cannot end the practice in the tests below.
      const placed = await placeActivity(sim, clientId, courseId, teacherId, bank, { title: 'Pecahan minggu 3', threshold: '95', length: 'range', min_items: '10', max_items: '40' }, 'opaque-data-42');
      linkId = placed.linkId;
      expect(placed.answerPage).to.contain('/static/autopost.js');
      const record = sim.deepLinkResponses.at(-1)!;
      expect(record.claims[`${DL}data`]).to.equal('opaque-data-42');
      expect(record.claims.iss).to.equal(clientId);
      expect(record.claims.aud).to.equal(sim.issuer);
      const items = record.contentItems;
      expect(items).to.have.length(1);
      const activity = await db().selectFrom('activity').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
      expect(items[0]).to.deep.include({ type: 'ltiResourceLink', title: 'Pecahan minggu 3', url: `${tool.url}/lti/launch`, custom: { jejak_activity: activity.resource_id } });
      expect(items[0].lineItem).to.deep.equal({ label: 'Pecahan minggu 3', scoreMaximum: 100, resourceId: activity.resource_id, tag: 'jejak-practice' });
      expect(JSON.parse(activity.settings)).to.deep.equal({ skillIds: bank.skills, masteryThreshold: 0.95, length: { kind: 'range', min: 10, max: 40 }, gradeMode: 'mastery' });
      expect(sim.activityLineItem(linkId)?.scoreMaximum).to.equal(100);
    });

    it('refuses settings without a skill, saying so in the form', async () => {
      const r = await launch(sim, { clientId, userId: teacherId, courseId, messageType: 'LtiDeepLinkingRequest', locale: 'id' });
      const page = await r.browser.post(`${r.final.url.replace(/\/$/, '')}/practice/place`, settingsForm(bank, { skill: [], ...csrfField(tool, r.final.url) }), inFrame(r, r.final));
      expect(page.status).to.equal(400);
      expect(page.body).to.contain('Pilih paling sedikit satu keterampilan.');
      expect(page.body).to.not.contain('name="JWT"');
    });

    it('a student practises: item, reason, feedback, mastery changing; every answer stored; relaunch resumes', async () => {
      const r = await launch(sim, { clientId, userId: students[0], courseId, activityId: linkId });
      expect(r.final.status, r.final.body).to.equal(200);
      expect(r.final.body).to.contain('Adding fractions');
      // Nothing is known yet: the skill is introduced as new and its bar says so, with no invented number.
      expect(r.final.body).to.match(/Adding fractions is new for you: this is your first question on it\. You have [a-z ]+ — about \d+% — to get it right\./);
      expect(r.final.body).to.match(/<label for="mastery-\d+">Adding fractions<\/label>\s*<span class="bar-row"><span class="not-tried" id="mastery-\d+">not tried yet<\/span>/);
      const firstToken = parseForm(r.final.body, r.final.url)!.fields.token;

      // Leaving and coming back shows the same item.
      const again = await launch(sim, { clientId, userId: students[0], courseId, activityId: linkId });
      expect(parseForm(again.final.body, again.final.url)!.fields.token).to.equal(firstToken);

      let page = again.final;
      const masteries: string[] = [];
      for (let i = 0; i < 6; i++) {
        const { action, fields } = await answerForm(db(), bank, page, true);
        const feedback = await again.browser.post(action, fields, inFrame(again, page));
        expect(feedback.status).to.equal(200);
        expect(feedback.url).to.match(/\/practice\/answered\//);
        expect(feedback.body).to.contain('Correct!');
        masteries.push(/Adding fractions<\/label>[\s\S]*?(\d+)%<\/span>/.exec(feedback.body)![1]);
        if (i === 0) expect(feedback.body).to.match(/<span class="change">not tried yet → \d+%<\/span>/);
        const next = parseForm(feedback.body, feedback.url);
        expect(next, 'no form on the feedback page').to.equal(undefined);
        const nextUrl = /id="next" href="([^"]+)"/.exec(feedback.body)![1];
        page = await again.browser.get(new URL(nextUrl.replace(/&amp;/g, '&'), feedback.url).toString(), inFrame(again, feedback));
        expect(page.status).to.equal(200);
      }
      expect(Number(masteries.at(-1))).to.be.greaterThan(Number(masteries[0]));
      const attempts = await db().selectFrom('attempt').selectAll().where('user_sub', '=', students[0]).execute();
      expect(attempts).to.have.length(6);
      expect(attempts.every((a) => a.correct === 1 && a.preview === 0)).to.equal(true);
      const outbox = await db().selectFrom('score_outbox').selectAll().where('user_sub', '=', students[0]).execute();
      expect(outbox).to.have.length(1);
      expect(outbox[0].activity_progress).to.equal('InProgress');
      const audit = await db().selectFrom('audit_event').select('action').where('actor', '=', `lti:${students[0]}`).execute();
      expect(audit.filter((a) => a.action === 'practice.answer')).to.have.length(6);
    });

    it('a wrong answer gets the feedback for that choice and, on request, the worked solution (recorded)', async () => {
      const r = await launch(sim, { clientId, userId: students[1], courseId, activityId: linkId });
      const { action, fields } = await answerForm(db(), bank, r.final, false);
      const feedback = await r.browser.post(action, fields, inFrame(r, r.final));
      expect(feedback.body).to.contain('Not quite.');
      expect(feedback.body).to.contain('The denominator stays the same.');
      const solution = await r.browser.get(`${feedback.url}?solution=1`, inFrame(r, feedback));
      expect(solution.body).to.contain('Worked solution');
      const shown = await db().selectFrom('practice_presentation').select('solution_shown').where('token', '=', fields.token).executeTakeFirstOrThrow();
      expect(shown.solution_shown).to.equal(1);
    });

    it('hints on request, each recorded with the attempt', async () => {
      const r = await launch(sim, { clientId, userId: students[2], courseId, activityId: linkId });
      const token = parseForm(r.final.body, r.final.url)!.fields.token;
      const hinted = await r.browser.post(r.final.url.replace(/\/$/, '') + '/practice/hint', { token, hint: '1', ...csrfField(tool, r.final.url) }, inFrame(r, r.final));
      expect(hinted.body).to.contain('Add the numerators.');
      expect(hinted.body).to.contain('No more hints for this question.');
      const { action, fields } = await answerForm(db(), bank, hinted, true);
      await r.browser.post(action, fields, inFrame(r, hinted));
      const attempt = await db().selectFrom('attempt').select('hints_used').where('user_sub', '=', students[2]).executeTakeFirstOrThrow();
      expect(attempt.hints_used).to.equal(1);
    });

    it('a resubmitted answer form creates no second attempt', async () => {
      const r = await launch(sim, { clientId, userId: students[2], courseId, activityId: linkId });
      const { action, fields } = await answerForm(db(), bank, r.final, true);
      const count = async () => (await db().selectFrom('attempt').select('id').where('user_sub', '=', students[2]).execute()).length;
      const before = await count();
      const [a, b] = await Promise.all([r.browser.post(action, fields, inFrame(r, r.final)), r.browser.post(action, fields, inFrame(r, r.final))]);
      const c = await r.browser.post(action, fields, inFrame(r, r.final));
      for (const x of [a, b, c]) expect(x.url).to.match(/\/practice\/answered\//);
      expect(await count()).to.equal(before + 1);
    });

    it('a teacher\'s preview is stored as preview and never counts: no score, no tracer state', async () => {
      const r = await launch(sim, { clientId, userId: teacherId, courseId, activityId: linkId });
      expect(r.final.body).to.contain('Teacher home');
      const practice = await r.browser.get(r.final.url + 'practice', inFrame(r, r.final));
      expect(practice.body).to.contain('Preview: you are trying this activity');
      const { action, fields } = await answerForm(db(), bank, practice, true);
      const feedback = await r.browser.post(action, fields, inFrame(r, practice));
      expect(feedback.body).to.contain('Correct!');
      const attempts = await db().selectFrom('attempt').selectAll().where('user_sub', '=', teacherId).execute();
      expect(attempts.map((a) => a.preview)).to.deep.equal([1]);
      expect(await db().selectFrom('score_outbox').selectAll().where('user_sub', '=', teacherId).execute()).to.deep.equal([]);
      // The tracer may keep a state for the teacher, but it has folded in no preview answer.
      const states = await db().selectFrom('kt_state').select('steps').where('user_sub', '=', teacherId).execute();
      expect(states.every((st) => st.steps === 0)).to.equal(true);
    });

    it('a copied activity keeps working: same course reuses it, another course gets its own copy of the settings', async () => {
      const original = await db().selectFrom('activity').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
      const custom = { jejak_activity: original.resource_id };
      const sameCourse = sim.addActivity({ courseId, clientId, title: 'Copy', custom, lineItem: { scoreMaximum: 100 } });
      const s1 = await launch(sim, { clientId, userId: students[0], courseId, activityId: sameCourse });
      // The reason names the skill's estimate, once when the item's chance rounds to the same number.
      expect(s1.final.body).to.match(/Jejak estimates your chance on a new \S[^<]* question(, this one too,)? at (about )?\d+%|is new for you/);
      const other = sim.addCourse({ label: 'LTI102', title: 'Course 102' });
      sim.enrol(other.id, students[0], 'Learner');
      const otherLink = sim.addActivity({ courseId: other.id, clientId, title: 'Restored', custom, lineItem: { scoreMaximum: 100 } });
      const s2 = await launch(sim, { clientId, userId: students[0], courseId: other.id, activityId: otherLink });
      expect(s2.final.body).to.match(/is new for you: this is your first question on it/);
      const links = await db().selectFrom('activity_link').selectAll().where('resource_link_id', 'in', [sameCourse, otherLink]).orderBy('context_id').execute();
      expect(links.find((l) => l.resource_link_id === sameCourse)!.activity_id).to.equal(original.id);
      const copy = await db().selectFrom('activity').selectAll().where('id', '=', links.find((l) => l.resource_link_id === otherLink)!.activity_id).executeTakeFirstOrThrow();
      expect([copy.context_id, JSON.parse(copy.settings), copy.resource_id]).to.deep.equal([other.id, JSON.parse(original.settings), original.resource_id]);
      expect(copy.id).to.not.equal(original.id);
      expect(copy.line_item_url).to.equal(sim.activityLineItem(otherLink)!.url);
    });

    it('a link without an activity: the student is told to ask the teacher; the teacher sets it up there', async () => {
      const bare = sim.addActivity({ courseId, clientId, title: 'Bare link' });
      const s = await launch(sim, { clientId, userId: students[1], courseId, activityId: bare, locale: 'id' });
      expect(s.final.body).to.contain('Latihan ini belum disiapkan. Silakan beri tahu gurumu.');
      const t = await launch(sim, { clientId, userId: teacherId, courseId, activityId: bare });
      expect(t.final.body).to.contain('Set up this activity');
      const done = await t.browser.post(`${t.final.url.replace(/\/$/, '')}/practice/setup`, settingsForm(bank, { length: 'range', min_items: '5', max_items: '12', grade_mode: 'accuracy', ...csrfField(tool, t.final.url) }), inFrame(t, t.final));
      expect(done.status, done.body).to.equal(200);
      expect(done.body).to.contain('Teacher home');
      const s2 = await launch(sim, { clientId, userId: students[1], courseId, activityId: bare });
      expect(s2.final.body).to.contain('of at most 12 answered');
    });
  });
}
