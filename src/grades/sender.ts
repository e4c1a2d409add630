import type { Selectable } from 'kysely';
import type { Db, ScoreOutboxTable } from '../db/schema';
import type { Logger } from '../log';
import { AGS, findOrCreateLineItem, LineItemsRefused, postScore, type Delivery, type Score } from './ags';
import { PlatformUnreachable, type PlatformServices } from './platform-services';

/**
 * Delivers what the outbox holds. An interface so the work can move to another queue (e.g. a
 * PostgreSQL job queue) without touching the callers of enqueueScore.
 */
export interface ScoreSender {
  start(): void;
  /** Stops looking for work and waits for deliveries in flight. */
  stop(): Promise<void>;
}

export interface SenderOptions {
  pollMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Tries of one score before it is given up as unreachable. */
  maxTries: number;
  requestTimeoutMs: number;
  /** Rows delivered at once. */
  concurrency?: number;
}

/** The tag of the line items Jejak creates itself, to find them again. */
export const LINE_ITEM_TAG = 'jejak';

type Row = Selectable<ScoreOutboxTable>;

/**
 * A background sender polling the database outbox. Several processes may run one on the same
 * database: a row is leased (compare-and-set) before delivery, and a lease left by a process that
 * died expires.
 */
export class OutboxSender implements ScoreSender {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  /** Line item lookups in flight per activity, so two students do not create two columns. */
  private readonly resolving = new Map<number, Promise<string>>();

  constructor(
    private readonly db: Db,
    private readonly services: PlatformServices,
    private readonly log: Logger,
    private readonly opts: SenderOptions,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .catch((e) => this.log.warn('grade sender failed', { error: String(e) }))
        .then((n) => this.schedule(n ? 0 : this.opts.pollMs));
    }, ms);
    this.timer.unref();
  }

  /** Delivers the rows due now; returns how many it tried. */
  async runOnce(now = Date.now()): Promise<number> {
    const due = await this.db.selectFrom('score_outbox').selectAll()
      .where('status', '=', 'pending').where('next_try_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .orderBy('next_try_at').limit(this.opts.concurrency ?? 4)
      .execute();
    const leased: Row[] = [];
    for (const row of due) {
      // Still due, as selected: another sender may have delivered the row (or put it back to wait for a
      // retry) between our select and this update, leaving the same version without a lease.
      const r = await this.db.updateTable('score_outbox').set({ lease_until: now + this.opts.requestTimeoutMs * 4, sent_version: row.version })
        .where('id', '=', row.id).where('version', '=', row.version)
        .where('status', '=', 'pending').where('next_try_at', '<=', now)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1) leased.push(row);
    }
    await Promise.all(leased.map((row) => this.deliver(row)));
    return leased.length;
  }

  private async deliver(row: Row): Promise<void> {
    let result: Delivery | { outcome: 'give_up'; problem: 'no_line_item'; detail: string };
    try {
      const lineItem = await this.lineItemOf(row);
      result = typeof lineItem === 'string'
        ? await postScore(this.services, row.tenant_id, lineItem, scoreOf(row))
        : { outcome: 'give_up', problem: 'no_line_item', detail: lineItem.why };
      // This very version was posted before (a sender died before recording it, or its answer was lost
      // to a timeout): it went with the same timestamp, so "not later" means the gradebook kept that post.
      if (result.outcome === 'superseded' && row.sent_version === row.version) result = { outcome: 'delivered', resent: result.detail };
    } catch (e) {
      if (e instanceof PlatformUnreachable) result = { outcome: 'retry', detail: e.message };
      else if (e instanceof LineItemsRefused) {
        result = e.status === 429 || e.status >= 500 ? { outcome: 'retry', detail: e.detail } : { outcome: 'give_up', problem: 'no_line_item', detail: e.detail };
      } else throw e;
    }
    await this.record(row, result);
  }

  private async record(row: Row, result: Delivery | { outcome: 'give_up'; problem: string; detail: string }): Promise<void> {
    const now = Date.now();
    const sameVersion = this.db.updateTable('score_outbox').where('id', '=', row.id).where('version', '=', row.version);
    let done;
    switch (result.outcome) {
      case 'delivered':
      case 'superseded':
        done = await sameVersion.set({
          status: 'delivered', delivered_version: row.version, delivered_at: now, lease_until: null, updated_at: now,
          problem: result.outcome === 'superseded' ? 'superseded' : null,
          problem_detail: result.outcome === 'superseded' ? result.detail : null,
        }).executeTakeFirst();
        break;
      case 'retry': {
        const tries = row.tries + 1;
        const giveUp = tries >= this.opts.maxTries;
        const wait = Math.round(result.afterMs ?? Math.min(this.opts.retryMaxMs, this.opts.retryBaseMs * 2 ** row.tries * (0.75 + Math.random() / 2)));
        done = await sameVersion.set({
          status: giveUp ? 'failed' : 'pending', tries, next_try_at: now + wait, lease_until: null, updated_at: now,
          problem: giveUp ? 'unreachable' : null, problem_detail: result.detail,
        }).executeTakeFirst();
        break;
      }
      case 'give_up':
        done = await sameVersion.set({ status: 'failed', problem: result.problem, problem_detail: result.detail, lease_until: null, updated_at: now }).executeTakeFirst();
        break;
    }
    // A newer score arrived meanwhile: it is pending with its own tries; just release the lease.
    if (Number(done.numUpdatedRows) === 0) await this.db.updateTable('score_outbox').set({ lease_until: null }).where('id', '=', row.id).execute();
    this.log.info('grade delivery', { tenantId: row.tenant_id, activityId: row.activity_id, version: row.version, outcome: result.outcome, detail: 'detail' in result ? result.detail : result.resent });
  }

  /**
   * The line item of the row's activity: the one stored with the activity (deep linking, or found
   * before), the one the launch named, or one found or created by resource id when the lineitem scope
   * was granted.
   */
  private async lineItemOf(row: Row): Promise<string | { why: string }> {
    const activity = await this.db.selectFrom('activity').select(['id', 'title', 'resource_id', 'line_item_url'])
      .where('id', '=', row.activity_id).where('tenant_id', '=', row.tenant_id).executeTakeFirstOrThrow();
    const scopes = JSON.parse(row.ags_scopes) as string[];
    if (!scopes.includes(AGS.scoreScope)) return { why: 'the LMS did not grant the score scope (grades are not accepted)' };
    const known = activity.line_item_url ?? row.line_item_url;
    if (known) return known;
    if (!row.line_items_url || !scopes.includes(AGS.lineItemScope)) return { why: 'no line item from the LMS, and no permission to create one' };
    let pending = this.resolving.get(activity.id);
    if (!pending) {
      pending = findOrCreateLineItem(this.services, row.tenant_id, row.line_items_url, {
        label: activity.title, scoreMaximum: row.score_maximum, resourceId: activity.resource_id, tag: LINE_ITEM_TAG,
      }).then(async (url) => {
        await this.db.updateTable('activity').set({ line_item_url: url }).where('id', '=', activity.id).where('line_item_url', 'is', null).execute();
        return url;
      }).finally(() => this.resolving.delete(activity.id));
      this.resolving.set(activity.id, pending);
    }
    return pending;
  }
}

function scoreOf(row: Row): Score {
  return {
    userId: row.user_sub,
    scoreGiven: row.score_given,
    scoreMaximum: row.score_maximum,
    activityProgress: row.activity_progress as Score['activityProgress'],
    gradingProgress: row.grading_progress as Score['gradingProgress'],
    timestamp: new Date(row.score_timestamp).toISOString(),
  };
}
