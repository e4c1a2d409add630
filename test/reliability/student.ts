import { parseForm, type BrowserResponse, type LaunchResult } from '../support/http-browser';

/** A practice page showing an item to answer. */
export const isItemPage = (page: BrowserResponse): boolean => page.status === 200 && /id="answer-form"/.test(page.body);

export interface AnswerCycle {
  /** The presentation token answered: acknowledged once `feedback` is the feedback page. */
  token: string;
  feedback: BrowserResponse;
  /** The next item's page; undefined when the answer was not acknowledged. */
  next?: BrowserResponse;
  answerMs: number;
  nextMs: number;
}

/**
 * One cycle of a student in the launch `r`: answers the item on `page` with `choice` (the answer POST
 * and its redirect to the feedback page), waits `readMs`, and follows the feedback's "next" link.
 */
export async function answerAndContinue(r: LaunchResult, page: BrowserResponse, choice: string, readMs = 0): Promise<AnswerCycle> {
  const inFrame = (p: { url: string }) => ({ context: { ...r.context, initiator: p.url } });
  const form = parseForm(page.body, page.url, 0)!;
  const a0 = performance.now();
  const feedback = await r.browser.post(form.action, { ...form.fields, answer: choice }, inFrame(page));
  const answerMs = performance.now() - a0;
  const nextUrl = /id="next" href="([^"]+)"/.exec(feedback.body)?.[1];
  const cycle: AnswerCycle = { token: form.fields.token, feedback, answerMs, nextMs: NaN };
  if (feedback.status !== 200 || !/\/practice\/answered\//.test(feedback.url) || !nextUrl) return cycle;
  if (readMs) await new Promise((res) => setTimeout(res, readMs));
  const n0 = performance.now();
  cycle.next = await r.browser.get(new URL(nextUrl.replace(/&amp;/g, '&'), feedback.url).toString(), inFrame(feedback));
  cycle.nextMs = performance.now() - n0;
  return cycle;
}

/** Where a response ended, without the session id or token, for error tallies. */
export function pageName(page: BrowserResponse): string {
  return `${page.status} ${new URL(page.url).pathname.replace(/\/s\/[^/]+/, '/s/…').replace(/answered\/.*/, 'answered/…')}`;
}
