// Serves HelloWorld.Greet and registers it in etcd under {base}/HelloWorld/tcp@host:port; on
// SIGINT/SIGTERM it deletes its key first, lets calls in flight finish, then exits.
//   npx tsx examples/etcd/server.ts --addr localhost:8972 --etcd http://127.0.0.1:2379 --base /phobos
// --etcd takes comma-separated client URLs of the etcd members.
import { parseArgs } from 'node:util';
import { Server } from '../../lib/index.js';
import { etcdRegistry } from '../../lib/registry/index.js';
import { HelloWorld } from '../helloworld/service.js';

const { values } = parseArgs({
  options: {
    addr: { type: 'string', default: 'localhost:8972' },
    etcd: { type: 'string', default: 'http://127.0.0.1:2379' },
    base: { type: 'string', default: '/phobos' },
  },
});

const registry = etcdRegistry({ hosts: values.etcd, basePath: values.base });
const server = new Server({ registries: [registry] });
server.register('HelloWorld', new HelloWorld(), { metadata: 'weight=10&state=active' });
// listen() resolves once etcd holds the key (or warns and serves anyway when etcd is away).
const address = await server.listen(`tcp@${values.addr}`);
console.log(`serving HelloWorld on ${address}, registered in etcd ${values.etcd} under ${values.base}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`${signal}: shutting down`);
    void server
      .shutdown({ graceMs: 5_000 })
      .then(() => registry.close())
      .then(() => console.log('stopped'));
  });
}
