import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** Built files have content-hashed names: a changed file is a new name, so a year is safe. */
export const ASSET_CACHE = 'public, max-age=31536000, immutable'
/** The page itself names the current assets: a CDN or a browser asks again after a minute. */
export const PAGE_CACHE = 'public, max-age=60'

/**
 * The page loads only what it ships: no inline script or style, no other origin. It runs on the
 * gateway's own origin, so its API calls need no CORS.
 */
const PAGE_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

/**
 * Serves one built page set (index.html and assets/) from `root` under `urlPrefix` (not `prefix`,
 * which Fastify would also apply to the plugin's routes), as static files
 * that a CDN could serve as well: long-lived for hashed assets, short for the page.
 */
export default fp(
  async (app: FastifyInstance, opts: { root: string; urlPrefix: string }) => {
    await app.register(fastifyStatic, {
      root: opts.root,
      prefix: opts.urlPrefix,
      decorateReply: false,
      wildcard: false,
      index: ['index.html'],
      cacheControl: false,
      setHeaders(res, path) {
        if (path.endsWith('.html')) {
          res.setHeader('cache-control', PAGE_CACHE)
          res.setHeader('content-security-policy', PAGE_POLICY)
        } else res.setHeader('cache-control', ASSET_CACHE)
      },
    })
  },
  { name: 'static-pages', encapsulate: true },
)
