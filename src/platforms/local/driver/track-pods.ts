// The platform as a strategy sees it during a trial: every pod it starts or restores is reported,
// so the trial tears down each one — also a replacement the strategy never got to hand back (it
// failed to become ready, or Ctrl-C came first). Without this such a pod kept running until the end
// of the run, next to the pods of later trials.
import type { LocalNodeRuntime, Pod } from '../node-runtime.ts';

export function trackPods<P extends LocalNodeRuntime>(platform: P, onPod: (pod: Pod) => void): P {
  return new Proxy(platform, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (property === 'startPod') {
        return async (...args: unknown[]) => {
          const pod = await (value as (...a: unknown[]) => Promise<Pod>).apply(target, args);
          onPod(pod);
          return pod;
        };
      }
      if (property === 'restorePod') {
        return async (...args: unknown[]) => {
          const restored = await (value as (...a: unknown[]) => Promise<{ pod: Pod }>).apply(target, args);
          onPod(restored.pod);
          return restored;
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}
