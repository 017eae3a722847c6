// The lab's StorageClass and what its provisioner makes of a claim (lab-storage.ts): a volume
// pre-bound to exactly that claim, with the claim's access modes and size, on its own directory
// directly under the shared one; released volumes of its own are the ones it deletes, and it never
// names a directory outside the shared one.
import { describe, expect, it } from 'vitest';
import type { V1PersistentVolume, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import {
  isReleased,
  LAB_PROVISIONER,
  LAB_STORAGE_CLASS,
  labStorageClass,
  volumeDirectory,
  volumeForClaim,
  wantsVolume,
} from '../../../src/lab/nodes/lab-storage.ts';

const claim = (fields: Partial<V1PersistentVolumeClaim['spec']> = {}, phase = 'Pending'): V1PersistentVolumeClaim => ({
  metadata: { name: 'migbench-redis-data', namespace: 'migbench', uid: '0b7c' },
  spec: { storageClassName: LAB_STORAGE_CLASS, accessModes: ['ReadWriteMany'], resources: { requests: { storage: '2Gi' } }, ...fields },
  status: { phase },
});

describe('the lab StorageClass', () => {
  it('is the default class, bound at once, its volumes deleted with their claims', () => {
    const sc = labStorageClass();
    expect(sc.metadata?.annotations?.['storageclass.kubernetes.io/is-default-class']).toBe('true');
    expect([sc.provisioner, sc.volumeBindingMode, sc.reclaimPolicy]).toEqual([LAB_PROVISIONER, 'Immediate', 'Delete']);
  });

  it('serves unbound claims of its class only', () => {
    expect(wantsVolume(claim())).toBe(true);
    expect(wantsVolume(claim({ storageClassName: 'nfs' }))).toBe(false);
    expect(wantsVolume(claim({ volumeName: 'pvc-0b7c' }))).toBe(false);
    expect(wantsVolume(claim({}, 'Bound'))).toBe(false);
    expect(wantsVolume({ ...claim(), metadata: { ...claim().metadata, deletionTimestamp: new Date() } })).toBe(false);
  });

  it('gives a claim a hostPath volume pre-bound to it, with its access modes and size, on its own directory', () => {
    const pv = volumeForClaim(claim(), '/shared');
    expect(pv.metadata).toEqual({ name: 'pvc-0b7c', annotations: { 'pv.kubernetes.io/provisioned-by': LAB_PROVISIONER } });
    expect(pv.spec).toEqual({
      capacity: { storage: '2Gi' },
      accessModes: ['ReadWriteMany'],
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: LAB_STORAGE_CLASS,
      volumeMode: 'Filesystem',
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'migbench', name: 'migbench-redis-data', uid: '0b7c' },
      hostPath: { path: '/shared/migbench-migbench-redis-data-pvc-0b7c', type: 'Directory' },
    });
    expect(volumeForClaim(claim({ accessModes: ['ReadWriteOnce'] }), '/shared').spec?.accessModes).toEqual(['ReadWriteOnce']);
    expect(() => volumeForClaim(claim({ volumeMode: 'Block' }), '/shared')).toThrow(/volumeMode Block/);
  });

  it('deletes released volumes of its own only, and names no directory outside the shared one', () => {
    const pv = (phase: string, by = LAB_PROVISIONER, path = '/shared/x'): V1PersistentVolume => ({
      metadata: { name: 'pvc-1', annotations: { 'pv.kubernetes.io/provisioned-by': by } },
      spec: { hostPath: { path } },
      status: { phase },
    });
    expect(isReleased(pv('Released'))).toBe(true);
    expect(isReleased(pv('Failed'))).toBe(true);
    expect(isReleased(pv('Bound'))).toBe(false);
    expect(isReleased(pv('Released', 'nfs.csi.k8s.io'))).toBe(false);
    expect(volumeDirectory(pv('Released'), '/shared')).toBe('/shared/x');
    for (const path of ['/shared', '/etc', '/shared/x/y', '/shared/../etc', '/shared/.hidden'])
      expect(volumeDirectory(pv('Released', LAB_PROVISIONER, path), '/shared'), path).toBeUndefined();
  });
});
