import { DEFAULT_CHALLENGE_DIFFICULTY, MAX_CHALLENGE_DIFFICULTY, MIN_CHALLENGE_DIFFICULTY } from '@tickets/contracts/proof-of-work'
import { byId, el } from '../common/dom.js'
import type { Overview } from './types.js'

type Line = Overview['lines'][number]

export interface LineActions {
  change(concertId: string, what: string, path: string, method: 'POST' | 'PUT' | 'DELETE', body?: unknown): void
}

const fixed = (n: number | null) => (n === null ? '–' : n.toLocaleString(undefined, { maximumFractionDigits: 2 }))

function waitText(line: Line): string {
  const back = line.estimatedWaitAtBack
  if (!back) return 'nobody waiting'
  const [lo, hi] = back.range.map((s) => Math.round(s / 60))
  return lo === hi ? `about ${lo} min` : `${lo}–${hi} min`
}

/** What limits admission now, in the runbook's words. */
function limitText(line: Line): string {
  const why = line.limitedBy ?? 'not yet stepped'
  return line.backoff && line.backoff !== 'healthy' ? `${why}; back-off: ${line.backoff}` : why
}

function facts(line: Line): [string, string][] {
  const inv = line.inventory
  return [
    ['Waiting', line.waiting.toLocaleString()],
    ['Active', line.active.toLocaleString()],
    ['Admitted/s', fixed(line.measuredRatePerSecond)],
    ['Effective rate/s', `${fixed(line.effectiveRatePerSecond)} (ceiling ${line.ratePerSecond}, cap ${line.activeCap})`],
    ['Limited by', limitText(line)],
    ['Waiting told', line.waitReason ?? '(moving)'],
    ['Seats', typeof inv === 'string' ? inv : `${inv.free.toLocaleString()} free · ${inv.onHold.toLocaleString()} held · ${inv.sold.toLocaleString()} sold`],
    ['Polls/s', line.pollsPerSecond === null ? 'no Prometheus' : fixed(line.pollsPerSecond)],
    ['Wait at the back', waitText(line)],
  ]
}

function badges(line: Line, challenge: number | undefined): HTMLElement[] {
  const out: HTMLElement[] = []
  if (challenge !== undefined) out.push(el('span', { className: 'badge warn', textContent: `join challenge: ${challenge} bits` }))
  if (line.soldOut) out.push(el('span', { className: 'badge bad', textContent: 'sold out' }))
  if (line.paused) out.push(el('span', { className: 'badge warn', textContent: 'paused' }))
  if (line.emergency !== 'off') out.push(el('span', { className: 'badge bad', textContent: `emergency: ${line.emergency}` }))
  if (!line.paused && line.emergency === 'off' && !line.soldOut) out.push(el('span', { className: 'badge ok', textContent: 'admitting' }))
  return out
}

function numberControl(concertId: string, label: string, field: string, path: string, actions: LineActions, what: (n: number) => string): HTMLElement {
  const id = `${field}-${concertId}`
  const input = el('input', { id, type: 'number', min: '0', step: field === 'perSecond' ? 'any' : '1', required: true })
  const form = el(
    'form',
    { className: 'inline' },
    el('label', { htmlFor: id, textContent: label }),
    input,
    el('button', { type: 'submit', className: 'secondary', textContent: 'Set' }),
  )
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const n = Number(input.value)
    actions.change(concertId, what(n), path, 'PUT', { [field]: n })
  })
  return form
}

function controls(concertId: string, actions: LineActions): HTMLElement {
  const api = `/console/api/lines/${concertId}`
  const button = (text: string, cls: string, what: string, path: string, method: 'POST' | 'PUT' = 'POST', body?: unknown) => {
    const b = el('button', { type: 'button', className: cls, textContent: text })
    b.dataset.action = text.toLowerCase()
    b.addEventListener('click', () => actions.change(concertId, what, path, method, body))
    return b
  }
  const modeId = `mode-${concertId}`
  const mode = el('select', { id: modeId }, ...['off', 'queue-all', 'let-all'].map((m) => el('option', { value: m, textContent: m })))
  const modeApply = el('button', { type: 'button', className: 'secondary', textContent: 'Apply mode' })
  modeApply.addEventListener('click', () =>
    actions.change(
      concertId,
      mode.value === 'off'
        ? 'end the emergency mode'
        : mode.value === 'queue-all'
          ? 'admit NOBODY (emergency queue-all)'
          : 'admit EVERYONE at once, ignoring rate and cap (emergency let-all)',
      `${api}/emergency`,
      'PUT',
      { mode: mode.value },
    ),
  )
  return el(
    'div',
    { className: 'controls' },
    button('Pause', 'danger', 'pause admissions (fans keep their place)', `${api}/pause`),
    button('Resume', 'secondary', 'resume admissions', `${api}/resume`),
    button('Reset', 'secondary', "drop this line's overrides (defaults, not paused, no emergency)", `${api}/reset`),
    el('label', { htmlFor: modeId, textContent: 'Emergency' }),
    mode,
    modeApply,
    numberControl(concertId, 'Rate/s', 'perSecond', `${api}/rate`, actions, (n) => `set the admission ceiling to ${n} a second`),
    numberControl(concertId, 'Cap', 'cap', `${api}/cap`, actions, (n) => `allow at most ${n} fans ACTIVE at once`),
  )
}

/**
 * The join challenge's switch (on the gateway's switches, not the line's settings): a difficulty
 * switches it on or changes it, Off switches it off. Every gateway follows within a second.
 */
function challengeControl(concertId: string, actions: LineActions): HTMLElement {
  const id = `challenge-${concertId}`
  const path = `/switches/challenge/${encodeURIComponent(concertId)}`
  const input = el('input', {
    id,
    type: 'number',
    min: String(MIN_CHALLENGE_DIFFICULTY),
    max: String(MAX_CHALLENGE_DIFFICULTY),
    step: '1',
    value: String(DEFAULT_CHALLENGE_DIFFICULTY),
    required: true,
  })
  const off = el('button', { type: 'button', className: 'secondary', textContent: 'Challenge off' })
  off.addEventListener('click', () => actions.change(concertId, 'joins need no proof of work any more (join challenge off)', path, 'DELETE'))
  const form = el(
    'form',
    { className: 'inline challenge' },
    el('label', { htmlFor: id, textContent: 'Join challenge bits' }),
    input,
    el('button', { type: 'submit', className: 'secondary', textContent: 'Challenge on' }),
    off,
  )
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const bits = Number(input.value)
    actions.change(concertId, `every join needs a proof of work of ${bits} bits (join challenge on)`, path, 'PUT', { difficulty: bits })
  })
  return form
}

/** One card per concert's line: built once (so a form being typed in survives), its figures refreshed in place. */
export function renderLines(lines: Line[], challenges: Readonly<Record<string, number>>, actions: LineActions): void {
  const root = byId('lines')
  if (lines.length === 0) root.replaceChildren(el('p', { className: 'muted empty', textContent: 'No concert has a line yet.' }))
  for (const line of lines) {
    let card = root.querySelector<HTMLElement>(`[data-concert="${CSS.escape(line.concertId)}"]`)
    if (!card) {
      root.querySelector(':scope > p.empty')?.remove()
      card = el(
        'article',
        { className: 'line' },
        el('h3'),
        el('p', { className: 'muted id' }),
        el('div', { className: 'badges' }),
        el('dl', { className: 'facts' }),
        controls(line.concertId, actions),
        challengeControl(line.concertId, actions),
      )
      card.dataset.concert = line.concertId
      root.append(card)
    }
    // Titles come from booking's catalogue and may arrive after the card was made.
    card.querySelector('h3')!.textContent = line.title ?? line.concertId
    card.querySelector('.id')!.textContent = line.title ? line.concertId : ''
    card.querySelector('.badges')!.replaceChildren(...badges(line, challenges[line.concertId]))
    card.querySelector('dl')!.replaceChildren(...facts(line).flatMap(([k, v]) => [el('dt', { textContent: k }), el('dd', { textContent: v })]))
  }
}
