export { type RedisClusterHandle, type RedisClusterOptions, startRedisCluster } from './cluster.js';
export { findRedisCli, findRedisServer, INSTALL_MESSAGE, requireRedisServer } from './locate.js';
export { unusedPort } from './ports.js';
export { type RespReply, sendCommand } from './resp.js';
export { type RedisSentinelHandle, type RedisSentinelOptions, startRedisSentinel } from './sentinel.js';
export { type RedisServerHandle, type RedisServerOptions, startRedisServer } from './server.js';
export { type SilentServerHandle, startSilentServer } from './silent.js';
