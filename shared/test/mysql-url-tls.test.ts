// A MariaDB URL's TLS parameters reach the pool, the one-off connections and the client commands
// the backup runs, against a throw-away server that refuses plain connections.
import { execFileSync } from 'node:child_process'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startThrowawayMariadb } from '@tickets/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { clientTlsArgs, parseMysqlUrl } from '../src/migrate.js'
import { createPool } from '../src/mysql.js'

const dir = await mkdtemp(join(tmpdir(), 'tickets-tls-'))
await chmod(dir, 0o755)
const file = (name: string) => join(dir, name)
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' })
openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=tickets test CA', '-keyout', file('ca-key.pem'), '-out', file('ca.pem'))
openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', file('server-key.pem'), '-out', file('server.csr'))
execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1' > ${file('san.ext')}`])
openssl(
  'x509',
  '-req',
  '-in',
  file('server.csr'),
  '-CA',
  file('ca.pem'),
  '-CAkey',
  file('ca-key.pem'),
  '-CAcreateserial',
  '-days',
  '1',
  '-extfile',
  file('san.ext'),
  '-out',
  file('server.pem'),
)
for (const f of ['ca.pem', 'server.pem', 'server-key.pem']) await chmod(file(f), 0o644)

const server = await startThrowawayMariadb([
  `--ssl-ca=${file('ca.pem')}`,
  `--ssl-cert=${file('server.pem')}`,
  `--ssl-key=${file('server-key.pem')}`,
  '--require-secure-transport=ON',
])
afterAll(async () => {
  await server.dispose()
  await rm(dir, { recursive: true, force: true })
})
const base = `${server.url}/mysql`

describe('parseMysqlUrl', () => {
  it('reads the MariaDB client option names as TLS parameters and checks the server certificate by default', () => {
    expect(parseMysqlUrl(`${base}?ssl-ca=/etc/db/ca.pem`).tls).toEqual({ ca: '/etc/db/ca.pem', cert: undefined, key: undefined, verifyServerCert: true })
    expect(parseMysqlUrl(`${base}?ssl=true&ssl-verify-server-cert=false`).tls).toMatchObject({ verifyServerCert: false })
    expect(parseMysqlUrl(`${base}?ssl=false`).tls).toBeNull()
    expect(parseMysqlUrl(base).tls).toBeNull()
  })

  it('refuses a parameter it would otherwise drop, naming it', () => {
    expect(() => parseMysqlUrl(`${base}?sslmode=require&charset=utf8`)).toThrow(/not supported: sslmode, charset/)
  })
})

describe('a server that requires TLS', () => {
  it('when the URL names the CA, then the pool connects over TLS; without it the server refuses', async () => {
    const pool = createPool({ url: `${base}?ssl-ca=${file('ca.pem')}`, connectionLimit: 1, acquireTimeoutMs: 5_000 })
    try {
      const [row] = await pool.query<{ Value: string }[]>("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
      expect(row?.Value).not.toBe('')
    } finally {
      await pool.end()
    }
    const plain = createPool({ url: base, connectionLimit: 1, acquireTimeoutMs: 3_000 })
    try {
      await expect(plain.query('SELECT 1')).rejects.toThrow()
    } finally {
      await plain.end()
    }
  })

  it('gives the mariadb command line (backup and restore) the same TLS options', () => {
    const target = parseMysqlUrl(`${base}?ssl-ca=${file('ca.pem')}`)
    const args = [`--host=${target.host}`, `--port=${target.port}`, `--user=${target.user}`, ...clientTlsArgs(target)]
    const out = execFileSync('mariadb', [...args, '--batch', '--skip-column-names', '-e', "SHOW SESSION STATUS LIKE 'Ssl_cipher'"], { encoding: 'utf8' })
    expect(out.split('\t')[1]?.trim()).not.toBe('')
  })
})
