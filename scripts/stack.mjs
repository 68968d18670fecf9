#!/usr/bin/env node
// Makes sure MariaDB, Redis and NATS (with JetStream) are reachable: starts a local one that is
// installed but stopped, otherwise stops with one sentence saying what to install or set.
// Plain Node with no dependencies: it runs before `npm install`.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { createConnection } from 'node:net'

function canConnect(host, port, timeoutMs = 500) {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port })
    const done = (ok) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const isLocal = (host) => ['127.0.0.1', 'localhost', '::1'].includes(host)
const installed = (bin) => existsSync(bin) || spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0

export function stackServices(env = process.env) {
  const mysql = new URL(env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306')
  const redis = new URL(env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  const nats = new URL(env.NATS_URL ?? 'nats://127.0.0.1:4222')
  return [
    {
      name: 'MariaDB',
      host: mysql.hostname,
      port: Number(mysql.port || 3306),
      urlVar: 'MYSQL_URL',
      bin: '/usr/sbin/mariadbd',
      pkg: 'mariadb-server',
      start: () => {
        mkdirSync('/run/mysqld', { recursive: true })
        spawnSync('chown', ['mysql:mysql', '/run/mysqld'])
        execFileSync('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', '/usr/sbin/mariadbd', '--', '--user=mysql'], { stdio: 'ignore' })
      },
    },
    {
      name: 'Redis',
      host: redis.hostname,
      port: Number(redis.port || 6379),
      urlVar: 'REDIS_URL',
      bin: 'redis-server',
      pkg: 'redis-server',
      // A maxmemory, so that INFO memory reports one and RedisMemoryHigh can fire; noeviction,
      // because evicting a line's keys would lose fans' places (REDIS_MAXMEMORY, default 1gb).
      start: (port) =>
        execFileSync(
          'redis-server',
          [
            '--daemonize',
            'yes',
            '--bind',
            '127.0.0.1',
            '--port',
            String(port),
            '--save',
            '',
            '--appendonly',
            'no',
            '--maxmemory',
            env.REDIS_MAXMEMORY ?? '1gb',
            '--maxmemory-policy',
            'noeviction',
          ],
          { stdio: 'ignore' },
        ),
    },
    {
      name: 'NATS',
      host: nats.hostname,
      port: Number(nats.port || 4222),
      urlVar: 'NATS_URL',
      bin: '/usr/sbin/nats-server',
      pkg: 'nats-server',
      start: (port) => {
        mkdirSync('/var/lib/nats-server', { recursive: true })
        execFileSync(
          'start-stop-daemon',
          [
            '--start',
            '--oknodo',
            '--background',
            '--exec',
            '/usr/sbin/nats-server',
            '--',
            '-a',
            '127.0.0.1',
            '-p',
            String(port),
            '-m',
            env.NATS_MONITOR_PORT ?? '8222',
            '-js',
            '-sd',
            '/var/lib/nats-server',
          ],
          { stdio: 'ignore' },
        )
      },
    },
  ]
}

export async function ensureStack(env = process.env, log = (m) => console.log(m)) {
  for (const s of stackServices(env)) {
    if (await canConnect(s.host, s.port)) continue
    if (!isLocal(s.host)) {
      throw new Error(`${s.name} is not reachable at ${s.host}:${s.port}: start it there or set ${s.urlVar} to one that runs.`)
    }
    if (!installed(s.bin)) {
      throw new Error(`${s.name} is not running on ${s.host}:${s.port} and is not installed: run \`apt-get install -y ${s.pkg}\` or set ${s.urlVar} to one that runs.`)
    }
    log(`starting ${s.name} on ${s.host}:${s.port}`)
    try {
      s.start(s.port)
    } catch (err) {
      throw new Error(`${s.name} is installed but could not be started (${err.message.split('\n')[0]}): start it by hand or set ${s.urlVar}.`)
    }
    const deadline = Date.now() + 20_000
    while (!(await canConnect(s.host, s.port))) {
      if (Date.now() > deadline) throw new Error(`${s.name} was started but does not answer on ${s.host}:${s.port} after 20 s: check its log.`)
      await sleep(200)
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  ensureStack()
    .then(() => console.log('MariaDB, Redis and NATS are up'))
    .catch((err) => {
      console.error(err.message)
      process.exit(1)
    })
}
