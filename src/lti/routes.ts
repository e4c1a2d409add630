import express, { type Request, type Response, type NextFunction, Router } from 'express';
import { decodeJwt } from 'jose';
import { z } from 'zod';
import type { Config } from '../config';
import type { Logger } from '../log';
import { randomToken, sameSecret, sha256 } from '../crypto';
import { pickLocale, translate as t, type Locale } from '../web/i18n';
import type { Renderer } from '../web/render';
import { cookieOptions, loginCookie, sessionCookie } from '../web/cookies';
import { CLAIM } from './claims';
import type { Launches } from './launch';
import type { Logins, PendingLogin } from './login';
import { launchPath } from './login';
import type { Platforms } from './platforms';
import { Refusal } from './refusal';
import { DynamicRegistration, RegistrationError } from './registration';
import { setContentSecurityPolicy } from '../web/security';
import { clientKey, tooManyRequests, type Verdict } from '../web/rate-limit';

export interface LtiRouteDeps {
  config: Config;
  log: Logger;
  render: Renderer;
  platforms: Platforms;
  logins: Logins;
  launches: Launches;
  registration: DynamicRegistration;
  /** The install's registration key (in the URL IT pastes into the LMS). */
  registrationKey: string;
  /** Spends one verified launch of a platform's budget (src/web/rate-limit.ts). */
  launchBudget: (issuer: string) => Promise<Verdict>;
}

const storageKey = (state: string) => `jejak_state_${state}`;

/** The LTI endpoints: JWKS, OIDC login, launch, dynamic registration. */
export function ltiRoutes(d: LtiRouteDeps): Router {
  const r = Router();
  const form = express.urlencoded({ extended: false, limit: '64kb' });
  const wrap = (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => fn(req, res).catch(next);

  r.get('/lti/jwks', wrap(async (_req, res) => {
    res.set('cache-control', 'public, max-age=300').json(await d.platforms.jwks());
  }));

  const login = wrap(async (req, res) => {
    const started = await d.logins.start({ ...req.query, ...(req.body ?? {}) }, clientKey(req.ip), d.config.rateLimits.login.pendingPerIp);
    res.cookie(loginCookie(started.state), started.binding, cookieOptions(d.config, d.config.launch.loginTtlSeconds * 1000));
    // A same-origin hop tells us whether the browser kept the cookie before we involve the platform.
    res.redirect(303, `/lti/login/continue?state=${encodeURIComponent(started.state)}`);
  });
  r.get('/lti/login', login);
  r.post('/lti/login', form, login);

  r.get('/lti/login/continue', wrap(async (req, res) => {
    const state = typeof req.query.state === 'string' ? req.query.state : '';
    const pending = await d.logins.find(state);
    if (!pending) throw new Refusal('unknown_state', 'login continuation for an unknown or expired state');
    const locale = pickLocale(req.get('accept-language'));
    const cookie = req.cookies?.[loginCookie(state)];
    const authUrl = await d.logins.authenticationRequest(pending);
    const cookieBound = typeof cookie === 'string' && pending.browserBinding === sha256(cookie);
    const target = pending.params.lti_storage_target;
    // The first continuation binds the login to this browser (its cookie, or a value it puts into the
    // platform's storage); a second one, by whoever else learnt the state, is refused.
    const binding = await d.logins.continueOnce(state, !cookieBound && target !== undefined);
    if (cookieBound) {
      res.redirect(303, authUrl);
      return;
    }
    if (target && binding !== undefined) {
      d.render(res, 'platform-storage', {
        locale, mode: 'put', target, origin: new URL(authUrl).origin, key: storageKey(state), value: binding, next: authUrl,
      });
      return;
    }
    if (pending.params.jejak_window === 'new') throw new Refusal('cookies_disabled', 'no cookie even in a top-level window');
    // No cookie and no platform storage (Moodle 5.1 in an iframe with third-party cookies blocked):
    // offer the same login in a new window, where our cookies are first-party.
    const params: Record<string, string> = { ...stringEntries(pending.params), jejak_window: 'new' };
    d.render(res, 'new-window', { locale, action: '/lti/login', params });
  }));

  r.post(launchPath, form, wrap(async (req, res) => {
    const body = LaunchForm.safeParse(req.body ?? {});
    if (!body.success) throw new Refusal('missing_token', 'launch POST without id_token and state');
    const { id_token: idToken, state, platform_binding: platformBinding } = body.data;
    res.locals.refusalLocale = localeHint(idToken);
    const pending = await d.logins.find(state);
    if (!pending) throw new Refusal('unknown_state', 'launch with an unknown, expired or used state');
    const cookie = req.cookies?.[loginCookie(state)];
    const cookieBound = typeof cookie === 'string' && pending.browserBinding === sha256(cookie);
    if (!cookieBound) {
      if (pending.bindingKind !== 'platform') throw new Refusal('browser_mismatch', 'login cookie missing or different');
      if (platformBinding === undefined) {
        // Ask the platform's storage frame for the value we left there at login, then post back.
        d.render(res, 'platform-storage', {
          locale: res.locals.refusalLocale, mode: 'get', target: pending.params.lti_storage_target,
          origin: new URL((await d.platforms.get(pending.issuer, pending.clientId))!.authLoginUrl).origin,
          key: storageKey(state), form: { action: launchPath, fields: { id_token: idToken, state } },
        });
        return;
      }
      if (!sameSecret(sha256(platformBinding), pending.browserBinding ?? '')) throw new Refusal('browser_mismatch', 'platform storage value differs');
    }
    const launch = await d.launches.validate(pending, idToken);
    // Only now, the token verified, may the launch spend its platform's budget.
    const budget = await d.launchBudget(pending.issuer);
    if (!budget.allowed) return tooManyRequests(res, d.render, res.locals.refusalLocale, budget, 'platform_busy');
    res.clearCookie(loginCookie(state), cookieOptions(d.config, 0));
    const locale = pickLocale(launch.claims[CLAIM.launchPresentation]?.locale);
    const sessionBinding = cookieBound ? randomToken(24) : null;
    const sessionId = await d.launches.createSession(launch, locale, sessionBinding);
    if (sessionBinding) res.cookie(sessionCookie(sessionId), sessionBinding, cookieOptions(d.config, d.config.launch.sessionTtlHours * 3600_000));
    d.log.info('launch accepted', {
      reqId: res.locals.reqId, tenant: launch.tenantId, messageType: launch.messageType, binding: cookieBound ? 'cookie' : 'platform-storage',
    });
    res.redirect(303, `/s/${sessionId}/`);
  }));

  const registrationLocale = (req: Request): Locale => pickLocale((req.query.lang as string) ?? req.body?.lang ?? req.get('accept-language'));
  /**
   * The registration request in `source` (query or form), when it carries the install's key and a
   * platform's configuration URL; otherwise the refusal page is sent and undefined returned. Moodle
   * shows every page of the registration inside an iframe of its admin page, before that Moodle is a
   * registered platform: with the right key, the site of the configuration URL (only) may frame them.
   */
  const registrationRequest = (res: Response, source: unknown, locale: Locale) => {
    const key = (source as { key?: unknown } | undefined)?.key;
    if (typeof key !== 'string' || !sameSecret(key, d.registrationKey)) {
      d.log.warn('registration refused: bad key', { reqId: res.locals.reqId });
      d.render(res, 'error', { locale, message: t(locale, 'register.forbidden') }, 403);
      return undefined;
    }
    const q = RegistrationQuery.safeParse(source ?? {});
    if (!q.success) {
      d.render(res, 'error', { locale, message: t(locale, 'register.bad_request') }, 400);
      return undefined;
    }
    setContentSecurityPolicy(res, { framers: [q.data.openid_configuration.origin], formTargets: [] });
    return q.data;
  };

  r.get('/lti/register', wrap(async (req, res) => {
    const locale = registrationLocale(req);
    const q = registrationRequest(res, req.query, locale);
    if (!q) return;
    try {
      const platform = await d.registration.platformConfiguration(q.openid_configuration);
      const messages = d.registration.messagesFor(platform);
      d.render(res, 'register-confirm', {
        locale, toolName: d.config.toolName, issuer: platform.issuer,
        platformName: platform['https://purl.imsglobal.org/spec/lti-platform-configuration']?.product_family_code ?? new URL(platform.issuer).host,
        deepLinking: messages.includes('LtiDeepLinkingRequest'),
        key: q.key, openidConfiguration: q.openid_configuration.href, registrationToken: q.registration_token ?? '',
      });
    } catch (e) {
      registrationFailed(res, locale, e);
    }
  }));

  r.post('/lti/register', form, wrap(async (req, res) => {
    const locale = registrationLocale(req);
    const q = registrationRequest(res, req.body, locale);
    if (!q) return;
    try {
      const done = await d.registration.register(q.openid_configuration, q.registration_token || undefined);
      d.log.info('platform registered dynamically', { reqId: res.locals.reqId, issuer: done.platform.issuer, clientId: done.platform.clientId, deploymentId: done.deploymentId });
      d.render(res, 'register-done', { locale, platformName: done.name, clientId: done.platform.clientId, deploymentId: done.deploymentId ?? '—' });
    } catch (e) {
      registrationFailed(res, locale, e);
    }
  }));

  /** The admin reads what went wrong in their language; the log keeps the technical detail (the remote answer, bounded). */
  function registrationFailed(res: Response, locale: Locale, e: unknown): void {
    if (!(e instanceof RegistrationError)) throw e;
    d.log.warn('registration failed', { reqId: res.locals.reqId, reason: e.reason, ...e.params, detail: e.message });
    const detail = t(locale, `register.errors.${e.reason}`, e.params);
    d.render(res, 'error', { locale, message: t(locale, 'register.platform_error', { detail }), reference: res.locals.reqId }, 502);
  }

  return r;
}

const LaunchForm = z.object({ id_token: z.string().min(1), state: z.string().min(1), platform_binding: z.string().optional() });
const RegistrationQuery = z.object({
  key: z.string(),
  openid_configuration: z.url({ protocol: /^https?$/ }).transform((u) => new URL(u)),
  registration_token: z.string().optional(),
});

/** The launch's language, read (unverified) from the token only to word a refusal in it. */
function localeHint(idToken: string): Locale {
  try {
    const claims = decodeJwt(idToken) as Record<string, any>;
    return pickLocale(claims[CLAIM.launchPresentation]?.locale);
  } catch {
    return 'en';
  }
}

function stringEntries(o: PendingLogin['params']): Record<string, string> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
}
