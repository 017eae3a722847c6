// The objects of one pod of an evacuation (many copies of a workload on one node at once): the
// workload's manifest with every object's name carrying the run and the pod's trial
// (`migbench-redis-20261206t203000z-7`), the pod's claims renamed with them, and the Service selecting this pod only — the copies share the
// app's labels, so without it one Service would balance over every copy's pods.
import type { K8sObject } from './api.ts';
import { RUN_LABEL, TRIAL_LABEL, labelValue } from './manifests.ts';

/** The names' suffix of one evacuation pod: the run's start (its id's timestamp, lower case) and the trial. */
export function evacuationNameSuffix(runId: string, trial: number): string {
  const stamp = /^\d{8}T\d{6}Z/.exec(runId)?.[0] ?? labelValue(runId).slice(0, 16);
  return `${stamp.toLowerCase().replace(/[^a-z0-9-]/g, '-')}-${trial}`;
}

/** The manifest of one evacuation pod (before prepareManifests adds the run's and trial's labels to its pods). */
export function evacuationPodObjects(objects: readonly K8sObject[], runId: string, trial: number): K8sObject[] {
  const suffix = evacuationNameSuffix(runId, trial);
  const renamed = new Map(objects.map((o) => [o.metadata.name, `${o.metadata.name}-${suffix}`]));
  const rename = (name: string) => renamed.get(name) ?? name;
  return objects.map((original) => {
    const o = structuredClone(original);
    o.metadata = { ...o.metadata, name: rename(o.metadata.name) };
    const podSpec = o.kind === 'Pod' ? o.spec : o.spec?.template?.spec;
    for (const v of podSpec?.volumes ?? []) if (v.persistentVolumeClaim) v.persistentVolumeClaim.claimName = rename(v.persistentVolumeClaim.claimName);
    if (o.kind === 'Service') o.spec = { ...o.spec, selector: { ...o.spec?.selector, [RUN_LABEL]: labelValue(runId), [TRIAL_LABEL]: String(trial) } };
    return o;
  });
}
