import { nextPollSeconds, pollingEnds } from '@tickets/contracts/poll-timing'
import { byId, setText, showView } from '../common/dom.js'
import { ProblemError } from '../common/problem.js'
import { call } from './api.js'
import { count, timeOfDay, waitRange } from './format.js'
import { solveJoinChallenge, type JoinChallenge } from './join-challenge.js'
import { clearProblem, showProblem } from './problem-banner.js'

export interface LineView {
  token?: string
  status: 'PRE_QUEUE' | 'WAITING' | 'ACTIVE' | 'EXPIRED' | 'SOLD_OUT'
  /** The opening: in the pre-queue, when the draw places everyone; on a presale place, when admission starts. */
  opensAt?: string
  preQueued?: number
  drawing?: boolean
  position?: number
  positionEstimated?: boolean
  estimatedWaitSeconds?: number
  estimatedWaitRangeSeconds?: [number, number]
  reason?: 'ALL_SEATS_HELD' | 'PAUSED' | 'NOT_OPEN_YET' | 'OUT_OF_REACH'
  seatsOnHold?: number
  nextReleaseAt?: string
  seatsLeft?: number
  activeUntil?: string
}

export interface Concert {
  concertId: string
  title: string
  artist: string
  venue: string
}

export interface WaitingCallbacks {
  admitted(concert: Concert, activeToken: string, activeUntil: string | undefined): void
  signIn(): void
}

const tokenKey = (concertId: string) => `tickets.queue.${concertId}`

/** Why the line is not moving, in the fan's words; null while it moves. */
export function reasonText(view: LineView): string | null {
  if (view.status === 'WAITING' && view.opensAt) return `Sales open at ${timeOfDay(view.opensAt)}. Your presale place is ahead of the general line, and you keep it.`
  switch (view.reason) {
    case 'ALL_SEATS_HELD': {
      const next = view.nextReleaseAt ? ` The next may come back at ${timeOfDay(view.nextReleaseAt)}.` : ''
      return `Every seat left is on hold by fans who are paying now (${count(view.seatsOnHold ?? 0)} on hold). The line moves again when a hold ends.${next}`
    }
    case 'PAUSED':
      return 'The ticket office has paused the line for a moment. You keep your place.'
    case 'NOT_OPEN_YET':
      return 'Sales have not opened yet. You keep your place; the line starts moving when they open.'
    case 'OUT_OF_REACH':
      return `More fans are ahead of you than there are seats left (${count(view.seatsLeft ?? 0)} left). Your chance is small, but you keep your place in case seats come back.`
    default:
      return null
  }
}

/** The waiting page: joins, then asks again exactly when Retry-After says, until admitted, sold out or lapsed. */
export function createWaiting(callbacks: WaitingCallbacks) {
  let timer: ReturnType<typeof setTimeout> | undefined
  let ticker: ReturnType<typeof setInterval> | undefined
  let concert: Concert | undefined
  let queueToken: string | undefined

  function stop(): void {
    clearTimeout(timer)
    clearInterval(ticker)
  }

  function scheduleNext(seconds: number, run: () => void): void {
    stop()
    const at = Date.now() + seconds * 1000
    const next = byId('waiting-next')
    next.dataset.nextPollSeconds = String(seconds)
    const show = () => {
      const left = Math.max(0, Math.ceil((at - Date.now()) / 1000))
      next.textContent = left > 0 ? `Next update in ${left} s` : 'Updating…'
    }
    show()
    ticker = setInterval(show, 1000)
    timer = setTimeout(run, seconds * 1000)
  }

  function render(view: LineView): void {
    if (view.status === 'PRE_QUEUE') return renderPreQueue(view)
    const estimated = view.positionEstimated ? 'about ' : ''
    setText('waiting-position', view.position !== undefined ? `You are ${estimated}number ${count(view.position)} in line.` : '')
    setText('waiting-estimate', view.estimatedWaitRangeSeconds ? `Estimated wait: ${waitRange(view.estimatedWaitRangeSeconds)}.` : '')
    const reason = reasonText(view)
    const box = byId('waiting-reason')
    box.hidden = reason === null
    box.textContent = reason ?? ''
    box.dataset.reason = view.reason ?? ''
  }

  function renderPreQueue(view: LineView): void {
    const at = view.opensAt ? timeOfDay(view.opensAt) : 'the opening'
    setText('waiting-position', `You are in the pre-queue with ${count(view.preQueued ?? 0)} fans.`)
    setText(
      'waiting-estimate',
      view.drawing
        ? 'The draw is being made: your place comes in a moment.'
        : `At ${at} a draw places everyone in line in random order: when you came before then makes no difference.`,
    )
    const box = byId('waiting-reason')
    box.hidden = true
    box.dataset.reason = 'PRE_QUEUE'
  }

  function settle(view: LineView, retryAfter: number | null): void {
    if (view.token) queueToken = view.token
    if (queueToken) sessionStorage.setItem(tokenKey(concert!.concertId), queueToken)
    if (!pollingEnds(view.status)) {
      render(view)
      scheduleNext(nextPollSeconds({ ok: true, retryAfter }), poll)
      return
    }
    stop()
    sessionStorage.removeItem(tokenKey(concert!.concertId))
    if (view.status === 'ACTIVE') callbacks.admitted(concert!, queueToken!, view.activeUntil)
    else if (view.status === 'SOLD_OUT') soldOut()
    else showView('expired')
  }

  function soldOut(): void {
    stop()
    setText('soldout-concert', concert!.title)
    showView('soldout')
  }

  function failed(err: unknown, retry: () => void): void {
    if (!(err instanceof ProblemError)) throw err
    const { problem } = err
    if (problem.code === 'QUEUE_SOLD_OUT') return soldOut()
    if (problem.code.startsWith('AUTH_')) {
      stop()
      return callbacks.signIn()
    }
    if (['QUEUE_NOT_IN_LINE', 'QUEUE_TOKEN_EXPIRED', 'QUEUE_TOKEN_REVOKED', 'QUEUE_TOKEN_INVALID'].includes(problem.code)) {
      stop()
      sessionStorage.removeItem(tokenKey(concert!.concertId))
      return showView('expired')
    }
    showProblem(problem)
    scheduleNext(nextPollSeconds({ ok: false, retryAfter: err.retryAfter }), retry)
  }

  async function join(queueProof?: string): Promise<void> {
    try {
      const reply = await call<LineView>('POST', '/api/queue/token', { body: { concertId: concert!.concertId }, queueProof })
      clearProblem()
      settle(reply.body, reply.retryAfter)
    } catch (err) {
      const challenge = err instanceof ProblemError ? (err.problem.extra?.challenge as JoinChallenge | undefined) : undefined
      if (challenge && !queueProof) {
        setText('waiting-position', 'Proving this is a person’s browser before joining (a few seconds)…')
        return join(await solveJoinChallenge(challenge))
      }
      failed(err, () => void join())
    }
  }

  async function poll(): Promise<void> {
    try {
      const reply = await call<LineView>('GET', '/api/queue/token', { queueToken: queueToken! })
      clearProblem()
      settle(reply.body, reply.retryAfter)
    } catch (err) {
      failed(err, poll)
    }
  }

  byId('leave-line').addEventListener('click', async () => {
    stop()
    if (queueToken) await call('DELETE', '/api/queue/token', { queueToken }).catch(() => undefined)
    if (concert) sessionStorage.removeItem(tokenKey(concert.concertId))
    location.href = './'
  })
  byId('rejoin').addEventListener('click', () => concert && start(concert))

  function start(c: Concert): void {
    concert = c
    queueToken = sessionStorage.getItem(tokenKey(c.concertId)) ?? undefined
    setText('waiting-concert', `${c.title} · ${c.artist} · ${c.venue}`)
    setText('waiting-position', 'Taking your place in line…')
    setText('waiting-estimate', '')
    byId('waiting-reason').hidden = true
    showView('waiting')
    void (queueToken ? poll() : join())
  }

  return { start, stop }
}
