// Serves HelloWorld.Greet until SIGINT/SIGTERM, then shuts down gracefully. Prints
// `serving HelloWorld on tcp@HOST:PORT` once it listens (port 0 picks a free port, and the line
// says which); exits 1 when it cannot listen (a port in use). Run --help for the flags.
//   npx tsx examples/helloworld/server.ts --addr localhost:8972
import { serveHelloWorld } from '../lib/serve-hello.js';
import { HelloWorld } from './service.js';

await serveHelloWorld({
  name: 'helloworld/server',
  file: 'examples/helloworld/server.ts',
  serves: 'Serves HelloWorld.Greet (JSON or MsgPack, whichever the caller sends)',
  service: new HelloWorld(),
});
