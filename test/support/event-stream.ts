/** Server-sent events (the teacher's live class view) as a test reads them. */
import type { HttpBrowser } from './http-browser';

/** A server-sent event stream opened with the browser's cookies, read as it comes. */
export async function openEventStream(browser: HttpBrowser, url: string) {
  const abort = new AbortController();
  const cookie = browser.jar.matching(new URL(url)).map((c) => `${c.name}=${c.value}`).join('; ');
  const res = await fetch(url, { headers: { cookie, accept: 'text/event-stream' }, signal: abort.signal });
  const reader = res.body!.getReader();
  let text = '';
  return {
    res,
    /** Reads until the text so far matches, or fails after `ms`. */
    async until(pattern: RegExp, ms: number): Promise<string> {
      const end = Date.now() + ms;
      while (!pattern.test(text)) {
        const left = end - Date.now();
        if (left <= 0) throw new Error(`no ${pattern} in the event stream within ${ms} ms; got ${JSON.stringify(text)}`);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const chunk = await Promise.race([reader.read(), new Promise<undefined>((r) => {
          timer = setTimeout(() => r(undefined), left);
        })]);
        clearTimeout(timer);
        if (chunk?.done) throw new Error(`the event stream ended; got ${JSON.stringify(text)}`);
        if (chunk?.value) text += new TextDecoder().decode(chunk.value);
      }
      return text;
    },
    close: () => abort.abort(),
  };
}
