import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';

/** Hosts the API answers to: loopback names with the daemon's port (DNS rebinding protection). */
export function allowedHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

/**
 * Refuses a request whose `Host` is not a loopback name with the daemon's port (a web page that
 * rebinds a DNS name to 127.0.0.1 sends its own host) and any foreign `Origin` (a page of another
 * site calling the API). 403 with a JSON error. No CORS headers are ever sent.
 */
export function loopbackOnly(port: number): MiddlewareHandler {
  const hosts = allowedHosts(port);
  const origins = new Set([...hosts].map((host) => `http://${host}`));
  return async (c, next) => {
    const host = c.req.header('host') ?? '';
    if (!hosts.has(host.toLowerCase())) {
      return c.json(
        {
          error: {
            code: 'FORBIDDEN_HOST',
            message: `Host ${JSON.stringify(host)} is not this machine's API.`,
            details: {},
          },
        },
        403,
      );
    }
    const origin = c.req.header('origin');
    if (origin !== undefined && !origins.has(origin.toLowerCase())) {
      return c.json(
        {
          error: {
            code: 'FORBIDDEN_ORIGIN',
            message: `Requests from ${origin} are not allowed.`,
            details: {},
          },
        },
        403,
      );
    }
    await next();
  };
}

/** Name of the dashboard's session cookie (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = 'pubky_backup_session';

/**
 * Requires the API token: `Authorization: Bearer <token>`, or the dashboard's session cookie
 * (`sessions.has`). Compared in constant time. 401 with a JSON error otherwise.
 */
export function tokenRequired(token: string, sessions?: { has(id: string): boolean }): MiddlewareHandler {
  const expected = Buffer.from(token);
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const given = header.startsWith('Bearer ') ? Buffer.from(header.slice(7).trim()) : undefined;
    const byToken =
      given !== undefined && given.length === expected.length && timingSafeEqual(given, expected);
    const cookie = sessions ? getCookie(c, SESSION_COOKIE) : undefined;
    if (!byToken && !(cookie !== undefined && sessions?.has(cookie))) {
      return c.json(
        {
          error: {
            code: 'UNAUTHORIZED',
            message: 'Send the API token from daemon.json as "Authorization: Bearer <token>".',
            details: {},
          },
        },
        401,
      );
    }
    await next();
  };
}
