import { expect } from 'chai';
import { practiceBench } from '../../bench/practice';
import { alwaysWrong, bktLearners, type Generator } from '../../bench/practice-sim';

/** A student who answers everything right: whatever the server declares, it is true. */
const alwaysRight: Generator = { name: 'always right', student: () => ({ answer: () => true, chanceOnNew: () => 1 }) };

describe('bench:practice (quick mode)', function () {
  this.timeout(120_000);

  it('drives simulated students through the server and reports every figure; the answers come from the generator', async () => {
    const { report, markdown } = await practiceBench({
      students: 2, maxItems: 25, seed: 5, threshold: 0.8, orders: ['policy', 'random', 'fixed'], generators: [alwaysWrong, alwaysRight, bktLearners('BKT learners')],
    }, 'test', { missing: 'not in this test' });
    expect(report.results.map((r) => `${r.generator}/${r.order}`)).to.deep.equal([
      'always wrong/policy', 'always wrong/random', 'always wrong/fixed', 'always right/policy', 'always right/random', 'always right/fixed',
      'BKT learners/policy', 'BKT learners/random', 'BKT learners/fixed',
    ]);
    const arm = (g: string, o: string) => report.results.find((r) => r.generator === g && r.order === o)!;
    // Nothing is declared mastered for a student who never answers right; a student who always does reaches the goal.
    for (const o of ['policy', 'random', 'fixed']) expect(arm('always wrong', o).declarations, o).to.equal(0);
    expect(arm('always wrong', 'policy').itemsToMastery).to.deep.equal({ reached: 0, median: 25, p90: 25 });
    // The server pauses the first skill of a student who only fails, and the bench counts the answers it took.
    expect(arm('always wrong', 'policy').itemsToPause.paused).to.equal(2);
    expect(arm('always wrong', 'policy').itemsToPause.max).to.be.within(1, 25);
    expect(arm('always right', 'policy').declarations).to.be.greaterThan(0);
    expect(arm('always right', 'policy').falseMasteryPct).to.equal(0);
    expect(arm('always right', 'policy').answersPerSkillToMastery.median).to.be.within(3, 25);
    for (const r of report.results) {
      expect(r.students).to.equal(2);
      expect(r.gradeErrorMean).to.be.a('number').and.not.NaN;
    }
    for (const heading of ['false mastery', 'undeclared true mastery', 'items to mastery median', 'p90', 'answers per skill to mastery', 'items to pause', 'grade error', 'random order', 'seed 5']) {
      expect(markdown).to.contain(heading);
    }
    expect(markdown.split('\n').filter((l) => /^\| (always|BKT)/.test(l))).to.have.length(9);
    expect(markdown).to.contain('Not run: not in this test');
  });

  it('gives the same figures when run again with the same seed (the policy\'s ties come from the seed too)', async () => {
    const run = async () => (await practiceBench({ students: 3, maxItems: 30, seed: 9, threshold: 0.8, orders: ['policy'], generators: [bktLearners('BKT learners')] }, 'test', { missing: 'n/a' })).report.results;
    const [a, b] = [await run(), await run()];
    expect(a[0].declarations + a[0].itemsToPause.paused).to.be.greaterThan(0);
    expect(b).to.deep.equal(a);
  });
});
