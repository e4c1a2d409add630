import express, { type NextFunction, type Request, type Response } from 'express';
import cookieParser from 'cookie-parser';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Config } from '../config';
import { ROOT } from '../config';
import type { Logger } from '../log';
import type { Renderer } from './render';
import { pickLocale, translate, type Locale } from './i18n';
import { Refusal } from '../lti/refusal';
import { Forbidden, SessionExpired } from './session';
import { CrossSiteWrite, securityHeaders, type PlatformOrigins } from './security';
import type { Metrics } from './metrics';
import { isDatabaseUnavailable } from '../db/connect';
import { sameSecret } from '../crypto';
import { compressText } from './compression';

export interface WebDeps {
  config: Config;
  log: Logger;
  render: Renderer;
  platformOrigins: PlatformOrigins;
  /** For /readyz: whether the database answers and has every migration this code needs. */
  readiness: () => Promise<{ database: boolean; migrations: boolean }>;
  metrics: Metrics;
  routers: express.Router[];
}

/** The express application: request ids and logs, security headers, routes, error pages. */
export function createWebApp(d: WebDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', trustProxy(d.config.trustProxy));

  app.use((req, res, next) => {
    const incoming = req.get('x-request-id');
    const reqId = incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : crypto.randomBytes(6).toString('hex');
    res.locals.reqId = reqId;
    res.set('x-request-id', reqId);
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const route = routePattern(req);
      if (route === '/lti/launch' && req.method === 'POST' && res.statusCode < 400) d.metrics.launches.inc();
      d.metrics.requestSeconds.observe({ route, method: req.method, status: `${Math.floor(res.statusCode / 100)}xx` }, Number(process.hrtime.bigint() - start) / 1e9);
      d.log.info('request', {
        reqId, method: req.method, path: redact(req.path), status: res.statusCode,
        ms: Math.round(Number(process.hrtime.bigint() - start) / 1e5) / 10,
      });
    });
    next();
  });
  app.use(securityHeaders(d.platformOrigins, d.config.publicUrl.startsWith('https:')));
  app.use(compressText());
  app.use(cookieParser());
  app.use('/static', express.static(path.join(ROOT, 'views/static'), { maxAge: '1h', index: false }));
  // Browsers ask for it on every first load; Jejak has no icon, so "nothing", cached, rather than a 404 page.
  app.get('/favicon.ico', (_req, res) => {
    res.set('cache-control', 'public, max-age=604800').status(204).end();
  });

  // Liveness: the process answers. A database outage must not make a load balancer restart every process.
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Readiness: send traffic here only when the database answers with the schema this code expects.
  app.get('/readyz', async (_req, res) => {
    const r = await d.readiness().catch(() => ({ database: false, migrations: false }));
    const ok = r.database && r.migrations;
    res.status(ok ? 200 : 503).json({
      status: ok ? 'ok' : 'unavailable', database: r.database ? 'ok' : 'unreachable',
      migrations: r.database ? (r.migrations ? 'ok' : 'pending') : 'unknown',
    });
  });
  // Each scrape queries the database: only for a scraper with the token, or, with none configured, for
  // a request made on this machine.
  app.get('/metrics', async (req, res) => {
    if (!metricsAllowed(req, d.config.metricsToken)) {
      const locale = requestLocale(req);
      return d.render(res, 'error', { locale, message: translate(locale, 'errors.forbidden') }, 403);
    }
    res.type('text/plain; version=0.0.4').send(await d.metrics.exposition());
  });
  app.get('/', (req, res) => d.render(res, 'landing', { locale: requestLocale(req) }));
  for (const router of d.routers) app.use(router);

  app.use((req, res) => {
    const locale = requestLocale(req);
    d.render(res, 'error', { locale, message: translate(locale, 'errors.not_found') }, 404);
  });
  // Four arguments: express's error-handler signature.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const reqId = res.locals.reqId as string;
    const locale: Locale = res.locals.launch?.locale ?? res.locals.refusalLocale ?? requestLocale(req);
    if (res.headersSent) return;
    if (err instanceof Refusal) {
      d.log.warn('refused', { reqId, reason: err.reason, detail: err.detail, path: redact(req.path) });
      const message = translate(locale, `errors.reasons.${err.reason}`);
      return d.render(res, 'error', { locale, message, reference: reqId, retry: err.status < 500 }, err.status);
    }
    if (err instanceof SessionExpired) {
      d.log.info('session refused', { reqId, detail: err.message });
      return d.render(res, 'error', { locale, message: translate(locale, 'errors.session_expired') }, 401);
    }
    if (err instanceof Forbidden || err instanceof CrossSiteWrite) {
      d.log.warn('forbidden', { reqId, detail: err.message, path: redact(req.path) });
      return d.render(res, 'error', { locale, message: translate(locale, 'errors.forbidden'), reference: reqId }, 403);
    }
    const status = (err as { status?: number; type?: string }).status;
    if (status && status >= 400 && status < 500) {
      // Body-parser errors (too large, malformed): the client's fault, said plainly.
      d.log.warn('bad request', { reqId, detail: (err as Error).message });
      return d.render(res, 'error', { locale, message: translate(locale, 'errors.reasons.missing_params'), reference: reqId }, status);
    }
    if (isDatabaseUnavailable(err)) {
      // Not a bug: PostgreSQL restarting, a full disk, a read-only file. Say so, and that it passes.
      d.log.error('database unavailable', { reqId, error: (err as Error).message, path: redact(req.path) });
      res.setHeader('Retry-After', '30');
      return d.render(res, 'error', { locale, message: translate(locale, 'errors.unavailable'), reference: reqId }, 503);
    }
    d.log.error('internal error', { reqId, error: (err as Error)?.stack ?? String(err) });
    d.render(res, 'error', { locale, message: translate(locale, 'errors.internal'), reference: reqId }, 500);
  });
  return app;
}

/**
 * With a token: `Authorization: Bearer <token>`, from anywhere. Without: a direct loopback connection. A
 * request relayed by a proxy (forwarding headers) counts as from outside even when the proxy is local,
 * whatever `trust proxy` makes of its address.
 */
function metricsAllowed(req: Request, token: string | undefined): boolean {
  if (token !== undefined) return sameSecret(/^Bearer (.+)$/i.exec(req.get('authorization') ?? '')?.[1] ?? '', token);
  const relayed = ['x-forwarded-for', 'forwarded', 'x-real-ip'].some((h) => req.get(h) !== undefined);
  const loopback = (a: string | undefined) => a === '::1' || !!a?.replace(/^::ffff:/, '').startsWith('127.');
  return !relayed && loopback(req.socket.remoteAddress) && loopback(req.ip);
}

function requestLocale(req: Request): Locale {
  return pickLocale(typeof req.query.lang === 'string' ? req.query.lang : req.get('accept-language'));
}

/**
 * The route pattern that answered (`/s/:sid/teacher/activities/:aid`), so metrics have a few series
 * and never a session id; `unmatched` for 404s, `/static` for files.
 */
function routePattern(req: Request): string {
  if (req.route?.path) return redact(req.baseUrl) + String(req.route.path);
  return req.path.startsWith('/static/') ? '/static' : 'unmatched';
}

/** Session ids ride in paths; they never reach the logs. */
function redact(p: string): string {
  return p.replace(/^\/s\/[^/]+/, '/s/:sid');
}

function trustProxy(v: string): boolean | number | string {
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (/^\d+$/.test(v)) return Number(v);
  return v;
}
