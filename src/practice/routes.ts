import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { Logger } from '../log';
import type { Platforms } from '../lti/platforms';
import { CLAIM } from '../lti/claims';
import { latestScore } from '../grades/report';
import { assetBaseFor, gradeResponse, InvalidResponse, parseResponse, renderHint, renderItemForm, renderReview, renderSolution, type Item, type ItemResponse } from '../content/item';
import { stylesheetsFor } from '../content/richtext';
import { translate, type Locale } from '../web/i18n';
import type { Renderer } from '../web/render';
import { courseTitle, type LaunchContext } from '../web/session';
import { activityForLaunch, banksFor, createActivity, InvalidActivity, linkActivity, type BankSkill, type BankSummary } from './activities';
import { recordAttempt } from './commands/recordAttempt';
import { acceptsResourceLinks, deepLinkingResponse, type DeepLinkingSettings } from './deep-linking';
import {
  afterAnswer, currentItem, findAnswered, findPresentation, markSolutionShown, nextPractice, progressOf, progressWithTimeOf, skillProgress, useHint,
  type Learner, type NextPractice, type PracticeDeps, type PresentationReason, type ProgressWithTime, type SkillProgress,
} from './practice';
import { ActivitySettings, ANSWERS_TO_MASTERY, itemShortages, MINUTES_PER_ITEM, timeEstimate, UNMASTERED_CREDIT } from './settings';

export interface PracticeRouteDeps {
  practice: PracticeDeps;
  render: Renderer;
  platforms: Platforms;
  log: Logger;
  /** Where placed links launch: the tool's launch URL. */
  launchUrl: string;
  /** Told of each recorded answer (metrics, live teacher pages). */
  onAnswer?: (answer: { tenantId: number; activityId: number }) => void;
}

/** What the session's root shows for each kind of launch (src/web/home.ts asks these). */
export interface PracticeHomes {
  student: RequestHandler;
  deepLinking: RequestHandler;
  /** The setup page for a link without an activity; otherwise next() (the teacher home). */
  teacher: RequestHandler;
}

const wrap = (fn: (req: Request, res: Response, next: NextFunction) => Promise<void>): RequestHandler => (req, res, next) => {
  fn(req, res, next).catch(next);
};

const pct = (p: number) => Math.round(p * 100);
const THRESHOLDS = [70, 80, 90, 95];

/** Students' practice, teachers' preview, and placing or setting up an activity. */
export function practiceRoutes(d: PracticeRouteDeps): { router: Router; homes: PracticeHomes } {
  const { db } = d.practice;
  const r = Router({ mergeParams: true });
  const form = express.urlencoded({ extended: false, limit: '32kb' });
  const base = (launch: LaunchContext) => `/s/${launch.sessionId}`;

  async function learnerOf(launch: LaunchContext): Promise<Learner | undefined> {
    const activity = await activityForLaunch(db, launch);
    return activity && { tenantId: launch.tenantId, contextId: launch.contextId, userSub: launch.userSub, activity, preview: launch.audience === 'teacher' };
  }

  // ---------------------------------------------------------------- placing an activity

  async function settingsPage(res: Response, view: 'practice/place' | 'practice/setup', bankParam: unknown, errors: FieldErrors = {}, values?: Record<string, unknown>, status = 200, warnings: string[] = []): Promise<void> {
    const launch = res.locals.launch!;
    const locale = launch.locale;
    const banks = await banksFor(db, launch.tenantId, locale);
    const course = courseTitle(launch);
    const page = { locale, intro: translate(locale, view === 'practice/place' ? 'practice.place_intro' : 'practice.setup_intro', { course }) };
    if (view === 'practice/place' && !acceptsResourceLinks(launch.claims[CLAIM.deepLinkingSettings] as DeepLinkingSettings)) {
      return d.render(res, view, { ...page, notAccepted: true });
    }
    if (!banks.length) return d.render(res, view, { ...page, noBanks: true });
    const bank = banks.find((b) => String(b.id) === String(bankParam)) ?? (banks.length === 1 ? banks[0] : undefined);
    if (!bank) {
      return d.render(res, view, {
        ...page, chooseBank: true, bankError: errors.bank,
        banks: banks.map((b) => ({ id: b.id, title: b.title, description: b.description, size: translate(locale, 'practice.form.bank_size', { skills: b.skills.length, items: b.items }) })),
      }, status);
    }
    const action = `${base(launch)}/practice/${view === 'practice/place' ? 'place' : 'setup'}`;
    const submitKey = view === 'practice/place' ? 'practice.form.submit_place' : 'practice.form.submit_setup';
    d.render(res, view, { ...page, ...settingsFormModel(locale, bank, values, errors), warnings, action, submitKey }, status);
  }

  /**
   * Reads the settings form; on a mistake, answers with the form again, its messages at their fields.
   * "Select all", "Select none" and "Update the estimate" (the form's `intent`) show the form again with
   * what it holds, placing nothing: the form works without JavaScript.
   */
  async function readSettings(req: Request, res: Response, view: 'practice/place' | 'practice/setup') {
    const launch = res.locals.launch!;
    const body: Record<string, unknown> = req.body ?? {};
    if (body.intent === 'all' || body.intent === 'none' || body.intent === 'update') {
      const bank = body.intent === 'all' ? (await banksFor(db, launch.tenantId, launch.locale)).find((b) => String(b.id) === String(body.bank)) : undefined;
      const skill = body.intent === 'update' ? body.skill : (bank?.skills ?? []).map((s) => String(s.id));
      await settingsPage(res, view, body.bank, {}, { ...body, skill });
      return undefined;
    }
    const read = readSettingsForm(body);
    if (!read.ok) {
      const errors = Object.fromEntries(Object.entries(read.errors).map(([field, key]) => [field, translate(launch.locale, `practice.form.${key}`)]));
      await settingsPage(res, view, body.bank, errors, body, 400);
      return undefined;
    }
    const f = read.form;
    const settings: ActivitySettings = { skillIds: f.skill, masteryThreshold: f.threshold / 100, gradeMode: f.grade_mode, length: f.length };
    // Too few items for the skills or the length chosen: said before placing, placed once the teacher accepts it.
    if (!f.accept_few_items && (await banksFor(db, launch.tenantId, launch.locale)).some((b) => b.id === f.bank)) {
      const bank = await d.practice.banks.bank(db, f.bank);
      const shortages = itemShortages(settings, bank.items.values());
      if (shortages.length) {
        const names = new Map((await banksFor(db, launch.tenantId, launch.locale)).find((b) => b.id === f.bank)!.skills.map((s) => [s.id, s.name]));
        const warnings = shortages.map((w) => translate(launch.locale, `practice.form.few_items_${w.kind}`, { skill: names.get(w.skillId ?? -1) ?? '', items: w.items, needed: w.needed }));
        await settingsPage(res, view, f.bank, {}, req.body ?? {}, 200, warnings);
        return undefined;
      }
    }
    let activity;
    try {
      activity = await createActivity(db, { tenantId: launch.tenantId, contextId: launch.contextId, bankId: f.bank, title: f.title, settings, createdBy: `lti:${launch.userSub}` });
    } catch (e) {
      // Another tenant's bank (or an unknown one) named in the form: a mistake in the form, not a 500.
      if (!(e instanceof InvalidActivity)) throw e;
      await settingsPage(res, view, undefined, { bank: translate(launch.locale, 'practice.form.error_bank') }, req.body ?? {}, 400);
      return undefined;
    }
    d.log.info('activity created', { reqId: res.locals.reqId, tenant: launch.tenantId, activity: activity.id, via: view });
    return activity;
  }

  const showPlace = wrap(async (req, res) => settingsPage(res, 'practice/place', req.query.bank));

  r.post('/practice/place', form, wrap(async (req, res, next) => {
    const launch = res.locals.launch!;
    if (launch.audience !== 'teacher' || launch.messageType !== 'LtiDeepLinkingRequest') return next();
    const activity = await readSettings(req, res, 'practice/place');
    if (!activity) return;
    const banks = await banksFor(db, launch.tenantId, launch.locale);
    const names = banks.find((b) => b.id === activity.bankId)!.skills.filter((s) => activity.settings.skillIds.includes(s.id)).map((s) => s.name);
    const text = translate(launch.locale, 'practice.item_text', { skills: names.join(', ') });
    const answer = await deepLinkingResponse(d.platforms, launch, activity, d.launchUrl, text);
    d.render(res, 'practice/deep-link-return', { locale: launch.locale, ...answer });
  }));

  r.post('/practice/setup', form, wrap(async (req, res, next) => {
    const launch = res.locals.launch!;
    if (launch.audience !== 'teacher' || !launch.resourceLinkId || await activityForLaunch(db, launch)) return next();
    const activity = await readSettings(req, res, 'practice/setup');
    if (!activity) return;
    await linkActivity(db, launch.tenantId, launch.contextId, launch.resourceLinkId, activity.id);
    res.redirect(303, `${base(launch)}/`);
  }));

  const teacherHome = wrap(async (req, res, next) => {
    const launch = res.locals.launch!;
    if (!launch.resourceLinkId || await activityForLaunch(db, launch)) return next();
    await settingsPage(res, 'practice/setup', req.query.bank);
  });

  // ---------------------------------------------------------------- practising

  /** The learner, or the page saying the link has no activity yet. */
  async function learnerOrExplain(req: Request, res: Response): Promise<Learner | undefined> {
    const launch = res.locals.launch!;
    const l = await learnerOf(launch);
    if (l) return l;
    if (launch.audience === 'teacher') {
      if (launch.resourceLinkId) await settingsPage(res, 'practice/setup', req.query.bank);
      else res.redirect(303, `${base(launch)}/`);
    } else {
      renderNotReady(res, false);
    }
    return undefined;
  }

  function renderNotReady(res: Response, noItems: boolean): void {
    const launch = res.locals.launch!;
    d.render(res, 'student-home', {
      locale: launch.locale, course: courseTitle(launch), noItems,
      platform: launch.claims[CLAIM.toolPlatform]?.name ?? new URL(launch.claims.iss).host,
      roleName: translate(launch.locale, launch.audience === 'teacher' ? 'home.role_instructor' : 'home.role_learner'),
    });
  }

  function itemOf(itemId: number): Promise<Item> {
    return d.practice.banks.item(db, itemId);
  }

  function common(l: Learner, launch: LaunchContext, skills: SkillProgress[]) {
    const locale = launch.locale;
    return {
      locale, title: l.activity.title, activityTitle: l.activity.title, preview: l.preview, skills: skills.map((s) => skillView(s, locale)),
      goalText: translate(locale, 'practice.goal_is', { percent: pct(l.activity.settings.masteryThreshold) }),
    };
  }

  /**
   * `posted`: what the form of item `token` just posted, shown again in it: the answer typed or chosen
   * (kept when a hint is asked for) and, for an answer refused, why (at the field).
   */
  async function showItem(req: Request, res: Response, posted?: { token: string; response?: ItemResponse; problem?: string }): Promise<void> {
    const launch = res.locals.launch!;
    const locale = launch.locale;
    const l = await learnerOrExplain(req, res);
    if (!l) return;
    const progress = await progressOf(db, l);
    // A finished activity opens on its summary; "keep practising" goes on from there.
    if (progress?.completedAt != null && req.query.more !== '1' && !posted) return res.redirect(303, `${base(launch)}/practice/summary`);
    const current = await currentItem(d.practice, l, Date.now(), { similar: req.query.similar === '1' });
    if (!current) return renderNotReady(res, true);
    const { presentation: shown } = current;
    const skills = await skillProgress(d.practice, l, locale, current.estimates, current.overrides, current.pausedSkills);
    const item = await itemOf(shown.item_id);
    const assetBase = assetBaseFor(launch.sessionId);
    // What was posted belongs to that item only (another may be current by now).
    const kept = posted?.token === shown.token ? posted : undefined;
    const itemHtml = renderItemForm(item, locale, { assetBase, problem: kept?.problem, response: kept?.response });
    const hints = Array.from({ length: shown.hints_used }, (_, i) => ({ n: i + 1, label: translate(locale, 'practice.hint_n', { n: i + 1 }), html: renderHint(item, i, locale, { assetBase }) }));
    const answered = progress?.answered ?? 0;
    const length = l.activity.settings.length;
    const stuckSkill = shown.reason.movedFromStuck === null ? undefined : skills.find((s) => s.id === shown.reason.movedFromStuck);
    d.render(res, 'practice/item', {
      ...common(l, launch, skills),
      title: `${translate(locale, 'practice.question')} ${answered + 1} · ${l.activity.title}`,
      number: answered + 1,
      progressText: length.kind === 'range' ? translate(locale, 'practice.progress_of', { answered, max: length.max }) : translate(locale, 'practice.progress', { answered }),
      reasonText: reasonText(locale, shown.reason, skills.find((s) => s.id === shown.skill_id)?.name ?? ''),
      // Nothing else open yet (the skills after it need it first): the same skill again, said so.
      stuckText: stuckSkill && translate(locale, stuckSkill.id === shown.skill_id ? 'practice.stuck_nothing_else' : 'practice.stuck', { skill: stuckSkill.name }),
      notice: req.query.stale === '1' ? translate(locale, 'practice.stale') : req.query.answered === '1' ? translate(locale, 'practice.already_answered') : undefined,
      token: shown.token, itemHtml, hints, moreHints: shown.hints_used < item.hints.length, nextHint: shown.hints_used + 1,
      answerUrl: `${base(launch)}/practice/answer`, hintUrl: `${base(launch)}/practice/hint`,
      stylesheets: stylesheetsFor(itemHtml, ...hints.map((h) => h.html)),
    }, kept?.problem ? 400 : 200);
  }

  /** The learner and the item presentation a form posts back (its token); a stale token goes back to the practice page. */
  async function postedPresentation(req: Request, res: Response) {
    const l = await learnerOrExplain(req, res);
    if (!l) return undefined;
    const token = typeof req.body?.token === 'string' ? req.body.token : '';
    const shown = await findPresentation(db, l, token);
    if (!shown) {
      res.redirect(303, `${base(res.locals.launch!)}/practice?stale=1`);
      return undefined;
    }
    return { l, token, shown };
  }

  const showPractice = wrap((req, res) => showItem(req, res));
  r.get('/practice', showPractice);

  r.post('/practice/answer', form, wrap(async (req, res) => {
    const launch = res.locals.launch!;
    const posted = await postedPresentation(req, res);
    if (!posted) return;
    const { l, token, shown } = posted;
    const item = await itemOf(shown.item_id);
    const earlier = shown.answered_at === null ? undefined : await findAnswered(db, l, token);
    if (earlier) {
      // The same answer again (a double click) shows its feedback; another one (after Back) is not graded:
      // say so and go on to the current question, rather than show the earlier verdict as if it were new.
      const same = sameResponse(item, req.body ?? {}, earlier.response);
      return res.redirect(303, same ? `${base(launch)}/practice/answered/${encodeURIComponent(token)}` : `${base(launch)}/practice?answered=1`);
    }
    let response: ItemResponse;
    try {
      response = parseResponse(item, req.body ?? {});
    } catch (e) {
      if (!(e instanceof InvalidResponse)) throw e;
      return showItem(req, res, { token, response: draftOf(item, req.body ?? {}), problem: e.userMessage(launch.locale) });
    }
    const { correct } = gradeResponse(item, response, { locale: launch.locale });
    await recordAttempt(d.practice, { learner: l, shown, response, correct, now: Date.now(), agsEndpoint: launch.claims[CLAIM.agsEndpoint] });
    d.onAnswer?.({ tenantId: l.tenantId, activityId: l.activity.id });
    res.redirect(303, `${base(launch)}/practice/answered/${encodeURIComponent(token)}`);
  }));

  r.post('/practice/hint', form, wrap(async (req, res) => {
    const launch = res.locals.launch!;
    const posted = await postedPresentation(req, res);
    if (!posted) return;
    const { l, token, shown } = posted;
    if (shown.answered_at !== null) return res.redirect(303, `${base(launch)}/practice?stale=1`);
    const item = await itemOf(shown.item_id);
    // The hint's number, not "one more": the same form posted again (a reload) shows the same hints.
    const n = Number(req.body?.hint);
    if (Number.isInteger(n) && n >= 1) await useHint(db, l, token, Math.min(n, item.hints.length));
    // The page again, not a redirect: what the student typed or chose stays in the form, ungraded, and no
    // fragment scrolls the question away inside the LMS's frame.
    await showItem(req, res, { token, response: draftOf(item, req.body ?? {}) });
  }));

  r.get('/practice/answered/:token', wrap(async (req, res) => {
    const launch = res.locals.launch!;
    const locale = launch.locale;
    const l = await learnerOrExplain(req, res);
    if (!l) return;
    const answered = await findAnswered(db, l, req.params.token);
    if (!answered) return res.redirect(303, `${base(launch)}/practice`);
    const { shown, ...attempt } = answered;
    const item = await itemOf(shown.item_id);
    const assetBase = assetBaseFor(launch.sessionId);
    const response = JSON.parse(attempt.response) as ItemResponse;
    const correct = attempt.correct === 1;
    const { feedbackHtml } = gradeResponse(item, response, { locale, assetBase });
    const reviewHtml = renderReview(item, response, correct, locale, { assetBase });
    const wantsSolution = req.query.solution === '1';
    if (wantsSolution) await markSolutionShown(db, l, shown.token);
    const solutionHtml = wantsSolution ? renderSolution(item, locale, { assetBase }) : '';
    const [{ estimates, overrides, similar }, progress] = await Promise.all([afterAnswer(d.practice, l, shown.token), progressOf(db, l)]);
    const skills = await skillProgress(d.practice, l, locale, estimates, overrides);
    const changed = skills.map((s) => (s.id === shown.skill_id ? { ...s, before: shown.reason.firstTime ? null : shown.reason.mastery } : s));
    const here = `${base(launch)}/practice/answered/${encodeURIComponent(shown.token)}`;
    const completed = progress?.completedAt != null;
    const finished = completed && req.query.more !== '1';
    d.render(res, 'practice/answered', {
      ...common(l, launch, changed),
      title: `${translate(locale, solutionHtml ? 'practice.solution' : correct ? 'practice.correct' : 'practice.incorrect')} · ${l.activity.title}`,
      correct, reviewHtml, feedbackHtml, solutionHtml, hasSolution: !!item.solution, solutionUrl: `${here}?solution=1#solution`, finished,
      nextUrl: `${base(launch)}/practice${completed ? '?more=1' : ''}`, summaryUrl: `${base(launch)}/practice/summary`,
      similarUrl: !correct && !finished && similar ? `${base(launch)}/practice?${completed ? 'more=1&' : ''}similar=1` : undefined,
      stylesheets: stylesheetsFor(reviewHtml, feedbackHtml, solutionHtml),
    });
  }));

  r.get('/practice/summary', wrap(async (req, res) => {
    const launch = res.locals.launch!;
    const locale = launch.locale;
    const l = await learnerOrExplain(req, res);
    if (!l) return;
    // The grade is read back from the outbox, not computed again: the page shows what the gradebook is sent.
    const [{ next, estimates, overrides, pausedSkills }, progress, score] = await Promise.all([
      nextPractice(d.practice, l), progressWithTimeOf(db, l),
      l.preview ? undefined : latestScore(db, { tenantId: l.tenantId, contextId: l.contextId, activityId: l.activity.id, userSub: l.userSub }),
    ]);
    const skills = await skillProgress(d.practice, l, locale, estimates, overrides, pausedSkills);
    d.render(res, 'practice/summary', {
      ...common(l, launch, skills),
      title: `${translate(locale, 'practice.summary_tab')} · ${l.activity.title}`,
      ...summaryView(locale, l, skills, progress, score, next),
      moreUrl: `${base(launch)}/practice?more=1`,
    });
  }));

  return { router: r, homes: { student: showPractice, deepLinking: showPlace, teacher: teacherHome } };
}

/** `before`: the estimate when the item was shown, null when the skill had not been tried. */
function skillView(s: SkillProgress & { before?: number | null }, locale: Locale) {
  return {
    id: s.id, name: s.name, percent: pct(s.estimate.p), notTried: s.status === 'not_tried', mastered: s.mastered, paused: s.paused,
    change: s.before === undefined ? undefined : `${s.before === null ? translate(locale, 'practice.not_tried') : `${pct(s.before)}%`} → ${pct(s.estimate.p)}%`,
  };
}

const SUMMARY_GROUPS = ['mastered', 'learning', 'paused', 'not_tried'] as const;

/**
 * The summary's words: what happened (praise only for the goal), the grade the gradebook is sent and
 * how it is computed, the one next step "keep practising" leads to, and each skill once, in its group.
 */
function summaryView(locale: Locale, l: Learner, skills: SkillProgress[], progress: ProgressWithTime | undefined, score: { scoreGiven: number; scoreMaximum: number } | undefined, next: NextPractice['next']) {
  const answered = progress?.answered ?? 0;
  const correct = progress?.correct ?? 0;
  const mastered = skills.filter((s) => s.mastered).length;
  const goal = skills.length > 0 && mastered === skills.length;
  const outcome = answered === 0 ? 'not_started' : goal ? 'goal' : progress?.completedAt == null ? 'in_progress' : correct * 2 < answered ? 'hard' : 'finished';
  const say = (key: string, vars: Record<string, unknown> = {}) => translate(locale, `practice.${key}`, vars);
  const kind = next?.kind;
  const nextSkill = next && skills.find((s) => s.id === next.skillId);
  const stuck = skills.find((s) => s.paused);
  // No new learning on offer (the policy brings a resting skill back, or reviews while one rests): the
  // step that helps is the teacher, on the skill the student is stuck on.
  const nextText = goal ? say('summary_next_done')
    : !nextSkill ? undefined
    : kind === 'learn' || kind === 'fixed' ? say('summary_next_learn', { skill: nextSkill.name })
    : kind === 'review' && !stuck ? say('summary_next_review', { skill: nextSkill.name })
    : say('summary_next_teacher', { skill: (kind === 'review' && stuck ? stuck : nextSkill).name });
  const groupOf = (s: SkillProgress) => (s.mastered ? 'mastered' : s.paused ? 'paused' : s.status === 'not_tried' ? 'not_tried' : 'learning');
  const number = new Intl.NumberFormat(locale === 'id' ? 'id-ID' : 'en-US', { maximumFractionDigits: 2 });
  return {
    heading: say(`summary_heading.${outcome}`),
    lead: say(`summary_lead.${outcome}`, { activity: l.activity.title, mastered, total: skills.length }),
    answeredText: answered ? say('summary_answered', { answered, correct, minutes: Math.max(1, Math.round((progress?.timeSpentMs ?? 0) / 60_000)) }) : undefined,
    gradeText: l.preview ? say('summary_grade_preview')
      : score ? say('summary_grade', { score: number.format(score.scoreGiven), max: number.format(score.scoreMaximum) }) : say('summary_grade_none'),
    gradeHow: score && say(`summary_grade_how_${l.activity.settings.gradeMode}`, { most: pct(UNMASTERED_CREDIT), correct, answered }),
    nextText,
    groups: SUMMARY_GROUPS.map((key) => ({ key, heading: say(`summary_group.${key}`), skills: skills.filter((s) => groupOf(s) === key).map((s) => skillView(s, locale)) }))
      .filter((g) => g.skills.length),
  };
}

/** "Your estimated mastery of Adding fractions is 45%; you have a good chance — about 70% — …". */
export function reasonText(locale: Locale, reason: PresentationReason, skill: string): string {
  const p = pct(reason.pSuccess);
  const chance = translate(locale, `practice.chance.${p >= 80 ? 'high' : p >= 60 ? 'good' : p >= 40 ? 'even' : 'low'}`);
  // A skill's first item is introduced as new, with no estimate to quote: nothing is known of it yet.
  // The same number twice ("…at 27%. … about 27% …") reads as padding: then it is said once.
  const kind = reason.firstTime && reason.kind === 'learn' ? 'new' : reason.kind === 'learn' && pct(reason.mastery) === p ? 'learn_same' : reason.kind;
  return translate(locale, `practice.reason.${kind}`, { skill, mastery: pct(reason.mastery), p, chance });
}

/** Whether a posted form gives the response already recorded (stored as JSON by recordAttempt). */
function sameResponse(item: Item, body: Record<string, unknown>, recorded: string): boolean {
  try {
    return JSON.stringify(parseResponse(item, body)) === recorded;
  } catch (e) {
    if (e instanceof InvalidResponse) return false;
    throw e;
  }
}

/** What a posted form held, to put back in it: typed text as typed (even unreadable), choices when they are the item's. */
function draftOf(item: Item, body: Record<string, unknown>): ItemResponse | undefined {
  if (item.kind === 'numeric' || item.kind === 'shortanswer') return typeof body.answer === 'string' ? { kind: item.kind, text: body.answer } : undefined;
  try {
    return parseResponse(item, body);
  } catch (e) {
    if (e instanceof InvalidResponse) return undefined;
    throw e;
  }
}

const asList = (v: unknown) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const Count = z.coerce.number().int().min(1).max(500);
const FORM_FIELDS = {
  bank: z.coerce.number().int().positive(),
  title: z.string().trim().min(1).max(200),
  skill: z.preprocess(asList, z.array(z.coerce.number().int().positive()).min(1).max(100)),
  threshold: z.coerce.number().int().refine((t) => THRESHOLDS.includes(t)),
  length: z.enum(['until_mastered', 'range']),
  grade_mode: z.enum(['mastery', 'accuracy']),
};
/** Where a mistake is shown: at its field ('range': minimum and maximum together; 'choice': a tampered option, at the top only). */
type FormField = 'bank' | 'title' | 'skill' | 'range' | 'choice';
type FieldErrors = Partial<Record<FormField, string>>;
const FIELD_OF: Record<keyof typeof FORM_FIELDS, FormField> = { bank: 'bank', title: 'title', skill: 'skill', threshold: 'choice', length: 'choice', grade_mode: 'choice' };
const ERROR_KEY: Record<FormField, string> = { bank: 'error_bank', title: 'error_title', skill: 'error_skills', range: 'error_range', choice: 'error_choice' };

/** The minimum and maximum as typed; `minBad`/`maxBad`: which to mark (the minimum too when it exceeds the maximum). */
function readRange(values: Record<string, unknown>) {
  const min = Count.safeParse(values.min_items);
  const max = Count.safeParse(values.max_items);
  const reversed = min.success && max.success && min.data > max.data;
  return { min: min.data, max: max.data, minBad: !min.success || reversed, maxBad: !max.success };
}

/** Each field read on its own, so that every mistake is shown at once; "until mastered" ignores the minimum and maximum. */
function readSettingsForm(body: Record<string, unknown>):
  { ok: true; form: { bank: number; title: string; skill: number[]; threshold: number; length: ActivitySettings['length']; grade_mode: 'mastery' | 'accuracy'; accept_few_items: boolean } }
  | { ok: false; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const read = <K extends keyof typeof FORM_FIELDS>(k: K): z.infer<(typeof FORM_FIELDS)[K]> | undefined => {
    const r = FORM_FIELDS[k].safeParse(body[k]);
    if (!r.success) errors[FIELD_OF[k]] = ERROR_KEY[FIELD_OF[k]];
    return r.data as z.infer<(typeof FORM_FIELDS)[K]> | undefined;
  };
  const [bank, title, skill, threshold, kind, gradeMode] = [read('bank'), read('title'), read('skill'), read('threshold'), read('length'), read('grade_mode')];
  const range = readRange(body);
  if (kind === 'range' && (range.minBad || range.maxBad)) errors.range = ERROR_KEY.range;
  if (Object.keys(errors).length) return { ok: false, errors };
  const length: ActivitySettings['length'] = kind === 'range' ? { kind: 'range', min: range.min!, max: range.max! } : { kind: 'until_mastered' };
  return { ok: true, form: { bank: bank!, title: title!, skill: skill!, threshold: threshold!, length, grade_mode: gradeMode!, accept_few_items: body.accept_few_items === '1' } };
}

/** How many skills a new activity starts with: a lesson's practice, which the teacher widens with "select all". */
const DEFAULT_SKILLS = 3;

/**
 * The skills ticked when the form opens: the bank's first skills, in its order, whose prerequisites are
 * all among them — the start of the bank's progression, with nothing that builds on a skill left out.
 */
function defaultSkills(skills: readonly BankSkill[]): Set<number> {
  const chosen = new Set<number>();
  for (const s of skills) {
    if (chosen.size >= DEFAULT_SKILLS) break;
    if (s.prerequisites.every((p) => chosen.has(p))) chosen.add(s.id);
  }
  return chosen;
}

/** The time the settings shown may take, said with its assumptions; without the skills or a readable range, what is missing. */
function estimateText(locale: Locale, kind: 'range' | 'until_mastered', range: ReturnType<typeof readRange>, skills: number): string {
  if (kind === 'range' ? range.minBad || range.maxBad : !skills) return translate(locale, kind === 'range' ? 'practice.form.estimate_bad_range' : 'practice.form.estimate_no_skills');
  const length: ActivitySettings['length'] = kind === 'range' ? { kind, min: range.min!, max: range.max! } : { kind };
  const { minutes: [low, high] } = timeEstimate(length, skills);
  const per = new Intl.NumberFormat(locale === 'id' ? 'id-ID' : 'en-US').format(MINUTES_PER_ITEM);
  const vars = { minutes: low === high ? String(high) : `${low}–${high}`, per, skills, min: range.min, max: range.max, fewest: ANSWERS_TO_MASTERY.fewest, most: ANSWERS_TO_MASTERY.most };
  return translate(locale, `practice.form.estimate_${kind}`, vars);
}

function settingsFormModel(locale: Locale, bank: BankSummary, values: Record<string, unknown> | undefined, errors: FieldErrors) {
  const chosen = values ? new Set(asList(values.skill).map(String)) : new Set([...defaultSkills(bank.skills)].map(String));
  const threshold = Number(values?.threshold ?? 80);
  const names = new Map(bank.skills.map((s) => [s.id, s.name]));
  const kind = (values?.length ?? 'until_mastered') === 'until_mastered' ? 'until_mastered' : 'range';
  const minItems = values?.min_items ?? 10;
  const maxItems = values?.max_items ?? 30;
  const range = readRange({ min_items: minItems, max_items: maxItems });
  const skillCount = bank.skills.filter((s) => chosen.has(String(s.id))).length;
  // The summary links each mistake to its field (the first skill's box for the skills).
  const anchors: Record<FormField, string | undefined> = { bank: undefined, title: 'title', skill: bank.skills[0] && `skill-${bank.skills[0].id}`, range: range.minBad ? 'min_items' : 'max_items', choice: undefined };
  return {
    bank, errors,
    errorList: (Object.keys(errors) as FormField[]).map((f) => ({ message: errors[f], href: anchors[f] && `#${anchors[f]}` })),
    bankSize: translate(locale, 'practice.form.bank_size', { skills: bank.skills.length, items: bank.items }),
    title: typeof values?.title === 'string' ? values.title : bank.title,
    skills: bank.skills.map((s) => ({
      id: s.id, name: s.name, checked: chosen.has(String(s.id)),
      items: translate(locale, 'practice.form.skill_items', { items: bank.skillItems.get(s.id) ?? 0 }),
      requires: s.prerequisites.length ? translate(locale, 'practice.form.requires', { skills: s.prerequisites.map((p) => names.get(p) ?? '?').join(', ') }) : '',
    })),
    thresholds: THRESHOLDS.map((percent) => ({ percent, selected: percent === threshold, label: translate(locale, 'practice.form.goal_option', { percent }) })),
    untilMastered: kind === 'until_mastered',
    minItems, maxItems,
    // Marked only when the range is what was asked for: "until mastered" ignores both.
    minInvalid: !!errors.range && range.minBad, maxInvalid: !!errors.range && range.maxBad,
    estimate: estimateText(locale, kind, range, skillCount),
    gradeMastery: (values?.grade_mode ?? 'mastery') === 'mastery',
    gradeHowMastery: translate(locale, 'practice.form.grade_how_mastery', { most: pct(UNMASTERED_CREDIT) }),
  };
}
