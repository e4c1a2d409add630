import { Router } from 'express';
import { MASTERY_EVIDENCE } from '../kt/estimate';
import { DEFAULT_POLICY } from '../practice/policy';
import { UNMASTERED_CREDIT } from '../practice/settings';
import { pickLocale, translate } from '../web/i18n';
import type { Renderer } from '../web/render';

/** The address of the explanation page in a language (teacher pages link to it). */
export const estimatesPageHref = (locale: string) => `/help/estimates?lang=${locale}`;

/**
 * The public page explaining to teachers, in plain words, how Jejak estimates mastery and what the
 * numbers mean. Its numbers come from the code that applies them, so the page cannot drift from it.
 */
export function estimatesPageRoutes(d: { render: Renderer }): Router {
  const r = Router();
  r.get('/help/estimates', (req, res) => {
    const locale = pickLocale(typeof req.query.lang === 'string' ? req.query.lang : req.get('accept-language'));
    d.render(res, 'help/estimates', {
      locale, title: translate(locale, 'estimates.title'),
      answers: MASTERY_EVIDENCE.minAnswers, items: MASTERY_EVIDENCE.minItems,
      stuck: DEFAULT_POLICY.stuckAttempts, floor: Math.round(DEFAULT_POLICY.band[1] * 100), rest: DEFAULT_POLICY.stuckRest, credit: Math.round(UNMASTERED_CREDIT * 100),
    });
  });
  return r;
}
