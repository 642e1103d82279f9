import type * as PromClient from 'prom-client';
import { optionalPeer } from '../util/optional-peer.js';

/** @internal `prom-client`, an optional peer dependency of `phobos/metrics` (the error names it when missing). */
export const promClient: typeof PromClient = optionalPeer<typeof PromClient>(
  'prom-client',
  'phobos/metrics',
  'prom-client',
);
