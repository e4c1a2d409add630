import { expect } from 'chai';
import { AbilityFilter, difficultiesOf, MASTERY_EVIDENCE, statusOf, type SkillEstimate } from '../../src/kt/estimate';

const est = (p: number, answers: number, items: number): SkillEstimate => ({ p, low: p - 0.2, high: p + 0.1, answers, items });

describe('what "mastered" means (src/kt/estimate.ts statusOf)', () => {
  it('is the shown number at or above the goal, on at least 4 answers on at least 2 different items', () => {
    expect(MASTERY_EVIDENCE).to.deep.equal({ minAnswers: 4, minItems: 2 });
    expect(statusOf(undefined, 0.8)).to.equal('not_tried');
    expect(statusOf(est(0, 0, 0), 0.8)).to.equal('not_tried');
    expect(statusOf(est(0.8, 4, 2), 0.8), 'the number at the goal, its range below it').to.equal('mastered');
    expect(statusOf(est(0.799, 4, 2), 0.8)).to.equal('learning');
    expect(statusOf(est(0.95, 3, 3), 0.8), 'three answers are too few').to.equal('learning');
    expect(statusOf(est(0.95, 9, 1), 0.8), 'one item answered again and again').to.equal('learning');
  });

  it('holds back a student with few answers: the number is nearer 50% than the level alone would say, and reaches the goal only with evidence', () => {
    const items = new Map([1, 2, 3, 4].map((id) => [id, { id, position: id, skillIds: [7], difficulty: null }]));
    const filter = new AbilityFilter(difficultiesOf({ skills: [{ id: 7, prerequisites: [] }], items }));
    const state = filter.initial();
    const statuses: string[] = [];
    for (let n = 0; n < 8; n++) {
      filter.step(state, 1 + (n % 4), [7], true);
      const e = filter.estimate(state, 7);
      const s = state.get(7)!;
      // The chance at the believed level itself, averaged over the skill's items, without the uncertainty.
      const pointChance = [1, 2, 3, 4].reduce((sum, id) => sum + 1 / (1 + Math.exp(-(s.mean - filter.difficulty(id)))), 0) / 4;
      expect(e.p, `after ${n + 1} answers`).to.be.below(pointChance);
      statuses.push(statusOf(e, 0.8));
    }
    // Never before the minimum evidence, and an always-right student gets there within 8 answers.
    expect(statuses.slice(0, MASTERY_EVIDENCE.minAnswers - 1)).to.not.include('mastered');
    expect(statuses.at(-1)).to.equal('mastered');
  });
});
