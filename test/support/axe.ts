import fs from 'node:fs';
import { expect } from 'chai';
import type { Frame, Page } from 'playwright-core';

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** WCAG 2.1 A and AA, plus axe's best practices. */
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

/**
 * axe-core's violations on the page or frame, one line each (rule: elements). The script is evaluated
 * by the driver, so the page's CSP (no inline or foreign scripts) does not get in the way.
 */
export async function axeViolations(target: Page | Frame, tags: string[] = TAGS): Promise<string[]> {
  await target.evaluate(AXE_SOURCE);
  const result = await target.evaluate((values) => (window as any).axe.run(document, { runOnly: { type: 'tag', values } }), tags);
  return (result.violations as { id: string; nodes: { target: string[] }[] }[]).map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** How far the page scrolls sideways (0 when it fits the viewport, e.g. a 360 px phone). */
export async function sidewaysOverflow(target: Page | Frame): Promise<number> {
  return target.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/** Opens `url` and expects it served (200) in `lang`, axe-clean, and not scrolling sideways (a 360 px phone). */
export async function expectAccessiblePage(page: Page, url: string, lang: string): Promise<void> {
  const res = await page.goto(url);
  expect(res?.status(), url).to.equal(200);
  expect(await page.getAttribute('html', 'lang')).to.equal(lang);
  expect(await axeViolations(page), url).to.deep.equal([]);
  expect(await sidewaysOverflow(page), `${url} scrolls sideways at 360 px`).to.be.at.most(0);
}
