import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import { setCookie } from 'hono/cookie';
import { SESSION_COOKIE } from './security.js';

/** The built dashboard: `dist/web/` beside `dist/daemon/`. */
const WEB_DIR = fileURLToPath(new URL('../web/', import.meta.url));
/** A login link works once, within this time. */
const LOGIN_CODE_MS = 120_000;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * Nothing leaves the machine: scripts, styles, images and API calls from this origin only, no
 * frames, no forms posted elsewhere.
 */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * The dashboard's sessions: one-time login codes (from `pubky-backup open`, which holds the API
 * token) exchanged for an HttpOnly, SameSite=Strict session cookie. In memory: a restarted daemon
 * asks for a new login.
 */
export class DashboardSessions {
  private readonly codes = new Map<string, number>();
  private readonly sessions = new Set<string>();

  /** A one-time code for a login link, valid 2 minutes. */
  newLoginCode(): string {
    const code = randomBytes(24).toString('hex');
    this.codes.set(code, Date.now() + LOGIN_CODE_MS);
    return code;
  }

  /** Uses a login code up (it never works twice); a new session id, or undefined. */
  redeem(code: string): string | undefined {
    const expires = this.codes.get(code);
    this.codes.delete(code);
    if (expires === undefined || expires < Date.now()) return undefined;
    const session = randomBytes(32).toString('hex');
    this.sessions.add(session);
    return session;
  }

  has(session: string): boolean {
    return this.sessions.has(session);
  }
}

/** Serves the dashboard (`/`, `/assets/*`) and its login (`/login?code=`) on the API's app. */
export function mountDashboard(app: Pick<Hono, 'get'>, sessions: DashboardSessions): void {
  app.get('/login', (c) => {
    const session = sessions.redeem(c.req.query('code') ?? '');
    if (!session) {
      return c.html(
        page('This login link was used already or has expired. Run <code>pubky-backup open</code> again.'),
        403,
      );
    }
    setCookie(c, SESSION_COOKIE, session, { httpOnly: true, sameSite: 'Strict', path: '/' });
    return c.redirect('/', 303);
  });
  const serve = async (name: string) => {
    try {
      const body = await readFile(join(WEB_DIR, name));
      return new Response(body, {
        headers: {
          'content-type': TYPES[extname(name)] ?? 'application/octet-stream',
          'content-security-policy': CSP,
          'x-content-type-options': 'nosniff',
          'referrer-policy': 'no-referrer',
          'cache-control': name === 'index.html' ? 'no-store' : 'no-cache',
        },
      });
    } catch {
      return new Response(page('The dashboard is not built: run <code>npm run build</code>.'), {
        status: 404,
        headers: { 'content-type': TYPES['.html'] as string },
      });
    }
  };
  app.get('/', () => serve('index.html'));
  // Browsers ask for it by themselves; "no content" rather than a 404 in the console.
  app.get('/favicon.ico', (c) => c.body(null, 204));
  app.get('/assets/:name', (c) => {
    const name = c.req.param('name');
    return /^[\w.-]+$/.test(name) ? serve(name) : c.notFound();
  });
}

function page(message: string): string {
  return `<!doctype html><meta charset="utf-8"><title>Pubky Backup</title><p>${message}</p>`;
}
