import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Db } from '../db/schema';
import { sha256 } from '../crypto';
import { CLAIM } from '../lti/claims';
import { audienceOf, type Audience } from '../lti/roles';
import { pickLocale, type Locale } from './i18n';
import { sessionCookie } from './cookies';
import { csrfTokens, sameOriginWrites, tenantSecurityHeaders, type PlatformOrigins } from './security';

/** Who is asking, as the launch established it. Every page after a launch works from this alone. */
export interface LaunchContext {
  sessionId: string;
  tenantId: number;
  contextId: string;
  resourceLinkId: string | null;
  userSub: string;
  roles: string[];
  /** What the roles allow in this course (src/lti/roles.ts); {@link roleGuard} decides each path from it. */
  audience: Audience;
  /** The learners a mentor may follow (`role_scope_mentor`); empty for every other audience. */
  mentees: string[];
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

const EVERYONE: readonly Audience[] = ['teacher', 'student', 'mentor', 'none'];

/**
 * Who may use which pages behind a launch: the one place roles are decided, for every route under
 * /s/:sid, GETs and POSTs alike. The first rule whose path matches decides; a path no rule names is
 * refused, so a new route is closed until it is added here. Matched without case and with an optional
 * trailing slash, as express routes them.
 */
const ACCESS: readonly { path: RegExp; who: readonly Audience[] }[] = [
  // Each audience's own home (src/web/home.ts), the privacy page and one's own data.
  { path: /^\/?$/, who: EVERYONE },
  { path: /^\/privacy\/?$/i, who: EVERYONE },
  { path: /^\/privacy\/export\.\w+\/?$/i, who: EVERYONE },
  // Placing or setting up an activity; practice itself (a teacher's is a preview, never graded).
  { path: /^\/practice\/(place|setup)(\/|$)/i, who: ['teacher'] },
  { path: /^\/practice(\/|$)/i, who: ['teacher', 'student'] },
  // Images of the items a student practises on or a teacher previews.
  { path: /^\/content\/assets\//i, who: ['teacher', 'student'] },
  // Class-wide data, other students' data and exports, teacher actions, item banks.
  { path: /^\/teacher(\/|$)/i, who: ['teacher'] },
  { path: /^\/content\/banks(\/|$)/i, who: ['teacher'] },
  { path: /^\/privacy\/students\//i, who: ['teacher'] },
];

/** Refuses a request whose launch's audience the {@link ACCESS} rule of its path does not name. */
export function roleGuard(req: Request, res: Response, next: NextFunction): void {
  const launch = res.locals.launch!;
  const rule = ACCESS.find((r) => r.path.test(req.path));
  if (rule?.who.includes(launch.audience)) return next();
  next(new Forbidden(rule ? `audience ${launch.audience} (roles ${launch.roles.join(',') || 'none'}) asked for ${req.method} ${rule.path}` : `no access rule names this path (${req.method})`));
}

/**
 * Everything behind a launch lives under /s/:sid/. The session is loaded and checked here, once, for
 * every route given; routes then trust res.locals.launch (tenant, context, role).
 */
export function sessionArea(db: Db, publicUrl: string, secret: string, origins: PlatformOrigins, routers: Router[]): Router {
  const area = Router({ mergeParams: true });
  area.use(sameOriginWrites(publicUrl));
  area.use(requireSession(db));
  // Before any refusal below, so that a refused page too may be framed only by the session's own LMS.
  area.use(tenantSecurityHeaders(origins));
  area.use(roleGuard);
  area.use(csrfTokens(secret));
  for (const r of routers) area.use(r);
  return Router().use('/s/:sid', area);
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
      const audience = audienceOf(roles);
      // Kept from the verified launch (src/lti/launch.ts); sessions older than that kept none: nobody to follow.
      const mentees = audience === 'mentor' ? ((claims[CLAIM.roleScopeMentor] as string[] | undefined) ?? []) : [];
      res.locals.launch = {
        sessionId: row.id, tenantId: row.tenant_id, contextId: row.context_id, resourceLinkId: row.resource_link_id,
        userSub: row.user_sub, roles, audience, mentees, messageType: row.message_type,
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
