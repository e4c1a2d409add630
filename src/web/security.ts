import crypto from 'node:crypto';
import { sameSecret } from '../crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Db } from '../db/schema';

declare module 'express-serve-static-core' {
  interface Locals {
    /** The session's CSRF token, for `{{> csrf}}` in every form that posts under /s/. */
    csrfToken?: string;
  }
}

/**
 * Origins of the registered platforms: the pages allowed to frame Jejak, and (with ourselves) the form
 * targets (deep-linking answers post to the platform); all of them where no session tells whose page it
 * is, one tenant's inside its sessions. Read from the database with a short cache, so a newly registered
 * platform can frame Jejak within seconds, in every process.
 */
export class PlatformOrigins {
  private cached: { at: number; all: string[]; byTenant: Map<number, string[]> } | undefined;

  constructor(private readonly db: Db, private readonly ttlMs = 10_000) {}

  /** Every registered platform's origins; while the database cannot answer, the last known ones (an outage must not turn every page into a 500). */
  async list(): Promise<string[]> {
    return (await this.read(false))?.all ?? [];
  }

  /** The origins of the platform a tenant (deployment) belongs to. */
  async forTenant(tenantId: number): Promise<string[]> {
    const known = await this.read(false);
    if (known?.byTenant.has(tenantId)) return known.byTenant.get(tenantId)!;
    // A deployment added since the last read (a platform's first launch adds it): read again.
    return (await this.read(true))?.byTenant.get(tenantId) ?? [];
  }

  forget(): void {
    this.cached = undefined;
  }

  private async read(fresh: boolean) {
    const now = Date.now();
    if (!fresh && this.cached && now - this.cached.at < this.ttlMs) return this.cached;
    let rows;
    try {
      rows = await this.db.selectFrom('registration as r')
        .leftJoin('deployment as d', (j) => j.onRef('d.issuer', '=', 'r.issuer').onRef('d.client_id', '=', 'r.client_id'))
        .select(['r.issuer', 'r.auth_login_url', 'd.id as tenant']).execute();
    } catch {
      return this.cached;
    }
    const all = new Set<string>();
    const byTenant = new Map<number, Set<string>>();
    for (const r of rows) {
      const origins = [r.issuer, r.auth_login_url].map((u) => new URL(u).origin);
      for (const o of origins) all.add(o);
      if (r.tenant !== null) byTenant.set(r.tenant, new Set([...(byTenant.get(r.tenant) ?? []), ...origins]));
    }
    this.cached = { at: now, all: [...all].sort(), byTenant: new Map([...byTenant].map(([t, o]) => [t, [...o].sort()])) };
    return this.cached;
  }
}

/**
 * The Content-Security-Policy of an answer. No inline scripts anywhere (script-src 'self'); style
 * attributes are allowed because server-rendered KaTeX sizes glyphs with them. Besides ourselves, only
 * `framers` may frame the page and forms may post only to `formTargets`.
 */
export function setContentSecurityPolicy(res: Response, allow: { framers: readonly string[]; formTargets: readonly string[] }): void {
  res.set('content-security-policy', [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    ["form-action 'self'", ...allow.formTargets].join(' '),
    ["frame-ancestors 'self'", ...allow.framers].join(' '),
  ].join('; '));
}

/**
 * Security headers on every answer. Registered platforms may frame the tool (narrowed to one tenant's
 * platform by `tenantSecurityHeaders` once a session is known, or to the registering platform during
 * registration). Behind HTTPS, browsers are told to use nothing else (HSTS).
 */
export function securityHeaders(origins: PlatformOrigins, https: boolean) {
  return async (_req: Request, res: Response, next: NextFunction) => {
    try {
      const platforms = await origins.list();
      setContentSecurityPolicy(res, { framers: platforms, formTargets: platforms });
      res.set('x-content-type-options', 'nosniff');
      // Session ids ride in paths: never send them to another site (same-origin keeps Origin on our own POSTs).
      res.set('referrer-policy', 'same-origin');
      res.set('cross-origin-opener-policy', 'same-origin-allow-popups');
      res.set('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()');
      if (https) res.set('strict-transport-security', 'max-age=31536000; includeSubDomains');
      next();
    } catch (e) {
      next(e);
    }
  };
}

/**
 * Inside a session (`/s/:sid/…`, after the session is loaded) only that tenant's platform may frame
 * the page or receive its forms: another school's LMS, registered too, may not.
 */
export function tenantSecurityHeaders(origins: PlatformOrigins): Router {
  return Router().use(async (_req: Request, res: Response, next: NextFunction) => {
    try {
      const platform = await origins.forTenant(res.locals.launch!.tenantId);
      setContentSecurityPolicy(res, { framers: platform, formTargets: platform });
      next();
    } catch (e) {
      next(e);
    }
  });
}

/**
 * Pages behind a launch carry the session id in their path, so another site cannot build a request
 * to them; on top of that, a state-changing request must come from one of our own pages.
 */
export function sameOriginWrites(publicUrl: string) {
  const ours = new URL(publicUrl).origin;
  return (req: Request, _res: Response, next: NextFunction) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
    // Fetch metadata first (every current browser sends it), then Origin, then Referer.
    if (req.get('sec-fetch-site') === 'same-origin') return next();
    // A Referer that is not a URL tells nothing: refused like any write from elsewhere.
    const referer = req.get('referer');
    const origin = req.get('origin') ?? (referer && URL.canParse(referer) ? new URL(referer).origin : undefined);
    if (origin === ours) return next();
    next(new CrossSiteWrite(`write from origin ${origin ?? '(none)'}`));
  };
}

export class CrossSiteWrite extends Error {}

/** The CSRF token of a session. */
export function csrfToken(secret: string, sessionId: string): string {
  let key = csrfKeys.get(secret);
  if (!key) csrfKeys.set(secret, (key = Buffer.from(crypto.hkdfSync('sha256', secret, 'jejak', 'csrf', 32))));
  return crypto.createHmac('sha256', key).update(sessionId).digest('base64url');
}

/** The CSRF key derived from each install secret (every request needs it; one secret per process, in practice). */
const csrfKeys = new Map<string, Buffer>();

/**
 * CSRF tokens for the session area: the token is an HMAC of the session id under a key derived from the
 * install secret, so every process computes it without storing anything, and it cannot be made without
 * the secret. Pages get it in res.locals (`{{> csrf}}`); a write without the right token is refused with
 * the 403 page. Form bodies are parsed here (the routes' parsers then leave them); a multipart upload
 * carries the token in its action's query, since its body is only read by the route.
 */
export function csrfTokens(secret: string) {
  const form = express.urlencoded({ extended: false, limit: '32kb' });
  const check = (req: Request, res: Response, next: NextFunction) => {
    const multipart = req.is('multipart/form-data');
    const given = multipart ? req.query._csrf : req.body?._csrf;
    const ok = typeof given === 'string' && sameSecret(given, res.locals.csrfToken!);
    next(ok ? undefined : new CrossSiteWrite(`${req.method} without a valid CSRF token`));
  };
  return (req: Request, res: Response, next: NextFunction) => {
    res.locals.csrfToken = csrfToken(secret, res.locals.launch!.sessionId);
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
    form(req, res, (err?: unknown) => (err ? next(err) : check(req, res, next)));
  };
}
