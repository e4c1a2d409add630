import { expect } from 'chai';
import { chooseNextItem, DEFAULT_POLICY, NO_OVERRIDES, type PolicyHistoryEntry, type PolicyInput, type PolicyItem, type PolicySkill } from '../../src/practice/policy';
import { mulberry32 } from '../../src/random';


/**
 * A random activity: skills with prerequisite edges (a DAG), items on one or two skills, some of them
 * on a skill outside the activity, random engine estimates and a random past.
 */
function randomCase(seed: number): PolicyInput {
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const nSkills = 2 + int(7);
  const skills: PolicySkill[] = [];
  for (let i = 0; i < nSkills; i++) {
    const prerequisites = skills.filter(() => rnd() < 0.3).map((s) => s.id);
    skills.push({ id: 100 + i, prerequisites });
  }
  const outside = 999;
  const items: PolicyItem[] = [];
  let id = 1;
  for (const s of skills) {
    for (let k = 0; k < 2 + int(5); k++) {
      const other = rnd() < 0.15 ? (rnd() < 0.5 ? outside : skills[int(nSkills)].id) : undefined;
      items.push({ id: id++, skillIds: other && other !== s.id ? [s.id, other] : [s.id], position: id });
    }
  }
  items.push({ id: id++, skillIds: [outside], position: id });
  const mastery = new Map(skills.map((s) => [s.id, rnd()]));
  const pSuccess = new Map(items.map((i) => [i.id, rnd()]));
  const history: PolicyHistoryEntry[] = Array.from({ length: int(25) }, () => {
    const item = items[int(items.length - 1)];
    return { itemId: item.id, skillId: item.skillIds[0], masteryBefore: rnd() };
  });
  return { skills, items, mastery, pSuccess, threshold: 0.8, history, overrides: NO_OVERRIDES, random: rnd };
}

const CASES = Array.from({ length: 500 }, (_, i) => i + 1);
const inBand = (p: number) => p >= DEFAULT_POLICY.band[0] && p <= DEFAULT_POLICY.band[1];

describe('next-item policy: properties over 500 random activities', () => {
  it('stays inside the activity: every skill of the chosen item is one of its skills', () => {
    for (const seed of CASES) {
      const input = randomCase(seed);
      const c = chooseNextItem(input)!;
      const scope = new Set(input.skills.map((s) => s.id));
      const item = input.items.find((i) => i.id === c.itemId)!;
      expect(item.skillIds.every((s) => scope.has(s)), `seed ${seed}`).to.equal(true);
      expect(item.skillIds).to.include(c.skillId);
    }
  });

  it('never repeats the item just answered', () => {
    for (const seed of CASES) {
      const input = randomCase(seed);
      const c = chooseNextItem(input)!;
      if (input.history.length) expect(c.itemId, `seed ${seed}`).to.not.equal(input.history.at(-1)!.itemId);
    }
  });

  it('learns only skills whose prerequisites (inside the activity) are mastered', () => {
    let learning = 0;
    for (const seed of CASES) {
      const input = randomCase(seed);
      const c = chooseNextItem(input)!;
      if (c.kind !== 'learn') continue;
      learning++;
      const skill = input.skills.find((s) => s.id === c.skillId)!;
      expect(input.mastery.get(c.skillId)!, `seed ${seed}`).to.be.below(input.threshold);
      for (const p of skill.prerequisites) expect(input.mastery.get(p)!, `seed ${seed}: prerequisite ${p}`).to.be.at.least(input.threshold);
    }
    expect(learning).to.be.greaterThan(100);
  });

  it('prefers an item in the 60–80% band when the chosen skill has one', () => {
    let checked = 0;
    for (const seed of CASES) {
      const input = randomCase(seed);
      const c = chooseNextItem(input)!;
      const last = input.history.at(-1)?.itemId;
      const scope = new Set(input.skills.map((s) => s.id));
      const candidates = input.items.filter((i) => i.skillIds.includes(c.skillId) && i.skillIds.every((s) => scope.has(s)) && i.id !== last);
      if (!candidates.some((i) => inBand(input.pSuccess.get(i.id)!))) continue;
      checked++;
      expect(inBand(c.pSuccess), `seed ${seed}: chose ${c.pSuccess.toFixed(2)}`).to.equal(true);
    }
    expect(checked).to.be.greaterThan(100);
  });

  it('otherwise takes an item among the nearest to the band', () => {
    const distance = (p: number) => Math.max(DEFAULT_POLICY.band[0] - p, p - DEFAULT_POLICY.band[1], 0);
    let checked = 0;
    for (const seed of CASES) {
      const input = randomCase(seed);
      const c = chooseNextItem(input)!;
      const last = input.history.at(-1)?.itemId;
      const scope = new Set(input.skills.map((s) => s.id));
      const candidates = input.items.filter((i) => i.skillIds.includes(c.skillId) && i.skillIds.every((s) => scope.has(s)) && i.id !== last);
      const nearest = Math.min(...candidates.map((i) => distance(input.pSuccess.get(i.id)!)));
      if (nearest === 0) continue;
      checked++;
      expect(distance(c.pSuccess) - nearest, `seed ${seed}`).to.be.below(0.05);
    }
    expect(checked).to.be.greaterThan(100);
  });
});

describe('next-item policy: behaviours', () => {
  const chain: PolicySkill[] = [{ id: 1, prerequisites: [] }, { id: 2, prerequisites: [1] }, { id: 3, prerequisites: [2] }];
  const items: PolicyItem[] = chain.flatMap((s) => [1, 2, 3, 4].map((k) => ({ id: s.id * 10 + k, skillIds: [s.id], position: s.id * 10 + k })));
  const base = (over: Partial<PolicyInput> = {}): PolicyInput => ({
    skills: chain, items, threshold: 0.8, history: [], overrides: NO_OVERRIDES, random: mulberry32(7),
    mastery: new Map([[1, 0.3], [2, 0.1], [3, 0.1]]), pSuccess: new Map(items.map((i) => [i.id, 0.7])), ...over,
  });

  it('starts with the first skill of a prerequisite chain', () => {
    const c = chooseNextItem(base())!;
    expect([c.kind, c.skillId]).to.deep.equal(['learn', 1]);
  });

  it('brings a mastered skill back for review now and then', () => {
    const mastery = new Map([[1, 0.95], [2, 0.4], [3, 0.1]]);
    const history: PolicyHistoryEntry[] = [];
    const kinds: string[] = [];
    for (let step = 0; step < 20; step++) {
      const c = chooseNextItem(base({ mastery: new Map(mastery), history: [...history] }))!;
      kinds.push(c.kind);
      history.push({ itemId: c.itemId, skillId: c.skillId, masteryBefore: mastery.get(c.skillId)! });
      // The student learns skill 2 slowly (never stuck, never mastered within these 20 items).
      if (c.skillId === 2) mastery.set(2, mastery.get(2)! + 0.02);
    }
    const reviews = kinds.filter((k) => k === 'review').length;
    expect(reviews, kinds.join(',')).to.be.within(2, 4);
    expect(kinds.slice(0, DEFAULT_POLICY.reviewEvery)).to.not.include('review');
  });

  it('pauses a stuck skill, says which, moves to its prerequisite, and comes back after a rest', () => {
    const mastery = new Map([[1, 0.85], [2, 0.5], [3, 0.1]]);
    const stuck: PolicyHistoryEntry[] = Array.from({ length: 10 }, (_, i) => ({ itemId: 21 + (i % 4), skillId: 2, masteryBefore: 0.48 }));
    const c = chooseNextItem(base({ mastery, history: stuck }))!;
    expect(c.skillId).to.not.equal(2);
    expect(c.movedFromStuck).to.equal(2);
    expect(c.pausedSkills).to.deep.equal([2]);
    expect(c.skillId, 'its prerequisite, for review').to.equal(1);
    // Progress on the skill (mastery rose) means it is not stuck.
    const progressing = chooseNextItem(base({ mastery: new Map([[1, 0.85], [2, 0.6], [3, 0.1]]), history: stuck }))!;
    expect([progressing.pausedSkills, progressing.movedFromStuck]).to.deep.equal([[], null]);
    // After a rest of ten other items it is tried again.
    const rested = [...stuck, ...Array.from({ length: 10 }, (_, i) => ({ itemId: 11 + (i % 4), skillId: 1, masteryBefore: 0.85 }))];
    expect(chooseNextItem(base({ mastery, history: rested }))!.pausedSkills).to.deep.equal([]);
  });

  it('honours the teacher: skipped skills are never chosen, unlocked ones ignore prerequisites and stuckness', () => {
    const skipped = chooseNextItem(base({ overrides: { ...NO_OVERRIDES, skippedSkills: [1] } }))!;
    expect(skipped.skillId, 'skill 2 no longer waits for skipped skill 1').to.equal(2);
    const unlocked = chooseNextItem(base({ mastery: new Map([[1, 0.1], [2, 0.1], [3, 0.5]]), overrides: { ...NO_OVERRIDES, unlockedSkills: [3] } }))!;
    expect(unlocked.skillId, 'the unlocked skill, closest to mastery').to.equal(3);
  });

  it('fixed order: the bank order, every item once, without adaptivity', () => {
    const history: PolicyHistoryEntry[] = [];
    const order: number[] = [];
    for (let i = 0; i < 13; i++) {
      const c = chooseNextItem(base({ history: [...history], overrides: { ...NO_OVERRIDES, fixedOrder: true } }))!;
      expect(c.kind).to.equal('fixed');
      order.push(c.itemId);
      history.push({ itemId: c.itemId, skillId: c.skillId, masteryBefore: 0 });
    }
    expect(order.slice(0, 12)).to.deep.equal(items.map((i) => i.id));
    expect(order[12]).to.equal(11);
  });

  it('answers null when no item lies inside the activity', () => {
    expect(chooseNextItem(base({ items: [{ id: 1, skillIds: [1, 42], position: 1 }] }))).to.equal(null);
  });
});
