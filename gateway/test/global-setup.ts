import { requireServices } from '@tickets/shared/testing'

export default async function setup() {
  await requireServices()
}
