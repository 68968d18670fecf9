import { hostname } from 'node:os'
import { Type } from 'typebox'
import { describe, expect, it } from 'vitest'
import { commonConfigProperties, loadConfig } from '../src/config.js'

const Schema = Type.Object({ ...commonConfigProperties, PORT: Type.Integer({ default: 3000 }), MYSQL_URL: Type.String() })

describe('loadConfig', () => {
  it('when values are strings, then they are coerced and defaults filled', () => {
    const config = loadConfig(Schema, { PORT: '4000', MYSQL_URL: 'mysql://x/y' })
    expect(config.PORT).toBe(4000)
    expect(config.SHUTDOWN_GRACE_MS).toBe(10_000)
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('when INSTANCE_ID is not set, then the replica is named by its host (a container or pod name), never a shared constant', () => {
    expect(loadConfig(Schema, { MYSQL_URL: 'mysql://x/y' }).INSTANCE_ID).toBe(hostname())
    expect(loadConfig(Schema, { MYSQL_URL: 'mysql://x/y', INSTANCE_ID: 'booking-2' }).INSTANCE_ID).toBe('booking-2')
  })

  it('when a required setting is missing, then it throws naming it', () => {
    expect(() => loadConfig(Schema, {})).toThrow(/MYSQL_URL/)
  })

  it('when a setting is not valid, then it throws', () => {
    expect(() => loadConfig(Schema, { MYSQL_URL: 'x', PORT: 'eighty' })).toThrow(/PORT/)
  })

  it('never reads process.env implicitly', () => {
    process.env.MYSQL_URL = 'mysql://leak/db'
    try {
      expect(() => loadConfig(Schema, {})).toThrow(/MYSQL_URL/)
    } finally {
      delete process.env.MYSQL_URL
    }
  })
})
