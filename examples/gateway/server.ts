// Serves HelloWorld.Greet, refusing arguments without a string First, until SIGINT/SIGTERM,
// then shuts down gracefully. The gateway example calls it.
//   npx tsx examples/gateway/server.ts --addr localhost:8972
import { parseArgs } from 'node:util';
import { Server } from '../../lib/index.js';
import { HelloWorld } from './service.js';

const { values } = parseArgs({ options: { addr: { type: 'string', default: 'localhost:8972' } } });

const server = new Server();
server.register('HelloWorld', new HelloWorld());
const address = await server.listen(`tcp@${values.addr}`);
console.log(`serving HelloWorld on ${address}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`${signal}: shutting down`);
    void server.shutdown({ graceMs: 5_000 }).then(() => console.log('stopped'));
  });
}
