import { Router, type RequestHandler } from 'express';
import type { Renderer } from './render';
import { courseTitle } from './session';
import { CLAIM } from '../lti/claims';
import { Refusal } from '../lti/refusal';
import { translate } from './i18n';

/** Homes another part of Jejak answers (src/practice/routes.ts): practice, placing an activity, setting one up. */
export interface RoleHomes {
  student: RequestHandler;
  deepLinking: RequestHandler;
  /** Calls next() to show the teacher home. */
  teacher: RequestHandler;
}

/** Pages behind a launch: the student home, the teacher home, deep-linking content selection. */
export function homeRoutes(render: Renderer, homes: RoleHomes): Router {
  const r = Router({ mergeParams: true });
  r.get('/', (req, res, next) => {
    const audience = res.locals.launch!.audience;
    if (audience === 'student') return homes.student(req, res, next);
    if (audience === 'teacher') return (res.locals.launch!.messageType === 'LtiDeepLinkingRequest' ? homes.deepLinking : homes.teacher)(req, res, next);
    next();
  });
  r.get('/', (_req, res) => {
    const launch = res.locals.launch!;
    const course = courseTitle(launch);
    const platform = launch.claims[CLAIM.toolPlatform]?.name ?? new URL(launch.claims.iss).host;
    if (launch.audience === undefined) throw new Refusal('no_role', `roles ${launch.roles.join(', ') || '(none)'} give no access`, 403);
    const roleName = translate(launch.locale, launch.audience === 'teacher' ? 'home.role_instructor' : 'home.role_learner');
    render(res, 'teacher-home', { locale: launch.locale, course, platform, roleName });
  });
  return r;
}
