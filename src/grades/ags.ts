import { z } from 'zod';
import { answerText, nextPageUrl, type PlatformServices } from './platform-services';

/** AGS 2.0 scopes and media types. */
export const AGS = {
  lineItemScope: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  scoreScope: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
  resultScope: 'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
  scoreType: 'application/vnd.ims.lis.v1.score+json',
  resultContainerType: 'application/vnd.ims.lis.v2.resultcontainer+json',
  lineItemType: 'application/vnd.ims.lis.v2.lineitem+json',
  lineItemContainerType: 'application/vnd.ims.lis.v2.lineitemcontainer+json',
} as const;

export const ActivityProgress = z.enum(['Started', 'InProgress', 'Completed']);
export const GradingProgress = z.enum(['FullyGraded', 'Pending']);

/** An AGS score as posted; `userId` is the student's LTI `sub`. */
export interface Score {
  userId: string;
  scoreGiven: number;
  scoreMaximum: number;
  activityProgress: z.infer<typeof ActivityProgress>;
  gradingProgress: z.infer<typeof GradingProgress>;
  timestamp: string;
}

/**
 * Where the scores of a line item go: `/scores` appended to the line item's path, before its query.
 * (Moodle's line item URLs carry `?type_id=N`, so plain string concatenation would break them.)
 */
export function scoresUrl(lineItemUrl: string): string {
  return below(lineItemUrl, 'scores');
}

/** Where a line item's results are read: `/results`, placed as `/scores` is. */
export function resultsUrl(lineItemUrl: string): string {
  return below(lineItemUrl, 'results');
}

function below(lineItemUrl: string, service: string): string {
  const u = new URL(lineItemUrl);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/${service}`;
  return u.toString();
}

/** What became of one score delivery. */
export type Delivery =
  /** `resent`: the platform's refusal of a repeat of this post, as not later than the grade it keeps from the first. */
  | { outcome: 'delivered'; resent?: string }
  /** The gradebook holds a grade at least as recent (Moodle 409): ours was delivered before, or was overtaken. */
  | { outcome: 'superseded'; detail: string }
  | { outcome: 'retry'; afterMs?: number; detail: string }
  | { outcome: 'give_up'; problem: GiveUpReason; detail: string };

export type GiveUpReason = 'not_gradable' | 'forbidden' | 'not_found' | 'rejected';

export async function postScore(services: PlatformServices, tenantId: number, lineItemUrl: string, score: Score): Promise<Delivery> {
  const res = await services.request(tenantId, AGS.scoreScope, scoresUrl(lineItemUrl), {
    method: 'POST',
    headers: { 'content-type': AGS.scoreType },
    body: JSON.stringify(score),
  });
  const detail = await answerText(res);
  if (res.ok) return { outcome: 'delivered' };
  if (res.status === 409) return { outcome: 'superseded', detail };
  if (res.status === 429 || res.status === 408 || res.status >= 500) return { outcome: 'retry', afterMs: retryAfterMs(res.headers.get('retry-after')), detail };
  // Moodle answers 400 for a user who is not a gradable learner of the course (a teacher's preview,
  // someone unenrolled): sending the same score again cannot help.
  const problem: GiveUpReason = res.status === 400 ? 'not_gradable' : res.status === 403 || res.status === 401 ? 'forbidden' : res.status === 404 ? 'not_found' : 'rejected';
  return { outcome: 'give_up', problem, detail };
}

/** Retry-After in seconds or as an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const LineItem = z.object({
  id: z.string().url(),
  label: z.string().optional(),
  scoreMaximum: z.coerce.number().optional(),
  resourceId: z.string().optional(),
  tag: z.string().optional(),
  resourceLinkId: z.string().optional(),
}).loose();
const LineItems = z.array(LineItem);

/** Thrown when the platform answers the line items service with an error or a malformed body. */
export class LineItemsRefused extends Error {
  constructor(readonly status: number, readonly detail: string) {
    super(detail);
  }
}

export interface WantedLineItem {
  label: string;
  scoreMaximum: number;
  resourceId: string;
  tag: string;
}

/**
 * The course's line item for this resource id and tag (all pages), created when there is none.
 * Needs the lineitem scope.
 */
export async function findOrCreateLineItem(services: PlatformServices, tenantId: number, lineItemsUrl: string, wanted: WantedLineItem): Promise<string> {
  const first = new URL(lineItemsUrl);
  first.searchParams.set('resource_id', wanted.resourceId);
  first.searchParams.set('tag', wanted.tag);
  for (let url: string | undefined = first.toString(); url; ) {
    const res = await services.request(tenantId, AGS.lineItemScope, url, { headers: { accept: AGS.lineItemContainerType } });
    if (!res.ok) throw new LineItemsRefused(res.status, await answerText(res));
    const parsed = LineItems.safeParse(await res.json().catch(() => undefined));
    if (!parsed.success) throw new LineItemsRefused(res.status, `malformed line items: ${parsed.error.issues[0]?.message}`);
    const found = parsed.data.find((li) => li.resourceId === wanted.resourceId && li.tag === wanted.tag);
    if (found) return found.id;
    url = nextPageUrl(res);
  }
  const res = await services.request(tenantId, AGS.lineItemScope, lineItemsUrl, {
    method: 'POST',
    headers: { 'content-type': AGS.lineItemType, accept: AGS.lineItemType },
    body: JSON.stringify(wanted),
  });
  if (!res.ok) throw new LineItemsRefused(res.status, await answerText(res));
  const created = LineItem.safeParse(await res.json().catch(() => undefined));
  if (!created.success) throw new LineItemsRefused(res.status, `malformed line item: ${created.error.issues[0]?.message}`);
  return created.data.id;
}
