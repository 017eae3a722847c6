// Ctrl-C and SIGTERM during a run: the first one aborts the run's signal (the current trial is torn
// down, everything measured so far is written, exit 130); a second one only says what is going on.
export function handleInterrupts(abort: AbortController, log: (line: string) => void): () => void {
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) {
      log(`\nmigbench: ${signal}: stopping after cleaning up (the current trial is torn down; Ctrl-C again to skip waiting is unsafe)`);
      abort.abort(new Error(signal));
    } else {
      log('migbench: still cleaning up; leftovers can be removed with `migbench cleanup`');
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
