import { startRedisCluster, startRedisSentinel } from '@tickets/testkit/clusters'
import { Registry } from 'prom-client'
import { afterAll, describe, expect, it } from 'vitest'
import { createRedis, isCluster, registerRedisMetrics, whenRedisReady, type RedisClient } from '../src/redis.js'
import { parseRedisUrl, redactedUrl } from '../src/redis-topology.js'

describe('parseRedisUrl', () => {
  it('when the scheme is redis:// or rediss://, then it is one server and the URL goes to the client as it is', () => {
    expect(parseRedisUrl('redis://:pw@cache:6380/2')).toEqual({ kind: 'single', url: 'redis://:pw@cache:6380/2' })
    expect(parseRedisUrl('rediss://cache').kind).toBe('single')
  })

  it('when the scheme is redis+cluster://, then every listed node is a starting point, with the credentials and TLS', () => {
    expect(parseRedisUrl('rediss+cluster://app:s%40cret@r1:7000,r2,[::1]:7002')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'r1', port: 7000 },
        { host: 'r2', port: 6379 },
        { host: '::1', port: 7002 },
      ],
      username: 'app',
      password: 's@cret',
      tls: true,
    })
  })

  it('when the scheme is redis+sentinel://, then the sentinels, master name, database and sentinel password are read', () => {
    expect(parseRedisUrl('redis+sentinel://:pw@s1,s2:26380/?name=mymaster&db=3&sentinelPassword=sp')).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
      name: 'mymaster',
      password: 'pw',
      sentinelPassword: 'sp',
      db: 3,
      tls: false,
    })
  })

  it('when a URL is wrong, then the error says what is missing and never shows the password', () => {
    expect(() => parseRedisUrl('redis+sentinel://:secret@s1:26379')).toThrow(/name=<master name>/)
    expect(() => parseRedisUrl('redis+sentinel://:secret@s1:26379')).not.toThrow(/secret/)
    expect(() => parseRedisUrl('http://cache:6379')).toThrow(/must start with/)
    expect(() => parseRedisUrl('redis+cluster://r1:99999')).toThrow(/out of range/)
    expect(() => parseRedisUrl('redis+cluster://')).toThrow(/no host/)
    expect(redactedUrl('redis+cluster://app:secret@r1:7000')).toBe('redis+cluster://app:***@r1:7000')
  })

  it('when the key prefix holds a hash tag, then the client is refused: every key would share one cluster slot', () => {
    expect(() => createRedis('redis+cluster://127.0.0.1:1', '{t}:')).toThrow(/REDIS_PREFIX/)
  })
})

const clients: RedisClient[] = []
function client(url: string, prefix: string) {
  const redis = createRedis(url, prefix)
  redis.on('error', () => undefined)
  clients.push(redis)
  return redis
}
afterAll(() => clients.forEach((c) => c.disconnect()))

/** A client that has connected (to the cluster's slots, or the sentinel's primary) within 5 s. */
async function readyClient(url: string, prefix: string) {
  const redis = client(url, prefix)
  expect(await whenRedisReady(redis, 5_000)).toBe(true)
  return redis
}

describe('createRedis on a real Redis Cluster', async () => {
  const cluster = await startRedisCluster()
  afterAll(() => cluster.dispose())

  it('when REDIS_URL is redis+cluster://, then the client follows slots, keeps the prefix, refuses cross-slot scripts', async () => {
    const redis = await readyClient(cluster.url, 't:topology:')
    expect(isCluster(redis)).toBe(true)
    await Promise.all(Array.from({ length: 30 }, (_, i) => redis.set(`k${i}`, String(i))))
    expect(await Promise.all(Array.from({ length: 30 }, (_, i) => redis.get(`k${i}`)))).toEqual(Array.from({ length: 30 }, (_, i) => String(i)))
    expect(await redis.get('{same}:a')).toBeNull()
    await expect(redis.eval("return redis.call('mget', KEYS[1], KEYS[2])", 2, 'k1', 'k2')).rejects.toThrow(/CROSSSLOT|slot/i)
    expect(await redis.eval("return redis.call('mget', KEYS[1], KEYS[2])", 2, '{c1}:a', '{c1}:b')).toEqual([null, null])
  })

  it('when metrics are scraped, then memory is the fullest primary and clients are counted on every primary', async () => {
    const redis = await readyClient(cluster.url, 't:topology:')
    const registry = new Registry()
    registerRedisMetrics(registry, redis)
    const text = await registry.metrics()
    expect(Number(/redis_memory_used_bytes (\d+)/.exec(text)?.[1])).toBeGreaterThan(0)
    expect(Number(/redis_connected_clients (\d+)/.exec(text)?.[1])).toBeGreaterThanOrEqual(3)
  })
})

describe('createRedis behind Sentinel', async () => {
  const sentinel = await startRedisSentinel()
  afterAll(() => sentinel.dispose())

  it('when REDIS_URL is redis+sentinel://, then the client asks the sentinel for the primary and writes there', async () => {
    const redis = await readyClient(sentinel.url, 't:topology:')
    expect(isCluster(redis)).toBe(false)
    await redis.set('written', 'through the sentinel')
    const direct = await readyClient(`redis://127.0.0.1:${sentinel.primary.port}`, '')
    expect(await direct.get('t:topology:written')).toBe('through the sentinel')
  })
})
