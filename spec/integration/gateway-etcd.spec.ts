import { afterAll, describe, expect, it } from 'vitest';
import { HelloWorld } from '../../examples/gateway/service.js';
import { startGatewayExample } from '../../examples/gateway/start-gateway-example.js';
import { Server, silentLogger } from '../../lib/index.js';
import { etcdRegistry } from '../../lib/registry/index.js';
import { startEtcd, stopAllEtcd } from '../support/etcd.js';
import { freshBasePath } from '../support/etcd-helpers.js';
import { trackHandles } from '../support/handles.js';

const { defer } = trackHandles();

afterAll(stopAllEtcd);

function greet(url: string, service: string, body: unknown): Promise<Response> {
  return fetch(`${url}/${service}/Greet`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('gateway over etcd', { timeout: 60_000 }, () => {
  it('the example gateway (--etcd, --base) finds the HelloWorld server in etcd and calls it; a service nobody registered is 503', async () => {
    const etcd = await startEtcd({ name: 'gateway' });
    defer(() => etcd.remove());
    const basePath = freshBasePath();
    const registry = etcdRegistry({ hosts: etcd.clientUrl, basePath });
    const server = new Server({ registries: [registry], logger: silentLogger });
    server.register('HelloWorld', new HelloWorld(), { metadata: 'state=active' });
    await server.listen('tcp@127.0.0.1:0');
    defer(() => server.shutdown({ graceMs: 0 }));
    const example = await startGatewayExample({ http: '127.0.0.1:0', etcd: etcd.clientUrl, base: basePath });
    defer(() => example.close());

    const answer = await greet(example.url, 'HelloWorld', { First: 'etcd' });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ Second: 'Hello etcd' });

    const bad = await greet(example.url, 'HelloWorld', { First: 7 });
    expect(bad.status).toBe(500);
    expect(await bad.json()).toMatchObject({ message: expect.stringContaining('First must be a string') });

    const nobody = await greet(example.url, 'Nobody', { First: 'x' });
    expect(nobody.status).toBe(503);
    expect(nobody.headers.get('retry-after')).toBe('1');
    expect(await nobody.json()).toMatchObject({ code: 'unavailable' });
  });
});
