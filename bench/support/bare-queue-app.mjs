// The floor for `rewind serve`'s start: Fastify with one BullMQ Queue on Redis, /readyz pinging it.
// Plain JavaScript, so it measures Fastify + BullMQ + ioredis loading and nothing of rewind.
import Fastify from 'fastify';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const queue = new Queue('bare', { connection: redis, prefix: `rewind-bench:bare-${process.pid}` });
const app = Fastify();
app.get('/readyz', async () => ({ redis: (await redis.ping()) === 'PONG' }));
await queue.waitUntilReady();
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
