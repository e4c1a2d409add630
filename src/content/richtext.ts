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
  // sanitize-html keeps relative URLs ("../../teacher/…", "asset:../…"): shown under a session's URL,
  // they would make the viewer's browser send that session's requests. Links must be absolute, and
  // an image must name one of the bank's own files, or it is dropped.
  transformTags: {
    a: (tagName, attribs) => ({ tagName, attribs: { ...keptUrl(attribs, 'href', isOutsideLink), rel: 'noopener noreferrer' } }),
    img: (tagName, attribs) => ({ tagName, attribs: keptUrl(attribs, 'src', isAssetSrc) }),
  },
  exclusiveFilter: (frame) => frame.tag === 'img' && !frame.attribs.src,
};

/** The attributes without `name` unless its URL is `allowed`. */
function keptUrl(attribs: sanitize.Attributes, name: string, allowed: (url: string) => boolean): sanitize.Attributes {
  return Object.fromEntries(Object.entries(attribs).filter(([k, v]) => k !== name || allowed(v.trim())));
}

const isOutsideLink = (url: string) => /^(https?:\/\/|mailto:)/i.test(url);
const isAssetSrc = (url: string) => url.startsWith(`${ASSET_SCHEME}:`) && isAssetName(url.slice(ASSET_SCHEME.length + 1));

/**
 * An asset name as a bank stores it (the file name, URL-encoded): one path segment that stays inside
 * the bank's asset route. Browsers read "..", "%2e%2e" and "%2F" as a way up, so none may appear.
 */
export function isAssetName(name: string): boolean {
  if (!/^(?:[A-Za-z0-9._~!'()*-]|%[0-9A-Fa-f]{2})+$/.test(name)) return false;
  let decoded: string;
  try {
    decoded = decodeURIComponent(name);
  } catch {
    return false;
  }
  return decoded !== '.' && decoded !== '..' && !/[/\\]/.test(decoded);
}

/** Imported HTML, reduced to the allowlist: no scripts, event handlers, style, or javascript: URLs. */
export function sanitizeHtml(html: string): string {
  return sanitize(html, SANITIZE).trim();
}

/** The text of stored HTML without markup, entities decoded (for a one-line summary a template escapes). */
export function plainText(html: string): string {
  const parts: string[] = [];
  // A space after each block or line break keeps "<p>a</p><p>b</p>" two words; inline tags join as written.
  const spaced = html.replace(/<br\s*\/?>|<\/(?:p|div|li|h[3-6]|td|th|caption|pre|blockquote|figcaption)>/gi, '$& ');
  // textFilter sees each text node decoded, then re-escaped as &amp; &lt; &gt; only: undone here, &amp; last.
  sanitize(spaced, { allowedTags: [], allowedAttributes: {}, textFilter: (text) => (parts.push(text), '') });
  return parts.join('').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').replace(/\s+/g, ' ').trim();
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

const TEX_DELIMITERS = [{ open: '\\(', close: '\\)', display: false }, { open: '\\[', close: '\\]', display: true }, { open: '$$', close: '$$', display: true }];

interface TexSpan {
  start: number;
  /** Just past the closing delimiter. */
  end: number;
  tex: string;
  display: boolean;
}

/**
 * The TeX fragments of a text, in one pass: each opener is closed by the first closer at least one
 * character after it. (A lazy regular expression does the same but rescans the rest of the text from
 * every opener that is never closed: quadratic in the text's length.) Once a closer is missing after
 * some point it is missing after every later point, so that kind of fragment is not looked for again.
 */
export function texSpans(text: string): TexSpan[] {
  const spans: TexSpan[] = [];
  const next = TEX_DELIMITERS.map(() => -1);
  const unclosed = TEX_DELIMITERS.map(() => false);
  let from = 0;
  for (;;) {
    let best = -1;
    for (const [d, delimiter] of TEX_DELIMITERS.entries()) {
      if (unclosed[d]) continue;
      if (next[d]! < from) next[d] = text.indexOf(delimiter.open, from);
      if (next[d]! >= 0 && (best < 0 || next[d]! < next[best]!)) best = d;
    }
    if (best < 0) return spans;
    const { open, close, display } = TEX_DELIMITERS[best]!;
    const start = next[best]!;
    const closeAt = text.indexOf(close, start + open.length + 1);
    if (closeAt < 0) {
      unclosed[best] = true;
      continue;
    }
    spans.push({ start, end: closeAt + close.length, tex: text.slice(start + open.length, closeAt), display });
    from = closeAt + close.length;
  }
}

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
  for (const span of texSpans(html)) {
    try {
      katex.renderToString(decodeEntities(span.tex), { throwOnError: true, trust: false, strict: 'ignore' });
    } catch (e) {
      errors.push(`${html.slice(span.start, span.end)}: ${(e as Error).message.replace(/^KaTeX parse error: /, '')}`);
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
 * pointed at `assetBase/NAME` (the bank's asset route of the viewer's session). A `src` or `href`
 * the sanitiser would not keep today (a bank stored before it refused them) is dropped here too.
 */
export function renderRichText(html: string, assetBase: string | undefined): string {
  return html
    .split(/(<[^>]*>)/)
    .map((part) => {
      if (part.startsWith('<')) {
        return part.replace(/\s(src|href)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi, (_m, attr: string, quoted: string) => {
          // Single-quoted or bare values (never the sanitiser's output) may hold a double quote.
          const url = quoted.replace(/^["']|["']$/g, '').trim().replace(/"/g, '&quot;');
          if (attr.toLowerCase() === 'href') return isOutsideLink(url) ? ` href="${url}"` : '';
          return assetBase && isAssetSrc(url) ? ` src="${assetBase}/${url.slice(ASSET_SCHEME.length + 1)}"` : '';
        });
      }
      let out = '';
      let at = 0;
      for (const span of texSpans(part)) {
        out += part.slice(at, span.start) + renderTex(span.tex, span.display);
        at = span.end;
      }
      return out + part.slice(at);
    })
    .join('');
}

/** The stylesheet a page needs for the HTML it shows: KaTeX's only where math appears. */
export const KATEX_CSS = '/static/katex/katex.min.css';
export function stylesheetsFor(...html: string[]): string[] {
  return html.some((h) => h.includes('class="katex')) ? [KATEX_CSS] : [];
}
