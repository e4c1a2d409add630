import type { CookieOptions } from 'express';
import type { Config } from '../config';

/**
 * Inside the LMS iframe our cookies are third-party: they must be `SameSite=None; Secure`. Browsers
 * accept Secure cookies over plain http only on localhost; elsewhere over http (a LAN test install)
 * we fall back to Lax, which works in a top-level window.
 */
export function cookieOptions(config: Config, maxAgeMs: number): CookieOptions {
  const url = new URL(config.publicUrl);
  const secure = url.protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  return { httpOnly: true, secure, sameSite: secure ? 'none' : 'lax', path: '/', maxAge: maxAgeMs };
}

/** Cookie names carry a short prefix of the value they bind, so parallel launches do not collide. */
export const loginCookie = (state: string) => `jejak_login_${state.slice(0, 16)}`;
export const sessionCookie = (sessionId: string) => `jejak_session_${sessionId.slice(0, 16)}`;
