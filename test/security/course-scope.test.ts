import { expect } from 'chai';
import { testDialects, type TestDatabase } from '../support/db';
import { csrfField } from '../support/csrf';
import { audit } from '../../src/db/audit';
import type { StudentData } from '../../src/privacy/data';
import { openSite } from './support';
import type { Classroom } from '../teacher/classroom';

for (const dialect of testDialects()) {
  describe(`a teacher's powers end at their course (${dialect.name})`, function () {
    this.timeout(120_000);
    let tdb: TestDatabase;
    let c: Classroom;
    let practiceLink: string;
    let practiceActivityId: number;

    beforeEach(async () => {
      tdb = await dialect.create();
      ({ c, practiceLink, practiceActivityId } = await openSite(tdb));
    });
    afterEach(async () => {
      await c?.close();
      await tdb?.drop();
    });

    it("a course's teacher exports a student's data of that course only, and only for a student of the course", async () => {
      const [sam, sasha] = c.studentIds as [string, string];
      const courseA = c.courseId;
      const activityA = c.activityId;
      const itemA = c.itemIds[0]![0]!;
      // Course B of the same school: Terry teaches it too, Sam learns there.
      const courseB = c.sim.addCourse({ label: 'B', title: 'Course B' }).id;
      c.sim.enrol(courseB, c.teacherId, 'Instructor');
      c.sim.enrol(courseB, sam, 'Learner');
      const linkB = c.sim.addActivity({ courseId: courseB, clientId: c.clientId, title: 'B' });
      const activityB = await c.seedActivity(courseB, linkB);
      const itemB = c.itemIds[0]![0]!;

      // In course A: Sam answered (and the log says so), and course A's teacher opened Sam's page.
      await c.answer(sam, itemA, true, { activityId: activityA, contextId: courseA });
      await audit(c.db, { tenantId: c.tenantId, contextId: courseA, actor: `lti:${sam}`, action: 'practice.answer', subject: 'attempt:course-a', details: {}, at: Date.now() });
      const teacherA = await c.launch(c.teacherId);
      expect((await teacherA.browser.get(`${teacherA.base}/teacher/activities/${activityA}/students/${sam}`)).status).to.equal(200);
      // In course B: Sam answered too.
      await c.answer(sam, itemB, false, { activityId: activityB, contextId: courseB });
      await audit(c.db, { tenantId: c.tenantId, contextId: courseB, actor: `lti:${sam}`, action: 'practice.answer', subject: 'attempt:course-b', details: {}, at: Date.now() });

      const teacherB = await c.launch(c.teacherId, { courseId: courseB, activityId: linkB });
      const res = await teacherB.browser.get(`${teacherB.base}/privacy/students/${sam}/export.json`);
      expect(res.status).to.equal(200);
      const data = JSON.parse(res.body) as StudentData;
      expect(data.contextId).to.equal(courseB);
      const log = data.tables.audit_log as { context_id: string | null; actor: string; subject: string }[];
      expect(log.map((e) => e.subject)).to.include('attempt:course-b');
      // Nothing of course A (Sam's answer there, its teacher's reading), and no one's actions but Sam's.
      expect(log.filter((e) => e.context_id !== courseB || e.actor !== `lti:${sam}`)).to.deep.equal([]);
      expect((data.tables.attempts as { context_id: string }[]).map((a) => a.context_id)).to.deep.equal([courseB]);

      // Sasha has no part in course B, and "nobody" no part anywhere: not found, and nothing is logged as exported.
      for (const sub of [sasha, 'nobody-at-all']) {
        expect((await teacherB.browser.get(`${teacherB.base}/privacy/students/${sub}/export.json`)).status, sub).to.equal(404);
      }
      const exported = await c.db.selectFrom('audit_event').select('subject').where('action', '=', 'privacy.exported').execute();
      expect(exported.map((e) => e.subject)).to.deep.equal([`user:${sam}`]);
    });

    it('"Reset progress" starts the student over: the activity no longer opens on "You finished"', async () => {
      const sam = c.studentIds[0]!;
      const item = await c.db.selectFrom('item').innerJoin('activity', 'activity.bank_id', 'item.bank_id').select('item.id')
        .where('activity.id', '=', practiceActivityId).orderBy('item.id').executeTakeFirstOrThrow();
      // Sam answered three and finished, as practice records it (attempts, then the progress row).
      const now = Date.now();
      for (const at of [now - 3000, now - 2000, now - 1000]) await c.answer(sam, item.id, true, { activityId: practiceActivityId, at });
      await c.db.insertInto('practice_progress').values({
        tenant_id: c.tenantId, context_id: c.courseId, activity_id: practiceActivityId, user_sub: sam, preview: 0,
        answered: 3, correct: 3, started_at: now - 3000, completed_at: now - 1000, updated_at: now - 1000,
      }).execute();
      const student = await c.launch(sam, { activityId: practiceLink });
      expect((await student.browser.get(`${student.base}/practice`)).url).to.match(/\/practice\/summary$/);

      const teacher = await c.launch(c.teacherId, { activityId: practiceLink });
      const reset = await teacher.browser.post(`${teacher.base}/teacher/activities/${practiceActivityId}/students/${sam}/reset`,
        { confirm: 'yes', ...csrfField(c.tool, teacher.base) }, { headers: { origin: c.tool.url } });
      expect(reset.status).to.equal(200);

      const again = await student.browser.get(`${student.base}/practice`);
      expect(again.status).to.equal(200);
      expect(again.url).to.match(/\/practice$/);
      const left = (table: 'attempt' | 'practice_progress') => c.db.selectFrom(table).select('user_sub')
        .where('activity_id', '=', practiceActivityId).where('user_sub', '=', sam).where('preview', '=', 0).execute();
      expect(await left('attempt')).to.deep.equal([]);
      // The page just shown opened a new progress-less presentation; nothing else of before the reset is left.
      expect(await left('practice_progress')).to.deep.equal([]);
      const shown = await c.db.selectFrom('practice_presentation').select('presented_at').where('activity_id', '=', practiceActivityId).where('user_sub', '=', sam).execute();
      expect(shown.every((p) => p.presented_at > now)).to.equal(true);
      const logged = await c.db.selectFrom('audit_event').select('subject').where('action', '=', 'teacher.progress.reset').execute();
      expect(logged.map((e) => e.subject)).to.deep.equal([`activity:${practiceActivityId}:user:${sam}`]);
    });
  });
}
