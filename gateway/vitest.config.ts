import { serviceTestConfig } from '@tickets/shared/vitest'

export default serviceTestConfig()
