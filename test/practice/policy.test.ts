import { expect } from 'chai';
import { AbilityFilter, difficultiesOf, isMastered, MASTERY_EVIDENCE, type SkillEstimate } from '../../src/kt/estimate';
import { chooseNextItem, DEFAULT_POLICY, NO_OVERRIDES, stuckState, type ChoiceKind, type PolicyHistoryEntry, type PolicyInput, type PolicyItem, type PolicySkill } from '../../src/practice/policy';
import { mulberry32 } from '../../src/random';

/** An estimate of chance `p` resting on `answers` answers on `items` items, bounds ±`spread`. */
const est = (p: number, answers = 6, items = 3, spread = 0.05): SkillEstimate => ({ p, low: Math.max(0, p - spread), high: Math.min(1, p + spread), answers, items });


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
  const estimates = new Map(skills.map((s) => {
    const answers = rnd() < 0.25 ? 0 : int(12);
    // About a third near the top, so that mastered skills (and reviews) are common.
    return [s.id, est(rnd() < 0.3 ? 0.9 + 0.1 * rnd() : rnd(), answers, Math.min(answers, int(5)), rnd() * 0.15)];
  }));
  const pSuccess = new Map(items.map((i) => [i.id, rnd()]));
  const kinds: ChoiceKind[] = ['learn', 'review', 'fallback'];
  const history: PolicyHistoryEntry[] = Array.from({ length: int(25) }, () => {
    const item = items[int(items.length - 1)];
    return { itemId: item.id, skillId: item.skillIds[0], masteryBefore: rnd(), kind: kinds[int(3)] };
  });
  return { skills, items, estimates, pSuccess, threshold: 0.8, history, overrides: NO_OVERRIDES, random: rnd };
}

/** The chosen skill's items (inside the activity, not the one just answered) the student has seen least. */
function leastSeen(input: PolicyInput, skill: number): PolicyItem[] {
  const scope = new Set(input.skills.map((s) => s.id));
  const last = input.history.at(-1)?.itemId;
  const seen = (id: number) => input.history.filter((h) => h.itemId === id).length;
  const all = input.items.filter((i) => i.skillIds.includes(skill) && i.skillIds.every((s) => scope.has(s)) && i.id !== last);
  const least = Math.min(...all.map((i) => seen(i.id)));
  return all.filter((i) => seen(i.id) === least);
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

  it('never chooses a skill whose prerequisites (practisable in the activity) are not mastered, whatever the kind', () => {
    let learning = 0;
    for (const seed of CASES) {
      const input = randomCase(seed);
      const c = chooseNextItem(input)!;
      const skill = input.skills.find((s) => s.id === c.skillId)!;
      const practisable = (p: number) => input.skills.some((s) => s.id === p) && input.items.some((i) => i.skillIds.includes(p) && i.skillIds.every((x) => input.skills.some((s) => s.id === x)));
      for (const p of skill.prerequisites.filter(practisable)) expect(isMastered(input.estimates.get(p), input.threshold), `seed ${seed}: ${c.kind}, prerequisite ${p}`).to.equal(true);
      if (c.kind !== 'learn') continue;
      learning++;
      expect(isMastered(input.estimates.get(c.skillId), input.threshold), `seed ${seed}`).to.equal(false);
    }
    expect(learning).to.be.greaterThan(100);
  });

  it('never calls a first exposure a review: a review is of a skill mastered on enough answers', () => {
    let reviews = 0;
    for (const seed of CASES) {
      // Reviews every 6 items rather than the default 10, so that the random histories hold enough reviews to check.
      const input = { ...randomCase(seed), options: { reviewEvery: 6 } };
      const c = chooseNextItem(input)!;
      const e = input.estimates.get(c.skillId)!;
      expect(c.firstTime, `seed ${seed}`).to.equal(e.answers === 0);
      if (c.kind !== 'review') continue;
      reviews++;
      expect(e.answers, `seed ${seed}`).to.be.at.least(MASTERY_EVIDENCE.minAnswers);
      expect(isMastered(e, input.threshold)).to.equal(true);
    }
    expect(reviews).to.be.greaterThan(10);
  });

  it('repeats no item of a skill while the skill has items not yet seen', () => {
    let checked = 0;
    for (const seed of CASES) {
      const input = randomCase(seed);
      const c = chooseNextItem(input)!;
      const seen = new Set(input.history.map((h) => h.itemId));
      const scope = new Set(input.skills.map((s) => s.id));
      const unseen = input.items.filter((i) => i.skillIds.includes(c.skillId) && i.skillIds.every((s) => scope.has(s)) && !seen.has(i.id));
      if (!unseen.length) continue;
      checked++;
      expect(seen.has(c.itemId), `seed ${seed}`).to.equal(false);
    }
    expect(checked).to.be.greaterThan(200);
  });

  it('prefers an item in the 60–80% band when the chosen skill has one', () => {
    let checked = 0;
    for (const seed of CASES) {
      const input = randomCase(seed);
      const c = chooseNextItem(input)!;
      const candidates = leastSeen(input, c.skillId);
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
      const candidates = leastSeen(input, c.skillId);
      const nearest = Math.min(...candidates.map((i) => distance(input.pSuccess.get(i.id)!)));
      if (nearest === 0) continue;
      checked++;
      expect(distance(c.pSuccess) - nearest, `seed ${seed}`).to.be.below(0.05);
    }
    expect(checked).to.be.greaterThan(100);
  });

  it('a request for a similar question: an unseen item of the skill when the skill may be practised now, else the usual choice', () => {
    let honoured = 0;
    let declined = 0;
    for (const seed of CASES) {
      const input = randomCase(seed);
      const last = input.history.at(-1);
      if (!last) continue;
      const skill = input.skills.find((s) => s.id === last.skillId)!;
      const c = chooseNextItem({ ...input, preferSkill: skill.id, random: mulberry32(seed) })!;
      const usual = chooseNextItem({ ...input, random: mulberry32(seed) })!;
      // The policy's rules, written out again: prerequisites practisable here mastered, not resting, an item not seen.
      const scope = new Set(input.skills.map((s) => s.id));
      const inScope = input.items.filter((i) => i.skillIds.every((s) => scope.has(s)));
      const mastered = (id: number) => isMastered(input.estimates.get(id), input.threshold);
      const ready = skill.prerequisites.filter((p) => inScope.some((i) => i.skillIds.includes(p))).every(mastered);
      const resting = stuckState(skill.id, input.history, input.estimates.get(skill.id)!.p, mastered(skill.id), DEFAULT_POLICY).resting;
      const seen = new Set(input.history.map((h) => h.itemId));
      const unseen = inScope.some((i) => i.skillIds.includes(skill.id) && !seen.has(i.id));
      if (ready && !resting && unseen) {
        honoured++;
        expect([c.skillId, seen.has(c.itemId), c.kind], `seed ${seed}`).to.deep.equal([skill.id, false, mastered(skill.id) ? 'review' : 'learn']);
      } else {
        declined++;
        expect(c, `seed ${seed}`).to.deep.equal(usual);
      }
    }
    expect(honoured).to.be.greaterThan(50);
    expect(declined).to.be.greaterThan(50);
  });
});

describe('next-item policy: behaviours', () => {
  const chain: PolicySkill[] = [{ id: 1, prerequisites: [] }, { id: 2, prerequisites: [1] }, { id: 3, prerequisites: [2] }];
  const items: PolicyItem[] = chain.flatMap((s) => [1, 2, 3, 4].map((k) => ({ id: s.id * 10 + k, skillIds: [s.id], position: s.id * 10 + k })));
  /** Estimates of chance p on six answers over three items (mastered at goal 0.8 when p ≥ 0.85). */
  const ests = (m: Map<number, number>) => new Map([...m].map(([id, p]) => [id, est(p)]));
  const base = (over: Partial<PolicyInput> & { mastery?: Map<number, number> } = {}): PolicyInput => ({
    skills: chain, items, threshold: 0.8, history: [], overrides: NO_OVERRIDES, random: mulberry32(7),
    estimates: ests(over.mastery ?? new Map([[1, 0.3], [2, 0.1], [3, 0.1]])), pSuccess: new Map(items.map((i) => [i.id, 0.7])), ...over,
  });

  it('starts with the first skill of a prerequisite chain, introduced as new', () => {
    const c = chooseNextItem(base({ estimates: new Map([[1, est(0.6, 0, 0)], [2, est(0.6, 0, 0)], [3, est(0.6, 0, 0)]]) }))!;
    expect([c.kind, c.skillId, c.firstTime]).to.deep.equal(['learn', 1, true]);
  });

  it('brings a mastered skill back for review now and then', () => {
    const mastery = new Map([[1, 0.95], [2, 0.4], [3, 0.1]]);
    const history: PolicyHistoryEntry[] = [];
    const kinds: string[] = [];
    for (let step = 0; step < 32; step++) {
      const c = chooseNextItem(base({ mastery: new Map(mastery), history: [...history] }))!;
      kinds.push(c.kind);
      history.push({ itemId: c.itemId, skillId: c.skillId, masteryBefore: mastery.get(c.skillId)!, kind: c.kind });
      // The student learns skill 2 slowly (never stuck, never mastered within these 32 items).
      if (c.skillId === 2) mastery.set(2, mastery.get(2)! + 0.01);
    }
    const reviews = kinds.filter((k) => k === 'review').length;
    expect(reviews, kinds.join(',')).to.be.within(2, 4);
    expect(kinds.slice(0, DEFAULT_POLICY.reviewEvery)).to.not.include('review');
  });

  it('pauses a stuck skill, says which, moves to its prerequisite, and comes back after a rest', () => {
    const mastery = new Map([[1, 0.9], [2, 0.5], [3, 0.1]]);
    const stuck: PolicyHistoryEntry[] = Array.from({ length: DEFAULT_POLICY.stuckAttempts }, (_, i) => ({ itemId: 21 + (i % 4), skillId: 2, masteryBefore: 0.48, kind: 'learn' }));
    const c = chooseNextItem(base({ mastery, history: stuck }))!;
    expect(c.skillId).to.not.equal(2);
    expect(c.movedFromStuck).to.equal(2);
    expect(c.pausedSkills).to.deep.equal([2]);
    expect(c.skillId, 'its prerequisite, for review').to.equal(1);
    // Progress on the skill (its estimate rose) means it is not stuck.
    const progressing = chooseNextItem(base({ mastery: new Map([[1, 0.9], [2, 0.6], [3, 0.1]]), history: stuck }))!;
    expect([progressing.pausedSkills, progressing.movedFromStuck]).to.deep.equal([[], null]);
    // After a rest of other items it is tried again.
    const rested = [...stuck, ...Array.from({ length: DEFAULT_POLICY.stuckRest }, (_, i): PolicyHistoryEntry => ({ itemId: 11 + (i % 4), skillId: 1, masteryBefore: 0.9, kind: 'review' }))];
    expect(chooseNextItem(base({ mastery, history: rested }))!.pausedSkills).to.deep.equal([]);
  });

  it('a student who cannot learn a skill: paused within 8 items, paused again after each return, never sent to a skill that needs it', () => {
    // The server's own estimator, over a bank of four skills: 2 needs 1, 3 needs 2, 4 stands alone.
    const skills: PolicySkill[] = [...chain, { id: 4, prerequisites: [] }];
    const bankItems: PolicyItem[] = skills.flatMap((s) => [1, 2, 3, 4, 5].map((k) => ({ id: s.id * 10 + k, skillIds: [s.id], position: s.id * 10 + k })));
    const filter = new AbilityFilter(difficultiesOf({ skills, items: new Map(bankItems.map((i) => [i.id, i])) }));
    const state = filter.initial();
    const rnd = mulberry32(3);
    const history: PolicyHistoryEntry[] = [];
    let firstPause: number | undefined;
    for (let step = 0; step < 60; step++) {
      const estimates = new Map(skills.map((s) => [s.id, filter.estimate(state, s.id)]));
      const pSuccess = new Map(bankItems.map((i) => [i.id, filter.itemSuccess(state, i.id, i.skillIds)]));
      const c = chooseNextItem({ skills, items: bankItems, estimates, pSuccess, threshold: 0.8, history: [...history], overrides: NO_OVERRIDES, random: rnd })!;
      expect([2, 3], `step ${step}`).to.not.include(c.skillId);
      if (c.pausedSkills.includes(1) && firstPause === undefined) firstPause = history.filter((h) => h.skillId === 1).length;
      history.push({ itemId: c.itemId, skillId: c.skillId, masteryBefore: estimates.get(c.skillId)!.p, kind: c.kind });
      // Skill 1: wrong nearly always; skill 4: right nearly always.
      filter.step(state, c.itemId, [c.skillId], c.skillId === 1 ? rnd() < 0.1 : rnd() < 0.9);
    }
    expect(firstPause, 'answers on skill 1 before its first pause').to.be.at.most(8);
    const onOne = history.filter((h) => h.skillId === 1).length;
    const { pauses } = stuckState(1, history, filter.estimate(state, 1).p, false, DEFAULT_POLICY);
    // Every return to the skill ends in a further pause: one per full run of answers on it.
    expect(onOne, 'answers on skill 1').to.be.at.least(2 * DEFAULT_POLICY.stuckAttempts);
    expect(pauses, `${onOne} answers on skill 1`).to.equal(Math.floor(onOne / DEFAULT_POLICY.stuckAttempts));
    expect(history.some((h) => h.skillId === 4 && h.kind === 'review'), 'while skill 1 rests, the mastered skill 4 is reviewed').to.equal(true);
  });

  it('a student who answers every item right is never paused, though the estimate rises slowly near the goal', () => {
    const skills: PolicySkill[] = [{ id: 1, prerequisites: [] }, { id: 2, prerequisites: [1] }];
    const bankItems: PolicyItem[] = skills.flatMap((s) => Array.from({ length: 12 }, (_, k) => ({ id: s.id * 100 + k, skillIds: [s.id], position: s.id * 100 + k })));
    const filter = new AbilityFilter(difficultiesOf({ skills, items: new Map(bankItems.map((i) => [i.id, i])) }));
    const state = filter.initial();
    const history: PolicyHistoryEntry[] = [];
    for (let step = 0; step < 24; step++) {
      const estimates = new Map(skills.map((s) => [s.id, filter.estimate(state, s.id)]));
      const pSuccess = new Map(bankItems.map((i) => [i.id, filter.itemSuccess(state, i.id, i.skillIds)]));
      const c = chooseNextItem({ skills, items: bankItems, estimates, pSuccess, threshold: 0.8, history: [...history], overrides: NO_OVERRIDES, random: mulberry32(step) })!;
      expect([c.pausedSkills, c.movedFromStuck], `step ${step}`).to.deep.equal([[], null]);
      history.push({ itemId: c.itemId, skillId: c.skillId, masteryBefore: estimates.get(c.skillId)!.p, kind: c.kind });
      filter.step(state, c.itemId, [c.skillId], true);
    }
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
      history.push({ itemId: c.itemId, skillId: c.skillId, masteryBefore: 0, kind: c.kind });
    }
    expect(order.slice(0, 12)).to.deep.equal(items.map((i) => i.id));
    expect(order[12]).to.equal(11);
  });

  it('a similar question: the skill just answered even when a review falls due; not while it rests or waits on a prerequisite, nor with every item seen, nor in a fixed order', () => {
    // Skill 2 with twelve items, ten of them answered with a rising estimate (learning, not stuck): a review of skill 1 is due.
    const many: PolicyItem[] = [...items.filter((i) => i.skillIds[0] !== 2), ...Array.from({ length: 12 }, (_, k) => ({ id: 201 + k, skillIds: [2], position: 20 + k }))];
    const tried = (n: number): PolicyHistoryEntry[] => Array.from({ length: n }, (_, k) => ({ itemId: 201 + k, skillId: 2, masteryBefore: 0.1 + 0.03 * k, kind: 'learn' }));
    const mastery = new Map([[1, 0.95], [2, 0.4], [3, 0.1]]);
    const due = base({ items: many, mastery, history: tried(10), pSuccess: new Map(many.map((i) => [i.id, 0.7])) });
    expect(chooseNextItem(due)!.kind, 'without the request').to.equal('review');
    const similar = chooseNextItem({ ...due, preferSkill: 2 })!;
    expect([similar.skillId, similar.kind]).to.deep.equal([2, 'learn']);
    expect([211, 212]).to.include(similar.itemId);
    // Every item of skill 2 seen: the usual choice.
    const allSeen = { ...due, history: tried(12), random: mulberry32(1) };
    expect(chooseNextItem({ ...allSeen, preferSkill: 2, random: mulberry32(1) })).to.deep.equal(chooseNextItem(allSeen));
    // Resting (stuck): not skill 2.
    const stuck: PolicyHistoryEntry[] = Array.from({ length: DEFAULT_POLICY.stuckAttempts }, (_, k) => ({ itemId: 201 + k, skillId: 2, masteryBefore: 0.39, kind: 'learn' }));
    expect(chooseNextItem({ ...due, history: stuck, preferSkill: 2 })!.skillId).to.not.equal(2);
    // Skill 3 waits for skill 2.
    expect(chooseNextItem({ ...due, preferSkill: 3 })!.skillId).to.not.equal(3);
    // The teacher's fixed order stands.
    const fixed = { ...due, overrides: { ...NO_OVERRIDES, fixedOrder: true } };
    expect(chooseNextItem({ ...fixed, preferSkill: 2 })).to.deep.equal(chooseNextItem(fixed));
  });

  it('answers null when no item lies inside the activity', () => {
    expect(chooseNextItem(base({ items: [{ id: 1, skillIds: [1, 42], position: 1 }] }))).to.equal(null);
  });
});
