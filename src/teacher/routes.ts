import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { Db } from '../db/schema';
import type { KnowledgeTracer } from '../kt/tracer';
import { CLAIM } from '../lti/claims';
import { activityForLaunch } from '../practice/activities';
import { translate, type Locale } from '../web/i18n';
import type { Renderer } from '../web/render';
import { courseTitle, type LaunchContext } from '../web/session';
import { publishScore } from '../grades/commands/publishScore';
import type { Gradebooks } from '../grades/gradebook';
import { gradeCounts, gradeReport, type GradeLine } from '../grades/report';
import { masteryChartSvg } from './chart';
import { estimatesPageHref } from './estimates-page';
import { classView, pct, median, type ClassView, type Flag, type StudentRow } from './class-view';
import { schoolDateTime, schoolTime, zoneLabel } from './school-time';
import { toCsv } from './csv';
import { courseActivity, NotInCourse } from './overrides';
import type { Roster } from './roster';
import { courseNames, shownName } from './names';
import type { EventBus } from '../events/bus';
import { studentView } from './student-view';
import { audit } from '../db/audit';
import { resetProgress } from './commands/resetProgress';
import { setFixedOrder } from './commands/setFixedOrder';
import { skipSkill } from './commands/skipSkill';
import { unlockSkill } from './commands/unlockSkill';

export interface TeacherRouteDeps {
  db: Db;
  tracer: KnowledgeTracer;
  roster: Roster;
  render: Renderer;
  /** Answers from every process, for the live class view. */
  events: EventBus;
  /** What the LMS gradebooks show, read back for the grades page. */
  gradebooks: Gradebooks;
  /** The school's IANA time zone: every time on these pages is shown in it. */
  timeZone: string;
}

const wrap = (fn: (req: Request, res: Response, next: NextFunction) => Promise<void>): RequestHandler => (req, res, next) => {
  fn(req, res, next).catch((e) => next(e instanceof NotInCourse ? undefined : e));
};

/** Heatmap bands: the cell's class, with its number always printed too. */
const band = (p: number | null) => (p === null ? 'none' : p < 0.4 ? 'low' : p < 0.6 ? 'mid' : p < 0.8 ? 'good' : 'high');

/**
 * The teacher's pages under /s/:sid/teacher: class view, student view, teacher actions and exports.
 * Every query is scoped to the launch's tenant and course; only instructors and administrators pass.
 * Also opens a student's view for an LtiSubmissionReviewRequest from the gradebook.
 */
export function teacherRoutes(d: TeacherRouteDeps): Router {
  const { db } = d;
  const r = Router({ mergeParams: true });
  const form = express.urlencoded({ extended: false, limit: '8kb' });
  const base = (l: LaunchContext) => `/s/${l.sessionId}/teacher`;
  const when = (at: number) => schoolDateTime(at, d.timeZone);

  // From the LMS gradebook straight to the student: the launch names the student (for_user) and the resource link.
  r.get('/', wrap(async (_req, res, next) => {
    const launch = res.locals.launch!;
    if (launch.messageType !== 'LtiSubmissionReviewRequest' || launch.audience !== 'teacher') return next();
    const activity = await activityForLaunch(db, launch);
    const forUser = launch.claims[CLAIM.forUser]?.user_id;
    if (!activity || typeof forUser !== 'string') return next();
    res.redirect(303, `${base(launch)}/activities/${activity.id}/students/${encodeURIComponent(forUser)}`);
  }));

  r.get('/teacher', wrap(async (_req, res) => {
    const launch = res.locals.launch!;
    const activities = await db.selectFrom('activity').select(['id', 'title'])
      .where('tenant_id', '=', launch.tenantId).where('context_id', '=', launch.contextId).orderBy('created_at').orderBy('id').execute();
    d.render(res, 'teacher/activities', {
      locale: launch.locale, title: translate(launch.locale, 'teacher.activities_title'), course: courseTitle(launch),
      activities: activities.map((a) => ({ ...a, href: `${base(launch)}/activities/${a.id}` })), home: `/s/${launch.sessionId}/`,
    });
  }));

  const activityOf = (res: Response, id: string) => {
    const launch = res.locals.launch!;
    if (!/^\d+$/.test(id)) throw new NotInCourse(`activity id ${id}`);
    return courseActivity(db, launch.tenantId, launch.contextId, Number(id));
  };

  // Server-sent events for the live class view: `answer` whenever a student of this activity answers,
  // on whichever process took the answer, and `roster` when the course's roster was refreshed (by a
  // job, src/teacher/roster.ts). The page then fetches itself again; it polls as well.
  r.get('/teacher/activities/:aid/events', wrap(async (req, res) => {
    const launch = res.locals.launch!;
    const activity = await activityOf(res, req.params.aid);
    res.set({ 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    res.write('retry: 20000\n\n');
    const unsubscribe = d.events.subscribe((e) => {
      if (e.type === 'answer' && e.tenantId === launch.tenantId && e.activityId === activity.id) res.write('event: answer\ndata: {}\n\n');
      if (e.type === 'roster' && e.refreshed && e.tenantId === launch.tenantId && e.contextId === launch.contextId) res.write('event: roster\ndata: {}\n\n');
    });
    // A comment now and then keeps proxies from closing an idle stream.
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 25_000);
    req.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
    });
  }));

  r.get('/teacher/activities/:aid', wrap(async (req, res) => {
    const launch = res.locals.launch!;
    const activity = await activityOf(res, req.params.aid);
    const view = await classView(d, launch, activity, launch.locale);
    const problems = await db.selectFrom('score_outbox').select(['user_sub', 'problem', 'problem_detail', 'updated_at'])
      .where('tenant_id', '=', launch.tenantId).where('context_id', '=', launch.contextId).where('activity_id', '=', activity.id)
      .where('status', '=', 'failed').orderBy('updated_at', 'desc').execute();
    const counts = await gradeCounts(db, { tenantId: launch.tenantId, contextId: launch.contextId, activityId: activity.id });
    const here = `${base(launch)}/activities/${activity.id}`;
    // The class view has read the roster already: its students carry their names.
    const names = new Map(view.students.map((s) => [s.userSub, s.name]));
    const nameOf = (sub: string) => shownName(launch.locale, sub, names.get(sub));
    d.render(res, 'teacher/class', {
      locale: launch.locale, title: activity.title, course: courseTitle(launch), ...classModel(view, launch.locale, here, `/s/${launch.sessionId}/content/banks/${activity.bankId}/items`), howHref: estimatesPageHref(launch.locale),
      here, back: base(launch), updatedAt: schoolTime(Date.now(), d.timeZone).time, zone: zoneLabel(d.timeZone),
      grades: { ...counts, any: counts.delivered + counts.pending + counts.failed > 0, lastDelivered: counts.lastDeliveredAt === null ? null : when(counts.lastDeliveredAt), href: `${here}/grades` },
      gradeProblems: problems.map((p) => ({
        student: nameOf(p.user_sub), href: `${here}/students/${encodeURIComponent(p.user_sub)}`,
        reason: translate(launch.locale, `grades.problems.${p.problem ?? 'rejected'}`), detail: p.problem_detail,
      })),
    });
  }));

  // What each student's latest score became, beside what the LMS gradebook shows (read back, cached
  // briefly; ?fresh=1 reads it again).
  r.get('/teacher/activities/:aid/grades', wrap(async (req, res) => {
    const launch = res.locals.launch!;
    const activity = await activityOf(res, req.params.aid);
    const here = `${base(launch)}/activities/${activity.id}`;
    const report = await gradeReport(db, d.gradebooks, { tenantId: launch.tenantId, contextId: launch.contextId, activityId: activity.id }, { fresh: req.query.fresh === '1' });
    const nameOf = await courseNames(d.roster, launch);
    const lines = report.lines.map((l) => ({
      ...gradeLineModel(l, launch.locale, when), student: nameOf(l.userSub), href: `${here}/students/${encodeURIComponent(l.userSub)}`,
    }));
    d.render(res, 'teacher/grades', {
      locale: launch.locale, title: translate(launch.locale, 'grades.page_title', { activity: activity.title }), course: courseTitle(launch), activityTitle: activity.title,
      back: here, fresh: `${here}/grades?fresh=1`, lines, readAt: report.readAt === null ? null : when(report.readAt),
      differing: lines.filter((l) => l.mismatch).length,
    });
  }));

  r.get('/teacher/activities/:aid/class.csv', wrap(async (req, res) => {
    const launch = res.locals.launch!;
    const activity = await activityOf(res, req.params.aid);
    const view = await classView(d, launch, activity, launch.locale);
    const t = (k: string, v?: Record<string, unknown>) => translate(launch.locale, k, v);
    const rows: (string | number | null)[][] = [[t('teacher.student'), t('teacher.lti_user_id'), t('teacher.answered'), t('teacher.correct'), ...view.skills.map((s) => s.name), t('teacher.flags_csv')]];
    for (const s of view.students) {
      rows.push([shownName(launch.locale, s.userSub, s.name), s.userSub, s.answered, s.correct,
        ...s.cells.map((c) => (c.mastery === null ? null : pct(c.mastery))), s.flags.map((f) => flagText(f, launch.locale)).join('; ')]);
    }
    sendCsv(res, `class-${activity.id}.csv`, toCsv(rows));
  }));

  r.get('/teacher/activities/:aid/attempts.csv', wrap(async (req, res) => {
    const launch = res.locals.launch!;
    const activity = await activityOf(res, req.params.aid);
    const t = (k: string) => translate(launch.locale, k);
    const attempts = await db.selectFrom('attempt').innerJoin('item', 'item.id', 'attempt.item_id')
      .select(['attempt.created_at', 'attempt.user_sub', 'item.code', 'attempt.skill_ids', 'attempt.correct', 'attempt.hints_used', 'attempt.duration_ms'])
      .where('attempt.tenant_id', '=', launch.tenantId).where('attempt.context_id', '=', launch.contextId)
      .where('attempt.activity_id', '=', activity.id).where('attempt.preview', '=', 0)
      .orderBy('attempt.created_at').orderBy('attempt.id').execute();
    const rows: (string | number | null)[][] = [[t('teacher.time'), t('teacher.lti_user_id'), t('teacher.item'), t('teacher.skills'), t('teacher.correct'), t('teacher.hints'), t('teacher.seconds')]];
    for (const a of attempts) {
      rows.push([new Date(a.created_at).toISOString(), a.user_sub, a.code, (JSON.parse(a.skill_ids) as number[]).join(' '), a.correct, a.hints_used, Math.round(a.duration_ms / 100) / 10]);
    }
    sendCsv(res, `attempts-${activity.id}.csv`, toCsv(rows));
  }));

  r.get('/teacher/activities/:aid/students/:sub', wrap(async (req, res) => {
    const launch = res.locals.launch!;
    const activity = await activityOf(res, req.params.aid);
    const sub = req.params.sub;
    const v = await studentView(db, d.tracer, launch, activity, sub, launch.locale);
    // Who looked at which student's data is part of the audit log (src/privacy/).
    await audit(db, { tenantId: launch.tenantId, contextId: launch.contextId, actor: `lti:${launch.userSub}`, action: 'privacy.viewed', subject: `user:${sub}`, at: Date.now(), details: { activityId: activity.id } });
    const t = (k: string, vars?: Record<string, unknown>) => translate(launch.locale, k, vars);
    const goal = activity.settings.masteryThreshold;
    const here = `${base(launch)}/activities/${activity.id}/students/${encodeURIComponent(sub)}`;
    const student = (await courseNames(d.roster, launch))(sub);
    d.render(res, 'teacher/student', {
      locale: launch.locale, title: student, student, activityTitle: activity.title,
      back: `${base(launch)}/activities/${activity.id}`, here, goalPct: pct(goal), howHref: estimatesPageHref(launch.locale),
      privacyExport: `/s/${launch.sessionId}/privacy/students/${encodeURIComponent(sub)}/export`,
      skills: v.skills.map((s) => ({
        ...s, pct: s.estimate && pct(s.estimate.p), band: band(s.estimate && s.estimate.p), mastered: s.status === 'mastered',
        evidence: s.estimate && t('teacher.evidence', { low: pct(s.estimate.low), high: pct(s.estimate.high), answers: s.estimate.answers, items: s.estimate.items }),
      })),
      charts: v.traces.filter((tr) => tr.points.length).map((tr, i) => ({
        name: tr.name,
        svg: masteryChartSvg({
          id: `chart-${i}`, title: t('teacher.chart_title', { skill: tr.name }),
          description: t('teacher.chart_desc', { answers: tr.points.length, from: pct(tr.points[0].p), to: pct(tr.points[tr.points.length - 1].p) }),
          points: tr.points, goal, goalLabel: t('teacher.goal_line', { goal: pct(goal) }),
        }),
      })),
      attempts: v.attempts.map((a) => ({ ...a, when: when(a.at), skills: a.skillNames.join(', '), seconds: Math.round(a.durationMs / 1000) })),
      recommendations: v.recommendations.map((rec) => ({
        when: when(rec.at), item: rec.itemCode, skill: rec.skillName, answered: rec.answered,
        why: t(`teacher.why.${rec.reason.firstTime && rec.reason.kind === 'learn' ? 'new' : rec.reason.kind}`, { skill: rec.skillName, mastery: pct(rec.reason.mastery), success: pct(rec.reason.pSuccess) }),
      })),
      fixedOrder: v.overrides.fixedOrder,
      grade: v.grade && { ...v.grade, failed: v.grade.status === 'failed', ...gradeLineModel((await gradeReport(db, d.gradebooks, { tenantId: launch.tenantId, contextId: launch.contextId, activityId: activity.id }, { userSub: sub })).lines[0]!, launch.locale, when) },
      gradesHref: `${base(launch)}/activities/${activity.id}/grades`,
      medianSeconds: Math.round(median(v.attempts.map((a) => a.durationMs)) / 1000),
    });
  }));

  const action = (fn: (launch: LaunchContext, activityId: number, sub: string, body: Record<string, string>) => Promise<unknown>) =>
    wrap(async (req, res) => {
      const launch = res.locals.launch!;
      const activity = await activityOf(res, req.params.aid);
      await fn(launch, activity.id, req.params.sub, (req.body ?? {}) as Record<string, string>);
      res.redirect(303, `${base(launch)}/activities/${activity.id}/students/${encodeURIComponent(req.params.sub)}`);
    });
  const who = (launch: LaunchContext, activityId: number, sub: string) => ({
    db, tenantId: launch.tenantId, contextId: launch.contextId, activityId, userSub: sub, actor: `lti:${launch.userSub}`,
  });
  const SkillAction = z.object({ skill: z.coerce.number().int(), change: z.enum(['unlock', 'relock', 'skip', 'restore']) });

  r.post('/teacher/activities/:aid/students/:sub/skill', form, action(async (launch, activityId, sub, body) => {
    const parsed = SkillAction.safeParse(body);
    if (!parsed.success) throw new NotInCourse('malformed skill change');
    const a = parsed.data;
    if (a.change === 'unlock' || a.change === 'relock') await unlockSkill({ ...who(launch, activityId, sub), skillId: a.skill, unlocked: a.change === 'unlock' });
    else await skipSkill({ ...who(launch, activityId, sub), skillId: a.skill, skipped: a.change === 'skip' });
  }));
  r.post('/teacher/activities/:aid/students/:sub/fixed-order', form, action(async (launch, activityId, sub, body) => {
    await setFixedOrder({ ...who(launch, activityId, sub), fixedOrder: body.fixed === '1' });
  }));
  r.post('/teacher/activities/:aid/students/:sub/reset', form, action(async (launch, activityId, sub, body) => {
    if (body.confirm === 'yes') await resetProgress({ ...who(launch, activityId, sub), tracer: d.tracer });
  }));
  r.post('/teacher/activities/:aid/students/:sub/grade', form, action(async (launch, activityId, sub) => {
    await publishScore(who(launch, activityId, sub));
  }));
  return r;
}

/** One student's grade as the pages say it: what was sent, what became of it, what the gradebook shows. */
function gradeLineModel(l: GradeLine, locale: Locale, when: (at: number) => string) {
  const t = (k: string, v?: Record<string, unknown>) => translate(locale, k, v);
  const score = (given: number, max: number) => t('grades.score', { given: Math.round(given * 100) / 100, max: Math.round(max * 100) / 100 });
  const sent = l.gradingProgress === 'FullyGraded' ? score(l.scoreGiven, l.scoreMaximum) : t('grades.sent_empty');
  const delivery = l.status === 'delivered' ? t('grades.delivered_at', { at: when(l.deliveredAt!) })
    : l.status === 'pending' ? t(l.tries ? 'grades.waiting_tries' : 'grades.waiting', { tries: l.tries })
      : t('grades.not_sent');
  const shows = l.unreadable ? t(`grades.unreadable.${l.unreadable.why}`)
    : l.cell?.score == null ? t('grades.shows_nothing') : score(l.cell.score, l.cell.maximum ?? l.scoreMaximum);
  return {
    sent, delivery, shows, unreadableDetail: l.unreadable?.detail || null,
    reason: l.problem ? t(`grades.problems.${l.problem}`) : null, problemDetail: l.problemDetail,
    // A given-up score says so in `reason`; the comparison speaks only of what was delivered.
    agreement: l.agreement && l.agreement !== 'not_sent' ? t(`grades.agreement.${l.agreement}`) : null,
    mismatch: l.agreement === 'empty' || l.agreement === 'differs',
  };
}

function sendCsv(res: Response, filename: string, body: string): void {
  res.set('content-disposition', `attachment; filename="${filename}"`).type('text/csv; charset=utf-8').send(body);
}

export function flagText(f: Flag, locale: Locale): string {
  return translate(locale, `teacher.flag_reasons.${f.kind}`, f.why);
}

/** What a row's state says in words: its most urgent flag's reason, or how the practice went. */
function stateReason(s: StudentRow, locale: Locale): string {
  const flag = s.flags.find((f) => f.kind === s.state);
  if (flag) return flagText(flag, locale);
  const mastered = s.cells.filter((c) => c.status === 'mastered').length;
  return translate(locale, `teacher.flag_reasons.${s.state}`, { answers: s.answered, accuracy: s.answered ? pct(s.correct / s.answered) : 0, mastered, skills: s.cells.length });
}

/** The class view as the template shows it; `itemsHref` is the bank's item preview route. */
function classModel(view: ClassView, locale: Locale, here: string, itemsHref: string) {
  const goal = view.activity.settings.masteryThreshold;
  const t = (k: string, v?: Record<string, unknown>) => translate(locale, k, v);
  const who = (s: StudentRow) => ({ label: shownName(locale, s.userSub, s.name), href: `${here}/students/${encodeURIComponent(s.userSub)}` });
  // Emphasis is kept for what the teacher should act on; idle and not started are shown plainly.
  const act = (s: StudentRow) => s.state === 'struggling' || s.state === 'at_risk';
  const item = (i: ClassView['items'][number]) => ({ ...i, href: `${itemsHref}/${i.itemId}`, successPct: pct(i.success), seconds: Math.round(i.medianMs / 1000) });
  return {
    goalPct: pct(goal),
    skills: view.skills,
    rosterKnown: view.rosterKnown,
    stuckGroups: view.stuckGroups.map((g) => ({
      heading: t('teacher.stuck_group', { count: g.students.length, skill: g.name }), item: g.item && item(g.item), students: g.students.map(who),
    })),
    students: view.students.map((s) => ({
      ...who(s),
      answered: s.answered,
      accuracy: s.answered ? pct(s.correct / s.answered) : null,
      cells: s.cells.map((c) => ({ pct: c.mastery === null ? null : pct(c.mastery), band: band(c.mastery), mastered: c.status === 'mastered' })),
      state: s.state, stateLabel: t(`teacher.flags.${s.state}`), reason: stateReason(s, locale), act: act(s),
    })),
    flagged: view.students.filter((s) => s.flags.length).map((s) => ({
      ...who(s), act: act(s),
      flags: s.flags.map((f) => ({ kind: f.kind, label: t(`teacher.flags.${f.kind}`), reason: flagText(f, locale) })),
    })),
    skillSummaries: view.skillSummaries.map((s) => ({ ...s, pct: s.classMastery === null ? null : pct(s.classMastery), band: band(s.classMastery), accuracyPct: s.accuracy === null ? null : pct(s.accuracy) })),
    hardest: view.hardestSkills.slice(0, 3).map((s) => ({ name: s.name, pct: pct(s.classMastery!) })),
    troubleItems: view.troubleItems.map((i) => ({ ...item(i), strongMissPct: i.strongMiss === null ? null : pct(i.strongMiss) })),
    items: view.items.map(item),
  };
}
