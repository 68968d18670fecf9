import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { stopAllOnExit } from './cleanup.js'
import { findIncidents, INCIDENTS } from './incidents.js'
import { renderReport } from './report.js'
import { MODES } from './modes.js'
import { runDrill } from './run.js'
import { repoRoot } from './stack.js'

const usage = `usage: npm run drill -- <incident>|all [--fast] [--reports DIR]
  incident   ${INCIDENTS.map((i) => i.id).join(', ')} (or a section number: every variant of it)
  --fast     alert rules with time compressed 12 times (for:, ranges, offsets), 1 s scrapes, short calm periods
  --reports  where the markdown reports go (default docs/drills)
Each drill starts its own MariaDB, Redis, NATS, services (scripts/start.mjs) and Prometheus; exit 1 if a check fails.`

export async function main(argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({ args: argv, options: { fast: { type: 'boolean', default: false }, reports: { type: 'string' } }, allowPositionals: true, strict: true })
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`)
    return 2
  }
  const [name, ...rest] = parsed.positionals
  const incidents = name ? findIncidents(name) : []
  if (incidents.length === 0 || rest.length > 0) {
    console.error(name ? `unknown incident "${name}"\n${usage}` : usage)
    return 2
  }
  const mode = parsed.values.fast ? MODES.fast : MODES.full
  const dir = resolve(repoRoot, parsed.values.reports ?? join('docs', 'drills'))
  await mkdir(dir, { recursive: true })
  const command = `npm run drill -- ${incidents.length === 1 ? incidents[0]!.id : name}${mode.name === 'fast' ? ' --fast' : ''}`
  stopAllOnExit((line) => console.error(line))
  let failed = 0
  for (const incident of incidents) {
    let result
    try {
      result = await runDrill(incident, mode, (line) => console.error(line))
    } catch (err) {
      failed++
      console.log(`${incident.id}: FAIL (the drill could not run: ${(err as Error).message.split('\n')[0]})`)
      continue
    }
    const file = join(dir, `${incident.id}.md`)
    await writeFile(file, renderReport(result, command))
    const bad = result.checks.filter((c) => !c.ok)
    if (bad.length > 0) failed++
    console.log(`${incident.id}: ${bad.length === 0 ? 'PASS' : `FAIL (${bad.map((c) => c.name).join('; ')})`}; report ${file}`)
  }
  return failed === 0 ? 0 : 1
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(`drill: ${err.stack ?? err.message}`)
      process.exit(1)
    },
  )
}
