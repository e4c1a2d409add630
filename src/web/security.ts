import crypto from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Db } from '../db/schema';

declare module 'express-serve-static-core' {
  interface Locals {
    /** The session's CSRF token, for `{{> csrf}}` in every form that posts under /s/. */
    csrfToken?: string;
  }
}

/**
 * Origins of the registered platforms: the only pages allowed to frame Jejak, and (with ourselves)
 * the only form targets (deep-linking answers post to the platform). Read from the database with a
 * short cache, so a newly registered platform can frame Jejak within seconds, in every process.
 */
export class PlatformOrigins {
  private cached: { at: number; origins: string[] } | undefined;

  constructor(private readonly db: Db, private readonly ttlMs = 10_000) {}

  /** The origins; while the database cannot answer, the last known ones (an outage must not turn every page into a 500). */
  async list(): Promise<string[]> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < this.ttlMs) return this.cached.origins;
    let rows;
    try {
      rows = await this.db.selectFrom('registration').select(['issuer', 'auth_login_url']).execute();
    } catch {
      return this.cached?.origins ?? [];
    }
    const origins = new Set<string>();
    for (const r of rows) for (const u of [r.issuer, r.auth_login_url]) origins.add(new URL(u).origin);
    this.cached = { at: now, origins: [...origins].sort() };
    return this.cached.origins;
  }

  forget(): void {
    this.cached = undefined;
  }
}

/**
 * Security headers on every answer. No inline scripts anywhere (script-src 'self'); style attributes
 * are allowed because server-rendered KaTeX sizes glyphs with them. Only registered platforms may frame
 * the tool. Behind HTTPS, browsers are told to use nothing else (HSTS).
 */
export function securityHeaders(origins: PlatformOrigins, https: boolean) {
  return async (_req: Request, res: Response, next: NextFunction) => {
    try {
      const platforms = (await origins.list()).join(' ');
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
        `form-action 'self' ${platforms}`.trim(),
        `frame-ancestors 'self' ${platforms}`.trim(),
      ].join('; '));
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
 * Pages behind a launch carry the session id in their path, so another site cannot build a request
 * to them; on top of that, a state-changing request must come from one of our own pages.
 */
export function sameOriginWrites(publicUrl: string) {
  const ours = new URL(publicUrl).origin;
  return (req: Request, _res: Response, next: NextFunction) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
    // Fetch metadata first (every current browser sends it), then Origin, then Referer.
    if (req.get('sec-fetch-site') === 'same-origin') return next();
    const origin = req.get('origin') ?? (req.get('referer') ? new URL(req.get('referer')!).origin : undefined);
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
    const expected = Buffer.from(res.locals.csrfToken!);
    const multipart = req.is('multipart/form-data');
    const given = multipart ? req.query._csrf : req.body?._csrf;
    const ok = typeof given === 'string' && given.length === expected.length && crypto.timingSafeEqual(Buffer.from(given), expected);
    next(ok ? undefined : new CrossSiteWrite(`${req.method} without a valid CSRF token`));
  };
  return (req: Request, res: Response, next: NextFunction) => {
    res.locals.csrfToken = csrfToken(secret, res.locals.launch!.sessionId);
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
    form(req, res, (err?: unknown) => (err ? next(err) : check(req, res, next)));
  };
}
