import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import type { Response } from 'express';
import { translate, type Locale } from './i18n';

/** Every .hbs under views/, as paths relative to it (a page is named by its path without .hbs). */
export function viewFiles(viewsDir: string): string[] {
  return (fs.readdirSync(viewsDir, { recursive: true }) as string[]).filter((f) => f.endsWith('.hbs')).sort();
}

export type Renderer = (res: Response, view: string, data: { locale: Locale } & Record<string, unknown>, status?: number) => void;

/**
 * Compiles every views/*.hbs once at start. Pages are rendered inside views/layout.hbs; `{{t "key"}}`
 * translates into the page's locale and fails loudly on a missing key.
 */
export function createRenderer(viewsDir: string): Renderer {
  const hb = Handlebars.create();
  hb.registerHelper('t', function (this: unknown, key: string, options: Handlebars.HelperOptions) {
    return translate(options.data.root.locale as Locale, key, options.hash);
  });
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  const templates = new Map<string, Handlebars.TemplateDelegate>();
  for (const file of viewFiles(viewsDir)) {
    const name = file.slice(0, -4).split(path.sep).join('/');
    const source = fs.readFileSync(path.join(viewsDir, file), 'utf8');
    // views/partials/x.hbs is usable as {{> x}} as well as a page.
    if (name.startsWith('partials/')) hb.registerPartial(name.slice('partials/'.length), source);
    templates.set(name, hb.compile(source, { strict: false }));
  }
  const layout = templates.get('layout');
  if (!layout) throw new Error(`views: layout.hbs missing in ${viewsDir}`);
  return (res, view, data, status = 200) => {
    const template = templates.get(view);
    if (!template) throw new Error(`views: ${view}.hbs missing`);
    const otherLocale: Locale = data.locale === 'id' ? 'en' : 'id';
    // The session's CSRF token (src/web/security.ts) reaches every page as @root.csrfToken.
    const body = template({ csrfToken: res.locals.csrfToken, otherLocale, ...data });
    // Inside a session the footer's privacy link stays in it (and in its language); a student's first page carries the notice.
    const sessionBase = res.locals.launch ? `/s/${res.locals.launch.sessionId}` : null;
    const html = layout({ ...data, body, otherLocale, sessionBase, privacyNotice: res.locals.privacyNotice === true });
    res.status(status).type('html').send(html);
  };
}
