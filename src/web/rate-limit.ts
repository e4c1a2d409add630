import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { decodeJwt } from 'jose';
import type { Config } from '../config';
import type { Db } from '../db/schema';
import { launchPath } from '../lti/login';
import { pickLocale, translate } from './i18n';
import type { Renderer } from './render';

/**
 * Fixed-window request counters kept in the database, so that every process of an install counts
 * together (an in-memory counter per process would multiply the limit by the number of processes).
 */
export class RateCounter {
  constructor(private readonly db: Db, private readonly windowMs: number) {}

  /** Counts one request in `bucket`; answers how many seconds to wait when that makes more than `limit`. */
  async hit(bucket: string, limit: number, now = Date.now()): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
    const windowStart = now - (now % this.windowMs);
    const bump = () => this.db.updateTable('rate_limit_counter').set((eb) => ({ hits: eb('hits', '+', 1) }))
      .where('bucket', '=', bucket).where('window_start', '=', windowStart).executeTakeFirst();
    if (Number((await bump()).numUpdatedRows) === 0) {
      // First request of the window; when another process inserted it meanwhile, count on its row.
      await this.db.insertInto('rate_limit_counter').values({ bucket, window_start: windowStart, hits: 1 }).execute().catch(bump);
    }
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

/**
 * Rate limits on the endpoints anyone on the internet can call: OIDC login, launch and registration,
 * per client IP (as express sees it through the trusted proxies) and per platform issuer. Mounted
 * before the LTI routes; the forms it parses are not parsed again by them.
 */
export function rateLimits(counter: RateCounter, limits: Config['rateLimits'], render: Renderer): Router {
  const r = Router();
  const form = express.urlencoded({ extended: false, limit: '64kb' });
  const limit = (name: string, perIp: number, perIssuer: number | undefined, issuerOf: (req: Request) => string | undefined) =>
    async (req: Request, res: Response, next: NextFunction) => {
      try {
        const buckets: [string, number][] = [[`${name}:ip:${req.ip ?? 'unknown'}`, perIp]];
        const issuer = perIssuer === undefined ? undefined : issuerOf(req);
        if (issuer) buckets.push([`${name}:iss:${issuer.slice(0, 200)}`, perIssuer!]);
        for (const [bucket, max] of buckets) {
          const verdict = await counter.hit(bucket, max);
          if (verdict.allowed) continue;
          const locale = pickLocale(typeof req.query.lang === 'string' ? req.query.lang : req.get('accept-language'));
          res.set('retry-after', String(verdict.retryAfterSeconds));
          return render(res, 'error', { locale, message: translate(locale, 'errors.rate_limited', { seconds: verdict.retryAfterSeconds }) }, 429);
        }
        next();
      } catch (e) {
        next(e);
      }
    };
  const field = (req: Request, name: string): string | undefined => {
    const v = req.body?.[name] ?? req.query[name];
    return typeof v === 'string' ? v : undefined;
  };
  // The launch's issuer is read unverified: it only picks the counter, the launch itself is verified later.
  const tokenIssuer = (req: Request) => {
    try {
      const iss = decodeJwt(field(req, 'id_token') ?? '').iss;
      return typeof iss === 'string' ? iss : undefined;
    } catch {
      return undefined;
    }
  };
  r.all('/lti/login', form, limit('login', limits.login.perIp, limits.login.perIssuer, (req) => field(req, 'iss')));
  r.post(launchPath, form, limit('launch', limits.launch.perIp, limits.launch.perIssuer, tokenIssuer));
  r.all('/lti/register', form, limit('register', limits.registration.perIp, undefined, () => undefined));
  return r;
}
