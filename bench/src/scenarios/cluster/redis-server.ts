/**
 * Former home of the Redis anchor, kept as a re-export for the log scenario and
 * the tests that still import it from here; new code imports lib/redis-anchor.js.
 */
export {
  findOnPath,
  freePort,
  installRedisServer,
  type RedisServer,
  redisBinary,
  startRedisServer,
} from '../../lib/redis-anchor.js';
