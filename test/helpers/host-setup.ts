// setupFiles of the host project (vitest.config.ts): runs in every host test file's worker.
import { recordAttempts } from './attempt.ts';

recordAttempts();
