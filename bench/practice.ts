/**
 * Practice simulation (issue 14 item 4): simulated students practise through the server's own
 * estimator, policy and answer path (bench/practice-sim.ts) on a real SQLite database; the figures
 * go to bench/practice-report.md and .json.
 *
 *   npm run bench:practice                          40 students per generator and order, 300 items at most
 *   npm run bench:practice -- --students N --seed S --max-items M
 *   npm run bench:practice -- --quick               a tiny population (the harness's own test)
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DatasetLayoutError } from '../src/kt/data/errors';
import { dktLearners, type DktLearnersInfo } from './dkt-student';
import { alwaysWrong, type ArmResult, bktLearners, type Generator, ITEMS_PER_SKILL, PREREQS, simulate, type SimOptions, TRUE_GOAL } from './practice-sim';

/** Targets of issue 14. */
export const TARGETS = { falseMasteryPct: 5, itemsToMasteryVsRandom: 0.6, itemsToPause: 8 };

export interface PracticeReport {
  /** `cannotLearn`: the generators whose students cannot learn (judged on the pause, not on mastery). */
  options: Omit<SimOptions, 'generators'> & { generators: string[]; cannotLearn: string[] };
  command: string;
  results: ArmResult[];
  seconds: number;
  /** The DKT students' model (issue 14 item 4b), or why they were not run. */
  dkt: DktLearnersInfo | { missing: string };
}

/** Runs the simulation and renders its report. */
export async function practiceBench(o: SimOptions, command: string, dkt: PracticeReport['dkt']): Promise<{ report: PracticeReport; markdown: string }> {
  const started = Date.now();
  const results = await simulate(o);
  const report: PracticeReport = { options: { ...o, generators: o.generators.map((g) => g.name), cannotLearn: o.generators.filter((g) => g.learns === false).map((g) => g.name) }, command, results, seconds: Math.round((Date.now() - started) / 1000), dkt };
  return { report, markdown: render(report) };
}

const show = (x: number | null, unit = '') => (x === null ? 'n/a' : `${x}${unit}`);
const met = (ok: boolean | null) => (ok === null ? 'not measurable' : ok ? 'met' : 'NOT met');

export function render(r: PracticeReport): string {
  const o = r.options;
  const lines = [
    '# Practice: simulated students through the server\'s own code',
    '',
    `Command: \`${r.command}\` — seed ${o.seed}, ${o.students} students per generator and order, at most ${o.maxItems} items each, goal ${o.threshold}; ${r.seconds} s.`,
    '',
    `Each student practises an "until mastered" activity over ${PREREQS.length} skills (prerequisites ${JSON.stringify(PREREQS)}), ${ITEMS_PER_SKILL} items each, on a real SQLite database:`,
    'the item is chosen by `currentItem` (the tracer\'s estimate, the next-item policy) and the answer stored by `recordAttempt` (tracer step, progress, grade).',
    '"random" replaces the policy\'s item by a random one of the activity (not the last); "fixed" is the teacher\'s fixed-order override. The server sees only the answers.',
    `False mastery: the server declares a skill mastered while the student's true chance on items of it they have not seen is below ${TRUE_GOAL}.`,
    'Undeclared: skills whose true chance is at least that at the end of the run, not declared mastered. Items to mastery: items until the server says the goal is reached (students who never reach it count as the cap).',
    'Items to pause: answers on the first skill practised before the server pauses it (stuck). Grade error: |the grade the server sent − the same formula on the true chances (a skill the student never answered earns nothing in both)|, mean, points of 100.',
    '',
    'Answers per skill to mastery: answers on a skill until the server declared it mastered, over the skills it declared.',
    '',
    '| generator | order | declarations | false mastery | undeclared true mastery | reached goal | items to mastery median | p90 | answers per skill to mastery (median / p90) | paused | items to pause (median / max) | grade error |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.results.map((a) => `| ${a.generator} | ${a.order} | ${a.declarations} | ${show(a.falseMasteryPct, ' %')} | ${show(a.undeclaredPct, ' %')} | ${a.itemsToMastery.reached}/${a.students} | ${show(a.itemsToMastery.median)} | ${show(a.itemsToMastery.p90)} | ${show(a.answersPerSkillToMastery.median)} / ${show(a.answersPerSkillToMastery.p90)} | ${a.itemsToPause.paused}/${a.students} | ${show(a.itemsToPause.median)} / ${show(a.itemsToPause.max)} | ${a.gradeErrorMean} |`),
    '',
    '## Targets',
    '',
  ];
  for (const gen of new Set(r.results.map((a) => a.generator))) {
    const arm = (order: string) => r.results.find((a) => a.generator === gen && a.order === order);
    const policy = arm('policy');
    const random = arm('random');
    if (!policy) continue;
    // Students capped on both sides say nothing about the ratio.
    const comparable = random && policy.itemsToMastery.reached + random.itemsToMastery.reached > 0 && random.itemsToMastery.median;
    const ratio = comparable ? Math.round((100 * policy.itemsToMastery.median!) / random.itemsToMastery.median!) / 100 : null;
    const learns = !o.cannotLearn.includes(gen);
    lines.push(learns
      ? `- ${gen} (policy order): false mastery ${show(policy.falseMasteryPct, ' %')} of declarations (target ≤ ${TARGETS.falseMasteryPct} %: ${met(policy.falseMasteryPct === null ? null : policy.falseMasteryPct <= TARGETS.falseMasteryPct)}); ` +
        `items to mastery ${ratio === null ? `not comparable (${policy.itemsToMastery.reached} and ${random?.itemsToMastery.reached ?? 0} of ${policy.students} students reached the goal within ${o.maxItems} items with the policy and in random order)` : `${ratio}× random order`} (target ≤ ${TARGETS.itemsToMasteryVsRandom}: ${met(ratio === null ? null : ratio <= TARGETS.itemsToMasteryVsRandom)}).`
      : `- ${gen} (policy order): the first skill is paused after at most ${show(policy.itemsToPause.max)} answers on it, ${policy.itemsToPause.paused} of ${policy.students} students (target ≤ ${TARGETS.itemsToPause}: ${met(policy.itemsToPause.max === null ? null : policy.itemsToPause.paused === policy.students && policy.itemsToPause.max <= TARGETS.itemsToPause)})` +
        (policy.declarations ? `; ${policy.declarations === 1 ? 'one skill was' : `${policy.declarations} skills were`} declared mastered nonetheless (a false mastery: these students never know a skill).` : '; no skill was declared mastered.'));
  }
  lines.push('', '## The DKT students', '');
  const d = r.dkt;
  if ('missing' in d) {
    lines.push(`Not run: ${d.missing}`);
  } else {
    lines.push(
      `"${DKT_LEARNERS}" answer as a skill-level DKT trained by Jejak's own trainer on the training file of ${d.dataset} predicts (validation AUC ${d.validAuc?.toFixed(3) ?? 'n/a'}, ${d.epochs ?? '?'} epochs${d.fromCache ? ', loaded from the cache' : ''}): each answer is drawn from the network's chance for the item's skill, shifted by a difficulty of the item's own, and the network's state moves by that answer.`,
      'Each starts from the network\'s state after the opening answers of a real training student (not on the six skills below). The bench\'s skills stand for these ASSISTments skills, chosen so that the bench\'s prerequisites follow the order real students met them:',
      '',
      ...d.skills.map((m) => `- skill ${m.bench}: ${m.name ?? `#${m.skill}`} (${m.trainAnswers ?? '?'} training answers)`),
      '',
      'The network is a student the estimator does not share: it forgets, and an answer on one skill moves its chances on others (a DKT artefact), so a skill never practised can be "truly mastered" at the end, which the server cannot declare.',
    );
  }
  lines.push('');
  return lines.join('\n');
}

const DKT_LEARNERS = 'DKT learners';

/** The DKT students (trained on first use, then cached), or why not: the datasets live beside the repository only on build machines. */
async function dktStudents(): Promise<Generator & { info: DktLearnersInfo } | { missing: string }> {
  try {
    return await dktLearners(DKT_LEARNERS, { log: (line) => process.stderr.write(`${line}\n`) });
  } catch (e) {
    if (e instanceof DatasetLayoutError) return { missing: e.message };
    throw e;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { students: { type: 'string' }, seed: { type: 'string', default: '2024' }, 'max-items': { type: 'string' }, quick: { type: 'boolean' } } });
  const quick = values.quick ?? false;
  const o: SimOptions = {
    students: Number(values.students ?? (quick ? 3 : 40)),
    maxItems: Number(values['max-items'] ?? (quick ? 30 : 300)),
    seed: Number(values.seed),
    threshold: TRUE_GOAL,
    orders: ['policy', 'random', 'fixed'],
    generators: [bktLearners('BKT learners'), bktLearners('cannot learn', 0), ...(quick ? [alwaysWrong] : [])],
  };
  const dkt = await dktStudents();
  if ('info' in dkt) o.generators.push(dkt);
  const args = process.argv.slice(2).join(' ');
  const { report, markdown } = await practiceBench(o, args ? `npm run bench:practice -- ${args}` : 'npm run bench:practice', 'info' in dkt ? dkt.info : dkt);
  if (!quick) {
    fs.writeFileSync(path.join(__dirname, 'practice-report.json'), JSON.stringify(report, null, 2) + '\n');
    fs.writeFileSync(path.join(__dirname, 'practice-report.md'), markdown);
  }
  process.stdout.write(markdown);
}

if (require.main === module) main().catch((e) => {
  console.error(e);
  process.exit(1);
});
