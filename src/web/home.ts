import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Db } from '../db/schema';
import { audit } from '../db/audit';
import { CLAIM } from '../lti/claims';
import { activityForLaunch, bankSkills } from '../practice/activities';
import { MAX_MENTEES, mentorView } from '../teacher/mentor-view';
import type { Renderer } from './render';
import { courseTitle, type LaunchContext } from './session';
import { translate } from './i18n';

/** Homes another part of Jejak answers (src/practice/routes.ts): practice, placing an activity, setting one up. */
export interface RoleHomes {
  student: RequestHandler;
  deepLinking: RequestHandler;
  /** Calls next() to show the teacher home. */
  teacher: RequestHandler;
}

export interface HomeDeps {
  db: Db;
  render: Renderer;
}

const wrap = (fn: (req: Request, res: Response, next: NextFunction) => Promise<void>): RequestHandler => (req, res, next) => {
  fn(req, res, next).catch(next);
};

const platformName = (launch: LaunchContext): string => launch.claims[CLAIM.toolPlatform]?.name ?? new URL(launch.claims.iss).host;

/**
 * The session's root for each audience (src/lti/roles.ts): the student's practice, the teacher home
 * (or placing an activity), a mentor's read-only page of the learners they follow, and for a launch
 * whose roles allow nothing (a guest, an empty roles claim) a page saying what the activity is and
 * what to ask for.
 */
export function homeRoutes(d: HomeDeps, homes: RoleHomes): Router {
  const { db, render } = d;
  const r = Router({ mergeParams: true });

  const mentorHome = wrap(async (_req, res) => {
    const launch = res.locals.launch!;
    const locale = launch.locale;
    const course = courseTitle(launch);
    const activity = await activityForLaunch(db, launch);
    const shown = launch.mentees.slice(0, MAX_MENTEES);
    const rows = activity ? await mentorView(db, launch, activity, shown, locale) : [];
    // Who read which learner's data is part of the audit log, as for a teacher's student view.
    if (activity && rows.length) {
      await db.transaction().execute(async (tx) => {
        for (const row of rows) {
          await audit(tx, {
            tenantId: launch.tenantId, contextId: launch.contextId, actor: `lti:${launch.userSub}`, action: 'privacy.viewed',
            subject: `user:${row.userSub}`, at: Date.now(), details: { activityId: activity.id, as: 'mentor' },
          });
        }
      });
    }
    render(res, 'mentor-home', {
      locale, title: translate(locale, 'home.mentor_title'), course, activity: activity?.title, platform: platformName(launch),
      roleName: translate(locale, 'home.role_mentor'), hidden: launch.mentees.length - shown.length,
      mentees: rows.map((m) => ({
        label: translate(locale, 'teacher.pseudonym', { id: m.userSub }),
        progress: translate(locale, 'home.mentor_answered', { answered: m.answered, correct: m.correct }), finished: m.finished,
        skills: m.skills.map((s) => ({ name: s.name, answered: s.answered, correct: s.correct })),
      })),
    });
  });

  const noRoleHome = wrap(async (_req, res) => {
    const launch = res.locals.launch!;
    const locale = launch.locale;
    const activity = await activityForLaunch(db, launch);
    const skills = activity && (await bankSkills(db, activity.bankId, locale)).filter((s) => activity.settings.skillIds.includes(s.id)).map((s) => s.name);
    render(res, 'no-role', {
      locale, title: translate(locale, 'home.no_role_title'), course: courseTitle(launch), platform: platformName(launch),
      activity: activity?.title, skills: skills?.join(', '),
      // The role's own name (`Faculty`), not its URI: readable, and it fits a phone's width.
      roles: launch.roles.length ? launch.roles.map((role) => role.split(/[#/:]/).pop()).join(', ') : translate(locale, 'home.no_roles'),
    });
  });

  r.get('/', (req, res, next) => {
    const launch = res.locals.launch!;
    if (launch.audience === 'student') return homes.student(req, res, next);
    if (launch.audience === 'teacher') return (launch.messageType === 'LtiDeepLinkingRequest' ? homes.deepLinking : homes.teacher)(req, res, next);
    if (launch.audience === 'mentor') return mentorHome(req, res, next);
    return noRoleHome(req, res, next);
  });
  r.get('/', (_req, res) => {
    const launch = res.locals.launch!;
    render(res, 'teacher-home', {
      locale: launch.locale, course: courseTitle(launch), platform: platformName(launch), roleName: translate(launch.locale, 'home.role_instructor'),
    });
  });
  return r;
}
