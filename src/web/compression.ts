import zlib from 'node:zlib';
import type { RequestHandler } from 'express';

/** Text worth compressing: pages, CSS, scripts, JSON, CSV, SVG. */
const COMPRESSIBLE = /^(text\/(html|css|plain|csv|javascript)|application\/(javascript|json)|image\/svg\+xml)\b/;
/** Below this, gzip's header costs about what it saves. */
const MIN_BYTES = 1024;

const toBuffer = (chunk: unknown, encoding: unknown): Buffer =>
  Buffer.isBuffer(chunk) ? chunk : typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : Buffer.from(chunk as Uint8Array);

/**
 * gzip for text responses when the client accepts it. Such bodies are small (pages, stylesheets,
 * exports), so they are collected and compressed at the end. A response whose headers are already out
 * (the server-sent event stream flushes them first) or that is not text passes through as it is.
 */
export function compressText(): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'HEAD' || !/\bgzip\b/i.test(req.get('accept-encoding') ?? '')) return next();
    res.vary('Accept-Encoding');
    const write = res.write.bind(res) as (...a: unknown[]) => boolean;
    const end = res.end.bind(res) as (...a: unknown[]) => typeof res;
    const chunks: Buffer[] = [];
    let passThrough: boolean | undefined;
    const passes = () => (passThrough ??= res.headersSent || res.statusCode === 204 || res.statusCode === 304
      || res.getHeader('content-encoding') !== undefined || !COMPRESSIBLE.test(String(res.getHeader('content-type') ?? '')));

    res.write = ((chunk: unknown, encoding?: unknown, cb?: unknown) => {
      if (passes()) return write(chunk, encoding, cb);
      chunks.push(toBuffer(chunk, encoding));
      const done = typeof encoding === 'function' ? encoding : cb;
      if (typeof done === 'function') process.nextTick(done as () => void);
      return true;
    }) as typeof res.write;

    res.end = ((chunk?: unknown, encoding?: unknown, cb?: unknown) => {
      if (typeof chunk === 'function') [cb, chunk] = [chunk, undefined];
      else if (typeof encoding === 'function') [cb, encoding] = [encoding, undefined];
      if (passes()) return end(chunk, encoding, cb);
      if (chunk != null) chunks.push(toBuffer(chunk, encoding));
      const body = Buffer.concat(chunks);
      const send = (bytes: Buffer, gzipped: boolean) => {
        if (gzipped) res.setHeader('content-encoding', 'gzip');
        res.setHeader('content-length', bytes.length);
        end(bytes, cb);
      };
      if (body.length < MIN_BYTES) send(body, false);
      else zlib.gzip(body, (err, gz) => (err ? send(body, false) : send(gz, true)));
      return res;
    }) as typeof res.end;
    next();
  };
}
