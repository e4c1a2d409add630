import { expect } from 'chai';
import { MoodleSim } from '../platform';
import { launch } from '../support/http-browser';
import { testDialects, type TestDatabase } from '../support/db';
import { startTool, type RunningTool } from '../support/tool';
import { answerAndContinue, isItemPage } from '../reliability/student';
import { insertTestBank, placeActivity, registerTool } from './support';

/**
 * The answer cycle (answer POST, feedback page, next item) is what a class start multiplies by thirty
 * students at once: on PostgreSQL each statement is a round trip, and their number, not the work in
 * them, set the latency (bench/load-report.md). This keeps it where the load benchmark measured it,
 * plus the one read the feedback page added since (the student's history, to offer a similar question).
 */
const STATEMENTS_PER_CYCLE = 32;

for (const dialect of testDialects()) {
  describe(`statements per answer cycle on ${dialect.name}`, function () {
    this.timeout(60_000);
    let tdb: TestDatabase;
    let tool: RunningTool;
    let sim: MoodleSim;

    before(async () => {
      tdb = await dialect.create();
      // No background work: the grade sender's polling would add statements of its own.
      tool = await startTool(tdb, { backgroundWork: false });
      sim = await MoodleSim.start();
    });
    after(async () => {
      await sim?.close();
      await tool?.close();
      await tdb?.drop();
    });

    it(`a student's answer, feedback and next item take at most ${STATEMENTS_PER_CYCLE} statements`, async () => {
      const clientId = await registerTool(sim, tool);
      const { course, teacher, students } = sim.seedDefault();
      const bank = await insertTestBank(tool.jejak.conn.db);
      const { linkId } = await placeActivity(sim, clientId, course.id, teacher.id, bank, { threshold: '95', length: 'range', min_items: '10', max_items: '40' });
      const r = await launch(sim, { clientId, userId: students[0].id, courseId: course.id, activityId: linkId });
      let page = r.final;
      const counts: number[] = [];
      for (let i = 0; i < 4; i++) {
        const before = tool.jejak.conn.statements();
        const cycle = await answerAndContinue(r, page, 'a');
        counts.push(tool.jejak.conn.statements() - before);
        expect(cycle.next && isItemPage(cycle.next), `cycle ${i} ends on an item`).to.equal(true);
        page = cycle.next!;
      }
      // The launch read the bank into the process's cache: no cycle reads it again.
      expect(Math.max(...counts), `statements per cycle: ${counts.join(', ')}`).to.be.at.most(STATEMENTS_PER_CYCLE);
    });
  });
}
