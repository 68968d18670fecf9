import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const run = promisify(execFile)
// A database that does not exist: a refused command line must fail before it is ever used.
const ops = (...args: string[]) =>
  run(process.execPath, [cli, ...args], { env: { ...process.env, BOOKING_MYSQL_URL: 'mysql://root@127.0.0.1:1/none', REDIS_URL: 'redis://127.0.0.1:1' } })

describe('npm run ops -- concert:create and warm-cache', () => {
  it('when a flag is misspelt or unknown, then it exits 2 naming it, instead of going ahead with the defaults', async () => {
    await expect(ops('concert:create', '--seat', '10')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--seat'") })
    await expect(ops('warm-cache', '--ttl', '5')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--ttl'") })
    await expect(ops('concert:create', '--seats')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--seats') })
  })

  it('when a value is out of range, then it exits 2 with the range', async () => {
    await expect(ops('concert:create', '--seats', '0')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--seats 1..5000') })
    await expect(ops('warm-cache', '--ttl-hours', '0')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('positive') })
  })

  it('when an opening is neither an ISO time nor +N s, m or h, then it exits 2 saying which forms it takes', async () => {
    await expect(ops('concert:create', '--opens-at', 'tomorrow')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('ISO-8601') })
    await expect(ops('concert:open-at', 'c1', '+5d')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('+N followed by s, m or h') })
    await expect(ops('concert:open-at', '{c1}', '+5m')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('usage') })
  })
})
