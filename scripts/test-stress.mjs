#!/usr/bin/env node
// `npm run test:stress [-- --runs N]`: the whole suite while a busy loop keeps every core busy, as
// CI on a busy day. Runs it N times in a row (1 by default) and stops at the first failing run.
import { spawn } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import { root } from './ensure-built.mjs'

const { values, positionals } = parseArgs({ options: { runs: { type: 'string', default: '1' } }, allowPositionals: true })
const runs = Math.max(1, Number(values.runs) || 1)
const cores = availableParallelism()

function hog() {
  return Array.from({ length: cores }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }))
}

function suite() {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['scripts/test.mjs', ...positionals], { cwd: root, stdio: 'inherit' })
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

const results = []
let code = 0
for (let run = 1; run <= runs && code === 0; run++) {
  console.log(`\n=== stress run ${run} of ${runs}: the suite beside ${cores} busy loops (one per core) ===`)
  const hogs = hog()
  const stop = () => hogs.forEach((h) => h.kill('SIGKILL'))
  process.once('SIGINT', stop)
  const started = Date.now()
  code = await suite()
  stop()
  results.push(`run ${run}: ${code === 0 ? 'passed' : `failed (exit ${code})`} in ${Math.round((Date.now() - started) / 1000)} s`)
}
console.log(`\nstress runs, ${new Date().toISOString()}, ${cores} cores each kept busy:\n${results.map((r) => `  ${r}`).join('\n')}`)
process.exit(code)
