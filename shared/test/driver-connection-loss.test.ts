import { describe, expect, it } from 'vitest'
import { isDriverConnectionLoss } from '../src/mysql.js'

const lost = (code: string, extra: object = {}) => ({ code, fatal: true, sqlState: '08S01', ...extra })

describe('isDriverConnectionLoss', () => {
  it("when the driver reports a socket that ended, even during a new connection's settings, then it is known noise", () => {
    expect(isDriverConnectionLoss(lost('ER_SOCKET_UNEXPECTED_CLOSE'))).toBe(true)
    expect(isDriverConnectionLoss(lost('ER_CMD_CONNECTION_CLOSED'))).toBe(true)
    expect(isDriverConnectionLoss(lost('ER_INITIAL_SQL_ERROR'))).toBe(true)
  })

  it('when anything else is unhandled, then it is not excused', () => {
    expect(isDriverConnectionLoss(lost('ER_INITIAL_SQL_ERROR', { fatal: false }))).toBe(false)
    expect(isDriverConnectionLoss(lost('ER_INITIAL_SQL_ERROR', { sqlState: 'HY000' }))).toBe(false)
    expect(isDriverConnectionLoss(lost('ER_DUP_ENTRY'))).toBe(false)
    expect(isDriverConnectionLoss(new TypeError('x is undefined'))).toBe(false)
    expect(isDriverConnectionLoss(null)).toBe(false)
  })
})
