import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Db } from '../db/schema';
import { sha256 } from '../crypto';
import { CLAIM } from '../lti/claims';
import { audienceOf, type Audience } from '../lti/roles';
import { pickLocale, type Locale } from './i18n';
import { sessionCookie } from './cookies';
import { csrfTokens, sameOriginWrites } from './security';

/** Who is asking, as the launch established it. Every page after a launch works from this alone. */
export interface LaunchContext {
  sessionId: string;
  tenantId: number;
  contextId: string;
  resourceLinkId: string | null;
  userSub: string;
  roles: string[];
  audience: Audience | undefined;
  messageType: string;
  locale: Locale;
  claims: Record<string, any>;
}

declare module 'express-serve-static-core' {
  interface Locals {
    launch?: LaunchContext;
  }
}

/** Thrown when a session is unknown, expired, or presented by another browser. */
export class SessionExpired extends Error {}

/** Thrown when the launch's role does not allow the page (a learner asking for a teacher page). */
export class Forbidden extends Error {}

/**
 * Everything behind a launch lives under /s/:sid/. The session is loaded and checked here, once, for
 * every route given; routes then trust res.locals.launch (tenant, context, role).
 */
export function sessionArea(db: Db, publicUrl: string, secret: string, routers: Router[]): Router {
  const area = Router({ mergeParams: true });
  area.use(sameOriginWrites(publicUrl));
  area.use(requireSession(db));
  area.use(csrfTokens(secret));
  for (const r of routers) area.use(r);
  return Router().use('/s/:sid', area);
}

/** Allows only instructors and administrators of the launch's context. */
export function teachersOnly(_req: Request, res: Response, next: NextFunction): void {
  if (res.locals.launch?.audience === 'teacher') return next();
  next(new Forbidden(`role ${res.locals.launch?.roles.join(',') ?? 'none'} asked for a teacher page`));
}

/**
 * Loads the session named in the path (`/s/:sid/…`). When the launch set a session cookie the same
 * cookie must come back; a launch completed through platform storage has none and relies on the
 * unguessable id alone.
 */
export function requireSession(db: Db) {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const sid = req.params.sid;
      const row = sid ? await db.selectFrom('launch_session').selectAll().where('id', '=', sid).where('expires_at', '>', Date.now()).executeTakeFirst() : undefined;
      if (!row) throw new SessionExpired(`unknown or expired session`);
      if (row.binding !== null) {
        const cookie = req.cookies?.[sessionCookie(row.id)];
        if (typeof cookie !== 'string' || sha256(cookie) !== row.binding) throw new SessionExpired('session cookie missing or different');
      }
      const roles = JSON.parse(row.roles) as string[];
      const claims = JSON.parse(row.claims) as Record<string, any>;
      res.locals.launch = {
        sessionId: row.id, tenantId: row.tenant_id, contextId: row.context_id, resourceLinkId: row.resource_link_id,
        userSub: row.user_sub, roles, audience: audienceOf(roles), messageType: row.message_type,
        locale: pickLocale(typeof req.query.lang === 'string' ? req.query.lang : row.locale), claims,
      };
      next();
    } catch (e) {
      next(e);
    }
  };
}

/** The course title to show, from the launch's context claim. */
export function courseTitle(launch: LaunchContext): string {
  const ctx = launch.claims[CLAIM.context];
  return ctx?.title ?? ctx?.label ?? launch.contextId;
}
