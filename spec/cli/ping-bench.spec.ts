import { describe, expect, it } from 'vitest';
import { Server } from '../../lib/server/server.js';
import { silentLogger } from '../../lib/util/logger.js';
import { trackHandles } from '../support/handles.js';
import { phobos, startCli } from './cli-process.js';
import { scriptedPeer } from './scripted-peer.js';

const { defer } = trackHandles();

async function startGreeter(): Promise<string> {
  const server = new Server({ logger: silentLogger });
  server.register('HelloWorld', {
    Greet(args: { First: string }) {
      return { Second: `Hello ${args.First}` };
    },
  });
  const address = await server.listen('tcp@127.0.0.1:0');
  defer(() => server.shutdown({ graceMs: 0 }));
  return address;
}

describe('phobos ping', { timeout: 30_000 }, () => {
  it('ping --count 3 - prints three round trips and the min/avg/max summary, exit 0', async () => {
    const address = await startGreeter();
    const result = await phobos(['ping', address, '--count', '3', '--interval', '20ms']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`PING ${address}: heartbeats every 20 ms`);
    expect(lines.filter((line) => line.startsWith(`echo from ${address}: seq=`))).toHaveLength(3);
    expect(result.stdout).toMatch(/^--- tcp@127\.0\.0\.1:\d+ ping statistics ---$/m);
    expect(result.stdout).toMatch(/^3 heartbeats sent, 3 echoed, 0% lost, time \d+ ms$/m);
    expect(result.stdout).toMatch(/^rtt min\/avg\/max = [\d.]+\/[\d.]+\/[\d.]+ ms$/m);
  });

  it('ping --json - one JSON object with every round trip', async () => {
    const address = await startGreeter();
    const result = await phobos(['ping', address, '--count', '2', '--interval', '10ms', '--json']);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ address, sent: 2, received: 2, lossPercent: 0 });
    expect(summary.rtts).toHaveLength(2);
    expect(summary.rttMs.min).toBeLessThanOrEqual(summary.rttMs.max);
  });

  it('ping - a peer that never echoes counts the heartbeat lost and exits 4', async () => {
    const peer = await scriptedPeer(async (connection) => {
      await connection.readFrame();
    });
    defer(() => peer.close());
    const result = await phobos(['ping', peer.address, '--count', '1', '--timeout', '100ms']);
    expect(result.code).toBe(4);
    expect(result.stdout).toMatch(/^no echo from tcp@127\.0\.0\.1:\d+: seq=0 \(lost: none within 100 ms\)$/m);
    expect(result.stdout).toMatch(/^1 heartbeats sent, 0 echoed, 100% lost/m);
  });

  it('ping - a server that goes away exits 3 after the summary', async () => {
    const peer = await scriptedPeer(async (connection) => {
      await connection.readFrame();
      connection.socket.destroy();
    });
    defer(() => peer.close());
    const result = await phobos(['ping', peer.address, '--count', '5']);
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(/ping statistics/);
    expect(result.stderr).toMatch(/^phobos ping: CONNECTION_CLOSED: /);
  });
});

describe('phobos bench', { timeout: 30_000 }, () => {
  it('bench -n --json - makes exactly n calls and reports rate and latency quantiles', async () => {
    const address = await startGreeter();
    const result = await phobos([
      'bench',
      address,
      'HelloWorld.Greet',
      '{"First":"bench"}',
      '-n',
      '300',
      '-c',
      '32',
      '--connections',
      '2',
      '--json',
    ]);
    expect(result.code).toBe(0);
    // One abort listener per call in flight is expected, not a leak to warn about.
    expect(result.stderr).toBe('');
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({
      target: address,
      method: 'HelloWorld.Greet',
      codec: 'json',
      concurrency: 32,
      connections: 2,
      calls: 300,
      ok: 300,
      errors: 0,
      errorsByKind: {},
      interrupted: false,
    });
    expect(summary.callsPerSecond).toBeGreaterThan(0);
    const l = summary.latencyMs;
    expect(l.min).toBeLessThanOrEqual(l.p50);
    expect(l.p50).toBeLessThanOrEqual(l.p99);
    expect(l.p99).toBeLessThanOrEqual(l['p99.9']);
    expect(l['p99.9']).toBeLessThanOrEqual(l.max);
  });

  it('bench -d - runs for a duration and prints the text summary', async () => {
    const address = await startGreeter();
    const result = await phobos([
      'bench',
      address,
      'HelloWorld.Greet',
      '{"First":"d"}',
      '-d',
      '300ms',
      '-c',
      '4',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ {2}Rate: +[\d.]+ calls\/s$/m);
    for (const quantile of ['p50', 'p90', 'p99', 'p99.9']) {
      expect(result.stdout).toMatch(new RegExp(`^  ${quantile.replace('.', '\\.')} +[\\d.]+$`, 'm'));
    }
    expect(result.stdout).toMatch(/^ {2}Calls: +(\d+) \(\1 ok, 0 failed\)$/m);
  });

  it("bench - failing calls are counted by kind; when none succeeds the exit code is the error's", async () => {
    const address = await startGreeter();
    const result = await phobos(['bench', address, 'HelloWorld.Nope', '{}', '-n', '20', '-c', '2', '--json']);
    expect(result.code).toBe(1);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ calls: 20, ok: 0, errors: 20 });
    expect(summary.errorsByKind['SERVICE_ERROR/NOT_FOUND']).toMatchObject({ count: 20, exitCode: 1 });
  });

  it('bench --progress - draws progress lines on stderr; Ctrl-C stops it and still prints the summary', async () => {
    const address = await startGreeter();
    const cli = startCli([
      'bench',
      address,
      'HelloWorld.Greet',
      '{"First":"p"}',
      '-d',
      '1m',
      '-c',
      '2',
      '--progress',
    ]);
    defer(() => cli.kill());
    await cli.waitFor('stderr', /^[\d.]+ s: \d+ calls, \d+ calls\/s, 0 failed$/m);
    cli.kill('SIGINT');
    const result = await cli.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ {2}Elapsed: .* \(interrupted\)$/m);
    expect(result.stdout).toMatch(/^ {2}Calls: +\d+ \(\d+ ok, 0 failed\)$/m);
  });
});
