// `podmigration`'s options: which of the operator's APIs migbench asks through, and where the kubelet writes the checkpoint.
import { z } from 'zod';

export const podmigrationOptions = z
  .object({
    name: z.literal('podmigration'),
    api: z
      .enum(['resource', 'rest'])
      .describe("resource: create a `Podmigration` (podmig.dcn.ssu.ac.kr/v1); rest: POST /Podmigrations to the operator's API server.")
      .default('resource'),
    restUrl: z
      .string()
      .regex(/^https?:\/\/[^\s/]+(\/.*)?$/, 'an http(s) URL such as http://10.0.0.1:5000')
      .describe("The operator's REST API (its api-server listens on port 5000), e.g. http://10.0.0.1:5000; required with api: rest.")
      .optional(),
    snapshotPath: z
      .string()
      .min(1)
      .describe('spec.snapshotPath: where the kubelet writes the checkpoint (the NFS share of the original setup).')
      .default('/var/lib/kubelet/migration'),
  })
  .strict()
  .describe(
    "`podmigration` (kubernetes platform): the SSU-DCN podmigration-operator's live migration, asked for through its custom resource (`api: resource`) " +
      'or its REST API (`api: rest`, `restUrl`).',
  );

export type PodmigrationStrategyOptions = z.output<typeof podmigrationOptions>;
