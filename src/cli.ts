// The migbench command line. Each command lives in src/commands/; this file only parses flags and
// turns errors into messages and exit codes (see commands/exit-codes.ts).
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ScenarioError, type ScenarioOverrides } from './scenario/load.ts';
import { PrerequisiteError } from './setup/prerequisites.ts';
import { CommandFailure, EXIT_USAGE } from './commands/exit-codes.ts';
import { runCommand } from './commands/run.ts';
import { validateCommand } from './commands/validate.ts';
import { doctorCommand } from './commands/doctor.ts';
import { cleanupCommand } from './commands/cleanup.ts';

const commandLine = `npm run bench -- ${hideBin(process.argv).slice(1).join(' ')}`.trim();

function overridesFrom(argv: { reps?: number; strategies?: string; warmup?: number; seed?: number }): ScenarioOverrides {
  return {
    ...(argv.reps !== undefined ? { repetitions: argv.reps } : {}),
    ...(argv.strategies !== undefined ? { strategies: argv.strategies.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
    ...(argv.warmup !== undefined ? { warmup: argv.warmup } : {}),
    ...(argv.seed !== undefined ? { seed: argv.seed } : {}),
  };
}

async function main(): Promise<number> {
  let exitCode = 0;
  const set = (code: number) => {
    exitCode = code;
  };
  await yargs(hideBin(process.argv))
    .scriptName('migbench')
    .usage('$0 <command> [options]\n\nMeasures what moving a running pod to another node costs its service.')
    .command(
      'run <scenario>',
      'run a scenario: workloads × strategies × repetitions, results written as CSV',
      (y) =>
        y
          .positional('scenario', { type: 'string', demandOption: true, describe: 'scenario file (YAML)' })
          .option('out', { type: 'string', describe: 'results directory (default: <output.dir>/<run-id>/)' })
          .option('reps', { type: 'number', describe: 'override repetitions' })
          .option('strategies', { type: 'string', describe: 'override strategies, comma-separated (e.g. criu,redeploy)' })
          .option('warmup', { type: 'number', describe: 'override warm-up trials per workload × strategy' })
          .option('seed', { type: 'number', describe: 'override the seed of the trial order' })
          .option('quiet', { type: 'boolean', default: false, describe: 'no progress output' }),
      async (argv) => set(await runCommand({ scenario: argv.scenario, out: argv.out, quiet: argv.quiet, overrides: overridesFrom(argv), commandLine })),
    )
    .command(
      'validate <scenario>',
      'check a scenario and show its plan; starts nothing',
      (y) =>
        y
          .positional('scenario', { type: 'string', demandOption: true })
          .option('reps', { type: 'number' })
          .option('strategies', { type: 'string' })
          .option('warmup', { type: 'number' })
          .option('seed', { type: 'number' }),
      async (argv) => set(await validateCommand({ scenario: argv.scenario, overrides: overridesFrom(argv) })),
    )
    .command('doctor', 'check every prerequisite and say how to fix what is missing', {}, async () => set(await doctorCommand()))
    .command(
      'cleanup',
      'remove everything migbench created on this host (containers, namespaces, veths, bridge, rules, volumes)',
      (y) => y.option('store', { type: 'array', string: true, default: [] as string[], describe: 'also empty this checkpoint store (local.checkpointDir)' }),
      async (argv) => set(await cleanupCommand({ stores: argv.store.map(String), commandLine: 'npm run migbench -- cleanup' })),
    )
    .demandCommand(1, 'name a command: run, validate, doctor or cleanup')
    .strict()
    .fail((message, error) => {
      if (error) throw error;
      process.stderr.write(`migbench: ${message}\n(see: migbench --help)\n`);
      process.exit(EXIT_USAGE);
    })
    .help()
    .parseAsync();
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ScenarioError || err instanceof PrerequisiteError || err instanceof CommandFailure) {
      process.stderr.write(`${err.message}\n`);
      process.exit(err instanceof CommandFailure ? err.exitCode : EXIT_USAGE);
    }
    process.stderr.write(`migbench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
