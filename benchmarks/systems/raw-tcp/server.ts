// The raw TCP limit: a length-prefixed (uint32) echo over node:net that finds frame boundaries
// and writes the whole frames straight back, decoding nothing (contract in
// benchmarks/harness/system.ts). The workload changes only what the client sends.
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { runServerProcess } from '../../harness/server-process.js';
import { FrameSplitter } from './frames.js';

const sockets = new Set<Socket>();
const server = createServer({ noDelay: true }, (socket) => {
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
  socket.on('error', () => socket.destroy());
  const splitter = new FrameSplitter();
  socket.on('data', (chunk: Buffer) => {
    const { frames, bytes } = splitter.push(chunk);
    if (frames > 0) socket.write(bytes);
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
runServerProcess(`127.0.0.1:${port}`, async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
