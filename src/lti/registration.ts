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

/** A registration step that failed; `detail` is safe to show IT. */
export class RegistrationError extends Error {}

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
  constructor(private readonly platforms: Platforms, private readonly config: Config, private readonly fetchImpl: typeof fetch = fetch) {}

  /** Fetches and checks the platform's configuration (§3.5.1: its issuer must be the URL's origin). */
  async platformConfiguration(openidConfigurationUrl: string): Promise<OpenIdConfiguration> {
    let url: URL;
    try {
      url = new URL(openidConfigurationUrl);
    } catch {
      throw new RegistrationError(`openid_configuration is not a URL: ${openidConfigurationUrl}`);
    }
    const body = (await this.request(url.toString(), { headers: { accept: 'application/json' } })) as Record<string, unknown>;
    // Moodle 3.x–4.0 published this key with a trailing space.
    if (body && !(PLATFORM_CONFIG in body) && `${PLATFORM_CONFIG} ` in body) body[PLATFORM_CONFIG] = body[`${PLATFORM_CONFIG} `];
    const parsed = OpenIdConfiguration.safeParse(body);
    if (!parsed.success) throw new RegistrationError(`the platform configuration is incomplete: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
    if (new URL(parsed.data.issuer).origin !== url.origin) {
      throw new RegistrationError(`the platform's issuer ${parsed.data.issuer} is not the origin of ${url.origin}`);
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
  async register(openidConfigurationUrl: string, registrationToken: string | undefined): Promise<{ platform: RegisteredPlatform; deploymentId: string | undefined; name: string }> {
    const platformConfig = await this.platformConfiguration(openidConfigurationUrl);
    const tool = toolConfiguration(this.config);
    const messages = this.messagesFor(platformConfig);
    tool[TOOL_CONFIG].messages = tool[TOOL_CONFIG].messages.filter((m: { type: string }) => messages.includes(m.type));
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (registrationToken) headers.authorization = `Bearer ${registrationToken}`;
    const answer = await this.request(platformConfig.registration_endpoint, { method: 'POST', headers, body: JSON.stringify(tool) });
    const parsed = RegistrationResponse.safeParse(answer);
    if (!parsed.success) throw new RegistrationError('the platform answered the registration without a client_id');
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

  private async request(url: string, init: RequestInit): Promise<unknown> {
    let res: Response;
    try {
      res = await this.fetchImpl(url, { ...init, signal: AbortSignal.timeout(15_000) });
    } catch (e) {
      throw new RegistrationError(`could not reach ${url}: ${(e as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) throw new RegistrationError(`${url} answered ${res.status}: ${text.slice(0, 300)}`);
    try {
      return JSON.parse(text);
    } catch {
      throw new RegistrationError(`${url} did not answer JSON`);
    }
  }
}
