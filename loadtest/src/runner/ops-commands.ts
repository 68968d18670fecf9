import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../../', import.meta.url))

/** Runs `npm run ops -- <args>` (without npm) and hands back what it printed. */
export function ops(args: string[]): { ok: boolean; output: string; lastLine: string } {
  const r = spawnSync(process.execPath, [join(root, 'ops', 'dist', 'cli.js'), ...args], { cwd: root, env: process.env, encoding: 'utf8' })
  const stdout = r.stdout ?? ''
  return { ok: r.status === 0, output: `${stdout}${r.stderr ?? ''}`, lastLine: stdout.trim().split('\n').at(-1) ?? '' }
}

/** Puts a new concert on sale and returns its id. */
export function createConcert(title: string, house: { dates: number; seatsPerDate: number }): string {
  const made = ops(['concert:create', '--title', title, '--dates', String(house.dates), '--seats', String(house.seatsPerDate)])
  if (!made.ok) throw new Error(`could not create a concert for the run: ${made.output}`)
  return (JSON.parse(made.lastLine) as { concertId: string }).concertId
}

/** Moves a concert's opening (every date) to `at`: its pre-queue opens PRE_QUEUE_WINDOW_SECONDS before. */
export function openConcertAt(concertId: string, at: Date): void {
  const moved = ops(['concert:open-at', concertId, at.toISOString()])
  if (!moved.ok) throw new Error(`could not set the opening of concert ${concertId}: ${moved.output}`)
}
