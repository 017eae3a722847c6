// Event names are a type (src/model/events.ts): the anatomy and the phase metrics match events by
// name, so an emitter's renamed event must fail the typecheck rather than move time into
// anat_unattributed_ms. The @ts-expect-error lines are the test: `npm run typecheck` fails if a
// misspelt name ever becomes acceptable.
import { expect, it } from 'vitest';
import { localPlatformEvents, podWatchEvents, probeEvents, strategyEvents, trialEvents, trialPhases, type EventName } from '../../src/model/events.ts';
import type { EventRecorder, PhaseEvent } from '../../src/model/timeline.ts';

it('accepts the names the emitters use and rejects any other', () => {
  const emitted: string[] = [];
  const recorder: EventRecorder = { emit: (_source, event) => void emitted.push(event) };
  recorder.emit('platform:local', 'checkpoint_done');
  recorder.emit('trial', 'phase:verify');
  // @ts-expect-error a misspelt step is not an event name
  recorder.emit('platform:local', 'checkpoint_dnoe');
  // @ts-expect-error a phase the trial does not have
  recorder.emit('trial', 'phase:warmup');
  // @ts-expect-error a PhaseEvent holds a known name only
  const event: PhaseEvent = { at: 0, source: 'strategy:criu', event: 'restored' };
  expect(emitted).toEqual(['checkpoint_done', 'phase:verify', 'checkpoint_dnoe', 'phase:warmup']);
  expect(event.at).toBe(0);
});

it('lists each name once per emitter', () => {
  for (const list of [trialPhases, trialEvents, localPlatformEvents, podWatchEvents, strategyEvents, probeEvents]) {
    expect(new Set<string>(list).size).toBe(list.length);
  }
  const names: EventName[] = trialPhases.map((p) => `phase:${p}` as const);
  expect(names).toContain('phase:teardown');
});
