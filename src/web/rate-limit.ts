import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { decodeJwt } from 'jose';
import net from 'node:net';
import type { Config } from '../config';
import type { Db } from '../db/schema';
import { launchPath } from '../lti/login';
import { pickLocale, translate, type Locale } from './i18n';
import type { Renderer } from './render';

/**
 * Whom a per-address limit counts: an IPv4 address, or an IPv6 client's /64 (one household or host
 * gets a whole /64, so counting its single addresses would give it billions of budgets).
 */
export function clientKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const v4 = ip.replace(/^::ffff:/i, '');
  if (net.isIPv4(v4) || !net.isIPv6(ip)) return v4;
  const [head = '', tail] = ip.split('::');
  const before = head ? head.split(':') : [];
  const after = tail ? tail.split(':') : [];
  const groups = tail === undefined ? before : [...before, ...Array(Math.max(0, 8 - before.length - after.length)).fill('0'), ...after];
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}

/** A counter's answer: over the limit or not, and how long until its window ends. */
export interface Verdict {
  allowed: boolean;
  retryAfterSeconds: number;
}

/**
 * Fixed-window request counters kept in the database, so that every process of an install counts
 * together (an in-memory counter per process would multiply the limit by the number of processes).
 */
export class RateCounter {
  constructor(private readonly db: Db, private readonly windowMs: number) {}

  /** Counts one request in `bucket`; answers how many seconds to wait when that makes more than `limit`. */
  async hit(bucket: string, limit: number, now = Date.now()): Promise<Verdict> {
    const windowStart = now - (now % this.windowMs);
    const bump = () => this.db.updateTable('rate_limit_counter').set((eb) => ({ hits: eb('hits', '+', 1) }))
      .where('bucket', '=', bucket).where('window_start', '=', windowStart).executeTakeFirst();
    if (Number((await bump()).numUpdatedRows) === 0) {
      // First request of the window; when another process inserted it meanwhile, count on its row.
      await this.db.insertInto('rate_limit_counter').values({ bucket, window_start: windowStart, hits: 1 }).execute().catch(bump);
    }
    return this.peek(bucket, limit, now);
  }

  /** Whether `bucket` is within `limit` in this window, without counting anything. */
  async peek(bucket: string, limit: number, now = Date.now()): Promise<Verdict> {
    const windowStart = now - (now % this.windowMs);
    const row = await this.db.selectFrom('rate_limit_counter').select('hits')
      .where('bucket', '=', bucket).where('window_start', '=', windowStart).executeTakeFirst();
    const allowed = (row?.hits ?? 0) <= limit;
    return { allowed, retryAfterSeconds: Math.max(1, Math.ceil((windowStart + this.windowMs - now) / 1000)) };
  }

  /** Drops the counters of windows that have ended. */
  async purge(now = Date.now()): Promise<void> {
    await this.db.deleteFrom('rate_limit_counter').where('window_start', '<', now - this.windowMs).execute();
  }
}

/** The counter of a platform's launch budget. */
const platformBucket = (issuer: string) => `launch:iss:${issuer.slice(0, 200)}`;

/**
 * Spends one unit of a platform's launch budget. Called only once a launch's id_token has verified:
 * the issuer of a login or of an unverified token is whatever a stranger typed, so such requests may
 * read the budget (and be refused when the platform's own launches spent it) but never spend it.
 */
export function platformBudget(counter: RateCounter, limits: Config['rateLimits']): (issuer: string) => Promise<Verdict> {
  return (issuer) => counter.hit(platformBucket(issuer), limits.launch.perIssuer);
}

/** The 429 page, with Retry-After. */
export function tooManyRequests(res: Response, render: Renderer, locale: Locale, verdict: Verdict, message: 'rate_limited' | 'platform_busy'): void {
  res.set('retry-after', String(verdict.retryAfterSeconds));
  render(res, 'error', { locale, message: translate(locale, `errors.${message}`, { seconds: verdict.retryAfterSeconds }) }, 429);
}

/**
 * Rate limits on the endpoints anyone on the internet can call: OIDC login, launch and registration,
 * per client address (as express sees it through the trusted proxies; an IPv6 client by its /64). A login or launch naming a platform
 * whose verified launches spent its budget is refused too, at no cost to that budget. Mounted before
 * the LTI routes; the forms it parses are not parsed again by them.
 */
export function rateLimits(counter: RateCounter, limits: Config['rateLimits'], render: Renderer): Router {
  const r = Router();
  const form = express.urlencoded({ extended: false, limit: '64kb' });
  const limit = (name: string, perIp: number, issuerOf: (req: Request) => string | undefined) =>
    async (req: Request, res: Response, next: NextFunction) => {
      try {
        const locale = pickLocale(typeof req.query.lang === 'string' ? req.query.lang : req.get('accept-language'));
        const own = await counter.hit(`${name}:ip:${clientKey(req.ip)}`, perIp);
        if (!own.allowed) return tooManyRequests(res, render, locale, own, 'rate_limited');
        const issuer = issuerOf(req);
        const platform = issuer === undefined ? undefined : await counter.peek(platformBucket(issuer), limits.launch.perIssuer);
        if (platform && !platform.allowed) return tooManyRequests(res, render, locale, platform, 'platform_busy');
        next();
      } catch (e) {
        next(e);
      }
    };
  const field = (req: Request, name: string): string | undefined => {
    const v = req.body?.[name] ?? req.query[name];
    return typeof v === 'string' ? v : undefined;
  };
  // The launch's issuer is read unverified: it only picks the budget to look at, the launch itself is verified later.
  const tokenIssuer = (req: Request) => {
    try {
      const iss = decodeJwt(field(req, 'id_token') ?? '').iss;
      return typeof iss === 'string' ? iss : undefined;
    } catch {
      return undefined;
    }
  };
  r.all('/lti/login', form, limit('login', limits.login.perIp, (req) => field(req, 'iss')));
  r.post(launchPath, form, limit('launch', limits.launch.perIp, tokenIssuer));
  r.all('/lti/register', form, limit('register', limits.registration.perIp, () => undefined));
  return r;
}
