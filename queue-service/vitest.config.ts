import { serviceTestConfig } from '@tickets/testkit/vitest'

export default serviceTestConfig()
