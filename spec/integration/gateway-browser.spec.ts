import { existsSync, readFileSync } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { delimiter, join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Args, HelloWorld, type Reply } from '../../examples/gateway/service.js';
import {
  type GatewayExampleOptions,
  PAGE_FILE,
  startGatewayExample,
} from '../../examples/gateway/start-gateway-example.js';
import { Gateway } from '../../lib/gateway/index.js';
import { type CallContext, silentLogger } from '../../lib/index.js';
import { trackHandles } from '../support/handles.js';
import { startServer } from '../support/servers.js';

const { defer } = trackHandles();

/** Where Chromium may be: `PUPPETEER_EXECUTABLE_PATH` first, then `chromium` or `chromium-browser` on PATH. */
const CHROMIUM_PATHS = [
  process.env.PUPPETEER_EXECUTABLE_PATH ?? '',
  ...(process.env.PATH ?? '/usr/bin')
    .split(delimiter)
    .filter((directory) => directory !== '')
    .flatMap((directory) => [join(directory, 'chromium'), join(directory, 'chromium-browser')]),
].filter((path) => path !== '');

function chromiumPath(): string {
  const found = CHROMIUM_PATHS.find((path) => existsSync(path));
  if (found === undefined) {
    throw new Error(
      "Chromium is missing (no PUPPETEER_EXECUTABLE_PATH, no chromium on PATH): the gateway's browser tests " +
        'drive a headless Chromium. Install it with: apt-get install -y chromium   (Debian/Ubuntu, ' +
        'as root; `bash scripts/ensure-chromium.sh` does it), or set PUPPETEER_EXECUTABLE_PATH to a ' +
        'Chromium or Chrome binary.',
    );
  }
  return found;
}

/** HelloWorld that counts the calls reaching it. */
class CountingHelloWorld extends HelloWorld {
  calls = 0;

  override Greet(args: Args, ctx: CallContext): Reply {
    this.calls++;
    return super.Greet(args, ctx);
  }
}

/** The browser shared by the tests, or why it did not start (which fails every test, none skipped). */
let browser: Browser | Error = new Error('the browser was not launched');

beforeAll(async () => {
  try {
    browser = await puppeteer.launch({
      executablePath: chromiumPath(),
      headless: true,
      pipe: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
  } catch (error) {
    browser = error instanceof Error ? error : new Error(String(error));
  }
}, 60_000);

afterAll(async () => {
  if (!(browser instanceof Error)) await browser.close();
});

/** A HelloWorld server on a free loopback port, and the example's page and gateway in front of it. */
async function startExample(
  options: Omit<GatewayExampleOptions, 'http' | 'addrs'> = {},
): Promise<{ url: string; service: CountingHelloWorld }> {
  const service = new CountingHelloWorld();
  const { address } = await startServer(defer, (server) => server.register('HelloWorld', service));
  const example = await startGatewayExample({ http: '127.0.0.1:0', addrs: [address], ...options });
  defer(() => example.close());
  return { url: example.url, service };
}

/** Serves only the example page, on its own port: another origin than the gateway's. */
async function startPageServer(): Promise<string> {
  return listenOwn(pageOr(readFileSync(PAGE_FILE)));
}

/** A listener that answers `GET /` with `page`, and everything else with `rest` (404 when none). */
function pageOr(page: Buffer | string, rest?: RequestListener): RequestListener {
  return (request, response) => {
    if (request.method === 'GET' && request.url?.split('?')[0] === '/') {
      // The Date header's cache is refreshed by a timer that would outlive the test.
      response.sendDate = false;
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    } else if (rest) rest(request, response);
    else {
      response.sendDate = false;
      response.writeHead(404).end();
    }
  };
}

/** Listens with `listener` on a free loopback port, closed by the test's cleanup; its origin. */
async function listenOwn(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(async () => {
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    await closed;
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A new tab on `url`, whose script errors fail the test. */
async function openPage(url: string): Promise<Page> {
  if (browser instanceof Error) throw browser;
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  defer(async () => {
    await page.close();
    expect(errors, 'errors thrown by the page').toEqual([]);
  });
  await page.goto(url);
  return page;
}

/** Clicks `selector` and waits until the page has finished its `call`-th call. */
async function callFrom(page: Page, selector: string, call: number): Promise<void> {
  await page.click(selector);
  await page.waitForFunction(`document.body.dataset.finished === '${call}'`);
}

async function textOf(page: Page, selector: string): Promise<unknown> {
  return page.evaluate(`document.querySelector(${JSON.stringify(selector)}).textContent`);
}

async function errorStatusOf(page: Page): Promise<unknown> {
  return page.evaluate(`document.querySelector('#error').dataset.status`);
}

describe('examples/gateway in a browser', { timeout: 60_000 }, () => {
  it('the page served by the example greets through the gateway', async () => {
    const { url, service } = await startExample();
    const page = await openPage(`${url}/`);

    await page.type('#name', 'budei');
    await callFrom(page, '#greet', 1);

    expect(await textOf(page, '#reply')).toBe('Hello budei');
    expect(await textOf(page, '#error')).toBe('');
    expect(service.calls).toBe(1);
  });

  it('a bad argument shows the error status and the message the service gave', async () => {
    const { url } = await startExample();
    const page = await openPage(`${url}/`);

    await callFrom(page, '#greet-bad', 1);

    expect(await textOf(page, '#reply')).toBe('');
    expect(await errorStatusOf(page)).toMatch(/^[45]\d\d$/);
    expect(await textOf(page, '#error')).toMatch(/^[45]\d\d \w+: .*First must be a string, got a number/);

    // The page recovers: the next good call shows its reply and clears the error.
    await page.type('#name', 'again');
    await callFrom(page, '#greet', 2);
    expect(await textOf(page, '#reply')).toBe('Hello again');
    expect(await textOf(page, '#error')).toBe('');
  });

  it('a page on another origin calls the gateway when CORS allows that origin', async () => {
    const pageOrigin = await startPageServer();
    const { url, service } = await startExample({ cors: [pageOrigin] });
    const page = await openPage(`${pageOrigin}/?gateway=${encodeURIComponent(url)}`);

    await page.type('#name', 'neighbour');
    await callFrom(page, '#greet', 1);

    expect(await textOf(page, '#reply')).toBe('Hello neighbour');
    expect(await textOf(page, '#error')).toBe('');
    expect(service.calls).toBe(1);

    // A service error reaches the cross-origin page too, with its status readable.
    await callFrom(page, '#greet-bad', 2);
    expect(await errorStatusOf(page)).toMatch(/^[45]\d\d$/);
    expect(await textOf(page, '#error')).toMatch(/First must be a string/);
  });

  it('a page on another origin that CORS does not allow cannot call the gateway', async () => {
    const pageOrigin = await startPageServer();
    const { url, service } = await startExample({ cors: ['http://allowed.example'] });
    const page = await openPage(`${pageOrigin}/?gateway=${encodeURIComponent(url)}`);

    await page.type('#name', 'stranger');
    await callFrom(page, '#greet', 1);

    expect(await textOf(page, '#reply')).toBe('');
    expect(await errorStatusOf(page)).toBe('network');
    expect(await textOf(page, '#error')).toMatch(/^network error: TypeError/);
    // The preflight was refused, so the call itself was never sent.
    expect(service.calls).toBe(0);
  });

  it('a page on another origin cannot call a gateway without CORS', async () => {
    const pageOrigin = await startPageServer();
    const { url, service } = await startExample();
    const page = await openPage(`${pageOrigin}/?gateway=${encodeURIComponent(url)}`);

    await page.type('#name', 'stranger');
    await callFrom(page, '#greet', 1);

    expect(await errorStatusOf(page)).toBe('network');
    expect(await textOf(page, '#error')).toMatch(/^network error: TypeError/);
    expect(service.calls).toBe(0);
  });
});

/** A Ticker server, and a gateway in front of it (closed by the test's cleanup). */
async function startTickerGateway(cors?: readonly string[]): Promise<Gateway> {
  const { address } = await startServer(defer, (server) =>
    server.register('Ticker', {
      async *Count(args: { n: number }) {
        for (let i = 0; i < args.n; i++) yield { i };
      },
      async *Fail(args: { n: number }) {
        for (let i = 0; i < args.n; i++) yield { i };
        throw new Error(`broke after ${args.n}`);
      },
    }),
  );
  const gateway = new Gateway({
    addresses: [address],
    logger: silentLogger,
    ...(cors === undefined ? {} : { cors: { origins: cors } }),
  });
  defer(() => gateway.close({ graceMs: 0 }));
  return gateway;
}

/** What a page's EventSource collected: the values, and how the stream ended. */
interface Collected {
  readonly values: unknown[];
  readonly ended: 'end' | 'error';
  /** The data of an `error` event the gateway sent; null for a connection the browser failed. */
  readonly error: unknown;
}

/**
 * Opens an EventSource on `url` in the page and collects its events until `end` or `error`,
 * closing it then (left open, a browser reconnects and the stream starts again).
 */
function collectEvents(page: Page, url: string): Promise<Collected> {
  return page.evaluate(`new Promise((resolve) => {
    const values = [];
    const source = new EventSource(${JSON.stringify(url)});
    source.onmessage = (event) => values.push(JSON.parse(event.data));
    source.addEventListener('end', () => {
      source.close();
      resolve({ values, ended: 'end', error: null });
    });
    source.addEventListener('error', (event) => {
      source.close();
      resolve({ values, ended: 'error', error: event.data === undefined ? null : JSON.parse(event.data) });
    });
  })`) as Promise<Collected>;
}

const args = (value: unknown): string => `?args=${encodeURIComponent(JSON.stringify(value))}`;

describe('gateway streams in a browser: EventSource', { timeout: 60_000 }, () => {
  it('a page on the gateway origin gets every value of a stream in order, then the end event', async () => {
    const gateway = await startTickerGateway();
    const origin = await listenOwn(pageOr('<!doctype html><title>streams</title>', gateway.handler));
    const page = await openPage(`${origin}/`);

    const collected = await collectEvents(page, `/Ticker/Count${args({ n: 50 })}`);

    expect(collected).toEqual({
      values: Array.from({ length: 50 }, (_, i) => ({ i })),
      ended: 'end',
      error: null,
    });
  });

  it('an error mid-stream reaches the page as an error event with {code, message}', async () => {
    const gateway = await startTickerGateway();
    const origin = await listenOwn(pageOr('<!doctype html><title>streams</title>', gateway.handler));
    const page = await openPage(`${origin}/`);

    const collected = await collectEvents(page, `/Ticker/Fail${args({ n: 3 })}`);

    expect(collected).toEqual({
      values: [{ i: 0 }, { i: 1 }, { i: 2 }],
      ended: 'error',
      error: { code: 'unknown', message: 'broke after 3' },
    });
  });

  it('a page on another origin streams from the gateway when CORS allows that origin, not otherwise', async () => {
    const pageOrigin = await startPageServer();
    const allowing = await listenOwn((await startTickerGateway([pageOrigin])).handler);
    const refusing = await listenOwn((await startTickerGateway()).handler);
    const page = await openPage(`${pageOrigin}/`);

    expect(await collectEvents(page, `${allowing}/Ticker/Count${args({ n: 5 })}`)).toEqual({
      values: [0, 1, 2, 3, 4].map((i) => ({ i })),
      ended: 'end',
      error: null,
    });
    // The browser reads nothing of a response CORS does not allow: a bare error event.
    expect(await collectEvents(page, `${refusing}/Ticker/Count${args({ n: 5 })}`)).toEqual({
      values: [],
      ended: 'error',
      error: null,
    });
  });
});
