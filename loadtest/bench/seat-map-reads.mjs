// npm run bench:seats — seat-map reads (GET .../schedules/:id/seats) on a real booking-service against
// a Fastify hello-world that answers the same seat-map JSON from memory, in the same run: how close
// the real read (status from MariaDB, holds past their deadline shown free) comes to a cached answer.
import Fastify from 'fastify'
import { createConcert, migrate } from '@tickets/booking-service/ops'
import { measure, printTable, startService } from './lib.mjs'

const db = 'mysql://root@127.0.0.1:3306/tickets_bench_seats'
await migrate(db)
const { concertId, scheduleIds } = await createConcert(db, { title: 'Seat-map bench', dates: 1 })
const path = `/api/concerts/${concertId}/schedules/${scheduleIds[0]}/seats`
const duration = Number(process.env.DURATION ?? 10)
const headers = { 'x-user-id': 'bench-user' }

const booking = await startService('booking-service', { MYSQL_URL: db, REDIS_PREFIX: 'bench:seats:', NATS_NAMESPACE: 'bench_seats', OTEL_SDK_DISABLED: 'true' }, { telemetry: false })
const body = await (await fetch(booking.url + path, { headers })).text()
const hello = Fastify()
hello.get('/seats', async (_request, reply) => reply.type('application/json').send(body))
const helloUrl = await hello.listen({ port: 0, host: '127.0.0.1' })

const rows = []
for (const round of [1, 2]) {
  await measure(`${helloUrl}/seats`, { duration: 2 })
  rows.push({ name: `cached hello-world, same JSON (baseline, round ${round})`, ...(await measure(`${helloUrl}/seats`, { duration })) })
  await measure(booking.url + path, { duration: 2, headers })
  rows.push({ name: `booking-service seat map (round ${round})`, ...(await measure(booking.url + path, { duration, headers })) })
}
await booking.stop()
await hello.close()
printTable(`Seat-map reads: GET ${path.replace(concertId, ':concertId').replace(scheduleIds[0], ':scheduleId')} (${body.length} bytes), ${duration} s each`, rows, 'cached hello-world, same JSON (baseline, round 1)')
