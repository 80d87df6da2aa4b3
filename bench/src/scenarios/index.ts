/**
 * Every scenario `pnpm bench` knows, in the order it runs them. To add one,
 * write `scenarios/<name>.ts` exporting a `Scenario` and append it here.
 */
import type { Scenario } from '../scenario.js';
import { cache } from './cache.js';
import { client } from './client.js';
import { cluster } from './cluster.js';
import { log } from './log.js';
import { memory } from './memory.js';
import { scaling } from './scaling.js';
import { store } from './store.js';

export const SCENARIOS: readonly Scenario[] = [store, cluster, log, memory, scaling, client, cache];
