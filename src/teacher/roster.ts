import { z } from 'zod';
import type { Db } from '../db/schema';
import { upsert } from '../db/writes';
import { CLAIM } from '../lti/claims';
import { audienceOf } from '../lti/roles';
import { answerText, nextPageUrl, PlatformUnreachable, type PlatformServices } from '../grades/platform-services';

export const NRPS = {
  scope: 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
  containerType: 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json',
} as const;

const Member = z.object({
  user_id: z.string().min(1),
  roles: z.array(z.string()),
  status: z.string().optional(),
  name: z.string().optional(),
  given_name: z.string().optional(),
  family_name: z.string().optional(),
  email: z.string().optional(),
}).loose();
const Container = z.object({ members: z.array(Member) }).loose();

/** A course member; name and email only when the LMS shares them. */
export interface RosterMember {
  userId: string;
  /** Full role URIs. */
  roles: string[];
  /** 'Active' or 'Inactive'. */
  status: string;
  isLearner: boolean;
  name?: string;
  email?: string;
}

/**
 * NRPS answers with short context role names ("Learner", Moodle) or full URIs (the spec's
 * examples, other platforms); launches always carry URIs. Short names become membership URIs.
 */
export function normaliseRole(role: string): string {
  if (/^https?:\/\//.test(role)) return role;
  const [main, sub] = role.split('#');
  return sub ? `http://purl.imsglobal.org/vocab/lis/v2/membership/${main}#${sub}` : `http://purl.imsglobal.org/vocab/lis/v2/membership#${main}`;
}

export interface RosterOptions {
  /** How long a fetched roster serves before it is fetched again. */
  ttlMs: number;
  /** Members asked per page (`limit`). */
  pageSize: number;
  /** Keep names and emails in the database (else only in this process's memory). */
  storePersonalNames: boolean;
}

/**
 * The course roster from Names and Role Provisioning: all pages, cached briefly in the database so
 * several processes share one fetch. Names and emails are kept in memory only, unless the install
 * is configured to store them.
 */
export class Roster {
  private readonly names = new Map<string, { until: number; byUser: Map<string, { name?: string; email?: string }> }>();

  constructor(private readonly db: Db, private readonly services: PlatformServices, private readonly opts: RosterOptions) {}

  /** The roster, or undefined when the LMS offers none (no NRPS claim) or cannot be reached and nothing is cached. */
  async members(launch: { tenantId: number; contextId: string; claims: Record<string, any> }, now = Date.now()): Promise<RosterMember[] | undefined> {
    const key = `${launch.tenantId}\n${launch.contextId}`;
    const cached = await this.db.selectFrom('roster_cache').select(['members', 'fetched_at'])
      .where('tenant_id', '=', launch.tenantId).where('context_id', '=', launch.contextId).executeTakeFirst();
    const fromCache = () => this.withNames(key, JSON.parse(cached!.members) as RosterMember[], now);
    if (cached && cached.fetched_at > now - this.opts.ttlMs) return fromCache();
    const url = launch.claims[CLAIM.nrps]?.context_memberships_url;
    if (typeof url !== 'string') return cached ? fromCache() : undefined;
    let members: RosterMember[];
    try {
      members = await this.fetchAll(launch.tenantId, url);
    } catch (e) {
      if (e instanceof PlatformUnreachable || e instanceof RosterRefused) return cached ? fromCache() : undefined;
      throw e;
    }
    const stored = this.opts.storePersonalNames ? members : members.map(({ name: _n, email: _e, ...rest }) => rest);
    const values = { members: JSON.stringify(stored), fetched_at: now };
    await upsert(this.db, 'roster_cache', { tenant_id: launch.tenantId, context_id: launch.contextId, ...values }, ['tenant_id', 'context_id'], values);
    this.names.set(key, { until: now + this.opts.ttlMs, byUser: new Map(members.map((m) => [m.userId, { name: m.name, email: m.email }])) });
    return members;
  }

  private withNames(key: string, members: RosterMember[], now: number): RosterMember[] {
    const known = this.names.get(key);
    if (!known || known.until <= now) return members;
    return members.map((m) => ({ ...known.byUser.get(m.userId), ...m }));
  }

  private async fetchAll(tenantId: number, membershipsUrl: string): Promise<RosterMember[]> {
    const first = new URL(membershipsUrl);
    first.searchParams.set('limit', String(this.opts.pageSize));
    const out: RosterMember[] = [];
    for (let url: string | undefined = first.toString(); url; ) {
      const res = await this.services.request(tenantId, NRPS.scope, url, { headers: { accept: NRPS.containerType } });
      if (!res.ok) throw new RosterRefused(await answerText(res));
      const parsed = Container.safeParse(await res.json().catch(() => undefined));
      if (!parsed.success) throw new RosterRefused(`malformed membership container: ${parsed.error.issues[0]?.message}`);
      for (const m of parsed.data.members) {
        const roles = m.roles.map(normaliseRole);
        const name = m.name ?? ([m.given_name, m.family_name].filter(Boolean).join(' ') || undefined);
        out.push({ userId: m.user_id, roles, status: m.status ?? 'Active', isLearner: audienceOf(roles) === 'student', name, email: m.email });
      }
      url = nextPageUrl(res);
    }
    return out;
  }
}

/** The LMS answered the roster request with an error or something that is not a membership container. */
export class RosterRefused extends Error {}
