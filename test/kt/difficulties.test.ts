import { expect } from 'chai';
import { ABILITY_DEFAULTS, AbilityFilter, DIFFICULTY_TAG_OFFSETS, difficultiesOf } from '../../src/kt/estimate';

/** Two skills of three items at the same positions: skill 1 untagged, skill 2 tagged hard, medium, easy in bank order. */
const skills = [{ id: 1, prerequisites: [] }, { id: 2, prerequisites: [] }];
const untagged = [10, 11, 12].map((id, position) => ({ id, position, skillIds: [1], difficulty: null }));
const tagged = (['hard', 'medium', 'easy'] as const).map((difficulty, position) => ({ id: 20 + position, position, skillIds: [2], difficulty }));
const bank = { skills, items: new Map([...untagged, ...tagged].map((i) => [i.id, i])) };

describe('item difficulties with a teacher\'s tag', () => {
  it('a hard tag makes an item harder than an untagged one at the same position, an easy tag easier, whatever the position says', () => {
    const d = difficultiesOf(bank).item;
    // Untagged: the default spread by position, first easiest.
    expect([d.get(10), d.get(11), d.get(12)]).to.deep.equal([-1.5, -1, -0.5]);
    expect(d.get(20), 'hard, in first place').to.be.above(d.get(10)!);
    expect(d.get(20)).to.equal(ABILITY_DEFAULTS.difficulty + DIFFICULTY_TAG_OFFSETS.hard);
    expect(d.get(22), 'easy, in last place').to.be.below(d.get(12)!);
    expect(d.get(22)).to.equal(ABILITY_DEFAULTS.difficulty + DIFFICULTY_TAG_OFFSETS.easy);
    expect(d.get(21), 'medium: the skill\'s level').to.equal(ABILITY_DEFAULTS.difficulty);
    // A student's chance follows: lower on the hard item than on the untagged one in its place.
    const filter = new AbilityFilter(difficultiesOf(bank));
    const state = filter.initial();
    expect(filter.itemSuccess(state, 20, [2])).to.be.below(filter.itemSuccess(state, 10, [1]));
    expect(filter.itemSuccess(state, 22, [2])).to.be.above(filter.itemSuccess(state, 12, [1]));
  });

  it('a calibrated item ignores its tag; an uncalibrated tagged item starts from its skill\'s calibrated level', () => {
    const d = difficultiesOf(bank, { items: { 20: -2 }, skills: { 2: 0.5 } }).item;
    expect(d.get(20), 'hard tag, but the answers say easy').to.equal(-2);
    expect(d.get(22)).to.equal(0.5 + DIFFICULTY_TAG_OFFSETS.easy);
    expect(d.get(21)).to.equal(0.5);
  });
});
