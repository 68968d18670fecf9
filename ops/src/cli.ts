import type { Action, Env } from './action.js'
import { migrate as migrateBooking, seedDemoCatalogue } from '@tickets/booking-service/ops'
import { migrate as migratePayment, seedDemoWallets } from '@tickets/payment-service/ops'
import { backupActions } from './actions/backup.js'
import { bookingActions } from './actions/booking.js'
import { drawActions } from './actions/draw.js'
import { gatewayActions } from './actions/gateway.js'
import { presaleActions } from './actions/presale.js'
import { queueActions } from './actions/queue.js'
import { reconcileActions } from './actions/reconcile.js'
import { traceActions } from './actions/traces.js'

export const DEFAULT_BOOKING_DB = 'mysql://root@127.0.0.1:3306/tickets_booking'
export const DEFAULT_PAYMENT_DB = 'mysql://root@127.0.0.1:3306/tickets_payment'

const bookingDb = (env: Env) => env.BOOKING_MYSQL_URL ?? DEFAULT_BOOKING_DB
const paymentDb = (env: Env) => env.PAYMENT_MYSQL_URL ?? DEFAULT_PAYMENT_DB

const actions: Record<string, Action> = {
  migrate: {
    describe: 'create the booking and payment databases and apply their migrations',
    async run(_args, env) {
      for (const [name, result] of [
        ['booking', await migrateBooking(bookingDb(env))],
        ['payment', await migratePayment(paymentDb(env))],
      ] as const) {
        console.log(
          `${name}: applied ${result.applied.length} migration(s)${result.applied.length ? ` (${result.applied.join(', ')})` : ''}, ${result.alreadyApplied.length} already applied`,
        )
      }
      return 0
    },
  },
  seed: {
    describe: 'seed the demo catalogue and demo users with points (idempotent)',
    async run(_args, env) {
      const catalogue = await seedDemoCatalogue(bookingDb(env))
      const wallets = await seedDemoWallets(paymentDb(env))
      console.log(`catalogue: ${catalogue.concerts} concerts, ${catalogue.schedules} dates; wallets: users 1..${wallets.users} (${wallets.created} new)`)
      return 0
    },
  },
}

export function registerAction(name: string, action: Action) {
  actions[name] = action
}

export function registerActions(group: Record<string, Action>) {
  for (const [name, action] of Object.entries(group)) registerAction(name, action)
}

registerActions(queueActions)
registerActions(bookingActions)
registerActions(drawActions)
registerActions(presaleActions)
registerActions(gatewayActions)
registerActions(reconcileActions)
registerActions(backupActions)
registerActions(traceActions)

function usage(): string {
  const width = Math.max(...Object.keys(actions).map((a) => a.length))
  return ['usage: npm run ops -- <action> [options]', '', ...Object.entries(actions).map(([n, a]) => `  ${n.padEnd(width)}  ${a.describe}`)].join('\n')
}

export async function main(argv: string[], env: Env): Promise<number> {
  const [name, ...args] = argv
  const action = name ? actions[name] : undefined
  if (!action) {
    console.error(name ? `unknown action "${name}"\n\n${usage()}` : usage())
    return 2
  }
  return action.run(args, env)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(`ops: ${err.message}`)
      process.exit(1)
    },
  )
}
