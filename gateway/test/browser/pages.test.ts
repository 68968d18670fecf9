// The fan's pages and the operator's console in a real Chromium (Debian's, driven by playwright-core;
// nothing downloads a browser), against the whole system running as real processes.
import { existsSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { accessibilityViolations, CHROMIUM, DESKTOP, PHONE, shoot, startBrowserStack, type BrowserStack } from '../helpers/browser-stack.js'

const FIRST_CONCERT = { id: '01936b2e-0000-7000-8000-000000000001', title: 'IU HEREH World Tour' }

let stack: BrowserStack
let browser: Browser
/** Uncaught errors in any page: none may happen. */
const pageErrors: string[] = []
const watched = (page: Page) => {
  page.on('pageerror', (err) => pageErrors.push(`${page.url()}: ${err.message}`))
  return page
}

/** The tiny hall's only seat, held in the full-line test and paid in the sold-out one. */
let heldByHolder: string | undefined

/** Screenshots at both widths, and no WCAG 2.1 AA violation axe-core can find on the page as it is. */
async function look(page: Page, name: string): Promise<void> {
  await shoot(page, name)
  expect(await accessibilityViolations(page), name).toEqual([])
}

async function signedIn(user: string, viewport = PHONE): Promise<Page> {
  const context = await browser.newContext({ viewport })
  const page = watched(await context.newPage())
  await page.goto(stack.gatewayUrl)
  await page.locator('#user-id').fill(user)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.locator('#view-concerts').waitFor()
  return page
}

/** From the concert list, through the line, to a seat held: the hold view. */
async function holdingASeat(page: Page, concertTitle = FIRST_CONCERT.title): Promise<void> {
  await page.getByRole('link', { name: `Join the line for ${concertTitle}` }).click()
  await page.locator('#view-seats').waitFor({ timeout: 30_000 })
  await page.locator('#seat-map button:not([disabled])').first().click()
  await page.locator('#view-hold').waitFor()
}

async function consoleSignedIn(): Promise<Page> {
  const page = watched(await (await browser.newContext({ viewport: DESKTOP })).newPage())
  await page.goto(stack.consoleUrl)
  await page.locator('#op-name').fill('Test operator')
  await page.locator('#op-secret').fill(stack.operatorSecret)
  await page.getByRole('button', { name: 'Open the console' }).click()
  await page.locator('#live').getByText('Updated').waitFor()
  return page
}

describe.skipIf(!existsSync(CHROMIUM))(`the pages in Chromium (${CHROMIUM})`, () => {
  beforeAll(async () => {
    stack = await startBrowserStack(import.meta.url)
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
  }, 180_000)

  afterEach(() => {
    expect(pageErrors.splice(0)).toEqual([])
  })

  afterAll(async () => {
    await browser?.close()
    await stack?.stop()
  }, 60_000)

  it('a fan joins, waits, is admitted, holds, adds points, pays and sees the confirmation', async () => {
    const page = await signedIn('fan-happy')
    await look(page, 'concerts')
    // Nobody is admitted until the cap is lifted: the fan waits in line first.
    await stack.controls.setCap(FIRST_CONCERT.id, 0)
    await page.getByRole('link', { name: `Join the line for ${FIRST_CONCERT.title}` }).click()
    await page.locator('#waiting-position').getByText('number 1 in line').waitFor({ timeout: 20_000 })
    expect(await page.locator('#waiting-estimate').textContent()).toMatch(/^Estimated wait: /)
    await look(page, 'waiting')
    await stack.controls.reset(FIRST_CONCERT.id)
    await page.locator('#view-seats').waitFor({ timeout: 70_000 })
    await page.locator('#seat-map button').first().waitFor()
    await look(page, 'seats')
    await page.locator('#seat-map button:not([disabled])').first().click()
    await page.locator('#view-hold').waitFor()
    await expect.poll(() => page.locator('#hold-countdown').textContent()).toMatch(/^[0-5]:\d\d$/)
    await look(page, 'hold')
    await page.locator('#charge').click()
    await page.locator('#charge').waitFor({ state: 'hidden' })
    await page.locator('#pay').click()
    await page.locator('#view-done').waitFor()
    expect(await page.locator('#h-done').textContent()).toBe('Paid: your seat is yours')
    expect(await page.locator('#done-payment').textContent()).toMatch(/\S+/)
    await look(page, 'confirmation')
  }, 90_000)

  it('a fan in a full line sees ALL_SEATS_HELD and when the next hold may end', async () => {
    const { concertId, scheduleIds } = stack.tiny
    const token = await stack.admitted('holder', concertId)
    const hold = await stack.api('holder', 'POST', '/api/reservations', { queueToken: token, body: { scheduleId: scheduleIds[0], seatNumber: 1 } })
    expect(hold.status).toBe(201)
    heldByHolder = hold.body.reservationId
    await expect.poll(async () => (await stack.controls.status(concertId)).inventory, { timeout: 20_000 }).toMatchObject({ free: 0, onHold: 1 })

    const page = await signedIn('fan-full')
    await page.goto(`${stack.gatewayUrl}/?concert=${concertId}`)
    const reason = page.locator('#waiting-reason[data-reason="ALL_SEATS_HELD"]')
    await reason.waitFor({ timeout: 70_000 })
    const expected = await page.evaluate((iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }), hold.body.expiresAt as string)
    expect(await reason.textContent()).toContain(`The next may come back at ${expected}.`)
    expect(await page.locator('#waiting-position').textContent()).toMatch(/number 1 in line/)
    await look(page, 'waiting-all-seats-held')
  }, 120_000)

  it('once the last seat is paid, a fan who comes to the line is told it is sold out at once', async () => {
    const { concertId } = stack.tiny
    const token = await stack.admitted('holder', concertId)
    const reservation = heldByHolder
    expect(reservation, 'the full-line test holds the seat first').toBeDefined()
    await stack.api('holder', 'POST', '/api/points/charge', { body: { amount: 1_000_000 }, idempotencyKey: randomUUID() })
    const paid = await stack.api('holder', 'POST', '/api/payments', { queueToken: token, body: { reservationId: reservation }, idempotencyKey: randomUUID() })
    expect(paid.status, JSON.stringify(paid.body)).toBe(201)
    await expect.poll(async () => (await stack.controls.status(concertId)).soldOut, { timeout: 20_000 }).toBe(true)

    const page = await signedIn('fan-late')
    const started = Date.now()
    await page.goto(`${stack.gatewayUrl}/?concert=${concertId}`)
    await page.locator('#view-soldout').waitFor({ timeout: 10_000 })
    expect(Date.now() - started).toBeLessThan(10_000)
    await look(page, 'sold-out')
  }, 90_000)

  it('a double click on Pay pays once', async () => {
    const charged = await stack.api('fan-double', 'POST', '/api/points/charge', { body: { amount: 1_000_000 }, idempotencyKey: randomUUID() })
    expect(charged.status).toBe(200)
    const page = await signedIn('fan-double', DESKTOP)
    await holdingASeat(page)
    const price = Number((await page.locator('#hold-price').textContent())!.replace(/\D/g, ''))
    await page.locator('#pay').dblclick()
    await page.locator('#view-done').waitFor()
    const { body } = await stack.api('fan-double', 'GET', '/api/points')
    expect(body.balance).toBe(1_000_000 - price)
  }, 90_000)

  it("an operator pauses a concert from the console and the fan's page says so within one poll", async () => {
    const { concertId } = stack.held
    await stack.controls.setCap(concertId, 0)
    const fan = await signedIn('fan-paused')
    await fan.goto(`${stack.gatewayUrl}/?concert=${concertId}`)
    await fan.locator('#waiting-position').getByText('in line').waitFor({ timeout: 20_000 })

    const console = await consoleSignedIn()
    const card = console.locator(`[data-concert="${concertId}"]`)
    await card.waitFor()
    await card.getByRole('button', { name: 'Pause' }).click()
    await console.locator('#confirm-ok').click()
    const pausedAt = Date.now()
    const nextPoll = Number(await fan.locator('#waiting-next').getAttribute('data-next-poll-seconds'))
    await expect
      .poll(async () => ((await card.locator('.badge', { hasText: 'paused' }).count()) > 0 ? 'paused' : await console.locator('#problem').textContent()), { timeout: 30_000 })
      .toBe('paused')
    // The next poll after the pause (plus one admission step, 200 ms) carries it.
    await fan.locator('#waiting-reason[data-reason="PAUSED"]').waitFor({ timeout: nextPoll * 1000 + 3_000 })
    expect(Date.now() - pausedAt).toBeLessThan(nextPoll * 1000 + 3_000)
    await look(fan, 'waiting-paused')
    await console.locator('#changes tr', { hasText: 'queue:pause' }).filter({ hasText: 'Test operator' }).waitFor()
    await look(console, 'console')
  }, 120_000)

  it("a failing request's trace id from a fan's error opens its waterfall in the console", async () => {
    const page = await signedIn('fan-broke')
    await holdingASeat(page)
    await page.locator('#pay').click()
    await page.locator('#problem').getByText('You do not have enough points').waitFor()
    const traceId = (await page.locator('#problem-trace').textContent())!.trim()
    expect(traceId).toMatch(/^[0-9a-f]{32}$/)
    await look(page, 'error-with-reference')

    const console = await consoleSignedIn()
    await console.locator('#trace-id').fill(traceId)
    // Each process's spans reach the traces file about a second after they end, each on its own batch.
    await expect
      .poll(
        async () => {
          await console.getByRole('button', { name: 'Open', exact: true }).click()
          return console.locator('#waterfall li').evaluateAll((rows) => [...new Set(rows.map((r) => (r as HTMLElement).dataset.service))])
        },
        { timeout: 20_000, intervals: [1_000] },
      )
      .toEqual(expect.arrayContaining(['gateway', 'payment-service']))
    expect(await console.locator('#waterfall li.error').count()).toBeGreaterThan(0)
    await look(console, 'console-waterfall')
  }, 90_000)

  it('when the join challenge is on, the page solves it and joins', async () => {
    const operator = (method: string) =>
      fetch(`${stack.operatorUrl}/switches/challenge/${FIRST_CONCERT.id}`, {
        method,
        headers: { 'x-operator-secret': stack.operatorSecret, ...(method === 'PUT' ? { 'content-type': 'application/json' } : {}) },
        body: method === 'PUT' ? JSON.stringify({ difficulty: 12 }) : undefined,
      })
    expect((await operator('PUT')).status).toBe(200)
    try {
      // Every gateway follows the switch within SWITCH_CACHE_MS.
      await expect
        .poll(async () => (await stack.api('fan-pow-check', 'POST', '/api/queue/token', { body: { concertId: FIRST_CONCERT.id } })).body?.code, { timeout: 5_000 })
        .toBe('QUEUE_CHALLENGE_REQUIRED')
      const page = await signedIn('fan-pow')
      await page.getByRole('link', { name: `Join the line for ${FIRST_CONCERT.title}` }).click()
      await page.locator('#view-seats').waitFor({ timeout: 60_000 })
    } finally {
      await operator('DELETE')
    }
  }, 90_000)

  it('an operator switches the join challenge on and off from the console, and joins need a proof meanwhile', async () => {
    const concertId = FIRST_CONCERT.id
    const joinCode = async () => (await stack.api('fan-pow-console', 'POST', '/api/queue/token', { body: { concertId } })).body?.code
    await joinCode()
    const console = await consoleSignedIn()
    const card = console.locator(`[data-concert="${concertId}"]`)
    await card.waitFor()
    await card.getByLabel('Join challenge bits').fill('12')
    await card.getByRole('button', { name: 'Challenge on' }).click()
    await console.locator('#confirm-ok').click()
    try {
      await card.locator('.badge', { hasText: 'join challenge: 12 bits' }).waitFor({ timeout: 10_000 })
      await expect.poll(joinCode, { timeout: 5_000 }).toBe('QUEUE_CHALLENGE_REQUIRED')
      await look(console, 'console-challenge-on')
    } finally {
      await card.getByRole('button', { name: 'Challenge off' }).click()
      await console.locator('#confirm-ok').click()
    }
    await expect.poll(async () => card.locator('.badge', { hasText: 'join challenge' }).count(), { timeout: 10_000 }).toBe(0)
    await expect.poll(joinCode, { timeout: 5_000 }).not.toBe('QUEUE_CHALLENGE_REQUIRED')
    await console.locator('#changes tr', { hasText: 'gateway:challenge' }).filter({ hasText: 'Test operator' }).first().waitFor()
  }, 90_000)
})
