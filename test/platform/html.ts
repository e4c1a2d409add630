/** Small HTML helpers for the platform simulator's pages. */

export function esc(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export function page(title: string, body: string, head = ''): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)}</title>
${head}
</head>
<body>
${body}
</body>
</html>
`;
}

/**
 * An auto-submitting form, shaped like Moodle's (`<form name="ltiAuthForm" id="ltiAuthForm" …>` with
 * hidden inputs and `document.<name>.submit()`).
 */
export function autoForm(action: string, fields: Record<string, string>, opts: { name?: string; method?: 'post' | 'get'; target?: string } = {}): string {
  const name = opts.name ?? 'ltiAuthForm';
  const inputs = Object.entries(fields)
    .map(([k, v]) => `  <input type="hidden" name="${esc(k)}" value="${esc(v)}"/>`)
    .join('\n');
  const target = opts.target ? ` target="${esc(opts.target)}"` : '';
  return `<form action="${esc(action)}" name="${esc(name)}" id="${esc(name)}" method="${opts.method ?? 'post'}" enctype="application/x-www-form-urlencoded"${target}>
${inputs}
</form>
<script type="text/javascript">
//<![CDATA[
document.${name}.submit();
//]]>
</script>
`;
}
