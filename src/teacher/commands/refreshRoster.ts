import { z } from 'zod';
import type { Db } from '../../db/schema';
import { upsert } from '../../db/writes';
import { audienceOf } from '../../lti/roles';
import { answerText, nextPageUrl, type PlatformServices } from '../../grades/platform-services';

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

/** The LMS answered the roster request with an error or something that is not a membership container. */
export class RosterRefused extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }

  /** A server error or "too many requests": the same request may well succeed later. */
  get transient(): boolean {
    return this.status === 429 || this.status >= 500;
  }
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

export interface RefreshRosterProps {
  db: Db;
  services: PlatformServices;
  tenantId: number;
  contextId: string;
  /** The course's NRPS endpoint, from a launch's claim. */
  membershipsUrl: string;
  /** Members asked per page (`limit`). */
  pageSize: number;
  /** Keep names and emails in the database (else the caller keeps them in memory only). */
  storePersonalNames: boolean;
  now?: number;
}

/**
 * Fetches the course roster from the LMS, every page, and stores it in the roster cache. Returns the
 * members with names and emails (whatever the database keeps). Throws PlatformUnreachable or
 * RosterRefused when the LMS does not give it; the cached roster is then left as it was.
 */
export async function refreshRoster(props: RefreshRosterProps): Promise<{ members: RosterMember[]; fetchedAt: number }> {
  const members = await fetchAll(props);
  const fetchedAt = props.now ?? Date.now();
  const stored = props.storePersonalNames ? members : members.map(({ name: _n, email: _e, ...rest }) => rest);
  const values = { members: JSON.stringify(stored), fetched_at: fetchedAt };
  await upsert(props.db, 'roster_cache', { tenant_id: props.tenantId, context_id: props.contextId, ...values }, ['tenant_id', 'context_id'], values);
  return { members, fetchedAt };
}

/** Every page of the course roster from the LMS, names and emails included; stores nothing. */
export async function fetchAll(props: Pick<RefreshRosterProps, 'services' | 'tenantId' | 'membershipsUrl' | 'pageSize'>): Promise<RosterMember[]> {
  const first = new URL(props.membershipsUrl);
  first.searchParams.set('limit', String(props.pageSize));
  const out: RosterMember[] = [];
  for (let url: string | undefined = first.toString(); url; ) {
    const res = await props.services.request(props.tenantId, NRPS.scope, url, { headers: { accept: NRPS.containerType } });
    if (!res.ok) throw new RosterRefused(await answerText(res), res.status);
    const parsed = Container.safeParse(await res.json().catch(() => undefined));
    if (!parsed.success) throw new RosterRefused(`malformed membership container: ${parsed.error.issues[0]?.message}`, res.status);
    for (const m of parsed.data.members) {
      const roles = m.roles.map(normaliseRole);
      const name = m.name ?? ([m.given_name, m.family_name].filter(Boolean).join(' ') || undefined);
      out.push({ userId: m.user_id, roles, status: m.status ?? 'Active', isLearner: audienceOf(roles) === 'student', name, email: m.email });
    }
    url = nextPageUrl(res);
  }
  return out;
}
