// The podmigration-operator's resource type as a cluster serves it (its CRD): what the podmigration
// strategy creates and `migbench cleanup` removes. Here, with the cluster, so that the platform's
// cleanup needs no strategy.

export const PODMIGRATION_API_VERSION = 'podmig.dcn.ssu.ac.kr/v1';
export const PODMIGRATION_KIND = 'Podmigration';
