import { requireServices } from '../src/testing.js'

export default async function setup() {
  await requireServices()
}
