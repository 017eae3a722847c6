// What kubelet-checkpoint and runtime-restore do alike once the source is checkpointed: resume the
// stopped source when a later step fails, and once the restored pod is ready, switch the Service to
// it, retire the source and wait until the Service's endpoints name the restored pod only.
import { MigrationStepError, type MigrationStep } from '../../criu/migration-errors.ts';
import type { EventName } from '../../model/events.ts';
import { GENERATION_LABEL, RESTORED_GENERATION } from '../../platforms/kubernetes/manifests.ts';
import type { KubernetesMigrationContext } from '../entry/kubernetes-strategy.ts';

/** The stopped source, once replaced, gets SIGTERM then SIGKILL: it has nothing left to do. */
export const SOURCE_GRACE_SECONDS = 1;

/** Polling the Service's EndpointSlices until they name the restored pod only. */
const ENDPOINT_POLL_MS = 10;

/** After a failed step: the stopped source resumed where it was; the error says whether that worked. `source` is the strategy's event source. */
export async function resumeSource(ctx: KubernetesMigrationContext, source: string, step: MigrationStep, cause: unknown): Promise<MigrationStepError> {
  const message = cause instanceof Error ? cause.message : String(cause);
  const t0 = performance.now();
  try {
    await ctx.checkpointNodes!.resumePod(ctx.sourceNode.name, ctx.sourcePod.uid);
    const ms = Math.round(performance.now() - t0);
    ctx.events.emit(source, 'source_resumed', `${ctx.sourcePod.name} on ${ctx.sourceNode.name} in ${ms} ms`);
    return new MigrationStepError(step, `${message}; the source ${ctx.sourcePod.name} was resumed on ${ctx.sourceNode.name} (${ms} ms)`, true, ms);
  } catch (err) {
    ctx.events.emit(source, 'source_resume_failed', (err as Error).message);
    return new MigrationStepError(step, `${message}; resuming the source failed too: ${(err as Error).message}`, false);
  }
}

/** The labels of the restored pod: the template's, but a generation the Service does not select until retireSource switches it. */
export function restoredPodLabels(templateLabels: Record<string, string> | undefined): Record<string, string> {
  return { ...templateLabels, [GENERATION_LABEL]: RESTORED_GENERATION };
}

/** The trial's Service (the workload's manifest has one). */
function serviceName(ctx: KubernetesMigrationContext): string | undefined {
  return ctx.manifests.objects.find((o) => o.kind === 'Service')?.metadata.name;
}

/** Until the Service's EndpointSlices list the restored pod as ready and the source no longer as serving. */
export async function waitForEndpoints(ctx: KubernetesMigrationContext, restored: { uid: string; name: string }): Promise<void> {
  const service = serviceName(ctx);
  if (!service || ctx.api.dryRun) return;
  const deadline = performance.now() + ctx.readyTimeoutMs;
  for (;;) {
    const slices = await ctx.api.listEndpointSlices(service);
    const endpoints = slices.flatMap((s) => s.endpoints ?? []);
    const has = (uid: string) => endpoints.filter((e) => e.targetRef?.uid === uid);
    const restoredReady = has(restored.uid).some((e) => e.conditions?.ready === true);
    const sourceServing = has(ctx.sourcePod.uid).some((e) => e.conditions?.serving !== false && e.conditions?.terminating !== true);
    if (restoredReady && !sourceServing) return;
    if (performance.now() > deadline)
      throw new Error(`timed out after ${ctx.readyTimeoutMs} ms waiting for Service ${service}'s endpoints to name ${restored.name} only`);
    if (ctx.signal.aborted) throw ctx.signal.reason;
    await new Promise((r) => setTimeout(r, ENDPOINT_POLL_MS));
  }
}

/** The Service's selector to the restored pod's generation (also in a dry run, where it is printed). */
export async function switchServiceToRestored(
  ctx: KubernetesMigrationContext,
  restoredName: string,
  emit: (event: EventName, detail: string) => void,
): Promise<void> {
  const service = serviceName(ctx);
  if (!service) return;
  await ctx.api.switchServiceTo(service, GENERATION_LABEL, RESTORED_GENERATION);
  emit('service_switched', `${service} selects ${GENERATION_LABEL}=${RESTORED_GENERATION} (${restoredName})`);
}

/**
 * The restored pod is ready: the Service's selector switches to it (one EndpointSlice update: the
 * stopped source out, the restored pod in), the stopped source is deleted, the endpoints are seen
 * naming the restored pod alone, and the source is gone — each step an event of the strategy (`emit`).
 */
export async function retireSource(
  ctx: KubernetesMigrationContext,
  restored: { uid: string; name: string },
  emit: (event: EventName, detail: string) => void,
): Promise<void> {
  const { sourcePod } = ctx;
  await switchServiceToRestored(ctx, restored.name, emit);
  await ctx.api.deletePod(sourcePod.name, SOURCE_GRACE_SECONDS);
  emit('source_deleting', sourcePod.name);
  await waitForEndpoints(ctx, restored);
  emit('endpoint_switched', `${restored.name} only`);
  await ctx.pods.waitGone(sourcePod.name, SOURCE_GRACE_SECONDS * 1000 + ctx.readyTimeoutMs, ctx.signal, sourcePod.uid);
  emit('source_removed', sourcePod.name);
}
