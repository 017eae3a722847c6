// `redeploy`: delete the pod and create it again on the target node; on both platforms.
import { defineStrategy } from '../entry/entry.ts';
import { KubernetesRedeployStrategy } from './kubernetes.ts';
import { RedeployStrategy } from './local.ts';
import { redeployOptions } from './options.ts';

export const redeploy = defineStrategy({
  name: 'redeploy',
  options: redeployOptions,
  local: (options) => new RedeployStrategy(options),
  kubernetes: (options) => new KubernetesRedeployStrategy(options),
});
