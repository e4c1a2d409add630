import { expect } from 'chai';
import type { MoodleSim } from '../platform';
import { launch, parseForm, type LaunchResult } from '../support/http-browser';
import { testDialects, type TestDatabase } from '../support/db';
import type { RunningTool } from '../support/tool';
import { answerForm, placeActivity, type TestBank, startPracticeClass } from '../practice/support';
import { eventually, FAST_GRADES } from '../teacher/classroom';
import { expectGradebookShows, gradesPage } from '../support/gradebook';

type Page = { status: number; body: string; url: string };

for (const dialect of testDialects()) {
  describe(`grades in the gradebook, end to end, on ${dialect.name}`, function () {
    this.timeout(90_000);
    let tdb: TestDatabase;
    let tool: RunningTool;
    let sim: MoodleSim;
    let clientId: string;
    let courseId: string;
    let teacherId: string;
    let students: string[];
    let bank: TestBank;
    let linkId: string;
    let lineItemId: number;

    before(async () => {
      tdb = await dialect.create();
      ({ tool, sim, clientId, courseId, teacherId, students, bank } = await startPracticeClass(tdb, { grades: FAST_GRADES }));
      // Four items exactly, graded on accuracy, with a goal the cold start cannot reach in four answers.
      const placed = await placeActivity(sim, clientId, courseId, teacherId, bank, { title: 'Empat soal', threshold: '95', length: 'range', min_items: '4', max_items: '4', grade_mode: 'accuracy' });
      linkId = placed.linkId;
      lineItemId = sim.activityLineItem(linkId)!.id;
    });
    after(async () => {
      await sim?.close();
      await tool?.close();
      await tdb?.drop();
    });

    const db = () => tool.jejak.conn.db;
    const delivered = (sub: string) => eventually(async () => {
      const row = await db().selectFrom('score_outbox').select(['status', 'version', 'delivered_version']).where('user_sub', '=', sub).executeTakeFirst();
      return row?.status === 'delivered' && row.delivered_version === row.version;
    }, 15_000, `the score of ${sub} delivered`);

    /** Answers the item on `page` through the practice form; returns the next item's page (or the feedback page after the last). */
    async function answer(r: LaunchResult, page: Page, right: boolean): Promise<Page> {
      const { action, fields } = await answerForm(db(), bank, page, right);
      const feedback = await r.browser.post(action, fields, { context: { ...r.context, initiator: page.url } });
      expect(feedback.status, feedback.body).to.equal(200);
      const next = /id="next" href="([^"]+)"/.exec(feedback.body);
      if (!next) return feedback;
      return r.browser.get(new URL(next[1].replace(/&amp;/g, '&'), feedback.url).toString(), { context: { ...r.context, initiator: feedback.url } });
    }

    it('a running grade shows in the gradebook while the student practises, and the final grade when a fixed-length activity ends short of the goal', async () => {
      const sam = students[0];
      const r = await launch(sim, { clientId, userId: sam, courseId, activityId: linkId });
      expect(r.final.status, r.final.body).to.equal(200);
      let page: Page = await answer(r, r.final, true);
      page = await answer(r, page, false);
      await delivered(sam);
      // Moodle keeps scoreGiven only from a FullyGraded score: a Pending one leaves "-" in the gradebook.
      expect(sim.grade(lineItemId, sam), 'the running grade in the gradebook').to.include({ scoreGiven: 50, activityProgress: 'InProgress', gradingProgress: 'FullyGraded' });

      page = await answer(r, page, true);
      page = await answer(r, page, true);
      expect(parseForm(page.body, page.url), 'no fifth item').to.equal(undefined);
      const progress = await db().selectFrom('practice_progress').select('completed_at').where('user_sub', '=', sam).executeTakeFirstOrThrow();
      expect(progress.completed_at, 'the activity is finished').to.not.equal(null);
      await delivered(sam);
      expect(sim.grade(lineItemId, sam), 'the final grade in the gradebook').to.include({ scoreGiven: 75, activityProgress: 'Completed', gradingProgress: 'FullyGraded' });
      await expectGradebookShows(sim, lineItemId, sam, 75);

      const grades = await gradesPage(sim, tool, { clientId, courseId, linkId, teacherId }, 'en');
      expect(grades.status, grades.body).to.equal(200);
      expect(grades.row(sam)).to.contain('75 of 100').and.to.contain('Delivered 20').and.to.contain('Yes.');
    });

    it('the teacher\'s page says so when the gradebook shows nothing, or another grade, than what was delivered', async () => {
      const [, sasha, sandi] = students;
      for (const s of [sasha, sandi]) {
        const r = await launch(sim, { clientId, userId: s, courseId, activityId: linkId });
        await answer(r, r.final, true);
        await delivered(s);
      }
      // In the LMS, someone changes Sasha's grade and empties Sandi's.
      const changed = sim.grade(lineItemId, sasha)!;
      sim.grades.set(`${lineItemId}:${sasha}`, { ...changed, scoreGiven: 30 });
      const emptied = sim.grade(lineItemId, sandi)!;
      sim.grades.set(`${lineItemId}:${sandi}`, { ...emptied, scoreGiven: null });

      const en = await gradesPage(sim, tool, { clientId, courseId, linkId, teacherId }, 'en', { fresh: true });
      expect(en.row(sasha)).to.contain('100 of 100').and.to.contain('30 of 100').and.to.contain('No: the gradebook shows another grade');
      expect(en.row(sandi)).to.contain('100 of 100').and.to.contain('nothing (empty)').and.to.contain('No: the gradebook shows nothing');
      expect(en.row(students[0])).to.contain('Yes.');
      expect(en.body).to.match(/2 students(&#x27;|&#39;|') gradebook entries differ/);

      const id = await gradesPage(sim, tool, { clientId, courseId, linkId, teacherId }, 'id', { fresh: true });
      expect(id.row(sasha)).to.contain('30 dari 100').and.to.contain('Tidak: buku nilai menunjukkan nilai lain');
      expect(id.row(sandi)).to.contain('kosong').and.to.contain('Tidak: buku nilai kosong');
      expect(id.body).to.contain('Isi buku nilai 2 siswa berbeda');
    });

    it('the class page counts what was delivered, waiting and not sent, instead of promising it all arrived', async () => {
      const t = await launch(sim, { clientId, userId: teacherId, courseId, activityId: linkId, locale: 'en' });
      const base = /^(.*\/s\/[\w-]+)\//.exec(t.final.url)![1];
      const activity = await db().selectFrom('activity').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow();
      const page = await t.browser.get(`${base}/teacher/activities/${activity.id}`, { context: { ...t.context, initiator: t.final.url } });
      expect(page.status, page.body).to.equal(200);
      expect(page.body).to.not.contain('Every grade reached the LMS gradebook');
      expect(page.body).to.contain('Latest grade of each student: 3 delivered to the LMS gradebook, 0 waiting to be sent, 0 not sent.');
      expect(page.body).to.contain('Compare with what the LMS gradebook shows');
    });
  });
}
