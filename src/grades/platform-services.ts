import type { Db } from '../db/schema';
import type { LtijsStore } from '../lti/ltijs-store';
import type { Platforms } from '../lti/platforms';

/** The platform could not be reached, timed out, or would not give an access token: worth trying again later. */
export class PlatformUnreachable extends Error {}

/**
 * Authorised requests to a tenant's LMS services (AGS, NRPS). Access tokens come from ltijs, which
 * caches them per scope in the database (shared by processes); one the platform refuses (401) is
 * dropped from that cache and fetched again once.
 */
export class PlatformServices {
  constructor(
    private readonly db: Db,
    private readonly platforms: Platforms,
    private readonly store: LtijsStore,
    private readonly timeoutMs: number,
  ) {}

  async request(tenantId: number, scope: string, url: string, init: RequestInit = {}): Promise<Response> {
    const { issuer, clientId } = await this.platformOf(tenantId);
    const platform = await this.platforms.ltijsPlatform(issuer, clientId);
    if (!platform) throw new PlatformUnreachable(`platform ${issuer} (${clientId}) is not registered`);
    for (let fresh = false; ; fresh = true) {
      let token: string;
      try {
        token = (await platform.platformAccessToken(scope)).access_token;
      } catch (e) {
        throw new PlatformUnreachable(`access token for ${scope}: ${(e as Error).message}`);
      }
      let res: Response;
      try {
        res = await fetch(url, {
          ...init,
          headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (e) {
        throw new PlatformUnreachable(`${init.method ?? 'GET'} ${url}: ${(e as Error).message}`);
      }
      if (res.status !== 401 || fresh) return res;
      await res.body?.cancel();
      await this.store.Delete('accesstoken', { platformUrl: issuer, clientId, scopes: scope });
    }
  }

  private async platformOf(tenantId: number): Promise<{ issuer: string; clientId: string }> {
    const d = await this.db.selectFrom('deployment').select(['issuer', 'client_id']).where('id', '=', tenantId).executeTakeFirst();
    if (!d) throw new PlatformUnreachable(`tenant ${tenantId} has no deployment`);
    return { issuer: d.issuer, clientId: d.client_id };
  }
}

/** The next page of a paged LTI service answer (`Link: <…>; rel="next"`). */
export function nextPageUrl(res: Response): string | undefined {
  const link = res.headers.get('link');
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(part);
    if (m) return m[1];
  }
  return undefined;
}

/** The platform's answer, shortened, for a person to read. */
export async function answerText(res: Response): Promise<string> {
  const body = (await res.text().catch(() => '')).replace(/\s+/g, ' ').trim();
  return `${res.status}${body ? ` ${body.slice(0, 300)}` : ''}`;
}
