import { expect } from 'chai';
import type { MoodleSim } from '../platform';
import { launch } from '../support/http-browser';
import { testDialects, type TestDatabase } from '../support/db';
import type { RunningTool } from '../support/tool';
import { statusOf, type SkillEstimate } from '../../src/kt/estimate';
import { skillCredit } from '../../src/practice/settings';
import { csrfField } from '../support/csrf';
import { answerForm, placeActivity, settingsForm, type TestBank, startPracticeClass, inFrame } from './support';

const pct = (p: number) => Math.round(p * 100);
const GOAL = 0.8;

/**
 * One estimate, one meaning: students answer through the Moodle simulator, and the student's own
 * bars, the teacher's heatmap, the student page's table and chart, the flags and the grade sent to the
 * gradebook all show the tracer's estimate for the same student and skill.
 */
for (const dialect of testDialects()) {
  describe(`one estimate everywhere on ${dialect.name}`, function () {
    this.timeout(120_000);
    let tdb: TestDatabase;
    let tool: RunningTool;
    let sim: MoodleSim;
    let clientId: string;
    let courseId: string;
    let teacherId: string;
    let students: string[];
    let bank: TestBank;
    let linkId: string;
    let activityId: number;

    before(async () => {
      tdb = await dialect.create();
      ({ tool, sim, clientId, courseId, teacherId, students, bank } = await startPracticeClass(tdb));
      ({ linkId } = await placeActivity(sim, clientId, courseId, teacherId, bank, { threshold: String(GOAL * 100), length: 'range', min_items: '30', max_items: '60' }));
      // The only activity of this install (its link is recorded at the first launch).
      activityId = (await db().selectFrom('activity').select('id').orderBy('id').executeTakeFirstOrThrow()).id;
    });
    after(async () => {
      await sim?.close();
      await tool?.close();
      await tdb?.drop();
    });

    const db = () => tool.jejak.conn.db;

    /** A student answers `pattern.length` items as the pattern says (true = right); returns the last practice page. */
    async function practise(student: string, pattern: boolean[]) {
      const r = await launch(sim, { clientId, userId: student, courseId, activityId: linkId });
      let page = r.final;
      for (const right of pattern) {
        const { action, fields } = await answerForm(db(), bank, page, right);
        const feedback = await r.browser.post(action, fields, inFrame(r, page));
        expect(feedback.status).to.equal(200);
        const next = /id="next" href="([^"]+)"/.exec(feedback.body)![1];
        page = await r.browser.get(new URL(next.replace(/&amp;/g, '&'), feedback.url).toString(), inFrame(r, feedback));
        expect(page.status).to.equal(200);
      }
      return page;
    }

    async function estimatesOf(student: string): Promise<Map<number, SkillEstimate>> {
      return (await tool.jejak.tracer.classEstimates((await db().selectFrom('activity').select('tenant_id').where('id', '=', activityId).executeTakeFirstOrThrow()).tenant_id, courseId, bank.bankId, [student])).get(student)!;
    }

    /** The student's bar on a practice page: its percent, or 'not tried'. */
    const bar = (body: string, skill: string) => {
      const m = new RegExp(`>${skill}</label>\\s*<span class="bar-row">(?:<span class="not-tried"[^>]*>not tried yet</span>|<meter[^>]*>\\d+%</meter>\\s*<span class="percent">(\\d+)%</span>)`).exec(body);
      expect(m, `bar of ${skill}`).to.not.equal(null);
      return m![1] === undefined ? 'not tried' : Number(m![1]);
    };

    it('placing an activity warns when the chosen skills have too few items for the chosen length, and places it once accepted', async () => {
      const r = await launch(sim, { clientId, userId: teacherId, courseId, messageType: 'LtiDeepLinkingRequest' });
      const url = `${r.final.url.replace(/\/$/, '')}/practice/place`;
      const form = (over: Record<string, string | string[]>) => settingsForm(bank, { length: 'range', min_items: '10', max_items: '30', skill: [String(bank.skills[0])], ...over, ...csrfField(tool, r.final.url) });
      const before = await db().selectFrom('activity').select('id').execute();
      const warned = await r.browser.post(url, form({}), inFrame(r, r.final));
      expect(warned.status).to.equal(200);
      expect(warned.body).to.contain('The chosen skills have 8 questions for a practice of up to 30: questions will be repeated.');
      expect(warned.body).to.contain('name="accept_few_items"');
      expect(await db().selectFrom('activity').select('id').execute(), 'nothing placed yet').to.have.length(before.length);
      const accepted = await r.browser.post(url, form({ accept_few_items: '1' }), inFrame(r, r.final));
      expect(accepted.body).to.not.contain('id="form-warnings"');
      expect(await db().selectFrom('activity').select('id').execute()).to.have.length(before.length + 1);
      // Enough items for the length: no warning at all.
      const again = await launch(sim, { clientId, userId: teacherId, courseId, messageType: 'LtiDeepLinkingRequest' });
      const enough = await again.browser.post(`${again.final.url.replace(/\/$/, '')}/practice/place`, settingsForm(bank, { length: 'range', min_items: '5', max_items: '8', skill: [String(bank.skills[0])], ...csrfField(tool, again.final.url) }), inFrame(again, again.final));
      expect(enough.body).to.not.contain('id="form-warnings"');
      expect(await db().selectFrom('activity').select('id').execute()).to.have.length(before.length + 2);
    });

    it('the student, the teacher\'s heatmap, table, chart and flags and the grade show the same estimate', async () => {
      const [sam, sasha] = students;
      // Sam: mostly right on the first skill. Sasha: always wrong, so practice pauses the skill.
      const samPage = await practise(sam, [true, true, false, true, true, true, false, true, true]);
      const sashaPage = await practise(sasha, Array(6).fill(false));
      const names = ['Adding fractions', 'Comparing fractions', 'Simplifying fractions'];

      const samEstimates = await estimatesOf(sam);
      const sashaEstimates = await estimatesOf(sasha);
      const first = samEstimates.get(bank.skills[0])!;
      expect(first.answers, 'the first skill until it is mastered (prerequisites)').to.be.at.least(1);
      // The student's bars: the tracer's numbers, and "not tried yet" for skills without an answer.
      for (const [i, id] of bank.skills.entries()) {
        const e = samEstimates.get(id)!;
        expect(bar(samPage.body, names[i]), names[i]).to.equal(e.answers ? pct(e.p) : 'not tried');
      }
      expect(bar(sashaPage.body, names[1]), 'a skill Sasha never tried').to.equal('not tried');

      const t = await launch(sim, { clientId, userId: teacherId, courseId, activityId: linkId });
      const base = /^(.*\/s\/[\w-]+)\//.exec(t.final.url)![1];
      const classPage = await t.browser.get(`${base}/teacher/activities/${activityId}`);
      expect(classPage.status).to.equal(200);
      const rowOf = (sub: string) => new RegExp(`<tr(?: class="act")?><th scope="row"><a href="[^"]*/students/${sub}">[^<]+</a></th>(.*?)</tr>`).exec(classPage.body)![1];
      const cells = (sub: string) => [...rowOf(sub).matchAll(/<td class="m-\w+">(.*?)<\/td>/g)].map((m) => m[1]).slice(0, 3);
      for (const [sub, ests] of [[sam, samEstimates], [sasha, sashaEstimates]] as const) {
        cells(sub).forEach((cell, i) => {
          const e = ests.get(bank.skills[i])!;
          if (e.answers === 0) expect(cell, `${sub} ${names[i]}`).to.contain('not tried yet');
          else expect(cell, `${sub} ${names[i]}`).to.match(new RegExp(`^${pct(e.p)}%`));
        });
      }
      // Sasha was paused (the practice page said so) and the teacher sees the same skill flagged, with the same estimate.
      expect(sashaPage.body).to.match(/<p class="notice" id="stuck">You have worked hard on Adding fractions[^<]*ask your teacher/);
      const sashaFirst = sashaEstimates.get(bank.skills[0])!;
      expect(classPage.body).to.match(new RegExp(`flag-struggling">Struggling</span> Stuck on Menjumlahkan pecahan|flag-struggling">Struggling</span> Stuck on Adding fractions`));
      expect(classPage.body).to.contain(`estimate now ${pct(sashaFirst.p)}%`);

      // The student page: table and the chart's last point are the same estimate.
      const studentPage = await t.browser.get(`${base}/teacher/activities/${activityId}/students/${sam}`);
      expect(studentPage.status).to.equal(200);
      const row = new RegExp(`<th scope="row">[^<]*</th>\\s*<td class="m-\\w+">(\\d+)%`).exec(studentPage.body)!;
      expect(Number(row[1])).to.equal(pct(first.p));
      expect(studentPage.body).to.contain(`${first.answers} answers on ${first.items} different questions`);
      const desc = /<desc id="chart-0-d">After (\d+) answers? on this skill the estimate went from (\d+)% to (\d+)%\.<\/desc>/.exec(studentPage.body)!;
      expect(Number(desc[1])).to.equal(first.answers);
      expect(Number(desc[3]), 'the chart ends where the table is').to.equal(pct(first.p));
      expect(studentPage.body).to.match(/<polygon class="interval"/);

      // Both teacher pages link to the page explaining what the numbers mean, in the teacher's language.
      for (const body of [classPage.body, studentPage.body]) expect(body).to.match(/href="\/help\/estimates\?lang(=|&#x3D;)en">How Jejak estimates mastery</);
      const help = await fetch(`${tool.url}/help/estimates?lang=en`);
      expect(help.status).to.equal(200);
      const helpText = await help.text();
      expect(helpText).to.contain('mastered when the number reaches the goal you chose, and only after at least 4 answers on at least 2 different questions');
      expect(helpText, 'the pause rule as the policy runs it').to.contain('do not raise the estimate and it stays below 80%');
      expect(await (await fetch(`${tool.url}/help/estimates?lang=id`)).text()).to.contain('dikuasai bila angkanya mencapai target yang Anda pilih, dan hanya setelah paling sedikit 4 jawaban pada paling sedikit 2 soal yang berbeda');

      // The grade: each skill's share from the same estimates.
      const expected = Math.round((bank.skills.reduce((sum, id) => sum + skillCredit(samEstimates.get(id), GOAL), 0) / bank.skills.length) * 10000) / 100;
      const outbox = await db().selectFrom('score_outbox').select('score_given').where('user_sub', '=', sam).where('activity_id', '=', activityId).executeTakeFirstOrThrow();
      expect(outbox.score_given).to.equal(expected);
      expect(statusOf(first, GOAL) === 'mastered' ? 1 : 0).to.equal(cells(sam)[0].includes('✓') ? 1 : 0);
    });
  });
}
