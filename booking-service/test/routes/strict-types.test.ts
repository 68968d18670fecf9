import { describe, expect, it } from 'vitest'
import { aConcert, liveReservations } from '../helpers/factories.js'
import { buildTestApp } from '../helpers/build-test-app.js'
import { fromGateway } from '@tickets/testkit'

const { app } = await buildTestApp(import.meta.url, { SWEEP_INTERVAL_MS: '0' })

const holdRaw = (payload: string) =>
  app.inject(fromGateway({ method: 'POST', url: '/api/reservations', headers: { 'x-user-id': 'strict', 'content-type': 'application/json' }, payload }))

describe('POST /api/reservations refuses ids and seat numbers of the wrong JSON type', () => {
  it('when each refused shape is sent, then 400 COMMON_VALIDATION on that field and no seat is held', async () => {
    const { scheduleId } = await aConcert(app, { seats: 5 })
    const id = JSON.stringify(scheduleId)
    for (const [payload, path] of [
      [`{"scheduleId":${id},"seatNumber":"1"}`, 'body/seatNumber'],
      [`{"scheduleId":${id},"seatNumber":" 1"}`, 'body/seatNumber'],
      [`{"scheduleId":${id},"seatNumber":true}`, 'body/seatNumber'],
      [`{"scheduleId":${id},"seatNumber":[1]}`, 'body/seatNumber'],
      [`{"scheduleId":[${id}],"seatNumber":1}`, 'body/scheduleId'],
      [`{"scheduleId":12345,"seatNumber":1}`, 'body/scheduleId'],
    ]) {
      const res = await holdRaw(payload)
      expect(res.statusCode, payload).toBe(400)
      expect(res.json().code).toBe('COMMON_VALIDATION')
      expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path)
    }
    expect(await liveReservations(app, scheduleId)).toEqual([])
    expect((await holdRaw(`{"scheduleId":${id},"seatNumber":1}`)).statusCode).toBe(201)
  })
})
