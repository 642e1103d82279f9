import { type ChildProcess, spawn } from 'node:child_process';
import { access, constants, readFile } from 'node:fs/promises';
import { get } from 'node:http';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { trackHandles } from '../support/handles.js';
import { closedPort, takenPort } from '../support/ports.js';

const { defer } = trackHandles();

const SERVER = fileURLToPath(new URL('../../examples/metrics/server.ts', import.meta.url));
const CLIENT = fileURLToPath(new URL('../../examples/metrics/client.ts', import.meta.url));
const PROMETHEUS_YML = fileURLToPath(new URL('../../examples/metrics/prometheus.yml', import.meta.url));

/** How long a child may take to print its next line (tsx compiles the example first). */
const LINE_TIMEOUT_MS = 20_000;

/** How a child process ended. */
interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** An example running in a child process, read line by line. */
interface Running {
  readonly child: ChildProcess;
  /** The next line it prints on stdout; rejects when it ends first or says nothing in time. */
  nextLine(): Promise<string>;
  /** Resolves when it has ended and its output is closed. */
  readonly ended: Promise<Ended>;
  /** Lines printed and not read by `nextLine` yet. */
  unread(): string[];
  /** What it printed on stderr so far. */
  stderr(): string;
}

/** Starts `node --import tsx script ...args`; the test's cleanup kills it if it is still running. */
function start(script: string, args: readonly string[]): Running {
  return launch(process.execPath, ['--import', 'tsx', script, ...args], script);
}

/** Starts a program; the test's cleanup kills it if it is still running. */
function launch(command: string, args: readonly string[], name: string): Running {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const waiter = waiting.shift();
    if (waiter === undefined) lines.push(line);
    else waiter(line);
  });
  let done = false;
  const ended = new Promise<Ended>((resolve) => {
    child.once('close', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  defer(async () => {
    if (!done) child.kill('SIGKILL');
    await ended;
  });
  return {
    child,
    ended,
    unread: () => lines.splice(0),
    stderr: () => stderr,
    nextLine() {
      const line = lines.shift();
      if (line !== undefined) return Promise.resolve(line);
      return new Promise<string>((resolve, reject) => {
        const fail = (why: string): void => {
          clearTimeout(timer);
          reject(new Error(`${name} ${why}; stderr: ${stderr}`));
        };
        const timer = setTimeout(() => fail(`printed nothing within ${LINE_TIMEOUT_MS} ms`), LINE_TIMEOUT_MS);
        waiting.push((received) => {
          clearTimeout(timer);
          resolve(received);
        });
        void ended.then(({ code, signal }) => fail(`ended (code ${code}, signal ${signal})`));
      });
    },
  };
}

/** Runs a program to its end and says how it ended and what it printed. */
async function runToEnd(running: Running): Promise<Ended & { stdout: string; stderr: string }> {
  const ended = await running.ended;
  return { ...ended, stdout: running.unread().join('\n'), stderr: running.stderr() };
}

/** GETs a URL on a connection of its own (no keep-alive agent to leave behind). */
function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('error', reject);
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
}

/** The lines of a Prometheus text exposition that are samples (no comments, no blank lines). */
function samples(body: string): string[] {
  return body.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

/** The `promtool` next to `prometheus` on PATH. */
async function findPromtool(): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'promtool');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error('promtool is not installed: run `bash scripts/ensure-prometheus.sh` (as root)');
}

describe('examples/metrics', { timeout: 60_000 }, () => {
  it('server.ts and client.ts - the client calls through failover, both serve their metrics, SIGTERM ends both with code 0', async () => {
    const server = start(SERVER, ['--addr', '127.0.0.1:0', '--metrics', '127.0.0.1:0']);
    const serving =
      /^serving HelloWorld on tcp@(127\.0\.0\.1:\d+), metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)$/.exec(
        await server.nextLine(),
      );
    if (serving === null) throw new Error('the server did not print its addresses');
    const [, address, serverMetricsUrl] = serving as unknown as [string, string, string];
    expect(address).not.toMatch(/:0$/);
    const dead = `127.0.0.1:${await closedPort()}`;

    const client = start(CLIENT, [
      '--addrs',
      `${address},${dead}`,
      '--count',
      '5',
      '--interval-ms',
      '1',
      '--bad-every',
      '5',
      '--metrics',
      '127.0.0.1:0',
    ]);
    const exposing = /^metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)$/.exec(await client.nextLine());
    if (exposing === null) throw new Error('the client did not print its metrics address');
    const clientMetricsUrl = exposing[1] as string;
    // Failover takes every call to the live server, whichever is picked first; the fifth call's
    // argument is refused by the service.
    expect(await client.nextLine()).toBe('calls=5 ok=4 failed=1');
    expect(client.stderr()).toContain(
      'call 5 failed: HelloWorld.Greet: First must be a string, got a number',
    );

    const fromClient = await httpGet(clientMetricsUrl);
    expect(fromClient.status).toBe(200);
    const greet = 'service="HelloWorld",method="Greet"';
    expect(samples(fromClient.body)).toEqual(
      expect.arrayContaining([
        `phobos_client_started_total{${greet}} 5`,
        `phobos_client_handled_total{${greet},code="OK"} 4`,
        `phobos_client_handled_total{${greet},code="UNKNOWN"} 1`,
        `phobos_client_handling_seconds_count{${greet}} 5`,
        `phobos_client_attempts_total{${greet},outcome="first"} 5`,
        `phobos_client_in_flight{${greet}} 0`,
        `phobos_client_breaker_state{service="HelloWorld",instance="tcp@${address}"} 0`,
        'phobos_client_instances{service="HelloWorld",state="discovered"} 2',
        'phobos_client_connections{service="HelloWorld"} 1',
      ]),
    );
    // The dead server's breaker is reported too, in whatever state the random picks left it.
    expect(fromClient.body).toMatch(
      new RegExp(`^phobos_client_breaker_state\\{service="HelloWorld",instance="tcp@${dead}"\\} [012]$`, 'm'),
    );
    for (const metric of [
      'phobos_client_heartbeat_rtt_seconds',
      'phobos_client_retry_budget_exhausted_total',
    ])
      expect(fromClient.body).toMatch(new RegExp(`^# TYPE ${metric} `, 'm'));

    const fromServer = await httpGet(serverMetricsUrl);
    expect(fromServer.status).toBe(200);
    expect(samples(fromServer.body)).toEqual(
      expect.arrayContaining([
        `phobos_server_started_total{${greet}} 5`,
        `phobos_server_handled_total{${greet},code="OK"} 4`,
        `phobos_server_handled_total{${greet},code="UNKNOWN"} 1`,
        `phobos_server_handling_seconds_count{${greet}} 5`,
        `phobos_server_in_flight{${greet}} 0`,
        'phobos_server_connections 1',
        'phobos_server_connections_accepted_total 1',
      ]),
    );
    expect(fromServer.body).toMatch(/^# TYPE phobos_server_protocol_errors_total counter$/m);

    // Still serving its metrics after the calls, until told to stop.
    expect((await httpGet(clientMetricsUrl)).status).toBe(200);
    client.child.kill('SIGTERM');
    expect(await client.ended).toEqual({ code: 0, signal: null });
    expect(client.unread()).toEqual(['SIGTERM: closing', 'stopped']);
    server.child.kill('SIGTERM');
    expect(await server.ended).toEqual({ code: 0, signal: null });
    expect(server.unread()).toEqual(['SIGTERM: shutting down', 'stopped']);
    expect(server.stderr()).toBe('');
  });

  it('client.ts and server.ts - a bad command line says what is wrong and exits with code 2', async () => {
    const cases: readonly (readonly [string, readonly string[], RegExp])[] = [
      [CLIENT, [], /^metrics\/client: --addrs is required/],
      [CLIENT, ['--addrs', ''], /^metrics\/client: --addrs must name at least one host:port/],
      [CLIENT, ['--addrs', 'localhost'], /^metrics\/client: --addrs must be host:port .*got "localhost"/],
      [CLIENT, ['--addrs', '127.0.0.1:0'], /^metrics\/client: --addrs must be host:port \(port 1 to 65535\)/],
      [
        CLIENT,
        ['--addrs', '127.0.0.1:1,127.0.0.1:70000'],
        /^metrics\/client: --addrs must be host:port .*"127\.0\.0\.1:70000"/,
      ],
      [
        CLIENT,
        ['--addrs', '127.0.0.1:1', '--count', '0'],
        /^metrics\/client: --count must be a positive integer, got "0"/,
      ],
      [
        CLIENT,
        ['--addrs', '127.0.0.1:1', '--count', '2.5'],
        /^metrics\/client: --count must be a positive integer, got "2\.5"/,
      ],
      [
        CLIENT,
        ['--addrs', '127.0.0.1:1', '--count', 'ten'],
        /^metrics\/client: --count must be a positive integer, got "ten"/,
      ],
      [
        CLIENT,
        ['--addrs', '127.0.0.1:1', '--interval-ms', 'soon'],
        /^metrics\/client: --interval-ms must be an integer >= 0/,
      ],
      [
        CLIENT,
        ['--addrs', '127.0.0.1:1', '--metrics', 'here'],
        /^metrics\/client: --metrics must be host:port/,
      ],
      [CLIENT, ['--addrs', '127.0.0.1:1', '--verbose'], /^metrics\/client: unknown flag --verbose /],
      [SERVER, ['--addr', 'nowhere'], /^metrics\/server: --addr must be host:port .*got "nowhere"/],
      [SERVER, ['--metrics', '127.0.0.1:65536'], /^metrics\/server: --metrics must be host:port/],
    ];
    const results = await Promise.all(cases.map(([script, args]) => runToEnd(start(script, args))));
    cases.forEach(([script, args, message], index) => {
      const result = results[index];
      const what = `${script.endsWith('client.ts') ? 'client' : 'server'} ${args.join(' ')}`;
      expect(result?.code, what).toBe(2);
      expect(result?.stderr, what).toMatch(message);
      expect(result?.stderr, what).toMatch(/ \(run with --help for the flags\)\n$/);
      expect(result?.stderr.split('\n'), what).toHaveLength(2);
      expect(result?.stdout, what).toBe('');
    });
  });

  it('server.ts - an address already in use exits with code 1 and says so', async () => {
    const port = await takenPort(defer);
    const result = await runToEnd(start(SERVER, ['--addr', '127.0.0.1:0', '--metrics', `127.0.0.1:${port}`]));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^metrics\/server: cannot listen on .*EADDRINUSE/);
    expect(result.stdout).toBe('');
  });

  it('prometheus.yml - is a valid config scraping the default metrics ports of two servers and a client', async () => {
    const promtool = await findPromtool();
    const checked = await runToEnd(launch(promtool, ['check', 'config', PROMETHEUS_YML], promtool));
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toContain('SUCCESS');
    const config = await readFile(PROMETHEUS_YML, 'utf8');
    const targets = [...config.matchAll(/"(127\.0\.0\.1:\d+)"/g)].map((match) => match[1]);
    expect(targets).toEqual(['127.0.0.1:9464', '127.0.0.1:9465', '127.0.0.1:9466']);
    expect(config).not.toMatch(/^\s*honor_labels:\s*true/m);
    const [serverHelp, clientHelp] = await Promise.all([
      runToEnd(start(SERVER, ['--help'])),
      runToEnd(start(CLIENT, ['--help'])),
    ]);
    expect(serverHelp.stdout).toMatch(/^ {2}--metrics HOST:PORT .*\(default 127\.0\.0\.1:9464\)$/m);
    expect(clientHelp.stdout).toMatch(/^ {2}--metrics HOST:PORT .*\(default 127\.0\.0\.1:9466\)$/m);
  });
});
