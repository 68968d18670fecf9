/**
 * Which Redis a process talks to, read from one URL (REDIS_URL):
 * - `redis://[user:pass@]host:port[/db]` (or `rediss://`): one server.
 * - `redis+cluster://[user:pass@]host:port,host:port,...` (or `rediss+cluster://`): a Redis Cluster;
 *   the nodes listed are only where discovery starts.
 * - `redis+sentinel://[user:pass@]host:port,host:port,...?name=<master>` (or `rediss+sentinel://`): the
 *   sentinels of a primary with replicas; the client follows a failover. The user and password are
 *   the data nodes'; `sentinelUsername` and `sentinelPassword` in the query are the sentinels', `db` the database.
 */

export interface RedisAddress {
  host: string
  port: number
}

export type RedisTopology =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: RedisAddress[]; username?: string; password?: string; tls: boolean }
  | {
      kind: 'sentinel'
      sentinels: RedisAddress[]
      name: string
      username?: string
      password?: string
      sentinelUsername?: string
      sentinelPassword?: string
      db: number
      tls: boolean
    }

const SCHEME = /^(rediss?)(?:\+(cluster|sentinel))?:\/\/(.*)$/

function address(text: string, defaultPort: number, url: string): RedisAddress {
  const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d+))?$/.exec(text)
  if (!match) throw new Error(`"${text}" in ${redactedUrl(url)} is not host:port`)
  const port = match[2] === undefined ? defaultPort : Number(match[2])
  if (!(port > 0 && port < 65_536)) throw new Error(`port ${match[2]} in ${redactedUrl(url)} is out of range`)
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port }
}

function decoded(text: string | undefined): string | undefined {
  return text === undefined || text === '' ? undefined : decodeURIComponent(text)
}

/** The URL with its password replaced, for messages. */
export function redactedUrl(url: string): string {
  return url.replace(/^([^:]+:\/\/[^:@/]*:)[^@/]*@/, '$1***@')
}

export function parseRedisUrl(url: string): RedisTopology {
  const match = SCHEME.exec(url)
  if (!match) throw new Error(`REDIS_URL must start with redis://, rediss://, redis+cluster:// or redis+sentinel:// (got ${redactedUrl(url)})`)
  const [, scheme, kind, rest] = match as unknown as [string, 'redis' | 'rediss', 'cluster' | 'sentinel' | undefined, string]
  if (kind === undefined) return { kind: 'single', url }
  const at = rest.lastIndexOf('@', rest.search(/[/?]|$/))
  const userinfo = at >= 0 ? rest.slice(0, at) : ''
  const afterUser = at >= 0 ? rest.slice(at + 1) : rest
  const [hostList = '', ...tail] = afterUser.split(/(?=[/?])/)
  const query = new URLSearchParams(tail.join('').replace(/^\/?\??/, ''))
  const [user, pass] = userinfo === '' ? [] : [userinfo.split(':')[0], userinfo.split(':').slice(1).join(':')]
  const addresses = hostList.split(',').filter((h) => h !== '')
  if (addresses.length === 0) throw new Error(`no host in ${redactedUrl(url)}`)
  const credentials = { ...(decoded(user) ? { username: decoded(user) } : {}), ...(decoded(pass) ? { password: decoded(pass) } : {}) }
  const tls = scheme === 'rediss'
  if (kind === 'cluster') return { kind, nodes: addresses.map((a) => address(a, 6379, url)), ...credentials, tls }
  const name = query.get('name')
  if (!name) throw new Error(`${redactedUrl(url)} names no master: add ?name=<master name>`)
  const db = Number(query.get('db') ?? 0)
  if (!Number.isInteger(db) || db < 0) throw new Error(`db=${query.get('db')} in ${redactedUrl(url)} is not a database number`)
  return {
    kind,
    sentinels: addresses.map((a) => address(a, 26379, url)),
    name,
    ...credentials,
    ...(query.get('sentinelUsername') ? { sentinelUsername: query.get('sentinelUsername')! } : {}),
    ...(query.get('sentinelPassword') ? { sentinelPassword: query.get('sentinelPassword')! } : {}),
    db,
    tls,
  }
}
