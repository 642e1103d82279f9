import { of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { GatewayBackend } from '../../lib/gateway/backend.js';
import { resolveGatewayOptions } from '../../lib/gateway/gateway-options.js';
import {
  DEFAULT_GATEWAY_MAX_STREAM_MS,
  DEFAULT_GATEWAY_MAX_STREAMS,
  DEFAULT_GATEWAY_STREAM_KEEPALIVE_MS,
  DEFAULT_GATEWAY_STREAM_WINDOW,
  type GatewayOptions,
} from '../../lib/gateway/index.js';

const backend: GatewayBackend = {
  call$: () => of({ data: new Uint8Array(0), metadata: new Map() }),
  close: async () => {},
};

describe('gateway options: streams', () => {
  it('resolveGatewayOptions - stream limits default to 512 streams, 1 hour, a keepalive every 15 s, a window of 16', () => {
    const resolved = resolveGatewayOptions({ backend });
    expect({
      maxStreams: resolved.maxStreams,
      maxStreamMs: resolved.maxStreamMs,
      streamKeepaliveMs: resolved.streamKeepaliveMs,
      streamWindow: resolved.streamWindow,
    }).toEqual({
      maxStreams: DEFAULT_GATEWAY_MAX_STREAMS,
      maxStreamMs: DEFAULT_GATEWAY_MAX_STREAM_MS,
      streamKeepaliveMs: DEFAULT_GATEWAY_STREAM_KEEPALIVE_MS,
      streamWindow: DEFAULT_GATEWAY_STREAM_WINDOW,
    });
    expect([DEFAULT_GATEWAY_MAX_STREAMS, DEFAULT_GATEWAY_MAX_STREAM_MS]).toEqual([512, 3_600_000]);
    expect([DEFAULT_GATEWAY_STREAM_KEEPALIVE_MS, DEFAULT_GATEWAY_STREAM_WINDOW]).toEqual([15_000, 16]);
  });

  it('resolveGatewayOptions - 0 turns the stream length limit and the keepalive off', () => {
    const resolved = resolveGatewayOptions({ backend, maxStreamMs: 0, streamKeepaliveMs: 0 });
    expect([resolved.maxStreamMs, resolved.streamKeepaliveMs]).toEqual([0, 0]);
  });

  it('resolveGatewayOptions - a stream option out of range is a RangeError naming it', () => {
    const bad: [keyof GatewayOptions, unknown][] = [
      ['maxStreams', 0],
      ['maxStreams', 1.5],
      ['maxStreamMs', -1],
      ['maxStreamMs', 2 ** 31],
      ['streamKeepaliveMs', '15s'],
      ['streamWindow', 0],
      ['streamWindow', 65_537],
    ];
    for (const [name, value] of bad) {
      expect(() => resolveGatewayOptions({ backend, [name]: value } as GatewayOptions), name).toThrow(
        new RegExp(`^${name} must be`),
      );
    }
  });

  it('resolveGatewayOptions - a backend may leave stream$ out, but not give something else', () => {
    expect(() => resolveGatewayOptions({ backend })).not.toThrow();
    expect(() =>
      resolveGatewayOptions({ backend: { ...backend, stream$: 'no' } as unknown as GatewayBackend }),
    ).toThrow(/backend.stream\$ must be a function/);
  });
});
