import sanitize from 'sanitize-html';
import katex from 'katex';

/**
 * Rich text in items: sanitised HTML (stored so, sanitised once at the edge, by the importers and the
 * sample bank) with TeX between `\( … \)` (inline) or `\[ … \]` / `$$ … $$` (display), rendered by
 * KaTeX on the server when shown. A single `$` is plain text (prices, "Rp"), never math. Images point
 * at the bank's stored files as `src="asset:NAME"`, resolved to a session URL when shown.
 */

const ASSET_SCHEME = 'asset';

const SANITIZE: sanitize.IOptions = {
  allowedTags: [
    'p', 'br', 'strong', 'b', 'em', 'i', 'u', 'sub', 'sup', 'span', 'div', 'ul', 'ol', 'li', 'table', 'thead',
    'tbody', 'tr', 'th', 'td', 'caption', 'img', 'a', 'code', 'pre', 'blockquote', 'h3', 'h4', 'h5', 'h6', 'hr',
    'figure', 'figcaption',
  ],
  allowedAttributes: {
    img: ['src', 'alt', 'width', 'height'],
    a: ['href', 'title', 'rel'],
    td: ['colspan', 'rowspan'],
    th: ['colspan', 'rowspan', 'scope'],
    '*': ['lang'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  // Only the bank's own stored images: an outside image would tell a third party who practises when.
  allowedSchemesByTag: { img: [ASSET_SCHEME] },
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  transformTags: { a: sanitize.simpleTransform('a', { rel: 'noopener noreferrer' }) },
};

/** Imported HTML, reduced to the allowlist: no scripts, event handlers, style, or javascript: URLs. */
export function sanitizeHtml(html: string): string {
  return sanitize(html, SANITIZE).trim();
}

/** Plain text as HTML (CSV and GIFT text without markup). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** HTML for a label: one enclosing paragraph (how Moodle wraps every answer) unwrapped. */
export function inlineHtml(html: string): string {
  const m = /^<p>([\s\S]*)<\/p>$/.exec(html.trim());
  return m && !/<p[\s>]/.test(m[1]!) ? m[1]!.trim() : html.trim();
}

const TEX = /\\\(([\s\S]+?)\\\)|\\\[([\s\S]+?)\\\]|\$\$([\s\S]+?)\$\$/g;

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos|nbsp);/gi, (_m, e: string) => {
    const l = e.toLowerCase();
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
    if (l in named) return named[l]!;
    return String.fromCodePoint(l.startsWith('#x') ? parseInt(l.slice(2), 16) : parseInt(l.slice(1), 10));
  });
}

/** The TeX fragments of a text that KaTeX refuses, with its reason (for import reports). */
export function texErrors(html: string): string[] {
  const errors: string[] = [];
  for (const m of html.matchAll(TEX)) {
    try {
      katex.renderToString(decodeEntities(m[1] ?? m[2] ?? m[3]!), { throwOnError: true, trust: false, strict: 'ignore' });
    } catch (e) {
      errors.push(`${m[0]}: ${(e as Error).message.replace(/^KaTeX parse error: /, '')}`);
    }
  }
  return errors;
}

// Rendered fragments, keyed by source: items are shown again and again, and KaTeX is the costly part.
const rendered = new Map<string, string>();
const RENDER_CACHE_MAX = 5000;

function renderTex(tex: string, displayMode: boolean): string {
  const key = `${displayMode ? 'D' : 'I'}${tex}`;
  let html = rendered.get(key);
  if (html === undefined) {
    const source = decodeEntities(tex);
    // The typeset math carries a plain spoken name: accessibility checkers (and screen readers
    // without MathML support) find no text in MathML, and an answer choice must have a label.
    html = `<span class="math" role="img" aria-label="${escapeHtml(spokenTex(source))}">`
      + katex.renderToString(source, { displayMode, throwOnError: false, trust: false, strict: 'ignore', output: 'htmlAndMathml' })
      + '</span>';
    if (rendered.size >= RENDER_CACHE_MAX) rendered.clear();
    rendered.set(key, html);
  }
  return html;
}

/** TeX as plain words and symbols for a spoken label: \frac{3}{4} → "3/4", \times → "×". */
export function spokenTex(tex: string): string {
  let s = tex;
  // Inside out: a fraction's parts may themselves hold fractions.
  for (let i = 0; i < 5 && /\\[dt]?frac/.test(s); i++) s = s.replace(/\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}/g, (_m, a: string, b: string) => `${a}/${b}`);
  return s
    .replace(/\\text\{([^{}]*)\}/g, '$1')
    .replace(/\\times/g, '×').replace(/\\div/g, '÷').replace(/\\cdot/g, '·').replace(/\\pm/g, '±')
    .replace(/\\leq?(?![a-zA-Z])/g, '≤').replace(/\\geq?(?![a-zA-Z])/g, '≥').replace(/\\neq/g, '≠').replace(/\\%/g, '%')
    .replace(/\\[,;:! ]/g, ' ').replace(/\\[a-zA-Z]+/g, ' ').replace(/[{}\\]/g, '')
    .replace(/\s+/g, ' ').trim();
}

/**
 * Stored rich text as page HTML: TeX typeset (only in text, never inside a tag) and `asset:` images
 * pointed at `assetBase/NAME` (the bank's asset route of the viewer's session).
 */
export function renderRichText(html: string, assetBase: string | undefined): string {
  return html
    .split(/(<[^>]*>)/)
    .map((part) => {
      if (part.startsWith('<')) {
        return part.replace(/\ssrc="asset:([^"]*)"/, (_m, name: string) => (assetBase ? ` src="${assetBase}/${name}"` : ''));
      }
      return part.replace(TEX, (_m, inline?: string, display?: string, dollars?: string) =>
        inline !== undefined ? renderTex(inline, false) : renderTex(display ?? dollars!, true));
    })
    .join('');
}

/** The stylesheet a page needs for the HTML it shows: KaTeX's only where math appears. */
export const KATEX_CSS = '/static/katex/katex.min.css';
export function stylesheetsFor(...html: string[]): string[] {
  return html.some((h) => h.includes('class="katex')) ? [KATEX_CSS] : [];
}
