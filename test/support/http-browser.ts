/**
 * A tiny cookie-aware HTTP "browser" for tests that do not need Chromium.
 *
 * - Cookie jar keyed by host like real browsers (cookies are not isolated by port), honouring Domain,
 *   Path, Max-Age/Expires, Secure (allowed over http://localhost and 127.0.0.1, as Chromium does),
 *   HttpOnly (recorded), SameSite (Strict/Lax/None; missing = Lax with Chromium's 2-minute
 *   "Lax+POST" allowance for top-level POSTs), and Partitioned (CHIPS).
 * - Requests carry a {@link RequestContext}: a top-level navigation (default) or a request inside a
 *   frame whose top-level site is `topSite`. SameSite rules and, with `blockThirdPartyCookies`, the
 *   blocking of third-party cookies are applied from it, as Chromium would.
 * - Manual redirect following (301/302/303 → GET, 307/308 keep method and body), keeping cookies.
 * - `submitAutoForm(html, baseUrl)` submits the first `<form>` with its inputs (how the platform's
 *   auth page and the tool's pages post forms).
 * - `launch(sim, …)` drives a whole LTI launch from the MoodleSim course page to the tool's answer.
 */
import type { MoodleSim, LaunchOptions, Presentation } from '../platform';

export type SameSite = 'Strict' | 'Lax' | 'None';

export interface Cookie {
  name: string;
  value: string;
  /** Host (host-only cookie) or domain (with Domain attribute) it belongs to. */
  domain: string;
  hostOnly: boolean;
  path: string;
  /** Epoch ms; undefined = session cookie. */
  expires?: number;
  secure: boolean;
  httpOnly: boolean;
  /** As set (undefined = no SameSite attribute, treated as Lax). */
  sameSite?: SameSite;
  /** Partition (top-level site) of a Partitioned cookie. */
  partitionKey?: string;
  createdAt: number;
}

/**
 * Where a request happens. Omit `topSite` for a top-level navigation; give it (e.g. the platform's
 * site) for a request made inside an iframe of that site. `initiator` is the URL of the document that
 * caused the request (form page, link…), used for SameSite decisions and the Origin header.
 */
export interface RequestContext {
  topSite?: string;
  initiator?: string;
}

export interface RedirectHop {
  status: number;
  url: string;
  location: string;
}

export interface BrowserResponse {
  status: number;
  /** Final URL after redirects. */
  url: string;
  headers: Headers;
  body: string;
  /** Redirects followed to get here. */
  redirects: RedirectHop[];
  method: string;
}

export interface ParsedForm {
  action: string;
  method: 'GET' | 'POST';
  target?: string;
  fields: Record<string, string>;
}

export interface RequestOptions {
  form?: Record<string, string> | URLSearchParams;
  body?: string;
  headers?: Record<string, string>;
  context?: RequestContext;
  /** Follow redirects (default true). */
  followRedirects?: boolean;
  maxRedirects?: number;
}

export interface HttpBrowserOptions {
  /** Block third-party cookies (cookies of a site other than the frame's top-level site), like Chromium's setting. */
  blockThirdPartyCookies?: boolean;
  userAgent?: string;
}

const LAX_POST_ALLOWANCE_MS = 2 * 60 * 1000;

/** scheme://host (the "site" for SameSite purposes; registrable domains approximated by the host). */
export function siteOf(url: string | URL): string {
  const u = typeof url === 'string' ? new URL(url) : url;
  return `${u.protocol}//${u.hostname}`;
}

function isPotentiallyTrustworthy(u: URL): boolean {
  return u.protocol === 'https:' || u.hostname === 'localhost' || u.hostname === '127.0.0.1' || u.hostname === '[::1]' || u.hostname.endsWith('.localhost');
}

function isIp(host: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.startsWith('[');
}

function defaultPath(u: URL): string {
  const p = u.pathname;
  if (!p.startsWith('/') || p.lastIndexOf('/') === 0) return '/';
  return p.slice(0, p.lastIndexOf('/'));
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

export class CookieJar {
  private cookies: Cookie[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** All live cookies. */
  all(): Cookie[] {
    this.expire();
    return [...this.cookies];
  }

  /** Remove everything. */
  clear(): void {
    this.cookies = [];
  }

  private expire(): void {
    const t = this.now();
    this.cookies = this.cookies.filter((c) => c.expires === undefined || c.expires > t);
  }

  /**
   * Store a Set-Cookie header received from `url`. `crossSite` = the response belongs to a cross-site
   * (non top-level) request; `partition` = the top-level site. Returns whether it was stored.
   */
  setFromHeader(url: URL, header: string, opts: { crossSite?: boolean; partition?: string } = {}): boolean {
    const parts = header.split(';');
    const first = parts.shift() ?? '';
    const eq = first.indexOf('=');
    if (eq <= 0) return false;
    const name = first.slice(0, eq).trim();
    const value = first.slice(eq + 1).trim();
    const host = url.hostname.toLowerCase();
    let domain = host;
    let hostOnly = true;
    let path = defaultPath(url);
    let expires: number | undefined;
    let maxAgeSeen = false;
    let secure = false;
    let httpOnly = false;
    let sameSite: SameSite | undefined;
    let partitioned = false;
    for (const raw of parts) {
      const i = raw.indexOf('=');
      const k = (i < 0 ? raw : raw.slice(0, i)).trim().toLowerCase();
      const v = i < 0 ? '' : raw.slice(i + 1).trim();
      if (k === 'domain' && v) {
        const d = v.replace(/^\./, '').toLowerCase();
        if (isIp(host)) {
          if (d !== host) return false;
        } else if (host !== d && !host.endsWith(`.${d}`)) {
          return false;
        } else {
          domain = d;
          hostOnly = false;
        }
      } else if (k === 'path') {
        path = v.startsWith('/') ? v : defaultPath(url);
      } else if (k === 'max-age') {
        const n = Number(v);
        if (Number.isFinite(n)) {
          expires = n <= 0 ? 0 : this.now() + n * 1000;
          maxAgeSeen = true;
        }
      } else if (k === 'expires' && !maxAgeSeen) {
        const t = Date.parse(v);
        if (!Number.isNaN(t)) expires = t;
      } else if (k === 'secure') {
        secure = true;
      } else if (k === 'httponly') {
        httpOnly = true;
      } else if (k === 'samesite') {
        const s = v.toLowerCase();
        sameSite = s === 'strict' ? 'Strict' : s === 'none' ? 'None' : 'Lax';
      } else if (k === 'partitioned') {
        partitioned = true;
      }
    }
    if (secure && !isPotentiallyTrustworthy(url)) return false;
    if (sameSite === 'None' && !secure) return false;
    if (partitioned && !secure) return false;
    if (opts.crossSite && sameSite !== 'None') return false;
    const partitionKey = partitioned ? (opts.partition ?? siteOf(url)) : undefined;
    const existing = this.cookies.findIndex((c) => c.name === name && c.domain === domain && c.path === path && c.partitionKey === partitionKey);
    const createdAt = existing >= 0 ? this.cookies[existing]!.createdAt : this.now();
    if (existing >= 0) this.cookies.splice(existing, 1);
    if (expires !== undefined && expires <= this.now()) return true; // deletion
    this.cookies.push({ name, value, domain, hostOnly, path, expires, secure, httpOnly, sameSite, partitionKey, createdAt });
    return true;
  }

  /** Cookies that match the URL (domain, path, secure, partition) — before SameSite/third-party rules. */
  matching(url: URL, partition?: string): Cookie[] {
    this.expire();
    const host = url.hostname.toLowerCase();
    const trustworthy = isPotentiallyTrustworthy(url);
    return this.cookies
      .filter((c) => (c.hostOnly ? c.domain === host : host === c.domain || host.endsWith(`.${c.domain}`)))
      .filter((c) => pathMatches(url.pathname || '/', c.path))
      .filter((c) => !c.secure || trustworthy)
      .filter((c) => c.partitionKey === undefined || c.partitionKey === (partition ?? siteOf(url)))
      .sort((a, b) => b.path.length - a.path.length || a.createdAt - b.createdAt);
  }

  /** The value of a cookie visible to `url`, if any. */
  get(url: string, name: string): string | undefined {
    return this.matching(new URL(url)).find((c) => c.name === name)?.value;
  }
}

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos|#39);/gi, (_m, e: string) => {
    const l = e.toLowerCase();
    if (l === 'amp') return '&';
    if (l === 'lt') return '<';
    if (l === 'gt') return '>';
    if (l === 'quot') return '"';
    if (l === 'apos' || l === '#39') return "'";
    if (l.startsWith('#x')) return String.fromCodePoint(parseInt(l.slice(2), 16));
    return String.fromCodePoint(parseInt(l.slice(1), 10));
  });
}

function parseAttributes(tag: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  const inner = tag.replace(/^<\s*[a-z0-9-]+/i, '').replace(/\/?>$/, '');
  const re = /([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(inner))) {
    const k = m[1]!.toLowerCase();
    if (!(k in attrs)) attrs[k] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attrs;
}

/** Parse the first `<form>` of a page (action resolved against baseUrl; hidden and other inputs, textareas). */
export function parseForm(html: string, baseUrl: string, index = 0): ParsedForm | undefined {
  const forms = [...html.matchAll(/<form\b[^>]*>[\s\S]*?<\/form>/gi)];
  const f = forms[index]?.[0];
  if (!f) return undefined;
  const open = /<form\b[^>]*>/i.exec(f)![0];
  const a = parseAttributes(open);
  const fields: Record<string, string> = {};
  for (const m of f.matchAll(/<input\b[^>]*>/gi)) {
    const ia = parseAttributes(m[0]);
    if (!ia.name) continue;
    const type = (ia.type ?? 'text').toLowerCase();
    if (['submit', 'button', 'image', 'reset', 'file'].includes(type)) continue;
    if ((type === 'checkbox' || type === 'radio') && !('checked' in ia)) continue;
    fields[ia.name] = ia.value ?? (type === 'checkbox' || type === 'radio' ? 'on' : '');
  }
  for (const m of f.matchAll(/<textarea\b([^>]*)>([\s\S]*?)<\/textarea>/gi)) {
    const ta = parseAttributes(`<textarea ${m[1]}>`);
    if (ta.name) fields[ta.name] = decodeEntities(m[2] ?? '');
  }
  const method = (a.method ?? 'get').toUpperCase() === 'POST' ? 'POST' : 'GET';
  return { action: new URL(a.action || baseUrl, baseUrl).toString(), method, target: a.target, fields };
}

/** Whether a page submits a form by script as soon as it loads. */
export function isAutoSubmitPage(html: string): boolean {
  return /<form\b/i.test(html) && /\.submit\(\)/.test(html);
}

/** The `src` of an iframe (by id or name, else the first), resolved against baseUrl. */
export function parseIframeSrc(html: string, baseUrl: string, idOrName?: string): string | undefined {
  for (const m of html.matchAll(/<iframe\b[^>]*>/gi)) {
    const a = parseAttributes(m[0]);
    if (idOrName && a.id !== idOrName && a.name !== idOrName) continue;
    if (a.src) return new URL(a.src, baseUrl).toString();
  }
  return undefined;
}

export class HttpBrowser {
  readonly jar = new CookieJar();
  blockThirdPartyCookies: boolean;
  readonly userAgent: string;
  /** Every request made (for assertions). */
  readonly log: Array<{ method: string; url: string; status: number; cookiesSent: string[]; context: RequestContext }> = [];

  constructor(opts: HttpBrowserOptions = {}) {
    this.blockThirdPartyCookies = opts.blockThirdPartyCookies ?? false;
    this.userAgent = opts.userAgent ?? 'Mozilla/5.0 (X11; Linux x86_64) JejakHttpBrowser/1.0';
  }

  /** Put a cookie in the jar as if `url` had set it (e.g. `sim.loginInitiation(…).cookie`). */
  setCookie(url: string, setCookie: string): void {
    this.jar.setFromHeader(new URL(url), setCookie);
  }

  get(url: string, opts: Omit<RequestOptions, 'form' | 'body'> = {}): Promise<BrowserResponse> {
    return this.request('GET', url, opts);
  }

  post(url: string, form: Record<string, string> | URLSearchParams, opts: Omit<RequestOptions, 'form'> = {}): Promise<BrowserResponse> {
    return this.request('POST', url, { ...opts, form });
  }

  /** Submit a parsed form (GET puts the fields in the query). */
  submitForm(form: ParsedForm, opts: Omit<RequestOptions, 'form' | 'body'> = {}): Promise<BrowserResponse> {
    if (form.method === 'GET') {
      const u = new URL(form.action);
      u.search = new URLSearchParams(form.fields).toString();
      return this.request('GET', u.toString(), opts);
    }
    return this.request('POST', form.action, { ...opts, form: form.fields });
  }

  /** Parse the first form of `html` (page at baseUrl) and submit it, as the page's script would. */
  submitAutoForm(html: string, baseUrl: string, opts: Omit<RequestOptions, 'form' | 'body'> = {}): Promise<BrowserResponse> {
    const form = parseForm(html, baseUrl);
    if (!form) throw new Error(`no <form> in the page at ${baseUrl}`);
    const context = { initiator: baseUrl, ...(opts.context ?? {}) };
    return this.submitForm(form, { ...opts, context });
  }

  /** Make a request as the browser would in `context`, following redirects unless told not to. */
  async request(method: string, url: string, opts: RequestOptions = {}): Promise<BrowserResponse> {
    const redirects: RedirectHop[] = [];
    const maxRedirects = opts.maxRedirects ?? 20;
    const ctx = opts.context ?? {};
    let current = new URL(url);
    let curMethod = method.toUpperCase();
    let body: string | undefined = opts.form ? new URLSearchParams(opts.form as Record<string, string>).toString() : opts.body;
    let contentType: string | undefined = opts.form ? 'application/x-www-form-urlencoded' : undefined;
    let crossSiteChain = false;
    for (;;) {
      const topSite = ctx.topSite ?? siteOf(current);
      const initiatorSite = ctx.initiator ? siteOf(ctx.initiator) : undefined;
      const targetSite = siteOf(current);
      if (initiatorSite && initiatorSite !== targetSite) crossSiteChain = true;
      const sameSite = topSite === targetSite && !crossSiteChain;
      const topLevel = ctx.topSite === undefined;
      const thirdParty = topSite !== targetSite;
      const headers: Record<string, string> = {
        'user-agent': this.userAgent,
        accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
        'sec-fetch-site': !ctx.initiator ? 'none' : initiatorSite === targetSite && !crossSiteChain ? 'same-origin' : 'cross-site',
        'sec-fetch-mode': 'navigate',
        'sec-fetch-dest': topLevel ? 'document' : 'iframe',
        ...(opts.headers ?? {}),
      };
      if (contentType && body !== undefined) headers['content-type'] = contentType;
      if (curMethod === 'POST' && ctx.initiator) headers.origin = crossSiteChain && redirects.length ? 'null' : new URL(ctx.initiator).origin;
      const sent: string[] = [];
      if (!(this.blockThirdPartyCookies && thirdParty)) {
        for (const c of this.jar.matching(current, ctx.topSite)) {
          if (!this.sameSiteAllows(c, { sameSite, topLevel, method: curMethod })) continue;
          sent.push(`${c.name}=${c.value}`);
        }
      } else {
        for (const c of this.jar.matching(current, ctx.topSite)) if (c.partitionKey !== undefined) sent.push(`${c.name}=${c.value}`);
      }
      if (sent.length) headers.cookie = sent.join('; ');
      const res = await fetch(current, { method: curMethod, headers, body: curMethod === 'GET' || curMethod === 'HEAD' ? undefined : body, redirect: 'manual' });
      this.log.push({ method: curMethod, url: current.toString(), status: res.status, cookiesSent: sent, context: { ...ctx } });
      for (const sc of res.headers.getSetCookie()) {
        const partitioned = /;\s*partitioned/i.test(sc);
        if (this.blockThirdPartyCookies && thirdParty && !partitioned) continue;
        this.jar.setFromHeader(current, sc, { crossSite: !topLevel && !sameSite, partition: ctx.topSite });
      }
      const location = res.headers.get('location');
      if (opts.followRedirects !== false && location && [301, 302, 303, 307, 308].includes(res.status)) {
        await res.arrayBuffer().catch(() => undefined);
        if (redirects.length >= maxRedirects) throw new Error(`too many redirects from ${url}`);
        const next = new URL(location, current);
        redirects.push({ status: res.status, url: current.toString(), location: next.toString() });
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && curMethod === 'POST')) {
          curMethod = 'GET';
          body = undefined;
          contentType = undefined;
        }
        current = next;
        continue;
      }
      return { status: res.status, url: current.toString(), headers: res.headers, body: await res.text(), redirects, method: curMethod };
    }
  }

  private sameSiteAllows(c: Cookie, r: { sameSite: boolean; topLevel: boolean; method: string }): boolean {
    if (r.sameSite) return true;
    if (c.sameSite === 'None') return true;
    if (c.sameSite === 'Strict') return false;
    // Lax (explicit or default): cross-site top-level navigations with a safe method.
    if (r.topLevel && (r.method === 'GET' || r.method === 'HEAD')) return true;
    // Chromium's "Lax allowing unsafe" for cookies without SameSite, less than 2 minutes old.
    return c.sameSite === undefined && r.topLevel && r.method === 'POST' && Date.now() - c.createdAt < LAX_POST_ALLOWANCE_MS;
  }
}

// ------------------------------------------------------------------ launch helper

export interface LaunchStep {
  /** 'coursePage' | 'launchFrame' | 'toolLogin' | 'platformAuth' | 'authRepost' | 'toolLaunch' | 'autoForm' */
  name: string;
  method: string;
  url: string;
  status: number;
  response: BrowserResponse;
}

export interface LaunchResult {
  /** The tool's last answer (after following its redirects and auto-posting forms). */
  final: BrowserResponse;
  steps: LaunchStep[];
  /** Login initiation parameters the platform sent to the tool. */
  loginParams?: Record<string, string>;
  /** The authorization request the tool made (URL incl. query, and its parameters). */
  authRequestUrl?: string;
  authParams?: Record<string, string>;
  /** The form the platform auto-posts to the tool's redirect_uri (id_token + state, or error). */
  authForm?: ParsedForm;
  idToken?: string;
  state?: string;
  browser: HttpBrowser;
  /** Context the tool runs in (iframe of the platform, or top-level) — reuse it to post tampered tokens. */
  context: RequestContext;
}

export interface LaunchHelperOptions extends LaunchOptions {
  presentation?: Presentation;
  browser?: HttpBrowser;
  blockThirdPartyCookies?: boolean;
  /** 'toolLaunch': stop before posting the id_token to the tool (result.authForm holds it). */
  stopBefore?: 'toolLaunch';
  maxSteps?: number;
}

function formParams(form: ParsedForm): Record<string, string> {
  if (form.method === 'GET') {
    const out: Record<string, string> = {};
    new URL(form.action).searchParams.forEach((v, k) => (out[k] = v));
    return { ...out, ...form.fields };
  }
  return { ...form.fields };
}

/**
 * Drive a launch like a browser: course page (MoodleSession) → [iframe] → login initiation to the tool
 * → the tool's redirect to auth.php → the platform's auto-post of id_token/state to the redirect_uri →
 * the tool's redirects and auto-posted forms. Returns the final response and every step.
 */
export async function launch(sim: MoodleSim, o: LaunchHelperOptions): Promise<LaunchResult> {
  const browser = o.browser ?? new HttpBrowser({ blockThirdPartyCookies: o.blockThirdPartyCookies });
  const presentation = o.presentation ?? 'iframe';
  const steps: LaunchStep[] = [];
  const simSite = siteOf(sim.issuer);
  const authPath = new URL(sim.authUrl).pathname;
  const push = (name: string, r: BrowserResponse) => steps.push({ name, method: r.method, url: r.url, status: r.status, response: r });
  const result: Partial<LaunchResult> = { browser };

  const pageUrl = sim.launchPageUrl({ ...o, presentation });
  let current = await browser.get(pageUrl);
  push('coursePage', current);
  let context: RequestContext = {};
  if (presentation === 'iframe' && current.status === 200) {
    const src = parseIframeSrc(current.body, current.url, 'contentframe');
    if (!src) throw new Error('course page has no contentframe iframe');
    context = { topSite: simSite, initiator: current.url };
    current = await browser.get(src, { context });
    push('launchFrame', current);
  }
  const maxSteps = o.maxSteps ?? 12;
  let launched = false;
  for (let i = 0; i < maxSteps; i++) {
    const form = isAutoSubmitPage(current.body) ? parseForm(current.body, current.url) : undefined;
    if (!form) break;
    const onSim = siteOf(current.url) === simSite && new URL(current.url).origin === new URL(sim.issuer).origin;
    const fromAuth = onSim && new URL(current.url).pathname === authPath;
    const toAuth = new URL(form.action).origin === new URL(sim.issuer).origin && new URL(form.action).pathname === authPath;
    if (form.target === '_top' || form.target === '_blank') context = {};
    const nextCtx: RequestContext = { ...context, initiator: current.url };
    let name = 'autoForm';
    if (onSim && !fromAuth && !toAuth && !launched && result.loginParams === undefined) {
      name = 'toolLogin';
      result.loginParams = formParams(form);
    } else if (fromAuth && toAuth) {
      name = 'authRepost';
    } else if (toAuth) {
      name = 'platformAuth';
    } else if (fromAuth) {
      result.authForm = form;
      result.idToken = form.fields.id_token;
      result.state = form.fields.state;
      if (o.stopBefore === 'toolLaunch') {
        return { ...(result as LaunchResult), final: current, steps, context };
      }
      name = 'toolLaunch';
      launched = true;
    }
    current = await browser.submitForm(form, { context: nextCtx });
    push(name, current);
    // The tool usually answers the login initiation with a redirect to auth.php.
    const authHop = [current.url, ...current.redirects.map((r) => r.location)].find((u) => {
      const x = new URL(u);
      return x.origin === new URL(sim.issuer).origin && x.pathname === authPath;
    });
    if (authHop && !result.authRequestUrl) {
      result.authRequestUrl = authHop;
      const p: Record<string, string> = {};
      new URL(authHop).searchParams.forEach((v, k) => (p[k] = v));
      if (name === 'platformAuth') Object.assign(p, form.fields);
      result.authParams = p;
      if (name === 'toolLogin' && new URL(current.url).pathname === authPath) push('platformAuth', current);
    }
  }
  return { ...(result as LaunchResult), final: current, steps, context };
}
