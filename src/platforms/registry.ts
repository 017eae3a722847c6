// The platforms a scenario can name (`platform:`), each as a driver: the only place a platform is
// chosen by name. What a platform gets from outside it — the host's tools (installed by src/setup/)
// and the way to a cluster's nodes (the lab's, src/lab/) — is handed in by the command that runs it,
// so no platform imports the setup or the lab.
import type { PlatformDriver } from '../runner/platform-driver.ts';
import type { Scenario } from '../scenario/schema.ts';
import { kubernetesDriver } from './kubernetes/driver/driver.ts';
import type { NodeAccess } from './kubernetes/node-access.ts';
import { localDriver } from './local/driver/driver.ts';
import type { HostTools } from './local/driver/host-tools.ts';

export interface PlatformSupport {
  /** local: the host's tools, installed where missing. */
  hostTools: HostTools;
  /** kubernetes: how migbench reaches a cluster's nodes beyond the API. */
  nodeAccess: NodeAccess;
}

export type PlatformName = Scenario['platform'];

export function platformDrivers(support: PlatformSupport): Record<PlatformName, PlatformDriver> {
  return {
    local: localDriver(support.hostTools),
    kubernetes: kubernetesDriver(support.nodeAccess),
  };
}
