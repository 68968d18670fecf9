import { authConfigProperties, commonConfigProperties, redisConfigProperties } from '@tickets/shared/config'
import { Type, type Static } from 'typebox'

export const ConfigSchema = Type.Object({
  ...commonConfigProperties,
  ...redisConfigProperties,
  ...authConfigProperties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3001 }),
  INSTANCE_ID: Type.String({ default: 'queue-1' }),
})
export type Config = Static<typeof ConfigSchema>
