import type { AdminServer } from '../../src/testnet/admin/index.js';

/** A request to an admin server with its password (`X-Admin-Password`), JSON-encoding `json`. */
export function adminFetch(
  admin: AdminServer,
  path: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<Response> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  headers.set('x-admin-password', admin.password);
  if (json !== undefined) headers.set('content-type', 'application/json');
  return fetch(`${admin.url}${path}`, {
    ...rest,
    headers,
    body: json === undefined ? rest.body : JSON.stringify(json),
  });
}
