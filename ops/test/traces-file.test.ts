import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { runOps } from './helpers/ops-cli.js'

const run = promisify(execFile)
const dir = await mkdtemp(join(tmpdir(), 'tickets-traces-test-'))
afterAll(() => rm(dir, { recursive: true, force: true }))

const ops = (...args: string[]) => runOps(args, { ...process.env, TRACES_FILE: '' })

describe('TRACES_FILE', () => {
  it('when a process runs with TRACES_FILE, then it appends OTLP JSON lines and `ops trace` shows a waterfall', async () => {
    const file = join(dir, 'traces.jsonl')
    const { stdout } = await run(process.execPath, ['--import', '@tickets/shared/telemetry/register', fileURLToPath(new URL('./fixtures/traced-server.mjs', import.meta.url))], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, TRACES_FILE: file, OTEL_SERVICE_NAME: 'traced-server', OTEL_EXPORTER_OTLP_ENDPOINT: '' },
      timeout: 20_000,
    })
    const { status, traceId } = JSON.parse(stdout.trim().split('\n').at(-1)!)
    expect(status).toBe(502)
    expect(traceId).toMatch(/^[0-9a-f]{32}$/)

    const lines = readFileSync(file, 'utf8').trim().split('\n')
    for (const line of lines) expect(Object.keys(JSON.parse(line))).toEqual(['resourceSpans'])

    const shown = await ops('trace', traceId, '--file', file)
    expect(shown.code).toBe(0)
    const rows = shown.out.trim().split('\n')
    expect(rows[0]).toMatch(new RegExp(`^trace ${traceId}: 4 spans, 1 services, [\\d.]+ ms$`))
    // The fixture's own call, the server span of /front, its call to /back and the server span of
    // /back, each under the one before and indented one step more; every one failed.
    const spanColumn = rows.slice(2).map((r) => r.slice(r.indexOf('traced-server') + 'traced-server'.length + 2))
    expect(spanColumn, shown.out).toEqual(['GET /front  ERROR', '  GET /front  ERROR', '    GET /back  ERROR', '      GET /back  ERROR'])
    for (const r of rows.slice(2)) expect(r).toMatch(/^\s+\d+\.\d\s+\d+\.\d {2}traced-server {2}/)

    const listed = await ops('traces', '--errors', '--file', file)
    expect(listed.code).toBe(0)
    expect(listed.out).toContain(traceId)
  })

  it('when the trace id or a flag is wrong, or no file is set, then it exits 2 saying so', async () => {
    expect((await ops('trace', 'nope', '--file', join(dir, 'x'))).code).toBe(2)
    expect((await ops('traces', '--slowest')).code).toBe(2)
    const none = await ops('traces')
    expect(none.code).toBe(2)
    expect(none.out).toContain('TRACES_FILE')
  })
})
