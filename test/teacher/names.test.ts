import { expect } from 'chai';
import { testDialects, type TestDatabase } from '../support/db';
import { Classroom } from './classroom';

// Issue 12.3: a student is called by one name on every teacher page: the class list's (from the LMS roster).
for (const dialect of testDialects()) {
  describe(`one name per student on teacher pages on ${dialect.name}`, function () {
    this.timeout(90_000);
    let tdb: TestDatabase;
    let c: Classroom;

    before(async () => {
      tdb = await dialect.create();
      c = await Classroom.open(tdb);
    });
    after(async () => {
      await c?.close();
      await tdb?.drop();
    });

    it('the class list, the student page, the grades page and the grade problems name Sam as the roster does', async () => {
      const [sam] = c.studentIds;
      await c.launch(sam);
      await c.answer(sam, c.itemIds[0][0], true, { score: 40 });
      const teacher = await c.launch(c.teacherId);
      const classUrl = `${teacher.base}/teacher/activities/${c.activityId}`;
      const classPage = await teacher.browser.get(classUrl);
      expect(classPage.status).to.equal(200);
      const listed = new RegExp(`<a href="[^"]*/students/${sam}">([^<]+)</a>`).exec(classPage.body)?.[1];
      expect(listed).to.equal('Sam Student');

      const student = await teacher.browser.get(`${classUrl}/students/${encodeURIComponent(sam)}`);
      expect(student.status).to.equal(200);
      expect(/<title>([^<]*)<\/title>/.exec(student.body)?.[1]).to.contain(listed);
      expect(/<h1[^>]*>([\s\S]*?)<\/h1>/.exec(student.body)?.[1]).to.contain(listed);
      expect(student.body).to.not.contain(`Siswa ${sam}`).and.to.not.contain(`Student ${sam}`);

      const grades = await teacher.browser.get(`${classUrl}/grades`);
      expect(grades.status).to.equal(200);
      expect(grades.body).to.contain(`>${listed}<`);
      expect(grades.body).to.not.contain(`Siswa ${sam}`).and.to.not.contain(`Student ${sam}`);

      // A score the LMS refused for good is listed on the class page under the same name.
      await c.db.updateTable('score_outbox').set({ status: 'failed', problem: 'rejected' }).where('user_sub', '=', sam).execute();
      const withProblem = await teacher.browser.get(classUrl);
      expect(withProblem.body).to.match(new RegExp(`<li><a href="[^"]*/students/${sam}">${listed}</a>: `));
    });

    it('a user the roster does not name keeps the pseudonym', async () => {
      const teacher = await c.launch(c.teacherId);
      const page = await teacher.browser.get(`${teacher.base}/teacher/activities/${c.activityId}/students/nobody-7`);
      expect(page.status).to.equal(200);
      expect(/<title>([^<]*)<\/title>/.exec(page.body)?.[1]).to.match(/(Siswa|Student) nobody-7/);
    });
  });
}
