import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Config } from '../config';
import { ROOT } from '../config';
import type { Platforms, RegisteredPlatform } from './platforms';

const PLATFORM_CONFIG = 'https://purl.imsglobal.org/spec/lti-platform-configuration';
const TOOL_CONFIG = 'https://purl.imsglobal.org/spec/lti-tool-configuration';

/** The platform's OpenID configuration, as LTI Dynamic Registration 1.0 §3.4 describes it. */
export const OpenIdConfiguration = z.object({
  issuer: z.string().url(),
  authorization_endpoint: z.string().url(),
  token_endpoint: z.string().url(),
  jwks_uri: z.string().url(),
  registration_endpoint: z.string().url(),
  scopes_supported: z.array(z.string()).optional(),
  [PLATFORM_CONFIG]: z.object({
    product_family_code: z.string().optional(),
    version: z.string().optional(),
    // The spec lists objects ({type}); Moodle's openid-configuration.php publishes plain strings.
    messages_supported: z.array(z.union([z.string(), z.object({ type: z.string() }).loose()]))
      .transform((list) => list.map((m) => (typeof m === 'string' ? { type: m } : m)))
      .optional(),
  }).loose().optional(),
}).loose();
export type OpenIdConfiguration = z.infer<typeof OpenIdConfiguration>;

/** What the platform answers to our registration (§3.6). */
const RegistrationResponse = z.object({
  client_id: z.string().min(1),
  [TOOL_CONFIG]: z.object({ deployment_id: z.string().min(1).optional() }).loose().optional(),
}).loose();

/** Why a registration step failed: a key of `register.errors` in the locale files. */
export type RegistrationFailure =
  | 'unreachable' | 'timeout' | 'redirected' | 'refused' | 'too_large' | 'not_json'
  | 'incomplete' | 'issuer_origin' | 'endpoint_origin' | 'no_client_id';

/**
 * A registration step that failed. `params` fill the admin's message (our own words and the URL the
 * admin gave, never what the remote host sent); `message` is for the log and may quote the remote
 * answer, bounded.
 */
export class RegistrationError extends Error {
  constructor(readonly reason: RegistrationFailure, readonly params: Record<string, string | number>, detail: string) {
    super(detail);
  }
}

/** What one registration request may cost: a few kilobytes of JSON are all a platform needs to send. */
export interface RegistrationLimits {
  /** Time for the whole request, answer read included. */
  timeoutMs: number;
  /** Largest answer read; past it the connection is dropped. */
  maxBytes: number;
}

const DEFAULT_LIMITS: RegistrationLimits = { timeoutMs: 10_000, maxBytes: 256 * 1024 };
/** How much of a remote answer the log keeps. */
const LOGGED_BYTES = 1024;
/** The endpoints a platform declares that Jejak will call or send users to: all on its issuer's origin. */
const ENDPOINTS = ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'registration_endpoint'] as const;

/** lti-registration.json with this install's public URL filled in: one description for every LMS. */
export function toolConfiguration(config: Config): Record<string, any> {
  const template = fs.readFileSync(path.join(ROOT, 'lti-registration.json'), 'utf8');
  const domain = new URL(config.publicUrl).host;
  const filled = JSON.parse(template.replaceAll('${PUBLIC_URL}', config.publicUrl).replaceAll('${DOMAIN}', domain));
  delete filled.$comment;
  filled.client_name = config.toolName;
  return filled;
}

export class DynamicRegistration {
  constructor(private readonly platforms: Platforms, private readonly config: Config, private readonly limits: RegistrationLimits = DEFAULT_LIMITS) {}

  /**
   * Fetches and checks the platform's configuration. Anyone holding the registration key (every admin
   * who pasted the URL) chooses this URL, and schools' LMSs sit on private addresses, so the address is
   * not filtered; what may be done with it is: one bounded request, and only endpoints on the site the
   * configuration came from (§3.5.1 asks the issuer to be that origin; Moodle's endpoints all live under
   * its wwwroot), so nothing later is sent anywhere else.
   */
  async platformConfiguration(url: URL): Promise<OpenIdConfiguration> {
    const body = await this.request(url, { headers: { accept: 'application/json' } });
    // Moodle 3.x–4.0 published this key with a trailing space.
    if (isObject(body) && !(PLATFORM_CONFIG in body) && `${PLATFORM_CONFIG} ` in body) body[PLATFORM_CONFIG] = body[`${PLATFORM_CONFIG} `];
    const parsed = OpenIdConfiguration.safeParse(body);
    if (!parsed.success) {
      const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))].join(', ');
      throw new RegistrationError('incomplete', { url: url.href, fields }, `platform configuration incomplete: ${fields}`);
    }
    if (new URL(parsed.data.issuer).origin !== url.origin) {
      throw new RegistrationError('issuer_origin', { url: url.href }, `issuer ${parsed.data.issuer} is not on ${url.origin}`);
    }
    for (const field of ENDPOINTS) {
      if (new URL(parsed.data[field]).origin !== url.origin) {
        throw new RegistrationError('endpoint_origin', { url: url.href, field }, `${field} ${parsed.data[field]} is not on ${url.origin}`);
      }
    }
    return parsed.data;
  }

  /** The messages we ask for, limited to those the platform says it supports. */
  messagesFor(platform: OpenIdConfiguration): string[] {
    const ours: { type: string }[] = toolConfiguration(this.config)[TOOL_CONFIG].messages;
    const supported = platform[PLATFORM_CONFIG]?.messages_supported?.map((m) => m.type);
    // A resource-link launch is always possible; other messages only where the platform lists them.
    return ours.map((m) => m.type).filter((t) => t === 'LtiResourceLinkRequest' || !supported || supported.includes(t));
  }

  /** Sends our configuration to the platform and registers what it answers. */
  async register(openidConfigurationUrl: URL, registrationToken: string | undefined): Promise<{ platform: RegisteredPlatform; deploymentId: string | undefined; name: string }> {
    const platformConfig = await this.platformConfiguration(openidConfigurationUrl);
    const tool = toolConfiguration(this.config);
    const messages = this.messagesFor(platformConfig);
    tool[TOOL_CONFIG].messages = tool[TOOL_CONFIG].messages.filter((m: { type: string }) => messages.includes(m.type));
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (registrationToken) headers.authorization = `Bearer ${registrationToken}`;
    const answer = await this.request(new URL(platformConfig.registration_endpoint), { method: 'POST', headers, body: JSON.stringify(tool) });
    const parsed = RegistrationResponse.safeParse(answer);
    if (!parsed.success) throw new RegistrationError('no_client_id', {}, 'registration answered without a client_id');
    const deploymentId = parsed.data[TOOL_CONFIG]?.deployment_id;
    const product = platformConfig[PLATFORM_CONFIG]?.product_family_code ?? null;
    const name = product ? `${product} ${new URL(platformConfig.issuer).host}` : new URL(platformConfig.issuer).host;
    const platform = await this.platforms.register({
      issuer: platformConfig.issuer,
      clientId: parsed.data.client_id,
      name,
      authLoginUrl: platformConfig.authorization_endpoint,
      tokenUrl: platformConfig.token_endpoint,
      jwksUrl: platformConfig.jwks_uri,
      source: 'dynamic',
      product,
      details: { scope: (answer as Record<string, unknown>).scope ?? tool.scope, messages, platformConfiguration: platformConfig },
      deploymentIds: deploymentId ? [deploymentId] : [],
    });
    return { platform, deploymentId, name };
  }

  /**
   * One request, bounded: no redirect followed (the admin gave this URL, not another), the whole
   * exchange within the time cap, at most `maxBytes` read (the connection is dropped past it), and only
   * a JSON answer accepted. Remote text goes to the log only, cut to LOGGED_BYTES.
   */
  private async request(url: URL, init: RequestInit): Promise<unknown> {
    const { timeoutMs, maxBytes } = this.limits;
    let res: Response;
    try {
      res = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      throw this.failure(e, url);
    }
    const where = { url: url.href, status: res.status };
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw new RegistrationError('redirected', where, `redirect to ${(res.headers.get('location') ?? '').slice(0, LOGGED_BYTES)}`);
    }
    if (!res.ok) throw new RegistrationError('refused', where, `answered ${res.status}: ${await this.excerpt(res, url)}`);
    if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(res.headers.get('content-type') ?? '')) {
      throw new RegistrationError('not_json', where, `content-type ${res.headers.get('content-type')}: ${await this.excerpt(res, url)}`);
    }
    const tooLarge = () => new RegistrationError('too_large', { url: url.href, kb: Math.round(maxBytes / 1024) }, `answer over ${maxBytes} bytes`);
    if (Number(res.headers.get('content-length') ?? 0) > maxBytes) {
      await res.body?.cancel();
      throw tooLarge();
    }
    const body = await this.read(res, url, maxBytes);
    if (!body.whole) throw tooLarge();
    const text = body.bytes.toString('utf8');
    try {
      return JSON.parse(text);
    } catch {
      throw new RegistrationError('not_json', where, `invalid JSON: ${JSON.stringify(text.slice(0, LOGGED_BYTES))}`);
    }
  }

  /** The answer's body up to `limit` bytes; past it, reading stops and the connection is dropped. */
  private async read(res: Response, url: URL, limit: number): Promise<{ bytes: Buffer; whole: boolean }> {
    if (!res.body) return { bytes: Buffer.alloc(0), whole: true };
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return { bytes: Buffer.concat(chunks), whole: true };
        chunks.push(value);
        size += value.byteLength;
        if (size > limit) {
          await reader.cancel();
          return { bytes: Buffer.concat(chunks).subarray(0, limit), whole: false };
        }
      }
    } catch (e) {
      throw this.failure(e, url);
    }
  }

  /** The start of a refused answer, for the log. */
  private async excerpt(res: Response, url: URL): Promise<string> {
    const body = await this.read(res, url, LOGGED_BYTES);
    return JSON.stringify(body.bytes.toString('utf8')) + (body.whole ? '' : '…');
  }

  private failure(e: unknown, url: URL): RegistrationError {
    if ((e as Error).name === 'TimeoutError') {
      return new RegistrationError('timeout', { url: url.href, seconds: Math.ceil(this.limits.timeoutMs / 1000) }, `no answer within ${this.limits.timeoutMs} ms`);
    }
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return new RegistrationError('unreachable', { url: url.href }, `${(e as Error).message}${cause ? `: ${cause.code ?? cause.message}` : ''}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
