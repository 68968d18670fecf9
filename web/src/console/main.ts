import { byId, el } from '../common/dom.js'
import { ProblemError } from '../common/problem.js'
import { opCall, operator } from './api.js'
import { confirmChange } from './confirm.js'
import { renderLines } from './lines.js'
import { renderTraces } from './traces.js'
import type { Overview } from './types.js'

const REFRESH_MS = 2_000
let timer: ReturnType<typeof setTimeout> | undefined

function showProblem(message: string | null): void {
  const box = byId('problem')
  box.hidden = message === null
  box.textContent = message ?? ''
}

function describe(err: unknown): string {
  if (!(err instanceof ProblemError)) throw err
  const { problem } = err
  return `${problem.detail ?? problem.title}${problem.traceId ? ` (trace ${problem.traceId})` : ''}`
}

function renderAlerts(o: Overview): void {
  const { alerts } = o
  const source = byId('alerts-source')
  const listEl = byId('alerts')
  if (!alerts.configured) {
    source.textContent = 'No Alertmanager to ask: set ALERTMANAGER_URL on the gateway. Alerts firing cannot be shown here.'
    listEl.replaceChildren()
    return
  }
  if (!alerts.reachable) {
    source.textContent = `Alertmanager at ${alerts.url} did not answer (${alerts.error}). Alerts firing are unknown.`
    listEl.replaceChildren()
    return
  }
  source.textContent = alerts.value.length === 0 ? `None firing (Alertmanager at ${alerts.url}).` : `From Alertmanager at ${alerts.url}.`
  listEl.replaceChildren(
    ...alerts.value.map((a) =>
      el(
        'li',
        {},
        el('strong', { textContent: `${a.severity ? `${a.severity} ` : ''}${a.name}` }),
        ` ${a.summary ?? ''} `,
        a.since ? el('span', { className: 'muted', textContent: `since ${new Date(a.since).toLocaleTimeString()} ` }) : '',
        a.runbookSection ? el('a', { href: `runbook.html#${encodeURIComponent(a.runbookSection)}`, textContent: `runbook: ${a.runbookSection}` }) : '',
      ),
    ),
  )
}

function renderSwitches(o: Overview): void {
  byId('ranking-state').textContent = o.switches.rankingEnabled ? 'on' : 'off'
  byId('ranking-toggle').textContent = o.switches.rankingEnabled ? 'Switch off' : 'Switch on'
  byId('token-limit-state').textContent = o.switches.tokenLimitPerSecond === null ? 'the default' : String(o.switches.tokenLimitPerSecond)
  byId('ranking-toggle').dataset.enabled = String(o.switches.rankingEnabled)
}

function renderChanges(o: Overview): void {
  byId('changes').replaceChildren(
    ...o.changes.map((c) =>
      el(
        'tr',
        {},
        el('td', { textContent: new Date(c.at).toLocaleString() }),
        el('td', { textContent: c.who }),
        el('td', { textContent: `${c.action}${c.value === undefined ? '' : ` ${String(c.value)}`}` }),
        el('td', { textContent: c.target }),
      ),
    ),
  )
}

async function refresh(): Promise<void> {
  clearTimeout(timer)
  try {
    const o = await opCall<Overview>('GET', '/console/api/overview')
    showProblem(null)
    renderAlerts(o)
    const polls = o.polls
    byId('polls-source').textContent = !polls.configured
      ? 'Polls per second need Prometheus: set PROMETHEUS_URL on the gateway.'
      : !polls.reachable
        ? `Prometheus at ${polls.url} did not answer (${polls.error}): polls per second unknown.`
        : `Polls per second from Prometheus at ${polls.url} (last minute).`
    renderLines(o.lines, o.switches.challenges, { change })
    renderSwitches(o)
    renderTraces(o)
    renderChanges(o)
    byId('live').textContent = `Updated ${new Date(o.at).toLocaleTimeString()} · every ${REFRESH_MS / 1000} s`
  } catch (err) {
    if (err instanceof ProblemError && err.problem.code === 'AUTH_OPERATOR_FORBIDDEN') return signIn('The operator secret was refused.')
    showProblem(`Could not refresh: ${describe(err)}`)
  }
  // Only while the tab is shown: a console left in a background tab costs nothing.
  if (document.visibilityState === 'visible') timer = setTimeout(() => void refresh(), REFRESH_MS)
}

async function change(target: string, what: string, path: string, method: 'POST' | 'PUT' | 'DELETE', body?: unknown): Promise<void> {
  if (!(await confirmChange(`${target}: ${what}. This is recorded under your name.`))) return
  try {
    await opCall(method, path, body)
    showProblem(null)
  } catch (err) {
    showProblem(`Not changed: ${describe(err)}`)
  }
  await refresh()
}

function signIn(message?: string): void {
  clearTimeout(timer)
  operator.clear()
  byId('view-console').hidden = true
  byId('sign-out').hidden = true
  byId('view-signin').hidden = false
  showProblem(message ?? null)
  byId('op-name').focus()
}

function open(): void {
  byId('view-signin').hidden = true
  byId('view-console').hidden = false
  byId('sign-out').hidden = false
  void refresh()
}

byId<HTMLFormElement>('signin').addEventListener('submit', (e) => {
  e.preventDefault()
  operator.set({ name: byId<HTMLInputElement>('op-name').value.trim(), secret: byId<HTMLInputElement>('op-secret').value })
  open()
})
byId('sign-out').addEventListener('click', () => signIn())
byId('ranking-toggle').addEventListener('click', (e) => {
  const enabled = (e.currentTarget as HTMLElement).dataset.enabled === 'true'
  void change('every gateway', enabled ? 'switch the ranking OFF (it answers 503)' : 'switch the ranking on', '/switches/ranking', 'PUT', { enabled: !enabled })
})
byId<HTMLFormElement>('token-limit').addEventListener('submit', (e) => {
  e.preventDefault()
  const n = Number(byId<HTMLInputElement>('token-limit-value').value)
  void change('every gateway', `allow ${n} joins a second per address`, '/switches/token-limit', 'PUT', { perSecond: n })
})
byId('token-limit-default').addEventListener('click', () => void change('every gateway', 'set the join limit back to its default', '/switches/token-limit', 'DELETE'))
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && operator.get()) void refresh()
})

if (operator.get()) open()
else signIn()
