import { csrfToken } from '../../src/web/security';
import type { RunningTool } from './tool';

/** The `_csrf` field the tool puts in the forms of the session in `url` (/s/:sid/…), for tests that post by hand. */
export function csrfField(tool: RunningTool, url: string): { _csrf: string } {
  const sid = /\/s\/([^/?#]+)/.exec(url)?.[1];
  if (!sid || !tool.jejak.config.secret) throw new Error(`no session in ${url}, or a tool without an explicit secret`);
  return { _csrf: csrfToken(tool.jejak.config.secret, sid) };
}
