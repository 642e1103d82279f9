import { request } from 'node:http';
import { connect } from 'node:net';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { metricsHandler, serveMetrics } from '../../lib/metrics/index.js';
import { trackHandles } from '../support/handles.js';

const { defer } = trackHandles();

/** One request on a connection of its own: status, content type and body. */
function fetchText(url: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

function registryWithCounter(): Registry {
  const registry = new Registry();
  new Counter({ name: 'demo_total', help: 'a demo counter', registers: [registry] }).inc(3);
  return registry;
}

describe('serveMetrics and metricsHandler', () => {
  it('serves the registry at /metrics in the Prometheus text format; other paths 404, other methods 405', async () => {
    const server = await serveMetrics({ address: '127.0.0.1:0', registry: registryWithCounter() });
    defer(() => server.close());
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const ok = await fetchText(server.url);
    expect(ok.status).toBe(200);
    expect(ok.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(ok.body).toContain('demo_total 3');
    expect((await fetchText(server.url.replace('/metrics', '/other'))).status).toBe(404);
    expect((await fetchText(`${server.url}?x=1`)).status).toBe(200);
    expect((await fetchText(server.url, 'POST')).status).toBe(405);
    const head = await fetchText(server.url, 'HEAD');
    expect([head.status, head.body]).toEqual([200, '']);
  });

  it('process metrics on request, once per registry; a path of its own', async () => {
    const registry = registryWithCounter();
    const first = await serveMetrics({ address: '127.0.0.1:0', registry, processMetrics: true, path: '/m' });
    defer(() => first.close());
    const second = await serveMetrics({ address: '127.0.0.1:0', registry, processMetrics: true, path: '/m' });
    defer(() => second.close());
    expect(first.url.endsWith('/m')).toBe(true);
    const { body } = await fetchText(second.url);
    expect(body).toContain('process_cpu_user_seconds_total');
    expect(body).toContain('nodejs_eventloop_lag_seconds');
  });

  it('refuses bad options at once, naming them; a port in use rejects', async () => {
    await expect(serveMetrics({ address: 'nowhere' })).rejects.toThrow(/address must be host:port/);
    await expect(serveMetrics({ address: '127.0.0.1:70000' })).rejects.toThrow(/address must be host:port/);
    await expect(serveMetrics({ address: '127.0.0.1:0', path: 'metrics' })).rejects.toThrow(
      /path must start with \//,
    );
    await expect(serveMetrics({ address: '127.0.0.1:0', maxConnections: 0 })).rejects.toThrow(
      /maxConnections/,
    );
    await expect(serveMetrics({ address: '127.0.0.1:0', processMetrics: 'yes' as never })).rejects.toThrow(
      /processMetrics must be a boolean/,
    );
    await expect(serveMetrics({ address: '127.0.0.1:0', headersTimeoutMs: 0 })).rejects.toThrow(
      /headersTimeoutMs/,
    );
    await expect(
      serveMetrics({ address: '127.0.0.1:0', headersTimeoutMs: 5_000, requestTimeoutMs: 1_000 }),
    ).rejects.toThrow(/requestTimeoutMs \(1000\) must be at least headersTimeoutMs \(5000\)/);
    await expect(serveMetrics(undefined as never)).rejects.toThrow(
      /address must be host:port .*got undefined/,
    );
    await expect(serveMetrics(7 as never)).rejects.toThrow(TypeError);
    const taken = await serveMetrics({ address: '127.0.0.1:0', registry: new Registry() });
    defer(() => taken.close());
    await expect(
      serveMetrics({ address: new URL(taken.url).host, registry: new Registry() }),
    ).rejects.toThrow(/EADDRINUSE/);
    expect(() => metricsHandler({} as Registry)).toThrow(/registry must be a prom-client Registry/);
  });

  it('a connection that never finishes its headers gets 408 and is closed after headersTimeoutMs', async () => {
    const server = await serveMetrics({
      address: '127.0.0.1:0',
      registry: new Registry(),
      headersTimeoutMs: 200,
    });
    defer(() => server.close());
    const { hostname, port } = new URL(server.url);
    const socket = connect(Number(port), hostname);
    defer(() => socket.destroy());
    socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString();
    });
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a request with a body is answered and its connection closed, the body not read', async () => {
    const server = await serveMetrics({ address: '127.0.0.1:0', registry: new Registry() });
    defer(() => server.close());
    const { hostname, port } = new URL(server.url);
    for (const [method, path] of [
      ['POST', '/metrics'],
      ['PUT', '/elsewhere'],
      ['GET', '/metrics'],
    ] as const) {
      const socket = connect(Number(port), hostname);
      defer(() => socket.destroy());
      socket.on('error', () => {});
      // 100 MiB announced, 64 KiB sent: the answer must not wait for the rest.
      socket.write(`${method} ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n`);
      socket.write(Buffer.alloc(64 * 1024));
      let answer = '';
      socket.on('data', (chunk: Buffer) => {
        answer += chunk.toString();
      });
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      expect(answer).toMatch(
        method === 'POST' ? /^HTTP\/1\.1 405/ : method === 'PUT' ? /^HTTP\/1\.1 404/ : /^HTTP\/1\.1 200/,
      );
      expect(answer.toLowerCase()).toContain('connection: close');
    }
  });
});
