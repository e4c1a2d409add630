import { z } from 'zod';
import { Lru } from '../lru';
import { AGS, resultsUrl } from './ags';
import { answerText, nextPageUrl, PlatformUnreachable, type PlatformServices } from './platform-services';

/** What a gradebook cell shows, read back through the AGS results service. */
export interface GradebookCell {
  /** The grade on the line item's scale; null when the cell is empty (Moodle: no grade, or one sent without FullyGraded). */
  score: number | null;
  /** The line item's maximum, when the platform says it. */
  maximum: number | null;
}

/** Why a gradebook could not be read back. */
export type UnreadableReason = 'no_line_item' | 'no_scope' | 'unreachable' | 'refused';

/** One line item's cells by LTI user id, or why they could not be read; `at` is when they were read. */
export type GradebookReading =
  | { readable: true; at: number; cells: ReadonlyMap<string, GradebookCell> }
  | { readable: false; at: number; why: UnreadableReason; detail: string };

// Moodle sends userId as a string and leaves resultScore out of an empty cell; other platforms send null.
const Result = z.object({
  userId: z.union([z.string(), z.number()]).transform(String),
  resultScore: z.number().nullish(),
  resultMaximum: z.number().nullish(),
}).loose();
const Results = z.array(Result);

class ResultsRefused extends Error {}

/** Every result of a line item (all pages). Needs the result.readonly scope. */
async function readResults(services: PlatformServices, tenantId: number, lineItemUrl: string): Promise<Map<string, GradebookCell>> {
  const cells = new Map<string, GradebookCell>();
  for (let url: string | undefined = resultsUrl(lineItemUrl); url; ) {
    const res = await services.request(tenantId, AGS.resultScope, url, { headers: { accept: AGS.resultContainerType } });
    if (!res.ok) throw new ResultsRefused(await answerText(res));
    const parsed = Results.safeParse(await res.json().catch(() => undefined));
    if (!parsed.success) throw new ResultsRefused(`${res.status} malformed results: ${parsed.error.issues[0]?.message}`);
    for (const r of parsed.data) cells.set(r.userId, { score: r.resultScore ?? null, maximum: r.resultMaximum ?? null });
    url = nextPageUrl(res);
  }
  return cells;
}

/**
 * Reads back what LMS gradebooks show, for the teacher's pages only (never on a student's answer):
 * each line item at most once per `ttlMs` in this process, unless asked for a fresh reading.
 */
export class Gradebooks {
  private readonly cache = new Lru<string, { at: number; reading: Promise<GradebookReading> }>(500);

  constructor(private readonly services: PlatformServices, private readonly ttlMs = 60_000) {}

  /**
   * The cells of `lineItemUrl` (null: the activity has no known line item) as seen with `scopes`, the
   * AGS scopes the launches granted.
   */
  read(tenantId: number, lineItemUrl: string | null, scopes: readonly string[], o: { fresh?: boolean; now?: number } = {}): Promise<GradebookReading> {
    const now = o.now ?? Date.now();
    if (!lineItemUrl) return Promise.resolve({ readable: false, at: now, why: 'no_line_item', detail: '' });
    if (!scopes.includes(AGS.resultScope)) return Promise.resolve({ readable: false, at: now, why: 'no_scope', detail: '' });
    const key = `${tenantId} ${lineItemUrl}`;
    const hit = this.cache.get(key);
    if (hit && !o.fresh && now - hit.at < this.ttlMs) return hit.reading;
    const reading = readResults(this.services, tenantId, lineItemUrl).then(
      (cells): GradebookReading => ({ readable: true, at: now, cells }),
      (e): GradebookReading => {
        if (e instanceof PlatformUnreachable) return { readable: false, at: now, why: 'unreachable', detail: e.message };
        if (e instanceof ResultsRefused) return { readable: false, at: now, why: 'refused', detail: e.message };
        throw e;
      },
    );
    this.cache.set(key, { at: now, reading });
    return reading;
  }
}

/** The outbox's view of one student's grade, as the comparison needs it. */
export interface SentGrade {
  status: string;
  scoreGiven: number;
  scoreMaximum: number;
  gradingProgress: string;
}

/**
 * Whether the gradebook shows what Jejak sent: 'agrees', 'empty' (it shows nothing where a grade was
 * delivered), 'differs', or, for a latest score not delivered, 'in_flight' (still being sent) or
 * 'not_sent' (given up): the gradebook may show an earlier one. A score sent without FullyGraded is
 * meant to leave the cell empty.
 */
export type Agreement = 'agrees' | 'empty' | 'differs' | 'in_flight' | 'not_sent';

export function compareCell(sent: SentGrade, cell: GradebookCell | undefined): Agreement {
  if (sent.status !== 'delivered') return sent.status === 'failed' ? 'not_sent' : 'in_flight';
  const shown = cell?.score ?? null;
  if (sent.gradingProgress !== 'FullyGraded') return shown === null ? 'agrees' : 'differs';
  if (shown === null) return 'empty';
  // The platform rescales to its line item's maximum and keeps a few decimals.
  const maximum = cell?.maximum ?? sent.scoreMaximum;
  return Math.abs(shown / maximum - sent.scoreGiven / sent.scoreMaximum) < 0.0005 ? 'agrees' : 'differs';
}
