import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CHART_FILE,
  HarnessUsageError,
  PRESETS,
  parseHarnessArgs,
  RESULTS_DIR,
  RESULTS_FILE,
  resultPaths,
  runName,
} from '../../benchmarks/harness/harness-options.js';
import { startEtcd, stopAllEtcd } from '../support/etcd.js';
import { etcdKeys, freshBasePath } from '../support/etcd-helpers.js';
import { trackHandles } from '../support/handles.js';
import { closedPort, takenPort } from '../support/ports.js';

const { defer } = trackHandles();
afterAll(stopAllEtcd);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How long a child may take to print its next line (tsx compiles the example first, on a busy machine). */
const LINE_TIMEOUT_MS = 30_000;
/** How many example processes run at once: each compiles with tsx, on two shared cores. */
const PARALLEL = 3;

/** How a child process ended. */
interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A program running in a child process, read line by line. */
interface Running {
  readonly child: ChildProcess;
  /** The next stdout line matching `pattern` (others are skipped); rejects when it ends first or takes too long. */
  lineMatching(pattern: RegExp): Promise<RegExpExecArray>;
  /** Resolves when it has ended and its output is closed. */
  readonly ended: Promise<Ended>;
  /** Everything it printed on stdout so far. */
  stdout(): string;
  /** Everything it printed on stderr so far. */
  stderr(): string;
}

/** Starts a program in the repository's root; the test's cleanup kills it if it still runs. */
function launch(command: string, args: readonly string[]): Running {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const lines: string[] = [];
  const waiting = new Set<() => void>();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    stdout += `${line}\n`;
    lines.push(line);
    for (const wake of waiting) wake();
  });
  let done = false;
  const ended = new Promise<Ended>((resolve) => {
    child.once('close', (code, signal) => {
      done = true;
      resolve({ code, signal });
      for (const wake of waiting) wake();
    });
  });
  defer(async () => {
    if (!done) child.kill('SIGKILL');
    await ended;
  });
  const name = [command, ...args].join(' ');
  return {
    child,
    ended,
    stdout: () => stdout,
    stderr: () => stderr,
    lineMatching(pattern) {
      return new Promise<RegExpExecArray>((resolve, reject) => {
        const check = (): void => {
          while (lines.length > 0) {
            const match = pattern.exec(lines.shift() as string);
            if (match !== null) {
              finish();
              resolve(match);
              return;
            }
          }
          if (done) {
            finish();
            reject(
              new Error(
                `${name} ended without a line matching ${pattern}; stdout: ${stdout} stderr: ${stderr}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(
            new Error(
              `${name} printed no line matching ${pattern} within ${LINE_TIMEOUT_MS} ms; stderr: ${stderr}`,
            ),
          );
        }, LINE_TIMEOUT_MS);
        const finish = (): void => {
          clearTimeout(timer);
          waiting.delete(check);
        };
        waiting.add(check);
        check();
      });
    },
  };
}

/** `node --import tsx <script> ...args`. */
function tsx(script: string, args: readonly string[]): Running {
  return launch(process.execPath, ['--import', 'tsx', script, ...args]);
}

/** Runs a program to its end and says how it ended and what it printed. */
async function runToEnd(running: Running): Promise<Ended & { stdout: string; stderr: string }> {
  const ended = await running.ended;
  return { ...ended, stdout: running.stdout(), stderr: running.stderr() };
}

/** Maps `items` through `run`, at most {@link PARALLEL} at a time. */
async function limited<T, R>(items: readonly T[], run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return results;
}

/** One runnable example: how to start it, the flags its --help must list, and one bad value. */
interface Entry {
  /** The prefix of its error lines. */
  readonly name: string;
  readonly start: (args: readonly string[]) => Running;
  readonly flags: readonly string[];
  readonly bad: { readonly args: readonly string[]; readonly says: RegExp };
}

const ENTRIES: readonly Entry[] = [
  {
    name: 'demo',
    start: (args) => tsx('examples/demo.ts', args),
    flags: ['--servers N', '--codec json|msgpack'],
    bad: { args: ['--codec', 'protobuf'], says: /--codec must be json or msgpack, got "protobuf"/ },
  },
  {
    name: 'helloworld/server',
    start: (args) => tsx('examples/helloworld/server.ts', args),
    flags: ['--addr HOST:PORT'],
    bad: { args: ['--addr', '127.0.0.1:http'], says: /--addr must be host:port .*got "127\.0\.0\.1:http"/ },
  },
  {
    name: 'cluster/server',
    start: (args) => tsx('examples/cluster/server.ts', args),
    flags: ['--addr HOST:PORT', '--workers N'],
    bad: { args: ['--workers', '0'], says: /--workers must be an integer from 1 to 1024, got "0"/ },
  },
  {
    name: 'helloworld/client',
    start: (args) => tsx('examples/helloworld/client.ts', args),
    flags: ['--addr HOST:PORT', '--codec json|msgpack', '--name TEXT'],
    bad: { args: ['--codec', 'protobuf'], says: /--codec must be json or msgpack, got "protobuf"/ },
  },
  {
    name: 'multiple/client',
    start: (args) => tsx('examples/multiple/client.ts', args),
    flags: [
      '--addrs HOST:PORT,...',
      '--fail ',
      '--select ',
      '--count N',
      '--interval-ms MS',
      '--report-every N',
      '--codec json|msgpack',
      '--heartbeat',
    ],
    bad: { args: ['--count', 'ten'], says: /--count must be a positive integer, got "ten"/ },
  },
  {
    name: 'multiple/run.sh',
    start: (args) => launch('bash', ['examples/multiple/run.sh', ...args]),
    flags: ['--ports P1,P2,P3', '--count N', '--timeout S'],
    bad: {
      args: ['sometimes'],
      says: /FAIL_MODE must be failover, failbackup, failfast or failtry, got "sometimes"/,
    },
  },
  {
    name: 'etcd/server',
    start: (args) => tsx('examples/etcd/server.ts', args),
    flags: ['--addr HOST:PORT', '--advertise HOST:PORT', '--etcd URL,...', '--base PATH'],
    bad: {
      args: ['--advertise', '0.0.0.0:8972'],
      says: /--advertise 0\.0\.0\.0:8972: 0\.0\.0\.0 is no address a client can dial; give this host's IP/,
    },
  },
  {
    name: 'etcd/client',
    start: (args) => tsx('examples/etcd/client.ts', args),
    flags: ['--etcd URL,...', '--base PATH', '--count N', '--interval-ms MS'],
    bad: {
      args: ['--etcd', 'localhost:2379'],
      says: /--etcd must be etcd client URLs like http:\/\/127\.0\.0\.1:2379/,
    },
  },
  {
    name: 'gateway',
    start: (args) => tsx('examples/gateway/gateway.ts', args),
    flags: [
      '--http HOST:PORT',
      '--addrs HOST:PORT,...',
      '--etcd URL,...',
      '--base PATH',
      '--cors ORIGIN,...',
      '--jsonrpc PATH',
    ],
    bad: { args: ['--http', 'nowhere'], says: /--http must be host:port .*got "nowhere"/ },
  },
  {
    name: 'gateway/server',
    start: (args) => tsx('examples/gateway/server.ts', args),
    flags: ['--addr HOST:PORT'],
    bad: { args: ['--addr', 'localhost:99999'], says: /--addr must be host:port .*got "localhost:99999"/ },
  },
  {
    name: 'gateway/run.sh',
    start: (args) => launch('bash', ['examples/gateway/run.sh', ...args]),
    flags: ['--http HOST:PORT', '--server-port PORT', '--timeout S'],
    bad: {
      args: ['--server-port', 'http'],
      says: /--server-port must be a port from 0 to 65535, got "http"/,
    },
  },
  {
    name: 'in-memory',
    start: (args) => tsx('examples/in-memory/main.ts', args),
    flags: ['--servers N', '--calls N'],
    bad: { args: ['--calls', 'many'], says: /--calls must be an integer from 2 to 10000, got "many"/ },
  },
  {
    name: 'streaming/ticker',
    start: (args) => tsx('examples/streaming/ticker.ts', args),
    flags: ['--count N', '--window N'],
    bad: { args: ['--window', '0'], says: /--window must be an integer from 1 to 1000, got "0"/ },
  },
  {
    name: 'streaming/upload',
    start: (args) => tsx('examples/streaming/upload.ts', args),
    flags: ['--chunks N', '--chunk-kib KIB'],
    bad: { args: ['--chunk-kib', '2048'], says: /--chunk-kib must be an integer from 1 to 1024, got "2048"/ },
  },
  {
    name: 'streaming/chat',
    start: (args) => tsx('examples/streaming/chat.ts', args),
    flags: ['--lines N'],
    bad: { args: ['--lines', 'x'], says: /--lines must be an integer from 1 to 1000, got "x"/ },
  },
  {
    name: 'metrics/server',
    start: (args) => tsx('examples/metrics/server.ts', args),
    flags: ['--addr HOST:PORT', '--metrics HOST:PORT'],
    bad: { args: ['--metrics', 'here'], says: /--metrics must be host:port .*got "here"/ },
  },
  {
    name: 'metrics/client',
    start: (args) => tsx('examples/metrics/client.ts', args),
    flags: ['--addrs HOST:PORT,...', '--count N', '--interval-ms MS', '--bad-every K', '--metrics HOST:PORT'],
    bad: {
      args: ['--addrs', '127.0.0.1:1', '--count', '0'],
      says: /--count must be a positive integer, got "0"/,
    },
  },
];

/** Checks a refused command line: status 2, one line on stderr naming the command, no stack, nothing on stdout. */
function expectRefused(
  result: Ended & { stdout: string; stderr: string },
  name: string,
  says: RegExp,
  what: string,
): void {
  expect(result.code, `${what}: ${result.stderr}`).toBe(2);
  const lines = result.stderr.split('\n');
  expect(lines, `${what}: one line on stderr`).toHaveLength(2);
  expect(lines[1], what).toBe('');
  expect(lines[0], what).toMatch(new RegExp(`^${name.replace(/[./]/g, '\\$&')}: `));
  expect(lines[0], what).toMatch(says);
  expect(lines[0], what).toMatch(/\(run with --help for the (flags|arguments)\)$/);
  expect(result.stdout, what).toBe('');
}

describe('examples - command lines', { timeout: 90_000 }, () => {
  it('every example - --help lists every flag with its value and an example and exits 0; an unknown flag and a bad value exit 2 with one line', async () => {
    const runs = ENTRIES.flatMap((entry) => [
      { entry, kind: 'help', args: ['--help'] },
      { entry, kind: 'unknown', args: ['--no-such-flag'] },
      { entry, kind: 'bad', args: entry.bad.args },
    ]);
    const results = await limited(runs, ({ entry, args }) => runToEnd(entry.start(args)));
    runs.forEach(({ entry, kind, args }, index) => {
      const result = results[index] as Ended & { stdout: string; stderr: string };
      const what = `${entry.name} ${args.join(' ')}`;
      if (kind === 'help') {
        expect(result.code, `${what}: ${result.stderr}`).toBe(0);
        expect(result.stderr, what).toBe('');
        expect(result.stdout, what).toMatch(/^Usage: /);
        for (const flag of [...entry.flags, '-h, --help']) {
          expect(result.stdout, `${what} lists ${flag}`).toMatch(
            new RegExp(`^ {2}${flag.replace(/[.|*+?()[\]]/g, '\\$&')}`, 'm'),
          );
        }
        expect(result.stdout, what).toMatch(/^Examples?:\n {2}\S/m);
      } else if (kind === 'unknown') {
        expectRefused(result, entry.name, /unknown flag --no-such-flag/, what);
      } else {
        expectRefused(result, entry.name, entry.bad.says, what);
      }
    });
  });

  it('etcd/server.ts - listening on 0.0.0.0 without --advertise is refused with a hint', async () => {
    const result = await runToEnd(tsx('examples/etcd/server.ts', ['--addr', '0.0.0.0:0']));
    expectRefused(
      result,
      'etcd/server',
      /--addr 0\.0\.0\.0:0 listens on every interface.*--advertise/,
      'etcd/server --addr 0.0.0.0:0',
    );
  });
});

describe('examples/in-memory/main.ts', { timeout: 90_000 }, () => {
  it('failover over the in-memory network - the server taken off halfway loses no call, and the others answer in turn', async () => {
    const result = await runToEnd(tsx('examples/in-memory/main.ts', ['--servers', '3', '--calls', '8']));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trimEnd().split('\n')).toEqual([
      'listening on memory@server-0, memory@server-1, memory@server-2',
      'call 1: server-0',
      'call 2: server-1',
      'call 3: server-2',
      'call 4: server-0',
      'memory@server-0 taken off the network',
      'call 5: server-1',
      'call 6: server-2',
      'call 7: server-1',
      'call 8: server-2',
      'ok: failover lost no call when memory@server-0 went away (calls=8 failed=0)',
    ]);
  });
});

describe('examples/streaming/ticker.ts', { timeout: 90_000 }, () => {
  it('streaming - a slow reader gets every price in order and the producer stays within the window', async () => {
    const result = await runToEnd(tsx('examples/streaming/ticker.ts', ['--count', '30', '--window', '4']));
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ticker listening on tcp@127\.0\.0\.1:\d+$/);
    const prices = lines.slice(1, 31).map((line) => /^price (\d+): \d+\.\d\d$/.exec(line)?.[1]);
    expect(prices).toEqual(Array.from({ length: 30 }, (_, i) => String(i + 1)));
    expect(lines[31]).toBe('throttled: 3 prices kept');
    expect(lines[32]).toMatch(
      /^ok: read 30 prices; the producer was never more than 4 ahead of the reader; \d+ streams stopped on the server$/,
    );
  });
});

describe('examples/streaming/upload.ts and chat.ts', { timeout: 90_000 }, () => {
  it('upload - every byte of a client stream reaches the server, in order', async () => {
    const result = await runToEnd(
      tsx('examples/streaming/upload.ts', ['--chunks', '40', '--chunk-kib', '8']),
    );
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[1]).toBe('uploaded 40 chunks, 327680 bytes');
    expect(lines[2]).toMatch(/^the server got 327680 bytes, sha256 [0-9a-f]{64}$/);
    expect(lines[3]).toBe('ok: every byte arrived, in order');
  });

  it('chat - each participant of a bidirectional stream hears every line of the room', async () => {
    const result = await runToEnd(tsx('examples/streaming/chat.ts', ['--lines', '2']));
    expect(result.code, result.stderr).toBe(0);
    const heard = 'alice: line 1, alice: line 2, bob: line 1, bob: line 2';
    expect(result.stdout.trimEnd().split('\n').slice(1)).toEqual([
      `alice heard 4 lines: ${heard}`,
      `bob heard 4 lines: ${heard}`,
      'ok: each of 2 participants heard all 4 lines',
    ]);
  });
});

describe('examples/multiple/run.sh', { timeout: 90_000 }, () => {
  it('failover - a server killed after the first successful calls loses no call, and the script says so', async () => {
    const run = launch('bash', ['examples/multiple/run.sh', '--count', '60', 'failover', 'roundRobin']);
    const result = await runToEnd(run);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 3)).toEqual([
      expect.stringMatching(/^server-0 listening on 127\.0\.0\.1:\d+$/),
      expect.stringMatching(/^server-1 listening on 127\.0\.0\.1:\d+$/),
      expect.stringMatching(/^server-2 listening on 127\.0\.0\.1:\d+$/),
    ]);
    const killedAt = lines.findIndex((line) =>
      /^killing server-0 \(127\.0\.0\.1:\d+\) with SIGKILL$/.test(line),
    );
    expect(killedAt, result.stdout).toBeGreaterThan(3);
    expect(lines[killedAt - 1]).toMatch(/^after \d+ calls: ok=[1-9]\d* failed=0$/);
    expect(lines.slice(-2)).toEqual([
      'calls=60 failed=0',
      'ok: failover lost no call when one of three servers died (calls=60 failed=0)',
    ]);
  });

  it('a port in use - the server cannot listen, and the script fails saying which', async () => {
    const port = await takenPort(defer);
    const result = await runToEnd(launch('bash', ['examples/multiple/run.sh', '--ports', `${port},0,0`]));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`^helloworld/server: cannot listen on tcp@127\\.0\\.0\\.1:${port}.*EADDRINUSE`, 'm'),
    );
    expect(result.stderr).toMatch(
      new RegExp(
        `^multiple/run\\.sh: server-0 could not start on 127\\.0\\.0\\.1:${port} \\(exit status 1\\): see its message above$`,
        'm',
      ),
    );
    expect(result.stdout).not.toMatch(/^ok: /m);
  });
});

describe('examples/etcd/server.ts --advertise', { timeout: 60_000 }, () => {
  it('registers the advertised address, says "registered" once etcd holds it, and deletes it on SIGTERM', async () => {
    const etcd = await startEtcd({ name: 'examples-cli' });
    defer(() => etcd.remove());
    const basePath = freshBasePath();
    const server = tsx('examples/etcd/server.ts', [
      '--addr',
      '127.0.0.1:0',
      '--advertise',
      'helloworld.example:7001',
      '--etcd',
      etcd.clientUrl,
      '--base',
      basePath,
    ]);
    const [, bound] = await server.lineMatching(/^serving HelloWorld on (tcp@127\.0\.0\.1:\d+)$/);
    expect(bound).not.toMatch(/:0$/);
    await server.lineMatching(
      new RegExp(
        `^registered tcp@helloworld\\.example:7001 in etcd ${etcd.clientUrl} under ${basePath}/HelloWorld$`,
      ),
    );
    expect(await etcdKeys(etcd.clientUrl, `${basePath}/`)).toEqual({
      [`${basePath}/HelloWorld`]: 'HelloWorld',
      [`${basePath}/HelloWorld/tcp@helloworld.example:7001`]: 'state=active&weight=10',
    });
    server.child.kill('SIGTERM');
    expect(await server.ended).toEqual({ code: 0, signal: null });
    expect(await etcdKeys(etcd.clientUrl, `${basePath}/HelloWorld/`)).toEqual({});
    expect(server.stdout()).not.toMatch(/not registered/);
  });

  it('says it is not registered, and never "registered", while etcd does not answer', async () => {
    const port = await closedPort();
    const server = tsx('examples/etcd/server.ts', [
      '--addr',
      '127.0.0.1:0',
      '--etcd',
      `http://127.0.0.1:${port}`,
    ]);
    await server.lineMatching(/^serving HelloWorld on tcp@127\.0\.0\.1:\d+$/);
    server.child.kill('SIGTERM');
    expect(await server.ended, `${server.stdout()} ${server.stderr()}`).toEqual({ code: 0, signal: null });
    expect(server.stderr()).toMatch(/^etcd\/server: not registered: etcd does not answer; serving anyway/m);
    expect(server.stdout()).not.toMatch(/^registered/m);
  });
});

describe('npm run bench - where results go', () => {
  it('parseHarnessArgs - reads the quickest run, and --update-results only when given', () => {
    const quick = parseHarnessArgs([
      '--systems',
      'raw-tcp',
      '--workloads',
      'echo64',
      '--concurrency',
      '1',
      '--seconds',
      '0.2',
      '--warmup',
      '0',
    ]);
    expect(quick).toEqual({
      kind: 'bench',
      mode: 'quick',
      cells: [{ workload: 'echo64', concurrency: 1 }],
      seconds: 0.2,
      warmupSeconds: 0,
      rounds: PRESETS.quick.rounds,
      systems: ['raw-tcp'],
      updateResults: false,
    });
    expect(parseHarnessArgs([])).toMatchObject({ kind: 'bench', mode: 'quick', updateResults: false });
    expect(parseHarnessArgs(['--full', '--update-results'])).toMatchObject({
      mode: 'full',
      updateResults: true,
    });
    expect(parseHarnessArgs(['--soak', '--calls', '1000'])).toEqual({
      kind: 'soak',
      calls: 1000,
      updateResults: false,
    });
    expect(parseHarnessArgs(['-h'])).toEqual({ kind: 'help' });
  });

  it('parseHarnessArgs - refuses unknown flags, positionals, two runs, flags of another run and bad values', () => {
    const refused: readonly (readonly [readonly string[], RegExp])[] = [
      [['--quick'], /^unknown flag --quick$/],
      [['full'], /^unexpected argument "full"/],
      [['--full', '--soak'], /^--full and --soak are different runs/],
      [['--calls', '10'], /^--calls is for --soak$/],
      [['--soak', '--seconds', '1'], /^--soak takes no --seconds$/],
      [['--seconds', '0'], /^--seconds must be a positive number, got "0"$/],
      [['--warmup=-1'], /^--warmup must be a number >= 0/],
      [['--rounds', '1.5'], /^--rounds must be a positive integer/],
      [['--systems', 'grpc'], /^--systems: unknown "grpc"/],
      [['--gateway', '--workloads', 'message1'], /^--workloads: unknown "message1"/],
    ];
    for (const [args, message] of refused) {
      const thrown = (() => {
        try {
          parseHarnessArgs(args);
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(thrown, args.join(' ')).toBeInstanceOf(HarnessUsageError);
      expect((thrown as Error).message, args.join(' ')).toMatch(message);
    }
  });

  it('resultPaths - RESULTS.md and the chart only with --update-results, else files of the run under results/', () => {
    const name = runName(new Date('2026-12-03T12:00:00.000Z'), 'quick');
    expect(name).toBe('2026-12-03T12-00-00-quick');
    expect(runName(new Date('2026-12-03T12:00:00.000Z'), 'soak')).toBe('soak-2026-12-03T12-00-00');
    const own = resultPaths(name, false);
    expect(own.updatesTracked).toBe(false);
    for (const file of [own.json, own.report, own.chart]) {
      expect(file.href.startsWith(RESULTS_DIR.href), file.href).toBe(true);
      expect(file.href).not.toBe(CHART_FILE.href);
    }
    expect([own.json, own.report, own.chart].map((file) => file.href.slice(RESULTS_DIR.href.length))).toEqual(
      [
        '2026-12-03T12-00-00-quick.json',
        '2026-12-03T12-00-00-quick.md',
        '2026-12-03T12-00-00-quick-throughput.svg',
      ],
    );
    expect(own.chartLink).toBe('2026-12-03T12-00-00-quick-throughput.svg');
    const tracked = resultPaths(name, true);
    expect(tracked).toEqual({
      json: own.json,
      report: RESULTS_FILE,
      chart: CHART_FILE,
      chartLink: 'results/throughput.svg',
      updatesTracked: true,
    });
  });

  it('benchmarks/run.ts - --help exits 0; a bad command line exits 2 with one line, before anything is run or written', async () => {
    const before = { results: await readFile(RESULTS_FILE, 'utf8'), files: await readdir(RESULTS_DIR) };
    const cases: readonly (readonly [readonly string[], RegExp])[] = [
      [['--no-such-flag'], /^bench: unknown flag --no-such-flag \(run with --help for the flags\)\n$/],
      [
        ['--systems', 'raw-tcp', '--seconds', 'soon'],
        /^bench: --seconds must be a positive number, got "soon"/,
      ],
    ];
    const [help, ...refused] = await Promise.all(
      [['--help'], ...cases.map(([args]) => args)].map((args) => runToEnd(tsx('benchmarks/run.ts', args))),
    );
    expect(help?.code, help?.stderr).toBe(0);
    expect(help?.stdout).toMatch(/^ {2}--update-results +also rewrite benchmarks\/RESULTS\.md/m);
    cases.forEach(([args, message], index) => {
      const result = refused[index];
      expect(result?.code, args.join(' ')).toBe(2);
      expect(result?.stderr.split('\n'), args.join(' ')).toHaveLength(2);
      expect(result?.stderr, args.join(' ')).toMatch(message);
    });
    expect(await readFile(RESULTS_FILE, 'utf8')).toBe(before.results);
    const added = (await readdir(RESULTS_DIR)).filter((file) => !before.files.includes(file));
    await Promise.all(added.map((file) => rm(new URL(file, RESULTS_DIR))));
    expect(added).toEqual([]);
  });
});
