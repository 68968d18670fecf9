import { byId, el, showView } from '../common/dom.js'
import { ProblemError } from '../common/problem.js'
import { call, userToken } from './api.js'
import { createCheckout } from './checkout.js'
import { clearProblem, showProblem } from './problem-banner.js'
import { createWaiting, type Concert } from './waiting.js'

const checkout = createCheckout({ onTurnEnded: () => showView('expired') })
const waiting = createWaiting({
  admitted: (concert, token, activeUntil) => checkout.start(concert, token, activeUntil),
  signIn: () => void signIn(),
})

async function signIn(): Promise<void> {
  userToken.clear()
  showView('signin')
  // The development sign-in exists only on a gateway started by `npm start`; elsewhere the ticket office's own sign-in issues tokens.
  const available = await fetch('/dev/sign-in').then(
    (r) => r.ok,
    () => false,
  )
  byId('dev-signin').hidden = !available
  byId('signin-elsewhere').hidden = available
}

byId<HTMLFormElement>('dev-signin').addEventListener('submit', async (event) => {
  event.preventDefault()
  const userId = byId<HTMLInputElement>('user-id').value.trim()
  const res = await fetch('/dev/sign-in', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId }) }).catch(() => null)
  if (!res?.ok) {
    showProblem({ status: res?.status ?? 0, code: res ? 'AUTH_INVALID_TOKEN' : 'NETWORK', title: 'Sign-in failed' })
    return
  }
  userToken.set(((await res.json()) as { token: string }).token)
  clearProblem()
  void route()
})

byId('sign-out').addEventListener('click', () => {
  waiting.stop()
  checkout.stop()
  sessionStorage.clear()
  void signIn()
})

async function concerts(): Promise<Concert[]> {
  return (await call<{ concerts: Concert[] }>('GET', '/api/concerts')).body.concerts
}

async function route(): Promise<void> {
  if (!userToken.get()) return signIn()
  byId('sign-out').hidden = false
  let list: Concert[]
  try {
    list = await concerts()
  } catch (err) {
    if (err instanceof ProblemError) showProblem(err.problem)
    return
  }
  const wanted = new URLSearchParams(location.search).get('concert')
  const concert = list.find((c) => c.concertId === wanted)
  if (concert) return waiting.start(concert)
  byId('concert-list').replaceChildren(
    ...list.map((c) => {
      const join = el('a', { href: `?concert=${encodeURIComponent(c.concertId)}`, textContent: 'Join the line' })
      join.setAttribute('aria-label', `Join the line for ${c.title}`)
      return el('li', {}, el('h3', { textContent: c.title }), el('p', { textContent: `${c.artist} · ${c.venue}` }), join)
    }),
  )
  showView('concerts')
}

void route()
