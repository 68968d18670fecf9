#!/usr/bin/env node
// promtool check + unit tests of the alert rules in deploy/prometheus. Installs Debian's prometheus
// package (which ships promtool) when it is missing and we may; otherwise says what to install.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { root } from './ensure-built.mjs'
import { ensureTestTools } from './test-tools.mjs'

const dir = join(root, 'deploy', 'prometheus')

export function ensurePromtool() {
  if (ensureTestTools(['promtool']).length) throw new Error("promtool is needed to test the alert rules: install Debian's `prometheus` package (apt-get install prometheus).")
}

/** Returns the number of alert-rule test cases that passed (all or nothing, as promtool reports). */
export function checkAlerts() {
  ensurePromtool()
  const check = spawnSync('promtool', ['check', 'rules', 'alerts.yml'], { cwd: dir, stdio: 'inherit' })
  if (check.status !== 0) return { passed: 0, failed: 1 }
  const test = spawnSync('promtool', ['test', 'rules', 'tests/alerts.test.yml'], { cwd: dir, stdio: 'inherit' })
  const cases = (readFileSync(join(dir, 'tests', 'alerts.test.yml'), 'utf8').match(/^  - name:/gm) ?? []).length
  return test.status === 0 ? { passed: cases, failed: 0 } : { passed: 0, failed: cases }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const r = checkAlerts()
    console.log(`alert rules: ${r.passed} passed, ${r.failed} failed`)
    process.exit(r.failed ? 1 : 0)
  } catch (err) {
    console.error(err.message)
    process.exit(1)
  }
}
