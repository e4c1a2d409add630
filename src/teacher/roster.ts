import type { Db } from '../db/schema';
import type { EventBus } from '../events/bus';
import type { JobQueue } from '../jobs/queue';
import type { Logger } from '../log';
import { CLAIM } from '../lti/claims';
import { PlatformUnreachable, type PlatformServices } from '../grades/platform-services';
import { fetchAll, refreshRoster, RosterRefused, type RosterMember } from './commands/refreshRoster';

export { NRPS, normaliseRole, RosterRefused, type RosterMember } from './commands/refreshRoster';

export interface RosterOptions {
  /** How long a fetched roster serves before a page asks for a refresh. */
  ttlMs: number;
  /** Members asked per page (`limit`). */
  pageSize: number;
  /** Keep names and emails in the database (else only in the memory of the process that fetched them). */
  storePersonalNames: boolean;
  /** Wait before the first retry of a refresh the LMS failed; it doubles with each further one. */
  retryDelaySeconds: number;
  /** How long the first page of a course (nothing cached yet) waits for the roster. */
  firstLoadWaitMs: number;
}

export interface RosterDeps {
  db: Db;
  services: PlatformServices;
  /** The shared job queue the refreshes go through (src/jobs/). */
  jobs: JobQueue;
  /** Tells every process when a refresh ended (a first page waiting for it, live class views). */
  events: EventBus;
  log: Logger;
}

/** A course's key in this process's maps of names. */
const courseKey = (tenantId: number, contextId: string): string => `${tenantId}\n${contextId}`;

/** A process asks the LMS for a course's names at most this often (beside the roster's own lifetime). */
const NAMES_RETRY_MS = 60_000;

/** The queue's name for a roster refresh; one job per course at a time (its singleton key). */
export const ROSTER_REFRESH_JOB = 'roster_refresh';

/** A refresh as the queue carries it; requestedAt lets a job find the roster already newer than its request. */
interface RefreshRequest {
  tenantId: number;
  contextId: string;
  membershipsUrl: string;
  requestedAt: number;
}

/**
 * The course roster from Names and Role Provisioning: all pages, cached in the database so that every
 * process shares one fetch. Pages read the cache; a stale cache is refreshed by a job of the shared
 * queue (one per course at a time, retried with backoff while the LMS fails, on whichever process does
 * background work), while the page shows the roster it has. Names and emails are kept in memory only,
 * unless the install is configured to store them.
 */
export class Roster {
  /** Names and emails by course and user, as this process last fetched them (memory only, when they are not stored). */
  private readonly names = new Map<string, Map<string, { name?: string; email?: string }>>();
  /** This process's name fetches in flight, by course. */
  private readonly fillingNames = new Map<string, Promise<void>>();
  /** When this process last asked the LMS for a course's names (successfully or not). */
  private readonly namesAskedAt = new Map<string, number>();

  private constructor(private readonly d: RosterDeps, private readonly opts: RosterOptions) {}

  /** The roster, with its refresh job declared to the queue. */
  static async create(d: RosterDeps, opts: RosterOptions): Promise<Roster> {
    const roster = new Roster(d, opts);
    await d.jobs.define<RefreshRequest>(ROSTER_REFRESH_JOB, {
      // A few pages of a slow LMS; retried from retryDelaySeconds, doubling: about an hour of tries at the default.
      leaseSeconds: 300, retryLimit: 6, retryDelaySeconds: opts.retryDelaySeconds, singleton: true,
    }, (job) => roster.refresh(job));
    return roster;
  }

  /**
   * The roster, or undefined when the LMS offers none (no NRPS claim) or it has never been fetched.
   * A stale one is returned as it is while a refresh is requested; with nothing cached the first page
   * waits briefly for it, as a teacher expects the whole class on first sight.
   */
  async members(launch: { tenantId: number; contextId: string; claims: Record<string, any> }, now = Date.now()): Promise<RosterMember[] | undefined> {
    const { tenantId, contextId } = launch;
    const read = () => this.d.db.selectFrom('roster_cache').select(['members', 'fetched_at'])
      .where('tenant_id', '=', tenantId).where('context_id', '=', contextId).executeTakeFirst();
    const url = launch.claims[CLAIM.nrps]?.context_memberships_url;
    let cached = await read();
    if (typeof url === 'string' && !(cached && cached.fetched_at > now - this.opts.ttlMs)) {
      const request: RefreshRequest = { tenantId, contextId, membershipsUrl: url, requestedAt: now };
      if (cached) {
        await this.request(request);
      } else {
        // Listening before asking: on SQLite the job may end before send() returns.
        const ended = this.ended(tenantId, contextId, this.opts.firstLoadWaitMs);
        await this.request(request);
        await ended;
        cached = await read();
      }
    }
    if (!cached) return undefined;
    const members = JSON.parse(cached.members) as RosterMember[];
    if (typeof url === 'string') await this.namesFor(tenantId, contextId, url, members, now);
    return this.withNames(tenantId, contextId, members);
  }

  /**
   * Names and emails the database does not keep are fetched by each process that shows them (the
   * refresh job may have run in another process, or in a worker): when this process has none for the
   * course, waiting briefly, or in the background when the roster has members it has no name for
   * (at most once a minute, or per roster lifetime if longer).
   */
  private async namesFor(tenantId: number, contextId: string, membershipsUrl: string, members: RosterMember[], now: number): Promise<void> {
    if (this.opts.storePersonalNames) return;
    const key = courseKey(tenantId, contextId);
    const known = this.names.get(key);
    if (known && members.every((m) => known.has(m.userId))) return;
    let filling = this.fillingNames.get(key);
    if (!filling) {
      // Asked lately (a student the LMS has no name for, or the LMS failing): not on every page.
      if ((this.namesAskedAt.get(key) ?? -Infinity) > now - Math.max(this.opts.ttlMs, NAMES_RETRY_MS)) return;
      this.namesAskedAt.set(key, now);
      filling = fetchAll({ services: this.d.services, tenantId, membershipsUrl, pageSize: this.opts.pageSize })
        .then((fetched) => this.remember(key, fetched, Date.now()))
        .catch((e) => this.d.log.info('roster names not fetched', { tenantId, detail: String(e) }))
        .finally(() => this.fillingNames.delete(key));
      this.fillingNames.set(key, filling);
    }
    if (!known) await Promise.race([filling, new Promise((r) => setTimeout(r, this.opts.firstLoadWaitMs).unref())]);
  }

  private remember(key: string, members: RosterMember[], fetchedAt: number): void {
    this.namesAskedAt.set(key, fetchedAt);
    this.names.set(key, new Map(members.map((m) => [m.userId, { name: m.name, email: m.email }])));
  }

  /** The job: fetches and stores the roster unless it is already newer than the request. */
  async refresh(job: RefreshRequest): Promise<void> {
    const { tenantId, contextId } = job;
    const cached = await this.d.db.selectFrom('roster_cache').select('fetched_at')
      .where('tenant_id', '=', tenantId).where('context_id', '=', contextId).executeTakeFirst();
    // Asked for again while another refresh ran: that one answered this request too.
    if (cached && cached.fetched_at >= job.requestedAt) return;
    const ended = (refreshed: boolean) => this.d.events.publish({ type: 'roster', tenantId, contextId, refreshed })
      .catch((e) => this.d.log.warn('roster event not published', { error: String(e) }));
    try {
      const { members, fetchedAt } = await refreshRoster({
        db: this.d.db, services: this.d.services, tenantId, contextId, membershipsUrl: job.membershipsUrl,
        pageSize: this.opts.pageSize, storePersonalNames: this.opts.storePersonalNames,
      });
      if (!this.opts.storePersonalNames) this.remember(courseKey(tenantId, contextId), members, fetchedAt);
      await ended(true);
    } catch (e) {
      await ended(false);
      if (e instanceof RosterRefused && !e.transient) {
        // The LMS says no (service not granted, course gone): asking again soon will not change that.
        this.d.log.warn('roster refused', { tenantId, detail: e.message });
        return;
      }
      if (e instanceof PlatformUnreachable || e instanceof RosterRefused) this.d.log.info('roster not fetched; retrying later', { tenantId, detail: e.message });
      // The queue retries with backoff; the cached roster stays as it was.
      throw e;
    }
  }

  /** Asks for a refresh; many pages asking at once make one job. A queue that cannot take it must not break the page. */
  private async request(r: RefreshRequest): Promise<void> {
    try {
      await this.d.jobs.send(ROSTER_REFRESH_JOB, r, { singletonKey: `${r.tenantId}:${r.contextId}` });
    } catch (e) {
      this.d.log.warn('roster refresh not requested', { tenantId: r.tenantId, error: String(e) });
    }
  }

  /** Resolves when a refresh of the course ends (in any process), or after `ms`. */
  private ended(tenantId: number, contextId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        unsubscribe();
        resolve();
      };
      const timer = setTimeout(done, ms);
      const unsubscribe = this.d.events.subscribe((e) => {
        if (e.type === 'roster' && e.tenantId === tenantId && e.contextId === contextId) done();
      });
    });
  }

  /** The cached members with the names this process holds for them. */
  private withNames(tenantId: number, contextId: string, members: RosterMember[]): RosterMember[] {
    const known = this.names.get(courseKey(tenantId, contextId));
    return known ? members.map((m) => ({ ...known.get(m.userId), ...m })) : members;
  }
}
