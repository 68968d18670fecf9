export { startRedisCluster, startRedisSentinel, type ThrowawayRedisCluster, type ThrowawayRedisSentinel } from './redis-topologies.js'
export { startNatsCluster, type ThrowawayNatsCluster } from './nats-cluster.js'
export { type Daemon } from './daemon.js'
export { startGaleraCluster, startMariadbReplication, type MariadbServer, type ThrowawayGaleraCluster, type ThrowawayMariadbReplication } from './mariadb-topologies.js'
