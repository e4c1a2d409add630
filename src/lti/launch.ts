import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Db } from '../db/schema';
import { upsert } from '../db/writes';
import type { Config } from '../config';
import { randomToken, sha256 } from '../crypto';
import type { Platforms } from './platforms';
import type { PendingLogin } from './login';
import { CLAIM, LtiClaims, MESSAGE_TYPES, type MessageType } from './claims';
import { Refusal } from './refusal';

/** A launch whose id_token passed every check. */
export interface ValidLaunch {
  tenantId: number;
  issuer: string;
  clientId: string;
  messageType: MessageType;
  claims: LtiClaims;
}

type RemoteJwks = ReturnType<typeof createRemoteJWKSet>;

/**
 * Validates id_tokens as LTI 1.3 core and the 1EdTech Security Framework require, closing the gaps
 * ltijs 5.9 leaves: the nonce must be the one sent with this login and is single-use for the token's
 * whole lifetime; the deployment must be registered; clock skew and class-start queues are allowed for.
 */
export class Launches {
  private readonly jwksByUrl = new Map<string, RemoteJwks>();

  constructor(private readonly db: Db, private readonly platforms: Platforms, private readonly config: Config) {}

  async validate(login: PendingLogin, idToken: string): Promise<ValidLaunch> {
    const platform = await this.platforms.get(login.issuer, login.clientId);
    if (!platform) throw new Refusal('unknown_platform', `${login.issuer} (${login.clientId}) is no longer registered`);
    let header;
    try {
      header = decodeProtectedHeader(idToken);
    } catch (e) {
      throw new Refusal('bad_token', `id_token is not a JWS: ${(e as Error).message}`);
    }
    if (header.alg !== 'RS256') throw new Refusal('bad_token', `id_token alg ${String(header.alg)} is not RS256`);
    if (!header.kid) throw new Refusal('bad_token', 'id_token header has no kid');

    const skew = this.config.launch.clockSkewSeconds;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, this.jwks(platform.jwksUrl), {
        algorithms: ['RS256'],
        issuer: login.issuer,
        audience: login.clientId,
        clockTolerance: skew,
        maxTokenAge: this.config.launch.maxTokenAgeSeconds,
        requiredClaims: ['exp', 'iat', 'nonce', 'sub'],
      }));
    } catch (e) {
      throw refusalFromJose(e, platform.jwksUrl);
    }

    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    // OIDC core 3.1.3.7: several audiences require azp, and azp must name us.
    if (aud.length > 1 && payload.azp === undefined) throw new Refusal('wrong_audience', `aud has ${aud.length} values and no azp`);
    if (payload.azp !== undefined && payload.azp !== login.clientId) throw new Refusal('wrong_audience', `azp ${String(payload.azp)} is not ${login.clientId}`);
    if (payload.nonce !== login.nonce) throw new Refusal('nonce_mismatch', 'id_token nonce differs from the nonce sent with this login');

    const parsed = LtiClaims.safeParse(payload);
    if (!parsed.success) {
      throw new Refusal('missing_claim', parsed.error.issues.map((i) => `${i.path.join('.') || '(token)'}: ${i.message}`).join('; '));
    }
    const claims = parsed.data;
    const messageType = claims[CLAIM.messageType];
    if (!(MESSAGE_TYPES as readonly string[]).includes(messageType)) throw new Refusal('bad_message_type', `message_type ${messageType}`);
    if (claims[CLAIM.version] !== '1.3.0') throw new Refusal('bad_version', `version ${claims[CLAIM.version]}`);
    const deploymentId = claims[CLAIM.deploymentId];
    if (login.deploymentId !== null && login.deploymentId !== deploymentId) {
      throw new Refusal('unknown_deployment', `id_token deployment ${deploymentId} differs from login's ${login.deploymentId}`);
    }
    const tenantId = await this.platforms.tenantId(login.issuer, login.clientId, deploymentId);
    if (tenantId === undefined) throw new Refusal('unknown_deployment', `deployment ${deploymentId} of ${login.issuer} (${login.clientId}) is not registered`);
    if (stripSlash(claims[CLAIM.targetLinkUri]) !== stripSlash(login.targetLinkUri)) {
      throw new Refusal('target_mismatch', `target_link_uri ${claims[CLAIM.targetLinkUri]} differs from login's ${login.targetLinkUri}`);
    }
    requireFor(messageType as MessageType, claims);

    await this.consume(login, payload);
    return { tenantId, issuer: login.issuer, clientId: login.clientId, messageType: messageType as MessageType, claims };
  }

  /** Marks the login used and the nonce seen, atomically: a concurrent replay loses the race. */
  private async consume(login: PendingLogin, payload: JWTPayload): Promise<void> {
    const skew = this.config.launch.clockSkewSeconds;
    await this.db.transaction().execute(async (trx) => {
      const gone = await trx.deleteFrom('oidc_login').where('state', '=', login.state).executeTakeFirst();
      if (Number(gone.numDeletedRows) !== 1) throw new Refusal('replayed', 'login state already used');
      const seen = await trx.selectFrom('used_nonce').select('nonce').where('issuer', '=', login.issuer).where('nonce', '=', login.nonce).executeTakeFirst();
      if (seen) throw new Refusal('replayed', 'nonce already used');
      await trx.insertInto('used_nonce').values({ issuer: login.issuer, nonce: login.nonce, expires_at: ((payload.exp ?? 0) + skew) * 1000 }).execute();
    });
  }

  /** Keeps a launch as a session; `binding` is the session cookie's value when the browser keeps cookies. */
  async createSession(launch: ValidLaunch, locale: string, binding: string | null): Promise<string> {
    const c = launch.claims;
    const id = randomToken(32);
    const now = Date.now();
    const context = c[CLAIM.context];
    // Deep-linking launches have no context in some platforms; they are scoped to the deployment then.
    const contextId = context?.id ?? '';
    const forUser = c[CLAIM.forUser];
    const kept = {
      [CLAIM.resourceLink]: c[CLAIM.resourceLink],
      [CLAIM.context]: context,
      [CLAIM.custom]: c[CLAIM.custom],
      [CLAIM.agsEndpoint]: c[CLAIM.agsEndpoint],
      [CLAIM.nrps]: c[CLAIM.nrps],
      [CLAIM.deepLinkingSettings]: c[CLAIM.deepLinkingSettings],
      [CLAIM.toolPlatform]: c[CLAIM.toolPlatform],
      [CLAIM.launchPresentation]: c[CLAIM.launchPresentation],
      // Only who the review is for: the platform may add the student's name and email, which are not kept.
      [CLAIM.forUser]: forUser && { user_id: forUser.user_id, roles: forUser.roles },
      // Whom a mentor may follow (src/web/session.ts).
      [CLAIM.roleScopeMentor]: c[CLAIM.roleScopeMentor],
      [CLAIM.deploymentId]: c[CLAIM.deploymentId],
      iss: launch.issuer,
      aud: launch.clientId,
    };
    await this.db.transaction().execute(async (trx) => {
      if (context) {
        const values = { label: context.label ?? null, title: context.title ?? null, updated_at: now };
        await upsert(trx, 'course_context', { tenant_id: launch.tenantId, context_id: context.id, ...values }, ['tenant_id', 'context_id'], values);
      }
      await trx.insertInto('launch_session').values({
        id,
        tenant_id: launch.tenantId,
        context_id: contextId,
        resource_link_id: c[CLAIM.resourceLink]?.id ?? null,
        user_sub: c.sub,
        roles: JSON.stringify(c[CLAIM.roles]),
        message_type: launch.messageType,
        locale,
        claims: JSON.stringify(kept),
        binding: binding === null ? null : sha256(binding),
        created_at: now,
        expires_at: now + this.config.launch.sessionTtlHours * 3600_000,
      }).execute();
    });
    return id;
  }

  private jwks(url: string): RemoteJwks {
    let jwks = this.jwksByUrl.get(url);
    if (!jwks) {
      // Cached per platform; an unknown kid refetches at most every 30 s (platform key rotation).
      jwks = createRemoteJWKSet(new URL(url), { timeoutDuration: 10_000, cooldownDuration: 30_000, cacheMaxAge: 3600_000 });
      this.jwksByUrl.set(url, jwks);
    }
    return jwks;
  }
}

function requireFor(type: MessageType, claims: LtiClaims): void {
  if (type === 'LtiResourceLinkRequest' && !claims[CLAIM.resourceLink]) throw new Refusal('missing_claim', 'resource_link.id is required for LtiResourceLinkRequest');
  if (type === 'LtiDeepLinkingRequest' && !claims[CLAIM.deepLinkingSettings]) throw new Refusal('missing_claim', 'deep_linking_settings is required for LtiDeepLinkingRequest');
  if (type === 'LtiSubmissionReviewRequest' && !claims[CLAIM.forUser]) throw new Refusal('missing_claim', 'for_user is required for LtiSubmissionReviewRequest');
}

function stripSlash(uri: string): string {
  return uri.replace(/\/+$/, '');
}

function refusalFromJose(e: unknown, jwksUrl: string): Refusal {
  const msg = (e as Error).message;
  if (e instanceof errors.JWTExpired) {
    return (e as errors.JWTExpired).claim === 'iat' ? new Refusal('too_old', msg) : new Refusal('expired', msg);
  }
  if (e instanceof errors.JWTClaimValidationFailed) {
    const { claim, reason } = e;
    if (reason === 'missing') return new Refusal('missing_claim', msg);
    if (claim === 'iss') return new Refusal('wrong_issuer', msg);
    if (claim === 'aud') return new Refusal('wrong_audience', msg);
    if (claim === 'iat' || claim === 'nbf') return new Refusal('not_yet_valid', msg);
    return new Refusal('bad_token', msg);
  }
  if (e instanceof errors.JWSSignatureVerificationFailed || e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys) {
    return new Refusal('bad_signature', msg);
  }
  if (e instanceof errors.JWKSTimeout || e instanceof errors.JWKSInvalid || (e as { code?: string }).code === 'ERR_JOSE_GENERIC' || e instanceof TypeError) {
    return new Refusal('platform_unreachable', `JWKS ${jwksUrl}: ${msg}`, 502);
  }
  if (e instanceof errors.JOSEError) return new Refusal('bad_token', msg);
  return new Refusal('platform_unreachable', `JWKS ${jwksUrl}: ${msg}`, 502);
}
