import { requireServices } from './testing.js'

export default async function setup() {
  await requireServices()
}
