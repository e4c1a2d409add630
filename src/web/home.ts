import { Router } from 'express';
import type { Renderer } from './render';
import { courseTitle } from './session';
import { CLAIM } from '../lti/claims';
import { Refusal } from '../lti/refusal';
import { translate } from './i18n';

/** Pages behind a launch: the student home, the teacher home, deep-linking content selection. */
export function homeRoutes(render: Renderer): Router {
  const r = Router({ mergeParams: true });
  r.get('/', (_req, res) => {
    const launch = res.locals.launch!;
    const course = courseTitle(launch);
    const platform = launch.claims[CLAIM.toolPlatform]?.name ?? new URL(launch.claims.iss).host;
    if (launch.audience === undefined) throw new Refusal('no_role', `roles ${launch.roles.join(', ') || '(none)'} give no access`, 403);
    const roleName = translate(launch.locale, launch.audience === 'teacher' ? 'home.role_instructor' : 'home.role_learner');
    if (launch.messageType === 'LtiDeepLinkingRequest' && launch.audience === 'teacher') {
      return render(res, 'deep-link', { locale: launch.locale, course });
    }
    render(res, launch.audience === 'teacher' ? 'teacher-home' : 'student-home', { locale: launch.locale, course, platform, roleName });
  });
  return r;
}
