#!/usr/bin/env node
// `npm test`: the same preparation as `npm start` (install, build, MariaDB/Redis/NATS up), then every
// package's tests against the real services. Each test file isolates its own databases and names.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { checkAlerts } from './check-alerts.mjs'
import { ensureBuilt, root } from './ensure-built.mjs'
import { ensureStack } from './stack.mjs'
import { ensureTestTools } from './test-tools.mjs'
import { createFailureLog } from './vitest-failures.mjs'

ensureBuilt()
// Before any test starts: the deployment checks and the drills run these while other packages test.
ensureTestTools()
try {
  await ensureStack(process.env)
} catch (err) {
  console.error(err.message)
  process.exit(1)
}
const { sweepStaleTestStreams } = await import('@tickets/testkit')
const swept = await sweepStaleTestStreams().catch((err) => {
  console.warn(`could not sweep old test streams from NATS: ${err.message}`)
  return 0
})
if (swept > 0) console.log(`deleted ${swept} JetStream streams that test runs over an hour ago left behind`)
const env = { ...process.env, TZ: 'UTC', TURBO_TELEMETRY_DISABLED: '1', CHECKPOINT_DISABLE: '1' }
const child = spawn('npx', ['turbo', 'run', 'test', '--concurrency=2', '--continue', '--output-logs=full', ...process.argv.slice(2)], {
  cwd: root,
  env,
  stdio: ['ignore', 'pipe', 'inherit'],
})

// Adds up vitest's per-package "Tests  N passed | M failed" lines into one closing line, and keeps
// the failing tests with their first error line (vitest-failures.mjs).
let passed = 0
let failed = 0
let skipped = 0
let pending = ''
const failures = createFailureLog()
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  pending += chunk
  const lines = pending.split('\n')
  pending = lines.pop()
  for (const raw of lines) {
    const line = raw.replace(/\x1b\[[0-9;]*m/g, '')
    failures.read(line)
    const m = /\bTests\s+(.*)\(\d+\)\s*$/.exec(line)
    if (!m) continue
    passed += Number(/(\d+) passed/.exec(m[1])?.[1] ?? 0)
    failed += Number(/(\d+) failed/.exec(m[1])?.[1] ?? 0)
    skipped += Number(/(\d+) skipped/.exec(m[1])?.[1] ?? 0)
  }
})
child.on('exit', (code) => {
  let alertsFailed = 0
  try {
    console.log('\nalert rules (promtool):')
    const alerts = checkAlerts()
    passed += alerts.passed
    failed += alerts.failed
    alertsFailed = alerts.failed
  } catch (err) {
    console.error(err.message)
    failed += 1
    alertsFailed = 1
  }
  const report = failures.lines()
  if (failures.size > 0) console.log(`\nfailing test files:\n${report.map((l) => `  ${l}`).join('\n')}`)
  if (process.env.TEST_FAILURES_FILE) writeFileSync(process.env.TEST_FAILURES_FILE, report.join('\n'))
  console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
  process.exit(code || (alertsFailed ? 1 : 0))
})
