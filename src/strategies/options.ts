// Each strategy's options, as the scenario schema validated them: the type a strategy's constructor takes.
import type { StrategyConfig } from '../scenario/schema.ts';

export type RedeployStrategyOptions = Extract<StrategyConfig, { name: 'redeploy' }>;
export type CriuStrategyOptions = Extract<StrategyConfig, { name: 'criu' }>;
export type CriuLazyStrategyOptions = Extract<StrategyConfig, { name: 'criu-lazy' }>;
export type CriuPageserverStrategyOptions = Extract<StrategyConfig, { name: 'criu-pageserver' }>;
export type CriuPrecopyStrategyOptions = Extract<StrategyConfig, { name: 'criu-precopy' }>;
export type DrainStrategyOptions = Extract<StrategyConfig, { name: 'drain' }>;
