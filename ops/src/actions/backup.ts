import { parseOptions, UsageError, usageErrorsExit2, type Action, type Env } from '../action.js'
import { execFileSync, spawn } from 'node:child_process'
import { closeSync, existsSync, openSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { clientTlsArgs, createDatabase, dropDatabase, parseMysqlUrl, type DbTarget } from '@tickets/shared/migrate'
import { createPool } from '@tickets/shared/mysql'
import { reconcileActions } from './reconcile.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
export const DEFAULT_BACKUP_DIR = join(ROOT, '.data', 'backups')
export const MANIFEST = 'manifest.json'

export interface BackupManifest {
  createdAt: string
  gitCommit: string | null
  databases: Record<'booking' | 'payment', { database: string; file: string; latestMigration: string | null }>
}

/** A usage error: the action prints it and exits 2, like an unknown action. */

const urls = (env: Env) => ({
  // Payment first, the order reconcile reads them in: the dumps are each consistent, not together.
  payment: env.PAYMENT_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/tickets_payment',
  booking: env.BOOKING_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/tickets_booking',
})

// The password goes in the environment, never on a command line that `ps` shows.
function clientArgs(t: DbTarget): { args: string[]; env: NodeJS.ProcessEnv } {
  return { args: [`--host=${t.host}`, `--port=${t.port}`, `--user=${t.user}`, ...clientTlsArgs(t)], env: { ...process.env, ...(t.password ? { MYSQL_PWD: t.password } : {}) } }
}

/** Runs a MariaDB client with a file as its stdin or stdout (no copying through this process). */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, io: { stdin?: string; stdout?: string }): Promise<void> {
  const stdin = io.stdin ? openSync(io.stdin, 'r') : 'ignore'
  const stdout = io.stdout ? openSync(io.stdout, 'w') : 'ignore'
  const close = () => {
    for (const fd of [stdin, stdout]) if (typeof fd === 'number') closeSync(fd)
  }
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { env, stdio: [stdin, stdout, 'pipe'] })
    let stderr = ''
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')))
    child.on('error', (err) => {
      close()
      fail(new Error(`${cmd} could not be started (${err.message}): install mariadb-client`))
    })
    child.on('close', (code) => {
      close()
      if (code === 0) done()
      else fail(new Error(`${cmd} exited ${code}: ${stderr.trim().slice(0, 500)}`))
    })
  })
}

async function latestMigration(url: string): Promise<string | null> {
  const pool = createPool({ url, connectionLimit: 1, acquireTimeoutMs: 5_000 })
  try {
    const rows = await pool.query<{ migration_name: string }[]>(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name DESC LIMIT 1',
    )
    return rows[0]?.migration_name ?? null
  } finally {
    await pool.end()
  }
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return null
  }
}

/** Dumps both databases into a new timestamped directory under `parent`; returns that directory. */
export async function backup(env: Env, parent = DEFAULT_BACKUP_DIR): Promise<string> {
  const createdAt = new Date().toISOString()
  const dir = join(resolve(parent), createdAt.replace(/[:.]/g, '-'))
  await mkdir(dir, { recursive: true })
  const databases = {} as BackupManifest['databases']
  for (const [name, url] of Object.entries(urls(env)) as ['booking' | 'payment', string][]) {
    const target = parseMysqlUrl(url)
    const file = `${name}.sql`
    const { args, env: childEnv } = clientArgs(target)
    // --single-transaction: one consistent snapshot of InnoDB without locking the tables.
    await run('mariadb-dump', [...args, '--single-transaction', '--routines', '--triggers', '--hex-blob', target.database], childEnv, { stdout: join(dir, file) })
    databases[name] = { database: target.database, file, latestMigration: await latestMigration(url) }
  }
  const manifest: BackupManifest = { createdAt, gitCommit: gitCommit(), databases }
  // Written last: a directory with a manifest holds complete dumps.
  await writeFile(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`)
  return dir
}

export async function readManifest(dir: string): Promise<BackupManifest> {
  const path = join(dir, MANIFEST)
  if (!existsSync(path)) throw new UsageError(`${dir} is not a backup: it has no ${MANIFEST} (make one with \`npm run ops -- backup\`)`)
  const manifest = JSON.parse(await readFile(path, 'utf8')) as BackupManifest
  for (const name of ['booking', 'payment'] as const) {
    const file = manifest.databases?.[name]?.file
    if (!file || !existsSync(join(dir, file))) throw new UsageError(`${dir}/${MANIFEST} names no ${name} dump, or its file is missing`)
  }
  return manifest
}

/** Replaces both databases with the dumps in `dir` (each dropped and created again first). */
export async function restore(env: Env, dir: string): Promise<BackupManifest> {
  const manifest = await readManifest(dir)
  for (const [name, url] of Object.entries(urls(env)) as ['booking' | 'payment', string][]) {
    const target = parseMysqlUrl(url)
    // Dropped, not loaded over: a table a newer release added would otherwise survive the restore.
    await dropDatabase(url)
    await createDatabase(url)
    const { args, env: childEnv } = clientArgs(target)
    await run('mariadb', [...args, target.database], childEnv, { stdin: join(dir, manifest.databases[name].file) })
  }
  return manifest
}

export const backupActions: Record<string, Action> = {
  backup: {
    describe: 'dump both databases and a manifest into a new directory under .data/backups (or --dir DIR); prints it',
    run: (args, env) =>
      usageErrorsExit2(async () => {
        const { values } = parseOptions(args, { dir: { type: 'string' } }, false)
        const dir = await backup(env, (values.dir as string | undefined) ?? DEFAULT_BACKUP_DIR)
        console.log(dir)
        return 0
      }),
  },
  restore: {
    describe: 'restore both databases from a backup directory (stop the services first), then reconcile: restore <dir>',
    run: (args, env) =>
      usageErrorsExit2(async () => {
        const { positionals } = parseOptions(args, {}, true)
        if (positionals.length !== 1) throw new UsageError('restore takes one backup directory: npm run ops -- restore <dir>')
        const manifest = await restore(env, positionals[0]!)
        const { booking, payment } = manifest.databases
        console.log(`restored booking (${booking.latestMigration}) and payment (${payment.latestMigration}) from ${manifest.createdAt} (commit ${manifest.gitCommit ?? 'unknown'})`)
        return reconcileActions.reconcile!.run([], env)
      }),
  },
}
