import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./child-server-main.ts', import.meta.url));

/** A Phobos server in a child process (see child-server-main.ts). */
export interface ChildServer {
  readonly name: string;
  readonly address: string;
  readonly child: ChildProcess;
  /** Sends a command and waits for its acknowledgement. */
  command(line: string): Promise<void>;
  /** SIGKILL, then wait for the process to be gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Sends a signal that does not end the process (SIGSTOP, SIGCONT). */
  signal(signal: NodeJS.Signals): void;
}

/** Where a child server registers: etcd client URLs, a base path, the lease TTL in seconds. */
export interface ChildEtcd {
  readonly hosts: string;
  readonly basePath: string;
  readonly ttlSeconds: number;
}

/**
 * Starts a child server; `address` may name a fixed port to restart on the same address; given
 * `etcd`, it registers HelloWorld there.
 */
export async function startChildServer(
  name: string,
  address = 'tcp@127.0.0.1:0',
  etcd?: ChildEtcd,
): Promise<ChildServer> {
  const registry = etcd === undefined ? [] : [etcd.hosts, etcd.basePath, String(etcd.ttlSeconds)];
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, address, name, ...registry], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: Interface = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const nextLine = (): Promise<string> =>
    new Promise((resolve, reject) => {
      waiting.push(resolve);
      child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before answering`)));
    });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const { address: bound } = JSON.parse(await nextLine()) as { address: string };
  return {
    name,
    address: bound,
    child,
    async command(line) {
      const answer = nextLine();
      child.stdin?.write(`${line}\n`);
      await answer;
    },
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    signal(signal) {
      child.kill(signal);
    },
  };
}
