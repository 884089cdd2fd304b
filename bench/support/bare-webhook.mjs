// The baselines for bench/webhook.ts, in a process of their own like `rewind api`:
//   BARE_MODE=parse   Fastify parses the JSON body and answers 202 (no Redis at all)
//   BARE_MODE=bullmq  the same plus one BullMQ `add` per request: the floor of durable intake
// Plain JavaScript, no logger: what any Fastify service pays, and nothing of rewind's.
import Fastify from 'fastify';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

const mode = process.env.BARE_MODE ?? 'parse';
const queue =
  mode === 'bullmq'
    ? new Queue('bare', {
        connection: new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
          maxRetriesPerRequest: null,
        }),
        prefix: process.env.BARE_PREFIX ?? `rewind-bench:bare-${process.pid}`,
      })
    : null;
const app = Fastify();
app.post('/v1/alertmanager', async (req, reply) => {
  const alerts = Array.isArray(req.body?.alerts) ? req.body.alerts : [];
  if (queue) await queue.add('alert', { alerts: alerts.length }, { removeOnComplete: true });
  return reply.code(202).send({ received: alerts.length });
});
app.get('/readyz', async () => ({ status: 'ready' }));
// for bench/memory.ts: V8's used heap next to the RSS it reads from /proc
app.get('/memory', async () => process.memoryUsage());
await queue?.waitUntilReady();
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
