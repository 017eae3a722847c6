import type { StrategyConfig } from '../scenario/schema.ts';

export type RedeployStrategyOptions = Extract<StrategyConfig, { name: 'redeploy' }>;
export type CriuStrategyOptions = Extract<StrategyConfig, { name: 'criu' }>;
export type DrainStrategyOptions = Extract<StrategyConfig, { name: 'drain' }>;
