import { commonConfigProperties, mysqlConfigProperties, redisConfigProperties } from '@tickets/shared/config'
import { Type, type Static } from 'typebox'

export const ConfigSchema = Type.Object({
  ...commonConfigProperties,
  ...redisConfigProperties,
  ...mysqlConfigProperties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3002 }),
  INSTANCE_ID: Type.String({ default: 'booking-1' }),
})
export type Config = Static<typeof ConfigSchema>
