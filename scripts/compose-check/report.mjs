// The check's steps with their timings, and the markdown report written from them.
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'

export function createSteps(log) {
  const steps = []
  /** Runs `fn` as the step `name`; its return value (a string) is the step's detail. */
  async function step(name, fn) {
    const started = Date.now()
    log(`${name}...`)
    try {
      const detail = await fn()
      steps.push({ name, seconds: (Date.now() - started) / 1000, ok: true, detail: detail ?? '' })
      return detail
    } catch (err) {
      steps.push({ name, seconds: (Date.now() - started) / 1000, ok: false, detail: err.message.split('\n')[0] })
      throw err
    }
  }
  return { step, steps }
}

/** The first version number `cmd args` prints after `label` (podman-compose prints several). */
const version = (cmd, args, label) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  return `${r.stdout}${r.stderr}`.match(new RegExp(`${label}:?\\s*([0-9][0-9.]*)`))?.[1] ?? 'unknown'
}

/** What the report says about the machine it ran on: CPUs, load, engine versions. */
export function describeMachine(commit) {
  return {
    commit,
    cpu: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`,
    load: loadavg()[0].toFixed(1),
    podman: version('podman', ['--version'], 'podman version'),
    // 1.0.3 spells itself "podman-composer version".
    podmanCompose: version('podman-compose', ['version'], 'podman-composer? version'),
  }
}

const cell = (text) => String(text).replaceAll('|', '\\|').replaceAll('\n', ' ')

const IMAGES_SAID = {
  cold: 'cold: built in this run, the stand-in base included',
  warm: "warm: the service images rebuilt from podman's layer cache",
  reused: 'reused as built before (--no-build)',
}

export function writeReport(file, { steps, failure, machine, at, images, totalSeconds }) {
  const outcome = failure ? `**failed** after ${totalSeconds.toFixed(0)} s: ${cell(failure)}` : `**passed** in ${totalSeconds.toFixed(0)} s`
  const lines = [
    '# The compose check: latest report',
    '',
    'Written by `npm run compose:check` (`scripts/compose-check.mjs`); the README, "Run it in',
    'containers", says what it does and how to run it.',
    '',
    `- When: ${at.toISOString().slice(0, 16).replace('T', ' ')} UTC, commit \`${machine.commit}\``,
    `- Outcome: ${outcome}`,
    `- Images: ${IMAGES_SAID[images]}`,
    `- Machine: ${machine.cpu}, load average ${machine.load} at the start (shared with other work)`,
    `- Engine: podman ${machine.podman}, podman-compose ${machine.podmanCompose}`,
    '',
    '| step | seconds | what happened |',
    '|---|---:|---|',
    ...steps.map((s) => `| ${s.ok ? '' : '✗ '}${cell(s.name)} | ${s.seconds.toFixed(1)} | ${cell(s.detail)} |`),
    '',
  ]
  writeFileSync(file, lines.join('\n'))
}
