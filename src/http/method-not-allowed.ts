import type { FastifyInstance, HTTPMethods } from 'fastify';

/** The methods a client may try on any path; a path answers 405 for those it does not take. */
const STANDARD = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
type Standard = (typeof STANDARD)[number];

/** Each app's collected routes, for tests that iterate over every route the app serves. */
const collected = new WeakMap<FastifyInstance, ReadonlyMap<string, ReadonlySet<string>>>();

/** The route paths of an app built by buildApp and the methods each takes (HEAD included with GET). */
export function routeMethodsOf(app: FastifyInstance): ReadonlyMap<string, ReadonlySet<string>> {
  return collected.get(app) ?? new Map();
}

/** Route config flag: our own 405 routes are not collected as routes of the path. */
const MARK = 'rewindMethodNotAllowed';

/**
 * Records, for each route path, the methods registered on it (Fastify's onRoute hook sees the
 * routes of every plugin, with their prefix). Call before registering routes.
 */
export function collectRouteMethods(app: FastifyInstance): Map<string, Set<string>> {
  const byUrl = new Map<string, Set<string>>();
  collected.set(app, byUrl);
  app.addHook('onRoute', (route) => {
    if ((route.config as Record<string, unknown> | undefined)?.[MARK]) return;
    const methods = byUrl.get(route.url) ?? new Set<string>();
    for (const m of [route.method].flat()) methods.add(m.toUpperCase());
    // Fastify answers HEAD for every GET route (exposeHeadRoutes).
    if (methods.has('GET')) methods.add('HEAD');
    byUrl.set(route.url, methods);
  });
  return byUrl;
}

/**
 * For each collected path, one hidden route takes the standard methods the path does not, and
 * answers 405 with `Allow` (RFC 9110 §15.5.6). Hidden: the OpenAPI documents real operations only.
 * Call after every route is registered. Auth still runs first (onRequest): a /v1 path answers
 * 401 without the token, so the 405 reveals nothing to an unauthenticated client.
 */
export function addMethodNotAllowed(app: FastifyInstance, byUrl: ReadonlyMap<string, Set<string>>): void {
  for (const [url, methods] of [...byUrl]) {
    // Fastify may declare a method on a path the hook saw under another spelling (a plugin's '/'
    // route under its prefix is both '/docs' and '/docs/'): ask the router, not only the hook.
    const takes = (m: Standard) => methods.has(m) || app.hasRoute({ url, method: m });
    for (const m of STANDARD.filter(takes)) methods.add(m);
    const others = STANDARD.filter((m) => !takes(m));
    if (others.length === 0) continue;
    const allow = STANDARD.filter(takes).join(', ');
    app.route({
      method: others as Standard[] as HTTPMethods[],
      url,
      schema: { hide: true },
      config: { [MARK]: true },
      // HEAD here is our own (GET is absent): do not let Fastify derive another one.
      exposeHeadRoute: false,
      handler: async (req, reply) =>
        reply
          .code(405)
          .header('allow', allow)
          .send({
            error: 'method_not_allowed',
            message: `${req.method} is not allowed on ${url}; use ${allow}`,
          }),
    });
  }
}
