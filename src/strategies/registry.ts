// The only list of strategies. The scenario schema's strategy union, the names each platform has,
// the trials.csv label and the moves are derived from it (entry/derive.ts): a new strategy is its
// folder and one line here.
import type { z } from 'zod';
import { criu } from './criu/index.ts';
import { criuLazy } from './criu-lazy/index.ts';
import { criuPageserver } from './criu-pageserver/index.ts';
import { criuPrecopy } from './criu-precopy/index.ts';
import { drain } from './drain/index.ts';
import { strategyRegistry } from './entry/derive.ts';
import { kubeletCheckpoint } from './kubelet-checkpoint/index.ts';
import { podmigration } from './podmigration/index.ts';
import { redeploy } from './redeploy/index.ts';
import { runtimeRestore } from './runtime-restore/index.ts';

/** In the order a scenario error lists them. */
export const strategyEntries = [criu, criuLazy, criuPageserver, criuPrecopy, redeploy, drain, podmigration, kubeletCheckpoint, runtimeRestore] as const;

export const strategies = strategyRegistry(strategyEntries);

export const strategyObjectSchema = strategies.objectSchema;
/** A strategy is named by a string (defaults for every option) or given as an object with options. */
export const strategySchema = strategies.schema;
export const strategyNames = strategies.names;
export type StrategyConfig = z.output<typeof strategyObjectSchema>;
type StrategyName = StrategyConfig['name'];
/** The strategies the local platform has. */
export const localStrategyNames = strategies.namesOn('local');
/** The strategies the kubernetes platform has (the others run on the local platform only). */
export const kubernetesStrategyNames = strategies.namesOn('kubernetes');
export const strategyLabel = strategies.label;
export const createStrategy = strategies.createLocal;
export const createKubernetesStrategy = strategies.createKubernetes;
