// Serves HelloWorld.Greet, refusing arguments without a string First, until SIGINT/SIGTERM,
// then shuts down gracefully. The gateway example calls it. Prints
// `serving HelloWorld on tcp@HOST:PORT` once it listens; exits 1 when it cannot listen.
//   npx tsx examples/gateway/server.ts --addr localhost:8972
import { serveHelloWorld } from '../lib/serve-hello.js';
import { HelloWorld } from './service.js';

await serveHelloWorld({
  name: 'gateway/server',
  file: 'examples/gateway/server.ts',
  serves:
    'Serves HelloWorld.Greet, refusing arguments without a string First (what the gateway example calls)',
  service: new HelloWorld(),
});
